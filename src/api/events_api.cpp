#include "api/events_api.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <optional>

#include "api/api.hpp"
#include "api/auth.hpp"
#include "api/path.hpp"
#include "core/log.hpp"
#include "core/sid.hpp"
#include "core/time.hpp"
#include "events/delivery_policy.hpp"
#include "http/form.hpp"
#include "http/websocket.hpp"

namespace sb::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using events::ChannelPtr;
using events::SubscriberPtr;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kHistoryPage = 1000;

Error bad(std::string m) { return Error::bad_request(codes::kInvalidParameter, std::move(m)); }

http::Response error(const Error& e) {
  auto res = http::error_response(e);
  if (e.status == 401) res.set(bhttp::field::www_authenticate, "Basic realm=\"Switchboard\"");
  return res;
}

http::Response method_not_allowed(std::string_view allow) {
  auto res = http::error_response(
      {codes::kMethodNotAllowed, 405, "The requested method is not allowed on this resource"});
  res.set(bhttp::field::allow, allow);
  return res;
}

Error not_found(std::string_view path) {
  return Error::not_found("The requested resource " + std::string(path) + " was not found");
}

// Request parameters from a form body, a JSON object body or the query string. Form values
// are strings (a repeated key becomes an array); JSON values keep their type.
struct Params {
  json::object fields;
  bool from_json = false;

  const json::value* get(std::string_view k) const { return fields.if_contains(k); }
  Result<std::optional<std::string>> str(std::string_view k) const {
    const auto* v = get(k);
    if (!v || v->is_null()) return std::optional<std::string>();
    if (v->is_string()) return std::optional<std::string>(std::string(v->get_string()));
    if (v->is_array() && !v->get_array().empty() && v->get_array().back().is_string()) {
      return std::optional<std::string>(std::string(v->get_array().back().get_string()));
    }
    if (v->is_int64() || v->is_uint64() || v->is_bool()) {
      return std::optional<std::string>(json::serialize(*v));
    }
    return bad("Parameter '" + std::string(k) + "' must be a string");
  }
  Result<std::vector<std::string>> list(std::string_view k) const {
    std::vector<std::string> out;
    const auto* v = get(k);
    if (!v || v->is_null()) return out;
    if (v->is_string()) {
      out.emplace_back(v->get_string());
      return out;
    }
    if (!v->is_array()) return bad("Parameter '" + std::string(k) + "' must be a list of strings");
    for (const auto& i : v->get_array()) {
      if (!i.is_string())
        return bad("Parameter '" + std::string(k) + "' must be a list of strings");
      out.emplace_back(i.get_string());
    }
    return out;
  }
  // Attributes: a JSON object, or (forms) its JSON text.
  Result<std::optional<json::value>> attributes(std::string_view k) const {
    const auto* v = get(k);
    if (!v) return std::optional<json::value>();
    if (v->is_object()) return std::optional<json::value>(*v);
    if (v->is_string()) {
      auto parsed = events::parse_attributes_text(v->get_string());
      if (!parsed) return parsed.error();
      return std::optional<json::value>(std::move(*parsed));
    }
    return bad("Parameter '" + std::string(k) + "' must be a JSON object");
  }
};

bool is_json_type(std::string_view type) {
  const std::string_view base = type.substr(0, type.find(';'));
  return beast::iequals(base, "application/json") ||
         beast::iequals(base, "application/cloudevents+json") ||
         beast::iequals(base, "application/cloudevents-batch+json");
}

Result<Params> form_params(std::string_view text) {
  auto form = http::parse_form(text);
  if (!form) return form.error();
  Params p;
  for (const auto& [k, v] : form->fields()) {
    auto* existing = p.fields.if_contains(k);
    if (!existing) {
      p.fields[k] = v;
    } else if (existing->is_array()) {
      existing->get_array().push_back(json::value(v));
    } else {
      json::array a;
      a.push_back(*existing);
      a.push_back(json::value(v));
      *existing = std::move(a);
    }
  }
  return p;
}

Result<Params> read_params(const http::Request& req, std::string_view query) {
  if (req.method() != bhttp::verb::post) return form_params(query);
  const std::string_view type = req[bhttp::field::content_type];
  if (is_json_type(type)) {
    boost::system::error_code ec;
    auto v = json::parse(req.body(), ec);
    if (ec) return bad("Body is not valid JSON: " + ec.message());
    Params p;
    p.from_json = true;
    if (!v.is_object()) return p;  // an event batch: the Events route reads the body itself
    p.fields = std::move(v.get_object());
    p.from_json = true;
    return p;
  }
  if (!req.body().empty() &&
      !beast::iequals(type.substr(0, type.find(';')), "application/x-www-form-urlencoded")) {
    return Error{codes::kInvalidParameter, 415,
                 "Content-Type must be application/x-www-form-urlencoded or application/json"};
  }
  return form_params(req.body());
}

std::string iso(std::int64_t unix_s) { return rfc2822(unix_s); }

json::object channel_json(const events::Channel& c) {
  json::object o;
  o["sid"] = c.sid;
  o["account_sid"] = c.account_sid;
  o["unique_name"] = c.name;
  o["attributes"] = c.attributes.raw;
  o["date_created"] = iso(c.date_created);
  o["date_updated"] = iso(c.date_updated);
  const std::string url = "/v1/Channels/" + c.sid;
  o["url"] = url;
  json::object links;
  links["subscribers"] = url + "/Subscribers";
  links["events"] = url + "/Events";
  links["stream"] = url + "/Stream";
  o["links"] = std::move(links);
  return o;
}

json::object subscriber_json(const events::Subscriber& s) {
  json::object o;
  o["sid"] = s.sid;
  o["account_sid"] = s.account_sid;
  o["channel_sid"] = s.channel_sid;
  o["type"] = s.type;
  o["url"] = s.type == "webhook" ? json::value(s.url) : json::value(nullptr);
  o["status"] = s.status;
  o["status_reason"] =
      s.status_reason.empty() ? json::value(nullptr) : json::value(s.status_reason);
  o["attributes"] = s.attributes.raw;
  o["date_created"] = iso(s.date_created);
  o["date_updated"] = iso(s.date_updated);
  o["url_path"] = "/v1/Channels/" + s.channel_sid + "/Subscribers/" + s.sid;
  json::object links;
  links["deliveries"] = "/v1/Subscribers/" + s.sid + "/Deliveries";
  links["replay"] = "/v1/Subscribers/" + s.sid + "/Replay";
  o["links"] = std::move(links);
  return o;
}

// Twilio's v1 list shape: records under `key`, paging under `meta`.
http::Response list_response(std::string_view key, json::array items, std::string_view base,
                             const Params& q) {
  std::size_t page_size = 50, page = 0;
  if (auto v = q.str("PageSize"); v && *v)
    page_size = std::clamp<std::size_t>(std::strtoul((*v)->c_str(), nullptr, 10), 1, 1000);
  if (auto v = q.str("Page"); v && *v) page = std::strtoul((*v)->c_str(), nullptr, 10);
  json::array out;
  for (std::size_t i = page * page_size; i < items.size() && out.size() < page_size; ++i)
    out.push_back(items[i]);
  const bool more = (page + 1) * page_size < items.size();
  auto url = [&](std::size_t p) {
    return std::string(base) + "?PageSize=" + std::to_string(page_size) +
           "&Page=" + std::to_string(p);
  };
  json::object meta;
  meta["page"] = page;
  meta["page_size"] = page_size;
  meta["first_page_url"] = url(0);
  meta["previous_page_url"] = page > 0 ? json::value(url(page - 1)) : json::value(nullptr);
  meta["url"] = url(page);
  meta["next_page_url"] = more ? json::value(url(page + 1)) : json::value(nullptr);
  meta["key"] = key;
  json::object body;
  body[key] = std::move(out);
  body["meta"] = std::move(meta);
  return http::json_response(200, body);
}

// Who is asking: an account (Basic auth with its own credentials or an API key) or an
// access-token holder. A key counts as "account" in channel permissions, within its scopes.
struct Caller {
  std::string account_sid;
  std::string kind;  // "account" or "token"
  std::optional<events::AccessToken> token;
  std::optional<store::ApiKey> key;

  bool may(std::string_view scope) const { return !key || key->has_scope(scope); }
};

// The scope an API key needs for a route: publish to post events, subscribe to read them or
// stream, none to read channel metadata, rest to manage channels and subscribers. Tokens
// are checked against the permissions they ask for. Empty: no scope needed here.
struct KeyRequirement {
  std::string_view scope;
  std::string_view action;
};

template <std::size_t N>
KeyRequirement key_requirement(const std::array<std::string_view, N>& seg, std::size_t n,
                               bhttp::verb method) {
  if (n == 2 && seg[1] == "Tokens") return {};
  if (n == 4 && seg[1] == "Channels" && seg[3] == "Events") {
    if (method == bhttp::verb::post) return {key_scope::kPublish, "publish events"};
    return {key_scope::kSubscribe, "read event history"};
  }
  if (n == 4 && seg[1] == "Channels" && seg[3] == "Stream") {
    return {key_scope::kSubscribe, "stream events"};
  }
  if (n <= 3 && seg[1] == "Channels" && method == bhttp::verb::get) return {};
  return {key_scope::kRest, "manage channels and subscribers"};
}

std::optional<std::string> bearer(const http::Request& req, const Params& query) {
  const std::string_view h = req[bhttp::field::authorization];
  if (h.size() > 7 && beast::iequals(h.substr(0, 7), "Bearer ")) return std::string(h.substr(7));
  if (auto t = query.str("token"); t && *t) return **t;
  return std::nullopt;
}

// ---- streams ----

struct StreamRequest {
  events::EventService* service;
  ChannelPtr channel;
  SubscriberPtr subscriber;
  std::optional<std::string> last_event_id;
  std::chrono::milliseconds heartbeat{15000};
};

struct ReaderState {
  explicit ReaderState(asio::any_io_executor ex)
      : timer(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer timer;
  bool done = false;
};

std::string gap_json(const StreamRequest& sr, const std::vector<events::StreamItem>& first) {
  json::object o;
  o["control"] = "gap";
  o["last_event_id"] = sr.last_event_id ? json::value(*sr.last_event_id) : json::value(nullptr);
  o["oldest_event_id"] =
      first.empty() ? json::value(nullptr) : json::value(first.front().event_sid);
  o["message"] = "The events after last_event_id are no longer all in history";
  return json::serialize(o);
}

std::string overflow_json(std::uint64_t dropped) {
  json::object o;
  o["control"] = "overflow";
  o["message"] = "The client did not keep up; its queue overflowed";
  o["dropped"] = dropped;
  return json::serialize(o);
}

// Sends history after the resume point through `send(item)`; returns the last sequence sent.
template <typename SendGap, typename Send>
asio::awaitable<Result<std::int64_t>> replay_history(const StreamRequest& sr, SendGap send_gap,
                                                     Send send) {
  std::int64_t last_seq = 0;
  if (!sr.last_event_id) co_return last_seq;
  std::optional<std::string> after = sr.last_event_id;
  bool first = true;
  for (;;) {
    auto page = sr.service->history(*sr.channel, after, kHistoryPage);
    if (!page) co_return page.error();
    if (first && page->gap) {
      bool ok = co_await send_gap(gap_json(sr, page->items));
      if (!ok) co_return Error::internal("write failed");
    }
    first = false;
    for (const auto& item : page->items) {
      if (item.body && sr.subscriber && !sr.subscriber->attributes.filter.passes(*item.body)) {
        last_seq = item.seq;
        continue;
      }
      bool ok = co_await send(item);
      if (!ok) co_return Error::internal("write failed");
      last_seq = item.seq;
    }
    if (!page->has_more || page->items.empty()) break;
    after = page->items.back().event_sid;
  }
  co_return last_seq;
}

// Paces sends to the rate limit; true to go on.
asio::awaitable<void> pace(events::TokenBucket& bucket, const Clock& clock,
                           asio::steady_timer& timer) {
  while (!bucket.try_take(clock.now_ms())) {
    timer.expires_after(std::chrono::milliseconds(bucket.wait_ms(clock.now_ms())));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

// Bytes a stream writer gathers before it sends them in one write: every event queued since
// the last write goes out in one send (one segment train, one wake-up of the client), which
// is what lets one worker fan an event out to thousands of connections.
class Outbox {
 public:
  // `stall_limit`: how long a write may make no progress before the connection is given up
  // (a client that stopped reading is let go, like one that stopped answering pings).
  Outbox(tcp::socket& socket, std::chrono::milliseconds stall_limit)
      : socket_(socket), timer_(socket.get_executor()), stall_limit_(stall_limit) {
    out_.reserve(kFlushAt);
    boost::system::error_code ec;
    socket_.non_blocking(true, ec);  // for try_send; asynchronous writes are unaffected
  }
  std::string& bytes() { return out_; }
  bool full() const { return out_.size() >= kFlushAt; }
  // Sends what the socket takes now, without blocking; true when nothing is left. What is
  // left (or a failure) is for flush().
  bool try_send() {
    boost::system::error_code ec;
    const std::size_t n = socket_.write_some(asio::buffer(out_), ec);
    out_.erase(0, n);
    return !ec && out_.empty();
  }
  // Sends what is gathered; false when the connection failed or stalled.
  asio::awaitable<bool> flush() {
    if (out_.empty()) co_return true;
    // Most sends complete at once: try without the event loop (and without arming the stall
    // timer, whose every arming may reprogram the reactor's timer) first.
    boost::system::error_code first;
    std::size_t at = socket_.write_some(asio::buffer(out_), first);
    bool ok = !first || first == asio::error::would_block;
    while (ok && at < out_.size()) {
      timer_.expires_after(stall_limit_);
      timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) socket_.cancel();  // no progress: ends this write and the reader's read
      });
      auto [ec, n] = co_await socket_.async_write_some(
          asio::buffer(out_.data() + at, out_.size() - at), kTuple);
      timer_.cancel();
      at += n;
      ok = !ec;
    }
    // Keep the capacity of an ordinary batch; give back what one huge backlog grew.
    if (out_.capacity() > 8 * kFlushAt) {
      std::string().swap(out_);
      out_.reserve(kFlushAt);
    } else {
      out_.clear();
    }
    co_return ok;
  }

 private:
  static constexpr std::size_t kFlushAt = 64 * 1024;
  tcp::socket& socket_;
  asio::steady_timer timer_;
  std::chrono::milliseconds stall_limit_;
  std::string out_;
};

// The events one write may carry; a paced (rate-limited) stream takes one at a time.
template <typename Append>
asio::awaitable<bool> send_batch(const std::deque<events::StreamItemPtr>& items,
                                 std::int64_t last_seq, events::TokenBucket& bucket,
                                 const Clock& clock, asio::steady_timer& pacer, Outbox& out,
                                 Append append) {
  for (const auto& item : items) {
    if (item->seq <= last_seq) continue;  // already sent from history
    if (bucket.limited() && !bucket.try_take(clock.now_ms())) {
      const bool sent = co_await out.flush();
      if (!sent) co_return false;
      co_await pace(bucket, clock, pacer);
    }
    append(*item);
    if (out.full()) {
      const bool sent = co_await out.flush();
      if (!sent) co_return false;
    }
  }
  const bool sent = co_await out.flush();
  co_return sent;
}

// Clears a stream's direct sink when the writer's frame ends, however it ends: the sink refers
// to the frame's locals.
struct SinkGuard {
  std::shared_ptr<events::StreamQueue> q;
  ~SinkGuard() { q->set_direct_sink(nullptr); }
};

// The direct path (StreamQueue::set_direct_sink): while the stream's writer waits with nothing
// pending, the router's job on this worker writes the events straight to the socket.
template <typename Append>
bool send_now(std::deque<events::StreamItemPtr>& pending, std::int64_t last_seq, Outbox& out,
              Append& append) {
  if (!out.bytes().empty()) return false;  // the writer is finishing an earlier batch
  for (const auto& item : pending) {
    if (item->seq > last_seq) append(*item);
  }
  pending.clear();
  return out.try_send();
}

asio::awaitable<void> sse_reader(beast::tcp_stream& stream, std::shared_ptr<events::StreamQueue> q,
                                 std::shared_ptr<ReaderState> state) {
  std::array<char, 512> sink;
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
    if (ec) break;
  }
  state->done = true;
  state->timer.cancel();
  q->close();
}

void append_sse(std::string& out, const events::StreamItem& item) {
  out.append("id: ").append(item.event_sid).append("\ndata: ").append(item.json).append("\n\n");
}

asio::awaitable<void> run_sse(StreamRequest sr, beast::tcp_stream& stream) {
  auto executor = co_await asio::this_coro::executor;
  auto q = sr.service->open_stream(*sr.channel, sr.subscriber.get(), executor);
  auto state = std::make_shared<ReaderState>(executor);
  asio::co_spawn(executor, sse_reader(stream, q, state), asio::detached);
  const std::string channel_sid = sr.channel->sid;
  Outbox out(stream.socket(), 2 * sr.heartbeat);
  out.bytes().append(
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "X-Accel-Buffering: no\r\nServer: switchboard/" SB_VERSION
      "\r\nConnection: keep-alive\r\n\r\n"
      "retry: 1000\n: connected\n\n");
  bool ok = co_await out.flush();
  std::int64_t last_seq = 0;
  if (ok) {
    auto send_gap = [&out](std::string j) -> asio::awaitable<bool> {
      out.bytes().append("event: gap\ndata: ").append(j).append("\n\n");
      co_return co_await out.flush();
    };
    auto send = [&out](const events::StreamItem& item) -> asio::awaitable<bool> {
      append_sse(out.bytes(), item);
      if (!out.full()) co_return true;
      const bool sent = co_await out.flush();
      co_return sent;
    };
    auto r = co_await replay_history(sr, send_gap, send);
    ok = r.ok();
    if (ok) ok = co_await out.flush();
    if (ok) last_seq = *r;
  }
  events::TokenBucket bucket(sr.service->stream_rate_limit(*sr.channel, sr.subscriber.get()),
                             sr.service->clock().now_ms());
  asio::steady_timer pacer(executor);
  std::deque<events::StreamItemPtr> items;
  auto append = [&out](const events::StreamItem& i) { append_sse(out.bytes(), i); };
  SinkGuard sink_guard{q};
  if (!bucket.limited()) {
    q->set_direct_sink([&](std::deque<events::StreamItemPtr>& pending) {
      return send_now(pending, last_seq, out, append);
    });
  }
  while (ok) {
    if (q->overflowed()) {
      out.bytes().append("event: overflow\ndata: ").append(overflow_json(q->dropped()));
      out.bytes().append("\n\n");
      co_await out.flush();
      break;
    }
    if (q->closed()) break;
    q->take(items, bucket.limited() ? 1 : SIZE_MAX);
    if (items.empty() && !out.bytes().empty()) {  // what a partial direct send left
      ok = co_await out.flush();
      continue;
    }
    if (items.empty()) {
      const auto deadline = std::chrono::steady_clock::now() + sr.heartbeat;
      co_await q->wait(deadline);
      if (std::chrono::steady_clock::now() >= deadline && !q->closed()) {
        out.bytes().append(": heartbeat\n\n");
        ok = co_await out.flush();
      }
      continue;
    }
    ok = co_await send_batch(items, last_seq, bucket, sr.service->clock(), pacer, out, append);
  }
  q->set_direct_sink(nullptr);
  sr.service->close_stream(channel_sid, q);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);  // a read issued later fails too
  stream.socket().cancel(ignored);
  while (!state->done) {
    boost::system::error_code ec;
    co_await state->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

// ---- WebSocket ----
// The handshake is Beast's; the frames after it are written here, so that all the events a
// connection has queued leave in one send (Beast writes one frame per call) and control frames
// (pongs, pings, close) share that one writer.

constexpr std::size_t kMaxClientFrame = 64 * 1024;  // clients only answer pings and close
constexpr auto kCloseWait = std::chrono::seconds(5);

// What the reader tells the writer.
struct WsState : ReaderState {
  using ReaderState::ReaderState;
  // The payload of the latest ping not yet answered: one pong answers it (RFC 6455 5.5.3
  // allows answering only the most recent), so a ping flood cannot grow memory.
  std::string pong;
  bool pong_due = false;
  bool peer_closed = false;
  std::uint16_t peer_code = http::ws::close_code::kNormal;
  std::uint16_t error_code = 0;  // a protocol error: close with this code
  std::string_view error;
  std::chrono::steady_clock::time_point last_rx;
};

asio::awaitable<void> ws_reader(tcp::socket& socket, std::string pending,
                                std::shared_ptr<events::StreamQueue> q,
                                std::shared_ptr<WsState> st) {
  namespace ws = http::ws;
  std::vector<char> buf(std::max<std::size_t>(4096, pending.size()));
  std::size_t have = pending.size();
  std::memcpy(buf.data(), pending.data(), have);
  ws::FrameParser parser(kMaxClientFrame);
  bool reading = true;
  while (reading) {
    std::size_t at = 0, used = 0;
    ws::Frame f;
    for (;;) {
      const auto s = parser.next(buf.data() + at, have - at, f, used);
      if (s == ws::FrameParser::Status::kNeedMore) break;
      if (s == ws::FrameParser::Status::kError) {
        st->error_code = parser.error_code();
        st->error = parser.error();
        reading = false;
        break;
      }
      at += used;
      if (f.opcode == ws::Opcode::kPing) {
        st->pong.assign(f.payload);  // reuses the buffer: no allocation per ping
        st->pong_due = true;
        q->notify();
      } else if (f.opcode == ws::Opcode::kClose) {
        const auto c = ws::parse_close(f.payload);
        st->peer_closed = true;
        if (!c.valid) {
          st->error_code = ws::close_code::kProtocolError;
          st->error = "invalid close frame";
        } else if (c.code != 1005) {
          st->peer_code = c.code;
        }
        reading = false;
        break;
      }
      // Data frames from a client are not part of the stream protocol: read and ignored.
    }
    if (!reading) break;
    std::memmove(buf.data(), buf.data() + at, have - at);
    have -= at;
    if (have == buf.size()) buf.resize(std::min(buf.size() * 2, kMaxClientFrame + 16));
    if (have == buf.size()) {  // cannot happen: a whole frame fits, and is consumed above
      st->error_code = ws::close_code::kTooBig;
      st->error = "frame too big";
      break;
    }
    auto [ec, n] =
        co_await socket.async_read_some(asio::buffer(buf.data() + have, buf.size() - have), kTuple);
    if (ec) break;
    have += n;
    st->last_rx = std::chrono::steady_clock::now();
  }
  st->done = true;
  st->timer.cancel();
  q->close();
}

asio::awaitable<void> run_ws(StreamRequest sr, beast::tcp_stream& stream,
                             beast::flat_buffer& buffer, http::Request req) {
  namespace ws = http::ws;
  auto executor = co_await asio::this_coro::executor;
  {
    websocket::stream<beast::tcp_stream&> handshake(stream);
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(10);
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    handshake.set_option(t);
    handshake.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(bhttp::field::server, "switchboard/" SB_VERSION);
    }));
    auto [ec] = co_await handshake.async_accept(req, kTuple);
    if (ec) co_return;
  }
  stream.expires_never();
  auto& socket = stream.socket();
  auto q = sr.service->open_stream(*sr.channel, sr.subscriber.get(), executor);
  auto st = std::make_shared<WsState>(executor);
  st->last_rx = std::chrono::steady_clock::now();
  const auto leftover = buffer.cdata();
  std::string pending(static_cast<const char*>(leftover.data()), leftover.size());
  buffer.consume(buffer.size());
  asio::co_spawn(executor, ws_reader(socket, std::move(pending), q, st), asio::detached);
  const std::string channel_sid = sr.channel->sid;
  Outbox out(socket, 2 * sr.heartbeat);
  auto append_text = [&out](std::string_view text) {
    ws::append_frame(out.bytes(), ws::Opcode::kText, text);
  };
  auto send_gap = [&](std::string j) -> asio::awaitable<bool> {
    append_text(j);
    co_return co_await out.flush();
  };
  auto send = [&](const events::StreamItem& item) -> asio::awaitable<bool> {
    append_text(item.json);
    if (!out.full()) co_return true;
    const bool sent = co_await out.flush();
    co_return sent;
  };
  auto r = co_await replay_history(sr, send_gap, send);
  bool ok = r.ok();
  if (ok) ok = co_await out.flush();
  std::int64_t last_seq = ok ? *r : 0;
  events::TokenBucket bucket(sr.service->stream_rate_limit(*sr.channel, sr.subscriber.get()),
                             sr.service->clock().now_ms());
  asio::steady_timer pacer(executor);
  std::deque<events::StreamItemPtr> items;
  // A ping every heartbeat while the last one was answered; a client that leaves a ping
  // unanswered (hears nothing at all) for two heartbeats is gone. Time spent in replay or a
  // long write does not count against the client: it is only judged on a ping it was sent.
  auto next_ping = std::chrono::steady_clock::now() + sr.heartbeat;
  std::optional<std::chrono::steady_clock::time_point> ping_sent;
  std::uint16_t close_code = ws::close_code::kGoingAway;
  std::string_view close_reason;
  bool dead = false;
  auto append = [&](const events::StreamItem& i) { append_text(i.json); };
  SinkGuard sink_guard{q};
  if (!bucket.limited()) {
    q->set_direct_sink([&](std::deque<events::StreamItemPtr>& pending) {
      return !st->pong_due && send_now(pending, last_seq, out, append);
    });
  }
  while (ok) {
    if (st->pong_due) {
      ws::append_frame(out.bytes(), ws::Opcode::kPong, st->pong);
      st->pong_due = false;
    }
    if (st->done) break;  // the client closed, broke the protocol or went away
    if (q->overflowed()) {
      append_text(overflow_json(q->dropped()));
      close_code = ws::close_code::kPolicyViolation;
      close_reason = "slow consumer";
      break;
    }
    if (q->closed()) break;  // the service is stopping
    const auto now = std::chrono::steady_clock::now();
    if (ping_sent && st->last_rx >= *ping_sent) ping_sent.reset();  // answered (or data came)
    if (ping_sent && now - *ping_sent >= 2 * sr.heartbeat) {
      dead = true;
      break;
    }
    if (now >= next_ping) {
      if (!ping_sent) {
        ws::append_frame(out.bytes(), ws::Opcode::kPing, {});
        ping_sent = now;
      }
      next_ping = now + sr.heartbeat;
    }
    q->take(items, bucket.limited() ? 1 : SIZE_MAX);
    if (items.empty()) {
      if (!out.bytes().empty()) {
        ok = co_await out.flush();
      } else {
        co_await q->wait(next_ping);
      }
      continue;
    }
    ok = co_await send_batch(items, last_seq, bucket, sr.service->clock(), pacer, out, append);
  }
  items.clear();
  q->set_direct_sink(nullptr);
  sr.service->close_stream(channel_sid, q);
  const bool initiated = !st->done;
  if (ok && !dead) {
    if (st->error_code != 0) {
      ws::append_close(out.bytes(), st->error_code, st->error);
    } else if (st->peer_closed) {
      ws::append_close(out.bytes(), st->peer_code);  // echo the client's close
    } else if (initiated) {
      ws::append_close(out.bytes(), close_code, close_reason);
    }
    co_await out.flush();
  }
  if (initiated && ok && !dead && !st->done) {
    // Wait for the client's close frame (or its end of the connection), for a while.
    st->timer.expires_after(kCloseWait);
    boost::system::error_code ec;
    co_await st->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.cancel(ignored);
  while (!st->done) {
    st->timer.expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await st->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace

EventsApi::EventsApi(events::EventService& service, store::Store& store, std::string public_base)
    : service_(service), store_(store), public_base_(std::move(public_base)) {}

asio::awaitable<http::Response> EventsApi::handle(http::Request& req, http::RequestInfo& info) {
  const std::string_view target = req.target();
  const auto qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  const std::string_view query = qmark == std::string_view::npos ? "" : target.substr(qmark + 1);
  info.route = "/v1/unmatched";
  auto parts = split_path<6>(path.substr(1));
  if (!parts) co_return error(not_found(path));
  const auto& [seg, n] = *parts;
  const auto method = req.method();
  const bool get = method == bhttp::verb::get, post = method == bhttp::verb::post,
             del = method == bhttp::verb::delete_;

  auto query_params = form_params(query);
  if (!query_params) co_return error(query_params.error());

  // Authentication: Basic for everything; an access token where a route allows one.
  const bool token_route =
      n >= 4 && seg[1] == "Channels" && (seg[3] == "Events" || seg[3] == "Stream");
  if (!token_route && beast::iequals(req[bhttp::field::authorization].substr(0, 7), "Bearer ")) {
    co_return error(
        {codes::kAuthenticationFailed, 403, "An access token cannot use this resource"});
  }
  Caller caller;
  if (auto tok = bearer(req, *query_params);
      tok && token_route && req[bhttp::field::authorization].substr(0, 6) != "Basic ") {
    auto t = service_.verify_token(*tok);
    if (!t)
      co_return error(
          {codes::kAuthenticationFailed, 401, "Authentication Error - invalid or expired token"});
    caller = {t->account_sid, "token", *t};
  } else {
    auto principal = authenticate(store_, req);
    if (!principal) co_return error(principal.error());
    caller = {principal->account.sid, "account", std::nullopt, std::move(principal->key)};
  }
  if (const auto need = key_requirement(seg, n, method);
      !need.scope.empty() && !caller.may(need.scope)) {
    co_return error(missing_scope_error(need.scope, need.action));
  }
  if (caller.kind == "token" && !token_route) {
    co_return error(
        {codes::kAuthenticationFailed, 403, "An access token cannot use this resource"});
  }

  auto params = read_params(req, query);
  if (!params) co_return error(params.error());
  const std::string base_path(path);

  // /v1/Tokens
  if (n == 2 && seg[1] == "Tokens") {
    info.route = "/v1/Tokens";
    if (!post) co_return method_not_allowed("POST");
    auto channels = params->list("Channels");
    if (!channels) co_return error(channels.error());
    if (channels->empty() || channels->size() > 64)
      co_return error(bad("Channels: 1 to 64 channel names"));
    for (const auto& c : *channels) {
      std::string plain = c;
      std::erase(plain, '*');
      while (!plain.empty() && plain.back() == '.') plain.pop_back();
      if (c != "*" && !events::validate_channel_name(plain.empty() ? "x" : plain)) {
        co_return error(bad("Channels: invalid channel name '" + c + "'"));
      }
    }
    auto perms = params->list("Permissions");
    if (!perms) co_return error(perms.error());
    events::AccessToken t;
    t.account_sid = caller.account_sid;
    t.channels = *channels;
    if (perms->empty()) t.subscribe = true;
    for (const auto& p : *perms) {
      if (p == "publish")
        t.publish = true;
      else if (p == "subscribe")
        t.subscribe = true;
      else
        co_return error(bad("Permissions: 'publish' or 'subscribe', not '" + p + "'"));
    }
    // A key hands out no more than it holds.
    if (t.publish && !caller.may(key_scope::kPublish))
      co_return error(missing_scope_error(key_scope::kPublish, "issue publish tokens"));
    if (t.subscribe && !caller.may(key_scope::kSubscribe))
      co_return error(missing_scope_error(key_scope::kSubscribe, "issue subscribe tokens"));
    std::int64_t ttl = 3600;
    if (auto v = params->str("Ttl"); !v) {
      co_return error(v.error());
    } else if (*v) {
      char* end = nullptr;
      ttl = std::strtoll((*v)->c_str(), &end, 10);
      if (!end || *end || ttl < 60 || ttl > 86400) co_return error(bad("Ttl: 60 to 86400 seconds"));
    }
    t.expires_s = service_.clock().now_ms() / 1000 + ttl;
    const std::string token = service_.issue_token(t);
    json::object o;
    o["token"] = token;
    o["account_sid"] = t.account_sid;
    json::array ch;
    json::object urls;
    for (const auto& c : t.channels) {
      ch.push_back(json::value(c));
      if (c.find('*') == std::string::npos && t.subscribe) {
        urls[c] = public_base_ + "/v1/Channels/" + c + "/Stream?token=" + token;
      }
    }
    o["channels"] = std::move(ch);
    json::array pa;
    if (t.publish) pa.push_back("publish");
    if (t.subscribe) pa.push_back("subscribe");
    o["permissions"] = std::move(pa);
    o["ttl"] = ttl;
    o["expires_at"] = iso(t.expires_s);
    o["stream_urls"] = std::move(urls);
    co_return http::json_response(201, o);
  }

  // /v1/Subscribers/{SB}[/Deliveries|/Replay]
  if (n >= 3 && seg[1] == "Subscribers") {
    auto sub =
        is_sid(seg[2], "SB") ? service_.find_subscriber(caller.account_sid, seg[2]) : nullptr;
    if (n == 3) {
      info.route = "/v1/Subscribers/{Sid}";
      if (!sub) co_return error(not_found(path));
      if (!get) co_return method_not_allowed("GET");
      co_return http::json_response(200, subscriber_json(*sub));
    }
    if (n == 4 && seg[3] == "Deliveries") {
      info.route = "/v1/Subscribers/{Sid}/Deliveries";
      if (!sub) co_return error(not_found(path));
      if (!get) co_return method_not_allowed("GET");
      std::size_t limit = 50;
      if (auto v = params->str("PageSize"); v && *v)
        limit = std::clamp<std::size_t>(std::strtoul((*v)->c_str(), nullptr, 10), 1, 1000);
      auto d = service_.deliveries(*sub, limit);
      if (!d) co_return error(Error::internal("Internal storage error"));
      json::object o;
      o["deliveries"] = std::move(*d);
      json::object meta;
      meta["page_size"] = limit;
      meta["key"] = "deliveries";
      o["meta"] = std::move(meta);
      co_return http::json_response(200, o);
    }
    if (n == 4 && seg[3] == "Replay") {
      info.route = "/v1/Subscribers/{Sid}/Replay";
      if (!sub) co_return error(not_found(path));
      if (!post) co_return method_not_allowed("POST");
      auto from = params->str("From");
      auto to = params->str("To");
      if (!from || !to) co_return error(bad("From and To must be strings"));
      if (!*from) co_return error(bad("From is required (RFC 3339 or Unix seconds)"));
      auto from_ms = events::parse_time_ms(**from);
      auto to_ms = *to ? events::parse_time_ms(**to)
                       : std::optional<std::int64_t>(service_.clock().now_ms());
      if (!from_ms || !to_ms || *to_ms < *from_ms)
        co_return error(bad("From/To: invalid time window"));
      auto count = co_await service_.replay(sub, *from_ms, *to_ms);
      if (!count) co_return error(count.error());
      json::object o;
      o["subscriber_sid"] = sub->sid;
      o["from"] = events::rfc3339_ms(*from_ms);
      o["to"] = events::rfc3339_ms(*to_ms);
      o["queued"] = *count;
      co_return http::json_response(202, o);
    }
    co_return error(not_found(path));
  }

  if (n < 2 || seg[1] != "Channels") co_return error(not_found(path));

  // /v1/Channels
  if (n == 2) {
    info.route = "/v1/Channels";
    if (get) {
      json::array items;
      for (const auto& c : service_.list_channels(caller.account_sid))
        items.push_back(channel_json(*c));
      co_return list_response("channels", std::move(items), "/v1/Channels", *params);
    }
    if (!post) co_return method_not_allowed("GET, POST");
    auto name = params->str("UniqueName");
    if (!name) co_return error(name.error());
    if (!*name) co_return error(bad("UniqueName is required"));
    auto attrs = params->attributes("Attributes");
    if (!attrs) co_return error(attrs.error());
    auto created = co_await service_.create_channel(caller.account_sid, **name,
                                                    attrs->value_or(json::value()));
    if (!created) co_return error(created.error());
    auto o = channel_json(**created);
    o["webhook_secret"] = (*created)->signing_secret;  // shown once
    co_return http::json_response(201, o);
  }

  ChannelPtr channel = service_.resolve_channel(caller.account_sid, seg[2]);
  if (caller.token && channel && !caller.token->allows(channel->name)) channel = nullptr;

  if (n == 3) {
    info.route = "/v1/Channels/{Sid}";
    if (!channel) co_return error(not_found(path));
    if (get) co_return http::json_response(200, channel_json(*channel));
    if (post) {
      for (const auto& kv : params->fields) {
        if (kv.key() != "Attributes")
          co_return error(bad("Unknown parameter '" + std::string(kv.key()) + "' (Attributes)"));
      }
      auto attrs = params->attributes("Attributes");
      if (!attrs) co_return error(attrs.error());
      auto updated = co_await service_.update_channel(channel, *attrs);
      if (!updated) co_return error(updated.error());
      co_return http::json_response(200, channel_json(**updated));
    }
    if (del) {
      Status s = co_await service_.delete_channel(channel);
      if (!s) co_return error(s.error());
      co_return http::Response(bhttp::status::no_content, req.version());
    }
    co_return method_not_allowed("GET, POST, DELETE");
  }

  if (n == 4 && seg[3] == "Subscribers") {
    info.route = "/v1/Channels/{Sid}/Subscribers";
    if (!channel) co_return error(not_found(path));
    if (get) {
      json::array items;
      for (const auto& s : service_.list_subscribers(channel->sid))
        items.push_back(subscriber_json(*s));
      co_return list_response("subscribers", std::move(items), base_path, *params);
    }
    if (!post) co_return method_not_allowed("GET, POST");
    auto type = params->str("Type");
    auto url = params->str("Url");
    auto secret = params->str("Secret");
    if (!type || !url || !secret) co_return error(bad("Type, Url and Secret must be strings"));
    const std::string t = type->value_or("webhook");
    if (t != "webhook" && t != "stream") co_return error(bad("Type must be 'webhook' or 'stream'"));
    if (t == "webhook") {
      if (!*url || !events::valid_http_url(**url)) {
        co_return error(Error::bad_request(codes::kInvalidUrl, "Url must be an http(s) URL"));
      }
    } else if (*url) {
      co_return error(bad("A stream subscriber has no Url"));
    }
    if (*secret && !events::secret_key(**secret)) {
      co_return error(bad("Secret must be whsec_ followed by base64"));
    }
    if (!channel->attributes.permissions.may_subscribe("account")) {
      co_return error(
          {codes::kAuthenticationFailed, 403, "Subscribing to this channel is not permitted"});
    }
    const bool generated = !*secret;
    std::string sec = generated ? events::generate_secret() : **secret;
    auto attrs = params->attributes("Attributes");
    if (!attrs) co_return error(attrs.error());
    auto created = co_await service_.create_subscriber(channel, t, url->value_or(""), sec,
                                                       attrs->value_or(json::value()));
    if (!created) co_return error(created.error());
    auto o = subscriber_json(**created);
    if (generated && t == "webhook") o["secret"] = sec;  // shown once
    co_return http::json_response(201, o);
  }

  if (n == 5 && seg[3] == "Subscribers") {
    info.route = "/v1/Channels/{Sid}/Subscribers/{Sid}";
    auto sub = channel && is_sid(seg[4], "SB")
                   ? service_.find_subscriber(caller.account_sid, seg[4])
                   : nullptr;
    if (!sub || sub->channel_sid != channel->sid) co_return error(not_found(path));
    if (get) co_return http::json_response(200, subscriber_json(*sub));
    if (del) {
      Status s = co_await service_.delete_subscriber(sub);
      if (!s) co_return error(s.error());
      co_return http::Response(bhttp::status::no_content, req.version());
    }
    if (!post) co_return method_not_allowed("GET, POST, DELETE");
    events::EventService::SubscriberUpdate u;
    auto url = params->str("Url");
    auto secret = params->str("Secret");
    auto status = params->str("Status");
    auto rotate = params->str("RotateSecret");
    if (!url || !secret || !status || !rotate)
      co_return error(bad("Url, Secret, Status, RotateSecret must be strings"));
    if (*url) {
      if (sub->type != "webhook" || !events::valid_http_url(**url)) {
        co_return error(Error::bad_request(codes::kInvalidUrl, "Url must be an http(s) URL"));
      }
      u.url = **url;
    }
    bool generated = false;
    if (*secret) {
      if (!events::secret_key(**secret))
        co_return error(bad("Secret must be whsec_ followed by base64"));
      u.secret = **secret;
    } else if (*rotate && **rotate == "true") {
      u.secret = events::generate_secret();
      generated = true;
    }
    if (*status) {
      if (**status != "active" && **status != "disabled")
        co_return error(bad("Status must be 'active' or 'disabled'"));
      u.status = **status;
    }
    auto attrs = params->attributes("Attributes");
    if (!attrs) co_return error(attrs.error());
    u.attributes = *attrs;
    auto updated = co_await service_.update_subscriber(sub, u);
    if (!updated) co_return error(updated.error());
    auto o = subscriber_json(**updated);
    if (generated) o["secret"] = *u.secret;
    co_return http::json_response(200, o);
  }

  if (n == 4 && seg[3] == "Events") {
    info.route = "/v1/Channels/{Sid}/Events";
    if (!channel) co_return error(not_found(path));
    if (get) {
      if (caller.token && !caller.token->subscribe)
        co_return error({codes::kAuthenticationFailed, 403, "The token does not allow subscribe"});
      if (!channel->attributes.permissions.may_subscribe(caller.kind)) {
        co_return error(
            {codes::kAuthenticationFailed, 403, "Reading this channel is not permitted"});
      }
      auto after = params->str("After");
      if (!after) co_return error(after.error());
      std::size_t limit = 50;
      if (auto v = params->str("Limit"); v && *v)
        limit = std::clamp<std::size_t>(std::strtoul((*v)->c_str(), nullptr, 10), 1, 1000);
      auto page = service_.history(*channel, *after, limit);
      if (!page) co_return error(Error::internal("Internal storage error"));
      json::array evs;
      for (const auto& item : page->items) {
        boost::system::error_code ec;
        evs.push_back(json::parse(item.json, ec));
      }
      json::object o;
      o["events"] = std::move(evs);
      json::object meta;
      meta["key"] = "events";
      meta["limit"] = limit;
      meta["gap"] = page->gap;
      meta["next_page_url"] =
          page->has_more && !page->items.empty()
              ? json::value(base_path + "?After=" + page->items.back().event_sid +
                            "&Limit=" + std::to_string(limit))
              : json::value(nullptr);
      o["meta"] = std::move(meta);
      co_return http::json_response(200, o);
    }
    if (!post) co_return method_not_allowed("GET, POST");
    if (caller.token && !caller.token->publish)
      co_return error({codes::kAuthenticationFailed, 403, "The token does not allow publish"});
    std::optional<std::string> key;
    if (auto k = req["Idempotency-Key"]; !k.empty()) {
      if (k.size() > 255) co_return error(bad("Idempotency-Key is longer than 255 characters"));
      key = std::string(k);
    }
    const std::string default_source = "/v1/Channels/" + channel->name;
    std::vector<events::Body> bodies;
    bool batch = false;
    if (is_json_type(req[bhttp::field::content_type])) {
      auto parsed = events::parse_publish_body(req.body(), default_source);
      if (!parsed) co_return error(parsed.error());
      bodies = std::move(*parsed);
      batch = !req.body().empty() && req.body().find_first_not_of(" \t\r\n") != std::string::npos &&
              req.body()[req.body().find_first_not_of(" \t\r\n")] == '[';
    } else {
      // Form: Type, Data (JSON text), Metadata (JSON text), Subject, Source.
      json::object item;
      for (auto [param, field] : {std::pair{"Type", "type"}, std::pair{"Subject", "subject"},
                                  std::pair{"Source", "source"}}) {
        auto v = params->str(param);
        if (!v) co_return error(v.error());
        if (*v) item[field] = **v;
      }
      for (auto [param, field] : {std::pair{"Data", "data"}, std::pair{"Metadata", "metadata"}}) {
        auto v = params->str(param);
        if (!v) co_return error(v.error());
        if (!*v) continue;
        boost::system::error_code ec;
        auto parsed = json::parse(**v, ec);
        if (ec) co_return error(bad(std::string(param) + " is not valid JSON"));
        item[field] = std::move(parsed);
      }
      auto b = events::parse_publish_item(item, default_source);
      if (!b) co_return error(b.error());
      bodies.push_back(std::move(*b));
    }
    auto published = co_await service_.publish(channel, caller.kind, std::move(bodies), key, batch);
    if (!published) co_return error(published.error());
    auto res = http::json_response(201, published->response);
    if (published->replayed) res.set("Idempotent-Replayed", "true");
    co_return res;
  }

  if (n == 4 && seg[3] == "Stream") {
    info.route = "/v1/Channels/{Sid}/Stream";
    if (!channel) co_return error(not_found(path));
    if (!get) co_return method_not_allowed("GET");
    if (caller.token && !caller.token->subscribe)
      co_return error({codes::kAuthenticationFailed, 403, "The token does not allow subscribe"});
    if (!channel->attributes.permissions.may_subscribe(caller.kind)) {
      co_return error(
          {codes::kAuthenticationFailed, 403, "Subscribing to this channel is not permitted"});
    }
    StreamRequest sr{&service_, channel, nullptr, std::nullopt, std::chrono::milliseconds(15000)};
    if (auto v = query_params->str("subscriber"); v && *v) {
      sr.subscriber = service_.find_subscriber(caller.account_sid, **v);
      if (!sr.subscriber || sr.subscriber->channel_sid != channel->sid ||
          sr.subscriber->type != "stream") {
        co_return error(bad("subscriber must be a stream subscriber of this channel"));
      }
    }
    if (auto v = query_params->str("last_event_id"); v && *v) sr.last_event_id = **v;
    if (auto h = req["Last-Event-ID"]; !h.empty() && !sr.last_event_id)
      sr.last_event_id = std::string(h);
    if (auto v = query_params->str("heartbeat_ms"); v && *v) {
      const long ms = std::strtol((*v)->c_str(), nullptr, 10);
      if (ms < 100 || ms > 120000) co_return error(bad("heartbeat_ms: 100 to 120000"));
      sr.heartbeat = std::chrono::milliseconds(ms);
    }
    if (websocket::is_upgrade(req)) {
      info.takeover = [sr](beast::tcp_stream& stream, beast::flat_buffer& buffer, http::Request r) {
        return run_ws(sr, stream, buffer, std::move(r));
      };
      co_return http::Response(bhttp::status::switching_protocols, req.version());
    }
    const std::string_view accept = req[bhttp::field::accept];
    if (accept.find("text/event-stream") == std::string_view::npos) {
      co_return error({codes::kInvalidParameter, 406,
                       "Ask for Accept: text/event-stream (SSE) or upgrade to a WebSocket"});
    }
    info.takeover = [sr](beast::tcp_stream& stream, beast::flat_buffer&, http::Request) {
      return run_sse(sr, stream);
    };
    co_return http::Response(bhttp::status::ok, req.version());
  }

  co_return error(not_found(path));
}

}  // namespace sb::api
