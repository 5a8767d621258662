// CurlClient: libcurl's multi "socket action" interface on one Asio io_context.
//
// How curl and Asio meet:
//  - Sockets. Curl opens its TCP sockets through our OPENSOCKETFUNCTION, so each is an
//    asio::ip::tcp::socket we own; CLOSESOCKETFUNCTION is the only place one is closed (Asio
//    never closes an fd curl still uses, curl never closes one Asio still watches). Descriptors
//    curl opens on its own (the threaded resolver's wake-up pair) are watched through a dup()
//    we own, so closing ours can never touch curl's.
//  - Readiness. SOCKETFUNCTION says which direction curl wants; we keep one async_wait per wanted
//    direction and, when it completes, call curl_multi_socket_action from that Asio handler.
//  - Time. TIMERFUNCTION arms one steady_timer; an expiry of 0 ms still goes through the timer.
//    libcurl 7.88 refuses curl_multi_* calls made from inside its callbacks, and nothing here
//    does: callbacks only touch Asio objects, and every curl_multi_* call starts in an Asio
//    handler or in the caller's code. User completions are always posted.
//  - Lifetime. Handlers hold a weak reference to the client's state and look transfers up by id,
//    so a destroyed client or a finished transfer is simply not found.
#include "http/client.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cassert>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include "core/text.hpp"

namespace sb::http {

namespace {

using Clock = std::chrono::steady_clock;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

constexpr std::size_t kMaxUrlBytes = 8192;
constexpr std::size_t kMaxHeaderBytes = std::size_t{64} * 1024;  // per response
constexpr std::size_t kMaxHeaderCount = 200;
constexpr milliseconds kMaxBackoff{1000};

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  });
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

long to_ms(Clock::duration d) {
  return static_cast<long>(std::chrono::ceil<milliseconds>(d).count());
}

Error fetch_error(int code, std::string message, int status = 502) {
  return Error{code, status, std::move(message)};
}

Status validate_url(std::string_view url) {
  if (url.size() > kMaxUrlBytes) {
    return fetch_error(fetch_codes::kInvalidUrl, "URL longer than 8192 bytes", 400);
  }
  const bool http = istarts_with(url, "http://");
  const bool https = istarts_with(url, "https://");
  if ((!http && !https) || url.size() == (https ? 8u : 7u)) {
    return fetch_error(fetch_codes::kInvalidUrl, "not an http(s) URL: '" + std::string(url) + "'",
                       400);
  }
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) {
      return fetch_error(fetch_codes::kInvalidUrl, "URL contains a space or control character",
                         400);
    }
  }
  return Ok{};
}

Status validate_method(std::string_view method) {
  const bool ok = !method.empty() && method.size() <= 20 &&
                  std::all_of(method.begin(), method.end(), [](char c) {
                    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
                  });
  if (!ok) {
    return Error::bad_request(codes::kInvalidMethod,
                              "invalid HTTP method '" + std::string(method) + "'");
  }
  return Ok{};
}

bool header_safe(std::string_view s) {
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// What kind of failure an attempt had, for the retry policy.
// kStatus: a response the retry policy retries (4xx/5xx).
enum class Failure { kNone, kStatus, kConnect, kRead, kFinal };

struct Outcome {
  std::optional<Error> error;  // none: a response arrived
  Failure failure = Failure::kNone;
};

}  // namespace

std::optional<std::string_view> ClientResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

std::vector<std::string_view> ClientResponse::header_values(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) out.emplace_back(v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

namespace {

// One descriptor curl asked us to watch.
struct Watch {
  explicit Watch(curl_socket_t f) : fd(f) {}
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  curl_socket_t fd;                                   // curl's descriptor (the map key)
  std::optional<tcp::socket> owned;                   // a socket we opened for curl
  std::optional<asio::posix::stream_descriptor> dup;  // our dup() of a descriptor curl opened
  int wanted = CURL_POLL_NONE;                        // CURL_POLL_IN / OUT bits curl asked for
  bool registered = false;                            // between curl's ADD and REMOVE
  bool closed = false;
  bool reading = false, writing = false;
  unsigned read_seq = 0, write_seq = 0;  // a wait whose number is stale is ignored

  void cancel() {
    boost::system::error_code ec;
    if (owned) owned->cancel(ec);
    if (dup) dup->cancel(ec);
  }
  void close() {
    boost::system::error_code ec;
    closed = true;
    if (owned) owned->close(ec);
    if (dup) dup->close(ec);
  }
  template <typename Handler>
  void async_wait(bool read, Handler&& handler) {
    if (owned) {
      owned->async_wait(read ? tcp::socket::wait_read : tcp::socket::wait_write,
                        std::forward<Handler>(handler));
    } else {
      dup->async_wait(read ? asio::posix::stream_descriptor::wait_read
                           : asio::posix::stream_descriptor::wait_write,
                      std::forward<Handler>(handler));
    }
  }
};

// One request from fetch to completion, across its attempts.
struct Transfer {
  Transfer(CurlClient::Impl* o, const asio::any_io_executor& ex, RequestId i, CurlClient::Handler h)
      : owner(o),
        id(i),
        handler(std::move(h)),
        work(asio::make_work_guard(ex)),
        watchdog(ex),
        backoff(ex) {}

  CurlClient::Impl* owner;
  RequestId id;
  CurlClient::Handler handler;
  asio::executor_work_guard<asio::any_io_executor> work;
  ClientRequest request;  // url without its fragment
  ConnectionSettings settings;
  std::vector<OverrideWarning> warnings;
  std::size_t max_body = 0;
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  bool in_multi = false;
  Clock::time_point started;
  Clock::time_point deadline;  // started + tt
  int attempts = 0;
  std::array<char, CURL_ERROR_SIZE> error_buffer{};

  // Per attempt.
  ClientResponse response;
  std::size_t header_bytes = 0;
  bool connected = false;      // the request went out (PREREQFUNCTION ran)
  std::string policy_refusal;  // why the outbound policy refused the address curl chose
  OutboundPolicy policy;       // the client's, or the request's account's own
  bool body_too_large = false;
  bool headers_too_large = false;
  long attempt_connect_ms = 0;
  long attempt_total_ms = 0;
  Clock::time_point last_activity;
  bool watchdog_running = false;
  asio::steady_timer watchdog;  // rt: first byte after the request, then between bytes
  asio::steady_timer backoff;   // delay before a retry
};

}  // namespace

struct CurlClient::Impl : std::enable_shared_from_this<CurlClient::Impl> {
  Impl(asio::any_io_executor executor, ClientOptions opts)
      : ex(std::move(executor)), options(std::move(opts)), timer(ex) {}
  ~Impl() {  // after shutdown() these are gone; here only if init() failed half-way
    if (multi != nullptr) curl_multi_cleanup(multi);
    if (share != nullptr) curl_share_cleanup(share);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  asio::any_io_executor ex;
  ClientOptions options;
  std::string user_agent;
  CURLM* multi = nullptr;
  CURLSH* share = nullptr;
  asio::steady_timer timer;
  unsigned timer_seq = 0;
  std::unordered_map<curl_socket_t, std::shared_ptr<Watch>> sockets;
  std::unordered_map<RequestId, std::unique_ptr<Transfer>> transfers;
  std::vector<CURL*> idle_handles;
  RequestId next_id = 1;
  int in_curl = 0;  // > 0 while a curl_multi_* call (and so possibly a callback) is running

  void init();
  void shutdown();
  RequestId start(ClientRequest request, Handler handler);
  bool cancel(RequestId id, std::string why);

  Status configure(Transfer& t);
  void begin_attempt(Transfer& t);
  void on_curl_done(Transfer& t, CURLcode rc);
  void on_read_timeout(Transfer& t);
  void conclude_attempt(Transfer& t, Outcome outcome);
  void finish(Transfer& t, Result<ClientResponse> result, boost::system::error_code ec = {});
  Outcome classify(Transfer& t, CURLcode rc);
  void arm_watchdog(Transfer& t);

  void socket_action(curl_socket_t fd, int events);
  void drain();
  void arm(const std::shared_ptr<Watch>& w);
  CURL* acquire_easy();
  void release_easy(CURL* e);

  // curl callbacks: they only touch Asio objects and our own state.
  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp);
  static int on_timer(CURLM* multi, long timeout_ms, void* userp);
  static curl_socket_t on_open(void* clientp, curlsocktype purpose, curl_sockaddr* address);
  static int on_close(void* clientp, curl_socket_t fd);
  static size_t on_header(char* data, size_t size, size_t count, void* userp);
  static size_t on_write(char* data, size_t size, size_t count, void* userp);
  static int on_prereq(void* userp, char*, char*, int, int);
};

void CurlClient::Impl::init() {
  global_init();
  user_agent =
      options.user_agent.empty() ? std::string("Switchboard/") + SB_VERSION : options.user_agent;
  multi = curl_multi_init();
  share = curl_share_init();
  if (multi == nullptr || share == nullptr) throw std::runtime_error("curl_multi_init failed");
  // TLS sessions resume across easy handles; DNS and connections are the multi's already.
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Impl::on_timer);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
  if (options.max_cached_connections > 0) {
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, options.max_cached_connections);
  }
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, options.max_connections_per_host);
}

void CurlClient::Impl::shutdown() {
  ++timer_seq;
  timer.cancel();
  std::vector<RequestId> ids;
  ids.reserve(transfers.size());
  for (const auto& [id, t] : transfers) ids.push_back(id);
  for (RequestId id : ids) cancel(id, "HTTP client shut down");
  // Closes the cached connections, through on_close.
  ++in_curl;
  curl_multi_cleanup(multi);
  --in_curl;
  multi = nullptr;
  for (CURL* e : idle_handles) curl_easy_cleanup(e);
  idle_handles.clear();
  curl_share_cleanup(share);
  share = nullptr;
  for (auto& [fd, w] : sockets) {
    w->cancel();
    w->close();
  }
  sockets.clear();
}

CURL* CurlClient::Impl::acquire_easy() {
  if (!idle_handles.empty()) {
    CURL* e = idle_handles.back();
    idle_handles.pop_back();
    return e;
  }
  return curl_easy_init();
}

void CurlClient::Impl::release_easy(CURL* e) {
  if (e == nullptr) return;
  curl_easy_reset(e);
  if (idle_handles.size() < options.max_idle_handles) {
    idle_handles.push_back(e);
  } else {
    curl_easy_cleanup(e);
  }
}

RequestId CurlClient::Impl::start(ClientRequest request, Handler handler) {
  const RequestId id = next_id++;
  auto owned = std::make_unique<Transfer>(this, ex, id, std::move(handler));
  Transfer& t = *owned;
  transfers.emplace(id, std::move(owned));
  t.started = Clock::now();

  if (request.settings) {
    t.settings = *request.settings;
    request.url = std::string(strip_fragment(request.url));
  } else {
    WebhookUrl parsed = parse_webhook_url(request.url, options.defaults);
    t.settings = std::move(parsed.settings);
    t.warnings = std::move(parsed.warnings);
    request.url = std::move(parsed.request_url);
  }
  t.max_body = request.max_body_bytes.value_or(options.max_body_bytes);
  t.policy = options.policy.for_account(request.account_sid);
  t.request = std::move(request);
  t.deadline = t.started + t.settings.total_timeout;

  // A cancellation slot on the handler (an awaiting coroutine, bind_cancellation_slot…)
  // cancels this request; the slot is cleared before the handler runs.
  auto slot = asio::get_associated_cancellation_slot(t.handler);
  if (slot.is_connected()) {
    slot.assign([weak = weak_from_this(), id](asio::cancellation_type type) {
      if (type == asio::cancellation_type::none) return;
      if (auto self = weak.lock()) self->cancel(id, "request cancelled");
    });
  }

  Status ok = validate_method(t.request.method);
  if (ok) ok = validate_url(t.request.url);
  if (ok) ok = configure(t);
  if (!ok) {
    finish(t, ok.error());
    return id;
  }
  begin_attempt(t);
  return id;
}

Status CurlClient::Impl::configure(Transfer& t) {
  t.easy = acquire_easy();
  if (t.easy == nullptr) return Error::internal("curl_easy_init failed");
  CURL* e = t.easy;
  const ClientRequest& r = t.request;

  for (const auto& [name, value] : r.headers) {
    if (name.empty() || !header_safe(name) || !header_safe(value) ||
        name.find(':') != std::string::npos) {
      return Error::bad_request(codes::kInvalidParameter, "invalid request header '" + name + "'");
    }
    // "Name;" is curl's spelling of a header with an empty value.
    std::string line = name;
    if (value.empty()) {
      line += ';';
    } else {
      line += ": ";
      line += value;
    }
    curl_slist* next = curl_slist_append(t.header_list, line.c_str());
    if (next == nullptr) return Error::internal("out of memory");
    t.header_list = next;
  }
  const bool has_expect = std::any_of(r.headers.begin(), r.headers.end(),
                                      [](const auto& h) { return iequals(h.first, "Expect"); });
  if (!has_expect) {  // no 100-continue round trip for large bodies
    curl_slist* next = curl_slist_append(t.header_list, "Expect:");
    if (next == nullptr) return Error::internal("out of memory");
    t.header_list = next;
  }

  curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, options.max_redirects);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_SHARE, share);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error_buffer.data());
  curl_easy_setopt(e, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(t.max_body));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.header_list);
  // The pool's connections were opened under the client's policy: a request under an account's
  // different one neither takes one (it could lead to an address its policy refuses) nor leaves
  // its own behind (one the client's policy would refuse).
  const long isolated = t.policy.deny_private != options.policy.deny_private ? 1L : 0L;
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, isolated);
  curl_easy_setopt(e, CURLOPT_FORBID_REUSE, isolated);

  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &Impl::on_open);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &t);
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, &Impl::on_close);
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, this);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Impl::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Impl::on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, &Impl::on_prereq);
  curl_easy_setopt(e, CURLOPT_PREREQDATA, &t);

  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
  if (!options.ca_pem.empty()) {
    curl_blob blob{options.ca_pem.data(), options.ca_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
  } else if (!options.ca_file.empty()) {
    curl_easy_setopt(e, CURLOPT_CAINFO, options.ca_file.c_str());
  }

  const std::string& m = r.method;
  if (m == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (m == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    // POST stays POST only where a browser's would (301/302/303 turn it into GET).
    if (m == "POST") {
      curl_easy_setopt(e, CURLOPT_POST, 1L);
    } else {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m.c_str());
    }
    if (m == "POST" || !r.body.empty()) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
    }
  }
  return Ok{};
}

void CurlClient::Impl::begin_attempt(Transfer& t) {
  const auto now = Clock::now();
  const long remaining = to_ms(t.deadline - now);
  if (remaining <= 0) {
    finish(t, fetch_error(fetch_codes::kTotalTimeout,
                          "total timeout (tt) of " +
                              std::to_string(t.settings.total_timeout.count()) + " ms reached",
                          504));
    return;
  }
  t.attempt_total_ms = remaining;
  t.attempt_connect_ms =
      std::min<long>(static_cast<long>(t.settings.connect_timeout.count()), remaining);
  curl_easy_setopt(t.easy, CURLOPT_TIMEOUT_MS, t.attempt_total_ms);
  curl_easy_setopt(t.easy, CURLOPT_CONNECTTIMEOUT_MS, t.attempt_connect_ms);

  t.response = ClientResponse{};
  t.header_bytes = 0;
  t.connected = false;
  t.policy_refusal.clear();
  t.body_too_large = false;
  t.headers_too_large = false;
  t.watchdog_running = false;
  t.error_buffer[0] = '\0';
  ++t.attempts;

  ++in_curl;
  const CURLMcode mc = curl_multi_add_handle(multi, t.easy);
  --in_curl;
  if (mc != CURLM_OK) {
    finish(t, fetch_error(fetch_codes::kRetrievalFailure,
                          std::string("cannot start request: ") + curl_multi_strerror(mc)));
    return;
  }
  t.in_multi = true;  // curl starts it from the timer it has just set
}

void CurlClient::Impl::socket_action(curl_socket_t fd, int events) {
  assert(in_curl == 0);
  int running = 0;
  ++in_curl;
  curl_multi_socket_action(multi, fd, events, &running);
  --in_curl;
  drain();
}

void CurlClient::Impl::drain() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    // The message dies with remove_handle: copy what we need first.
    CURL* easy = msg->easy_handle;
    const CURLcode rc = msg->data.result;
    Transfer* t = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &t);
    if (t != nullptr) on_curl_done(*t, rc);
  }
}

void CurlClient::Impl::arm(const std::shared_ptr<Watch>& w) {
  for (const bool read : {true, false}) {
    const int bit = read ? CURL_POLL_IN : CURL_POLL_OUT;
    bool& waiting = read ? w->reading : w->writing;
    unsigned& seq = read ? w->read_seq : w->write_seq;
    if (!(w->wanted & bit) || waiting || w->closed) continue;
    waiting = true;
    const unsigned my_seq = ++seq;
    w->async_wait(read,
                  [weak = weak_from_this(), w, read, my_seq](const boost::system::error_code& ec) {
                    auto self = weak.lock();
                    if (!self) return;
                    if (w->closed || my_seq != (read ? w->read_seq : w->write_seq)) return;
                    (read ? w->reading : w->writing) = false;
                    if (ec == asio::error::operation_aborted) return;
                    const int bit = read ? CURL_POLL_IN : CURL_POLL_OUT;
                    if (!(w->wanted & bit)) return;
                    self->socket_action(
                        w->fd, ec ? CURL_CSELECT_ERR : (read ? CURL_CSELECT_IN : CURL_CSELECT_OUT));
                    if (!w->closed && w->registered) self->arm(w);
                  });
  }
}

int CurlClient::Impl::on_socket(CURL*, curl_socket_t fd, int what, void* userp, void*) {
  auto* self = static_cast<Impl*>(userp);
  auto it = self->sockets.find(fd);
  if (what == CURL_POLL_REMOVE) {
    if (it == self->sockets.end()) return 0;
    Watch& w = *it->second;
    w.registered = false;
    w.wanted = CURL_POLL_NONE;
    w.reading = w.writing = false;
    ++w.read_seq;
    ++w.write_seq;
    w.cancel();
    // Our own sockets stay open for curl's connection cache until on_close; a dup goes now,
    // since curl may close its descriptor right after this.
    if (w.dup) {
      w.close();
      self->sockets.erase(it);
    }
    return 0;
  }
  if (it == self->sockets.end()) {
    // A descriptor curl opened itself: watch a dup of it.
    // On failure curl's timeout ends the transfer: a -1 here would fail every transfer.
    const int copy = ::dup(fd);
    if (copy < 0) return 0;
    auto w = std::make_shared<Watch>(fd);
    boost::system::error_code ec;
    w->dup.emplace(self->ex);
    w->dup->assign(copy, ec);
    if (ec) {
      ::close(copy);
      return 0;
    }
    it = self->sockets.emplace(fd, std::move(w)).first;
  }
  auto w = it->second;
  w->registered = true;
  w->wanted = what & CURL_POLL_INOUT;
  self->arm(w);
  return 0;
}

int CurlClient::Impl::on_timer(CURLM*, long timeout_ms, void* userp) {
  auto* self = static_cast<Impl*>(userp);
  const unsigned seq = ++self->timer_seq;
  if (timeout_ms < 0) {
    self->timer.cancel();
    return 0;
  }
  // Even a 0 ms timeout goes through the io_context: socket_action may not run in here.
  self->timer.expires_after(milliseconds(timeout_ms));
  self->timer.async_wait([weak = self->weak_from_this(), seq](const boost::system::error_code& ec) {
    auto s = weak.lock();
    if (!s || ec || seq != s->timer_seq) return;
    s->socket_action(CURL_SOCKET_TIMEOUT, 0);
  });
  return 0;
}

curl_socket_t CurlClient::Impl::on_open(void* clientp, curlsocktype purpose, curl_sockaddr* a) {
  auto& t = *static_cast<Transfer*>(clientp);
  Impl* self = t.owner;
  if (purpose != CURLSOCKTYPE_IPCXN || (a->family != AF_INET && a->family != AF_INET6)) {
    return ::socket(a->family, a->socktype, a->protocol);  // what curl would do
  }
  // The address curl resolved and is about to connect to: the outbound policy decides here,
  // after DNS, so a name that resolves (or re-resolves) to a forbidden address is refused too.
  asio::ip::address address;
  if (a->family == AF_INET) {
    sockaddr_in in{};
    std::memcpy(&in, &a->addr, sizeof in);
    address = asio::ip::address_v4(ntohl(in.sin_addr.s_addr));
  } else {
    sockaddr_in6 in6{};
    std::memcpy(&in6, &a->addr, sizeof in6);
    asio::ip::address_v6::bytes_type bytes{};
    std::memcpy(bytes.data(), &in6.sin6_addr, bytes.size());
    address = asio::ip::address_v6(bytes, in6.sin6_scope_id);
  }
  if (auto why = t.policy.refusal(address)) {
    t.policy_refusal = std::move(*why);
    return CURL_SOCKET_BAD;  // curl tries the name's next address, or fails the connect
  }
  if (a->socktype != SOCK_STREAM) return ::socket(a->family, a->socktype, a->protocol);
  boost::system::error_code ec;
  tcp::socket socket(self->ex);
  socket.open(a->family == AF_INET6 ? tcp::v6() : tcp::v4(), ec);
  if (ec) return CURL_SOCKET_BAD;
  const curl_socket_t fd = socket.native_handle();
  auto w = std::make_shared<Watch>(fd);
  w->owned.emplace(std::move(socket));
  auto [it, inserted] = self->sockets.try_emplace(fd, w);
  if (!inserted) {  // a stale entry (cannot be ours: that fd was open until now)
    it->second->closed = true;
    it->second = std::move(w);
  }
  return fd;
}

int CurlClient::Impl::on_close(void* clientp, curl_socket_t fd) {
  auto* self = static_cast<Impl*>(clientp);
  auto it = self->sockets.find(fd);
  if (it != self->sockets.end()) {
    std::shared_ptr<Watch> w = std::move(it->second);
    self->sockets.erase(it);
    w->cancel();
    w->close();  // the one place an fd we opened for curl is closed (or our dup of one)
    if (w->owned) return 0;
  }
  return ::close(fd);
}

size_t CurlClient::Impl::on_header(char* data, size_t size, size_t count, void* userp) {
  auto& t = *static_cast<Transfer*>(userp);
  const size_t len = size * count;
  t.last_activity = Clock::now();
  std::string_view line = trim(std::string_view(data, len));
  if (line.size() >= 5 && line.substr(0, 5) == "HTTP/") {
    // A new response (a redirect hop or a 1xx): only the final one's headers are kept.
    t.response.headers.clear();
    t.header_bytes = len;
    return len;
  }
  t.header_bytes += len;
  if (t.header_bytes > kMaxHeaderBytes || t.response.headers.size() >= kMaxHeaderCount) {
    t.headers_too_large = true;
    return 0;
  }
  if (line.empty()) return len;
  if (data[0] == ' ' || data[0] == '\t') {  // obsolete line folding
    if (!t.response.headers.empty()) {
      t.response.headers.back().second += ' ';
      t.response.headers.back().second += line;
    }
    return len;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return len;  // not a header: ignore
  t.response.headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                  std::string(trim(line.substr(colon + 1))));
  return len;
}

size_t CurlClient::Impl::on_write(char* data, size_t size, size_t count, void* userp) {
  auto& t = *static_cast<Transfer*>(userp);
  const size_t len = size * count;
  t.last_activity = Clock::now();
  if (t.response.body.size() + len > t.max_body) {
    t.body_too_large = true;
    return 0;  // curl fails the transfer with CURLE_WRITE_ERROR
  }
  t.response.body.append(data, len);
  return len;
}

int CurlClient::Impl::on_prereq(void* userp, char*, char*, int, int) {
  auto& t = *static_cast<Transfer*>(userp);
  // Connected (or reusing a connection); the request goes out now and rt starts.
  t.connected = true;
  t.last_activity = Clock::now();
  if (!t.watchdog_running && t.settings.read_timeout.count() > 0) {
    t.watchdog_running = true;
    t.owner->arm_watchdog(t);  // only an Asio timer: we are inside curl here
  }
  return CURL_PREREQFUNC_OK;
}

void CurlClient::Impl::arm_watchdog(Transfer& t) {
  t.watchdog.expires_at(t.last_activity + t.settings.read_timeout);
  t.watchdog.async_wait([weak = weak_from_this(), id = t.id,
                         attempt = t.attempts](const boost::system::error_code& ec) {
    if (ec) return;
    auto self = weak.lock();
    if (!self) return;
    auto it = self->transfers.find(id);
    if (it == self->transfers.end()) return;
    Transfer& t = *it->second;
    if (t.attempts != attempt || !t.in_multi || !t.watchdog_running) return;
    // Bytes reset the clock without touching the timer; look again when it runs out.
    if (Clock::now() >= t.last_activity + t.settings.read_timeout) {
      self->on_read_timeout(t);
    } else {
      self->arm_watchdog(t);
    }
  });
}

void CurlClient::Impl::on_read_timeout(Transfer& t) {
  ++in_curl;
  curl_multi_remove_handle(multi, t.easy);
  --in_curl;
  t.in_multi = false;
  t.watchdog_running = false;
  conclude_attempt(t,
                   Outcome{fetch_error(fetch_codes::kRetrievalFailure,
                                       "read timeout (rt): nothing received for " +
                                           std::to_string(t.settings.read_timeout.count()) + " ms",
                                       504),
                           Failure::kRead});
}

void CurlClient::Impl::on_curl_done(Transfer& t, CURLcode rc) {
  ++in_curl;
  curl_multi_remove_handle(multi, t.easy);
  --in_curl;
  t.in_multi = false;
  t.watchdog_running = false;
  t.watchdog.cancel();
  conclude_attempt(t, classify(t, rc));
}

Outcome CurlClient::Impl::classify(Transfer& t, CURLcode rc) {
  CURL* e = t.easy;
  if (rc == CURLE_OK) {
    long status = 0;
    char* content_type = nullptr;
    char* effective = nullptr;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &content_type);
    curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &effective);
    curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &t.response.redirects);
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &t.response.new_connections);
    t.response.status = static_cast<int>(status);
    if (content_type != nullptr) t.response.content_type = content_type;
    if (effective != nullptr) t.response.effective_url = effective;
    t.response.connection_reused = t.response.new_connections == 0;
    const RetryPolicy& p = t.settings.retry_policy;
    const bool retry =
        (status >= 400 && status < 500 && p.on_4xx) || (status >= 500 && status < 600 && p.on_5xx);
    return Outcome{std::nullopt, retry ? Failure::kStatus : Failure::kNone};
  }

  const std::string detail = t.error_buffer[0] != '\0' ? std::string(t.error_buffer.data())
                                                       : std::string(curl_easy_strerror(rc));
  long redirects = 0;
  curl_easy_getinfo(e, CURLINFO_REDIRECT_COUNT, &redirects);
  auto fail = [&](int code, std::string what, Failure f, int status = 502) {
    return Outcome{fetch_error(code, std::move(what) + ": " + detail, status), f};
  };

  if (!t.policy_refusal.empty()) {
    // Not a network failure: retrying or waiting would not help (the fallback URL still may).
    return Outcome{fetch_error(fetch_codes::kConnectionFailure,
                               "refused by the outbound request policy: " + t.policy_refusal, 502),
                   Failure::kFinal};
  }
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return fail(fetch_codes::kBadHostName, "bad host name", Failure::kFinal);
    case CURLE_COULDNT_CONNECT:
      return fail(fetch_codes::kConnectionFailure, "connection failed", Failure::kConnect);
    case CURLE_OPERATION_TIMEDOUT:
      if (!t.connected && t.attempt_connect_ms < t.attempt_total_ms) {
        return fail(fetch_codes::kConnectTimeout,
                    "TCP connect timed out (ct=" + std::to_string(t.attempt_connect_ms) + " ms)",
                    Failure::kConnect, 504);
      }
      return fail(fetch_codes::kTotalTimeout,
                  "total timeout (tt=" + std::to_string(t.settings.total_timeout.count()) + " ms)",
                  Failure::kFinal, 504);
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
      return fail(fetch_codes::kConnectionFailure, "connection failed",
                  t.connected ? Failure::kRead : Failure::kConnect);
    case CURLE_TOO_MANY_REDIRECTS:
      return fail(fetch_codes::kTooManyRedirects,
                  "more than " + std::to_string(options.max_redirects) + " redirects",
                  Failure::kFinal);
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT: {
      // A redirect to a scheme we do not follow, an unparsable reply (curl says "unsupported
      // protocol" for HTTP/0.9 or a bad version), or a URL curl rejects before connecting.
      char* effective = nullptr;
      curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &effective);
      const std::string_view where = effective != nullptr ? effective : "";
      const bool http_target = istarts_with(where, "http://") || istarts_with(where, "https://");
      if (redirects > 0 && !http_target) {
        return fail(fetch_codes::kInvalidRedirect, "invalid redirect", Failure::kFinal);
      }
      if (t.connected) {
        return fail(fetch_codes::kProtocolViolation, "HTTP protocol violation", Failure::kFinal);
      }
      if (redirects > 0) {
        return fail(fetch_codes::kInvalidRedirect, "invalid redirect", Failure::kFinal);
      }
      return fail(fetch_codes::kInvalidUrl, "invalid URL", Failure::kFinal, 400);
    }
    case CURLE_PEER_FAILED_VERIFICATION: {
      long verify = X509_V_OK;
      curl_easy_getinfo(e, CURLINFO_SSL_VERIFYRESULT, &verify);
      // The chain is OpenSSL's verdict; the name check is curl's own, after the chain
      // verified, and only its message says so.
      if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH ||
          detail.find("target host name") != std::string::npos) {
        return fail(fetch_codes::kCertDomainMismatch, "certificate domain mismatch",
                    Failure::kFinal);
      }
      if (verify == X509_V_ERR_CERT_HAS_EXPIRED || verify == X509_V_ERR_CERT_NOT_YET_VALID) {
        return fail(fetch_codes::kCertExpired, "certificate expired", Failure::kFinal);
      }
      return fail(fetch_codes::kCertUntrusted, "certificate not trusted", Failure::kFinal);
    }
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_USE_SSL_FAILED:
      return fail(fetch_codes::kTlsHandshake, "TLS handshake failed", Failure::kFinal);
    case CURLE_FILESIZE_EXCEEDED:
      return fail(fetch_codes::kResponseTooLarge,
                  "response body larger than " + std::to_string(t.max_body) + " bytes",
                  Failure::kFinal);
    case CURLE_WRITE_ERROR:
      if (t.body_too_large) {
        return fail(fetch_codes::kResponseTooLarge,
                    "response body larger than " + std::to_string(t.max_body) + " bytes",
                    Failure::kFinal);
      }
      if (t.headers_too_large) {
        return fail(fetch_codes::kResponseTooLarge, "response headers too large", Failure::kFinal);
      }
      return fail(fetch_codes::kRetrievalFailure, "HTTP retrieval failure", Failure::kFinal);
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP3:
    case CURLE_PARTIAL_FILE:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_RANGE_ERROR:
    case CURLE_UNKNOWN_OPTION:
      return fail(fetch_codes::kProtocolViolation, "HTTP protocol violation", Failure::kFinal);
    default:
      return fail(fetch_codes::kRetrievalFailure, "HTTP retrieval failure", Failure::kFinal);
  }
}

void CurlClient::Impl::conclude_attempt(Transfer& t, Outcome outcome) {
  const RetryPolicy& p = t.settings.retry_policy;
  const bool retryable = outcome.failure == Failure::kStatus ||
                         (outcome.failure == Failure::kConnect && p.on_connect_failure) ||
                         (outcome.failure == Failure::kRead && p.on_read_failure);
  if (retryable && t.attempts <= t.settings.retry_count) {
    const int shift = std::min(t.attempts - 1, 10);
    const milliseconds delay = std::min(options.retry_backoff * (1 << shift), kMaxBackoff);
    if (Clock::now() + delay < t.deadline) {
      t.backoff.expires_after(delay);
      t.backoff.async_wait([weak = weak_from_this(), id = t.id,
                            attempt = t.attempts](const boost::system::error_code& ec) {
        if (ec) return;
        auto self = weak.lock();
        if (!self) return;
        auto it = self->transfers.find(id);
        if (it == self->transfers.end() || it->second->attempts != attempt ||
            it->second->in_multi) {
          return;
        }
        self->begin_attempt(*it->second);
      });
      return;
    }
  }
  if (outcome.error) {
    Error error = std::move(*outcome.error);
    error.message += " (" + std::to_string(t.attempts) +
                     (t.attempts == 1 ? " attempt, " : " attempts, ") +
                     std::to_string(to_ms(Clock::now() - t.started)) + " ms)";
    finish(t, std::move(error));
  } else {
    finish(t, std::move(t.response));
  }
}

void CurlClient::Impl::finish(Transfer& t, Result<ClientResponse> result,
                              boost::system::error_code ec) {
  auto node = transfers.extract(t.id);
  assert(!node.empty());
  std::unique_ptr<Transfer> owned = std::move(node.mapped());
  if (owned->in_multi) {
    ++in_curl;
    curl_multi_remove_handle(multi, owned->easy);
    --in_curl;
    owned->in_multi = false;
  }
  owned->watchdog.cancel();
  owned->backoff.cancel();
  release_easy(owned->easy);
  owned->easy = nullptr;
  curl_slist_free_all(owned->header_list);
  owned->header_list = nullptr;
  if (result.ok()) {
    ClientResponse& r = result.value();
    r.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - owned->started);
    r.attempts = owned->attempts;
    r.warnings = std::move(owned->warnings);
  }
  Handler handler = std::move(owned->handler);
  // Posted through our executor, run on the handler's (a coroutine's, a strand…).
  auto handler_ex = asio::get_associated_executor(handler, ex);
  asio::post(ex, asio::bind_executor(handler_ex,
                                     [h = std::move(handler), ec, r = std::move(result)]() mutable {
                                       auto slot = asio::get_associated_cancellation_slot(h);
                                       if (slot.is_connected()) slot.clear();
                                       std::move(h)(ec, std::move(r));
                                     }));
  // `owned` goes here; the posted handler keeps the io_context busy until it has run.
}

bool CurlClient::Impl::cancel(RequestId id, std::string why) {
  auto it = transfers.find(id);
  if (it == transfers.end()) return false;
  if (in_curl > 0) {  // never expected; curl_multi_remove_handle may not run inside curl
    asio::post(ex, [weak = weak_from_this(), id, why = std::move(why)]() mutable {
      if (auto self = weak.lock()) self->cancel(id, std::move(why));
    });
    return true;
  }
  finish(*it->second, fetch_error(fetch_codes::kRetrievalFailure, std::move(why)),
         asio::error::operation_aborted);
  return true;
}

// ---------------------------------------------------------------------------------------------

CurlClient::CurlClient(asio::any_io_executor executor, ClientOptions options)
    : executor_(executor), impl_(std::make_shared<Impl>(std::move(executor), std::move(options))) {
  impl_->init();
}

CurlClient::~CurlClient() { impl_->shutdown(); }

asio::awaitable<Result<ClientResponse>> CurlClient::fetch(ClientRequest request) {
  return async_fetch(std::move(request), asio::use_awaitable);
}

RequestId CurlClient::start(
    ClientRequest request,
    std::function<void(boost::system::error_code, Result<ClientResponse>)> done) {
  assert(done);
  return start_handler(std::move(request), Handler(std::move(done)));
}

RequestId CurlClient::start_handler(ClientRequest request, Handler handler) {
  return impl_->start(std::move(request), std::move(handler));
}

bool CurlClient::cancel(RequestId id) { return impl_->cancel(id, "request cancelled"); }

std::size_t CurlClient::pending() const { return impl_->transfers.size(); }

}  // namespace sb::http
