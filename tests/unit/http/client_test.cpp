// CurlClient against a loopback Beast server on the same io_context: no sleeps, the io_context
// runs until the awaited condition holds (with a generous guard that fails the test).
#include "http/client.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "support/fake_http_client.hpp"

namespace sb::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using BeastRequest = bhttp::request<bhttp::string_body>;
using BeastResponse = bhttp::response<bhttp::string_body>;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// ---- a tiny loopback HTTP/1.1 server --------------------------------------------------------

struct Seen {
  std::string method;
  std::string target;
  std::string body;
  std::string content_type;
  std::string signature;  // X-Twilio-Signature
};

struct ServerState {
  enum class Mode { kAnswer, kSilent, kRaw };
  Mode mode = Mode::kAnswer;
  std::string raw;  // kRaw: these bytes, then close
  std::function<BeastResponse(const BeastRequest&)> handler;
  std::vector<Seen> seen;
  int connections = 0;
};

BeastResponse text(unsigned status, std::string body, const std::string& type = "text/plain") {
  BeastResponse res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::content_type, type);
  res.body() = std::move(body);
  return res;
}

// Echoes "METHOD target\nbody" with the request's Content-Type in X-Echo-Content-Type.
BeastResponse echo(const BeastRequest& req) {
  BeastResponse res = text(
      200, std::string(req.method_string()) + " " + std::string(req.target()) + "\n" + req.body());
  res.set("X-Echo-Content-Type", req[bhttp::field::content_type]);
  return res;
}

template <typename Stream>
asio::awaitable<void> serve_requests(Stream& socket, std::shared_ptr<ServerState> state) {
  beast::flat_buffer buffer;
  for (;;) {
    BeastRequest req;
    auto [ec, n] = co_await bhttp::async_read(socket, buffer, req, kTuple);
    if (ec) co_return;
    state->seen.push_back({std::string(req.method_string()), std::string(req.target()), req.body(),
                           std::string(req[bhttp::field::content_type]),
                           std::string(req["X-Twilio-Signature"])});
    if (state->mode == ServerState::Mode::kSilent) continue;  // never answer; wait for EOF
    if (state->mode == ServerState::Mode::kRaw) {
      co_await asio::async_write(socket, asio::buffer(state->raw), kTuple);
      co_return;  // closes
    }
    BeastResponse res = state->handler ? state->handler(req) : echo(req);
    res.keep_alive(req.keep_alive());
    if (!res.chunked()) res.prepare_payload();
    auto [wec, wn] = co_await bhttp::async_write(socket, res, kTuple);
    if (wec || !res.keep_alive()) co_return;
  }
}

asio::awaitable<void> serve_connection(tcp::socket socket, std::shared_ptr<ServerState> state) {
  co_await serve_requests(socket, std::move(state));
}

asio::awaitable<void> serve_tls_connection(tcp::socket socket,
                                           std::shared_ptr<asio::ssl::context> tls,
                                           std::shared_ptr<ServerState> state) {
  asio::ssl::stream<tcp::socket> stream(std::move(socket), *tls);
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
  if (ec) co_return;  // the client rejected our certificate
  co_await serve_requests(stream, std::move(state));
}

asio::awaitable<void> accept_connections(tcp::acceptor& acceptor,
                                         std::shared_ptr<ServerState> state) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec) co_return;
    ++state->connections;
    asio::co_spawn(acceptor.get_executor(), serve_connection(std::move(socket), state),
                   asio::detached);
  }
}

asio::awaitable<void> accept_tls_connections(tcp::acceptor& acceptor,
                                             std::shared_ptr<asio::ssl::context> tls,
                                             std::shared_ptr<ServerState> state) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec) co_return;
    ++state->connections;
    asio::co_spawn(acceptor.get_executor(), serve_tls_connection(std::move(socket), tls, state),
                   asio::detached);
  }
}

class TestServer {
 public:
  explicit TestServer(asio::io_context& io)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, accept_connections(acceptor_, state_), asio::detached);
  }
  ~TestServer() {
    boost::system::error_code ec;
    acceptor_.close(ec);
  }
  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) +
           std::string(path);
  }
  ServerState& state() { return *state_; }
  const std::vector<Seen>& seen() const { return state_->seen; }
  int connections() const { return state_->connections; }

 private:
  tcp::acceptor acceptor_;
  std::shared_ptr<ServerState> state_ = std::make_shared<ServerState>();
};

// A port with nothing listening: bind, read the number, close.
unsigned short closed_port(asio::io_context& io) {
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const unsigned short port = a.local_endpoint().port();
  a.close();
  return port;
}

ClientRequest get(std::string url) {
  ClientRequest r;
  r.url = std::move(url);
  return r;
}

// Coroutines take their state as parameters (see DESIGN.md on GCC 12 and lambda captures).
// A cancelled fetch throws operation_aborted; `aborted` (when given) records that it did.
asio::awaitable<void> fetch_into(HttpClient& client, ClientRequest request,
                                 std::optional<Result<ClientResponse>>& out,
                                 bool* aborted = nullptr) {
  try {
    out.emplace(co_await client.fetch(std::move(request)));
  } catch (const boost::system::system_error& e) {
    if (aborted == nullptr || e.code() != asio::error::operation_aborted) throw;
    *aborted = true;
  }
}

// ---- fixture ---------------------------------------------------------------------------------

class CurlClientTest : public ::testing::Test {
 protected:
  CurlClientTest() { client = std::make_unique<CurlClient>(io.get_executor(), ClientOptions{}); }

  // Runs the io_context until `done()` holds; false if the guard expired first.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds guard = 20s) {
    io.restart();
    const auto deadline = Clock::now() + guard;
    while (!done()) {
      if (Clock::now() > deadline) return false;
      io.run_one_for(50ms);
    }
    return true;
  }

  Result<ClientResponse> fetch(ClientRequest request) {
    std::optional<Result<ClientResponse>> out;
    client->start(std::move(request),
                  [&out](boost::system::error_code ec, Result<ClientResponse> r) {
                    EXPECT_FALSE(ec) << ec.message();
                    out.emplace(std::move(r));
                  });
    EXPECT_TRUE(run_until([&] { return out.has_value(); })) << "request did not complete";
    if (!out) return Error::internal("test guard expired");
    return std::move(*out);
  }

  asio::io_context io;
  TestServer server{io};
  std::unique_ptr<CurlClient> client;
};

// ---- basic requests --------------------------------------------------------------------------

TEST_F(CurlClientTest, GetReturnsStatusHeadersAndBody) {
  auto r = fetch(get(server.url("/hello?x=1")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->body, "GET /hello?x=1\n");
  EXPECT_EQ(r->content_type, "text/plain");
  EXPECT_EQ(r->header("content-type"), "text/plain");
  EXPECT_EQ(r->effective_url, server.url("/hello?x=1"));
  EXPECT_EQ(r->attempts, 1);
  EXPECT_EQ(r->redirects, 0);
  EXPECT_EQ(r->new_connections, 1);
  EXPECT_FALSE(r->connection_reused);
  EXPECT_TRUE(r->warnings.empty());
  ASSERT_EQ(server.seen().size(), 1u);
  EXPECT_EQ(server.seen()[0].method, "GET");
}

TEST_F(CurlClientTest, PostSendsFormBodyAndHeaders) {
  ClientRequest r;
  r.method = "POST";
  r.url = server.url("/voice");
  r.body = "CallSid=CA123&From=%2B15551234567";
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
               {"X-Twilio-Signature", "abc="}};
  auto res = fetch(std::move(r));
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "POST /voice\nCallSid=CA123&From=%2B15551234567");
  EXPECT_EQ(res->header("X-Echo-Content-Type"), "application/x-www-form-urlencoded");
  ASSERT_EQ(server.seen().size(), 1u);
  EXPECT_EQ(server.seen()[0].signature, "abc=");
}

TEST_F(CurlClientTest, OtherMethodsAreSentAsIs) {
  ClientRequest put;
  put.method = "PUT";
  put.url = server.url("/thing");
  put.body = "{}";
  auto r = fetch(std::move(put));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "PUT /thing\n{}");

  ClientRequest head;
  head.method = "HEAD";
  head.url = server.url("/thing");
  r = fetch(std::move(head));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());
}

TEST_F(CurlClientTest, AwaitableFetch) {
  std::optional<Result<ClientResponse>> out;
  asio::co_spawn(io, fetch_into(*client, get(server.url("/co")), out), asio::detached);
  ASSERT_TRUE(run_until([&] { return out.has_value(); }));
  ASSERT_TRUE(*out) << out->error().message;
  EXPECT_EQ((*out)->body, "GET /co\n");
}

TEST_F(CurlClientTest, RepeatedResponseHeadersAreKept) {
  server.state().handler = [](const BeastRequest&) {
    BeastResponse res = text(200, "ok");
    res.insert(bhttp::field::set_cookie, "a=1; Path=/");
    res.insert(bhttp::field::set_cookie, "b=2; Path=/");
    return res;
  };
  auto r = fetch(get(server.url("/")));
  ASSERT_TRUE(r) << r.error().message;
  const auto cookies = r->header_values("set-cookie");
  ASSERT_EQ(cookies.size(), 2u);
  EXPECT_EQ(cookies[0], "a=1; Path=/");
  EXPECT_EQ(cookies[1], "b=2; Path=/");
}

TEST_F(CurlClientTest, FragmentIsNeverSent) {
  auto r = fetch(get(server.url("/path?x=1#ct=1000&rc=0&bogus=1")));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(server.seen().size(), 1u);
  EXPECT_EQ(server.seen()[0].target, "/path?x=1");
  EXPECT_EQ(r->effective_url, server.url("/path?x=1"));
  ASSERT_EQ(r->warnings.size(), 1u);  // the bad override is reported, not fatal
  EXPECT_EQ(r->warnings[0].key, "bogus");
}

// ---- connection reuse, concurrency ----------------------------------------------------------

TEST_F(CurlClientTest, KeepAliveReusesOneConnectionFor50Requests) {
  for (int i = 0; i < 50; ++i) {
    auto r = fetch(get(server.url("/n/" + std::to_string(i))));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, "GET /n/" + std::to_string(i) + "\n");
    if (i == 0) {
      EXPECT_FALSE(r->connection_reused);
    } else {
      EXPECT_TRUE(r->connection_reused) << "request " << i;
      EXPECT_EQ(r->new_connections, 0);
    }
  }
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(server.seen().size(), 50u);
}

TEST_F(CurlClientTest, HundredConcurrentRequestsAllComplete) {
  constexpr int kCount = 100;
  std::vector<std::optional<Result<ClientResponse>>> out(kCount);
  int done = 0;
  for (int i = 0; i < kCount; ++i) {
    client->start(get(server.url("/c/" + std::to_string(i))),
                  [&out, &done, i](boost::system::error_code, Result<ClientResponse> r) {
                    out[i].emplace(std::move(r));
                    ++done;
                  });
  }
  EXPECT_EQ(client->pending(), static_cast<std::size_t>(kCount));
  ASSERT_TRUE(run_until([&] { return done == kCount; }));
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(*out[i]) << i << ": " << out[i]->error().message;
    EXPECT_EQ((*out[i])->status, 200);
    EXPECT_EQ((*out[i])->body, "GET /c/" + std::to_string(i) + "\n");
  }
  EXPECT_EQ(client->pending(), 0u);
  EXPECT_EQ(server.seen().size(), static_cast<std::size_t>(kCount));
  // A second wave reuses the pooled connections.
  done = 0;
  std::vector<std::optional<Result<ClientResponse>>> again(kCount);
  for (int i = 0; i < kCount; ++i) {
    client->start(get(server.url("/d")),
                  [&again, &done, i](boost::system::error_code, Result<ClientResponse> r) {
                    again[i].emplace(std::move(r));
                    ++done;
                  });
  }
  ASSERT_TRUE(run_until([&] { return done == kCount; }));
  int reused = 0;
  for (auto& r : again) {
    ASSERT_TRUE(*r);
    reused += (*r)->connection_reused ? 1 : 0;
  }
  EXPECT_GT(reused, 0);
}

// ---- redirects -------------------------------------------------------------------------------

void redirect_chain(TestServer& server) {
  // /r/N redirects to /r/N-1; /r/0 answers.
  server.state().handler = [](const BeastRequest& req) {
    const std::string target(req.target());
    if (target.rfind("/r/", 0) == 0) {
      const int n = std::stoi(target.substr(3));
      if (n > 0) {
        BeastResponse res = text(302, "");
        res.set(bhttp::field::location, "/r/" + std::to_string(n - 1));
        return res;
      }
      return text(200, "done after redirects, " + std::string(req.method_string()));
    }
    if (target == "/see-other") {
      BeastResponse res = text(303, "");
      res.set(bhttp::field::location, "/r/0");
      return res;
    }
    if (target == "/to-ftp") {
      BeastResponse res = text(302, "");
      res.set(bhttp::field::location, "ftp://127.0.0.1/file");
      return res;
    }
    return text(404, "no");
  };
}

TEST_F(CurlClientTest, FollowsRedirects) {
  redirect_chain(server);
  auto r = fetch(get(server.url("/r/3")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "done after redirects, GET");
  EXPECT_EQ(r->redirects, 3);
  EXPECT_EQ(r->effective_url, server.url("/r/0"));
  EXPECT_EQ(server.seen().size(), 4u);
}

TEST_F(CurlClientTest, PostBecomesGetOnSeeOther) {
  redirect_chain(server);
  ClientRequest r;
  r.method = "POST";
  r.url = server.url("/see-other");
  r.body = "a=1";
  auto res = fetch(std::move(r));
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->body, "done after redirects, GET");
  ASSERT_EQ(server.seen().size(), 2u);
  EXPECT_EQ(server.seen()[0].method, "POST");
  EXPECT_EQ(server.seen()[1].method, "GET");
}

TEST_F(CurlClientTest, TenRedirectsAreFollowedElevenAre11215) {
  redirect_chain(server);
  auto ten = fetch(get(server.url("/r/10")));
  ASSERT_TRUE(ten) << ten.error().message;
  EXPECT_EQ(ten->redirects, 10);

  auto eleven = fetch(get(server.url("/r/11")));
  ASSERT_FALSE(eleven);
  EXPECT_EQ(eleven.error().code, fetch_codes::kTooManyRedirects);
}

TEST_F(CurlClientTest, RedirectLimitIsConfigurable) {
  ClientOptions options;
  options.max_redirects = 2;
  client = std::make_unique<CurlClient>(io.get_executor(), options);
  redirect_chain(server);
  auto r = fetch(get(server.url("/r/3")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, fetch_codes::kTooManyRedirects);
  EXPECT_TRUE(fetch(get(server.url("/r/2"))));
}

TEST_F(CurlClientTest, RedirectToAnotherSchemeIsInvalid) {
  redirect_chain(server);
  auto r = fetch(get(server.url("/to-ftp")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, fetch_codes::kInvalidRedirect) << r.error().message;
}

// ---- the outbound request policy ----------------------------------------------------------

TEST_F(CurlClientTest, MetadataAndLinkLocalAddressesAreRefusedWithoutAConnectOrARetry) {
  for (const char* url : {"http://169.254.169.254/latest/meta-data/", "http://169.254.1.1:8080/",
                          "http://[fe80::1]/", "http://0.0.0.0:9/"}) {
    auto r = fetch(get(url));
    ASSERT_FALSE(r) << url;
    EXPECT_EQ(r.error().code, fetch_codes::kConnectionFailure) << r.error().message;
    EXPECT_NE(r.error().message.find("refused by the outbound request policy"), std::string::npos)
        << r.error().message;
    EXPECT_NE(r.error().message.find("1 attempt"), std::string::npos) << r.error().message;
  }
}

TEST_F(CurlClientTest, LoopbackIsAllowedByDefaultAndRefusedWithDenyPrivateByAddressAndByName) {
  EXPECT_TRUE(fetch(get(server.url("/allowed"))));
  ClientOptions options;
  options.policy.deny_private = true;
  client = std::make_unique<CurlClient>(io.get_executor(), options);
  auto by_address = fetch(get(server.url("/refused")));
  ASSERT_FALSE(by_address);
  EXPECT_NE(by_address.error().message.find("127.0.0.1 is loopback and "
                                            "http.outbound_deny_private = true"),
            std::string::npos)
      << by_address.error().message;
  // A name is judged by what it resolves to at connect time, not by how it is spelt.
  const std::string port = server.url("/").substr(std::string("http://127.0.0.1:").size());
  auto by_name = fetch(get("http://localhost:" + port));
  ASSERT_FALSE(by_name);
  EXPECT_NE(by_name.error().message.find("is loopback"), std::string::npos)
      << by_name.error().message;
  EXPECT_EQ(server.seen().size(), 1u);  // only the first, allowed request reached it
}

TEST_F(CurlClientTest, AnAccountsOwnPolicyReplacesTheClientsAndNeverSharesItsConnections) {
  OutboundPolicy::set_account_lookup([](std::string_view sid) -> std::optional<bool> {
    if (sid == "ACdeny") return true;
    if (sid == "ACallow") return false;
    return std::nullopt;
  });
  struct Reset {
    ~Reset() { OutboundPolicy::set_account_lookup(nullptr); }
  } reset;
  // The client allows loopback; its first request leaves a keep-alive connection in the pool.
  ASSERT_TRUE(fetch(get(server.url("/warm"))));
  // An account that denies private addresses is refused, though a pooled connection to the
  // very same address is there to be reused: it must not be.
  ClientRequest denied = get(server.url("/denied"));
  denied.account_sid = "ACdeny";
  auto r = fetch(denied);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("127.0.0.1 is loopback and the account's OutboundDenyPrivate = "
                                   "true"),
            std::string::npos)
      << r.error().message;
  ClientRequest other = get(server.url("/other"));
  other.account_sid = "ACnone";  // no setting of its own: the client's policy
  EXPECT_TRUE(fetch(other));
  EXPECT_EQ(server.seen().size(), 2u);

  // A client that denies private addresses; a trusted account allowed them: its request goes
  // through on a connection of its own, which it does not leave for the others.
  ClientOptions options;
  options.policy.deny_private = true;
  client = std::make_unique<CurlClient>(io.get_executor(), options);
  ClientRequest trusted = get(server.url("/trusted"));
  trusted.account_sid = "ACallow";
  auto ok = fetch(trusted);
  ASSERT_TRUE(ok) << ok.error().message;
  auto after = fetch(get(server.url("/after")));
  ASSERT_FALSE(after);
  EXPECT_NE(after.error().message.find("http.outbound_deny_private = true"), std::string::npos)
      << after.error().message;
  EXPECT_EQ(server.seen().size(), 3u);
}

TEST_F(CurlClientTest, ARedirectToAMetadataAddressIsRefused) {
  server.state().handler = [](const BeastRequest&) {
    BeastResponse res = text(302, "");
    res.set(bhttp::field::location, "http://169.254.169.254/latest/meta-data/iam/");
    return res;
  };
  auto r = fetch(get(server.url("/hop")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, fetch_codes::kConnectionFailure);
  EXPECT_NE(r.error().message.find("169.254.169.254 is a cloud metadata address"),
            std::string::npos)
      << r.error().message;
}

// ---- transport failures -------------------------------------------------------------------

TEST_F(CurlClientTest, ConnectionRefusedIs11205AfterTheDefaultRetry) {
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port(io)) + "/";
  auto r = fetch(get(url));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, fetch_codes::kConnectionFailure) << r.error().message;
  // Twilio's default is one retry on connect failure.
  EXPECT_NE(r.error().message.find("2 attempts"), std::string::npos) << r.error().message;

  auto once = fetch(get(url + "#rc=0"));
  ASSERT_FALSE(once);
  EXPECT_NE(once.error().message.find("1 attempt,"), std::string::npos) << once.error().message;
}

TEST_F(CurlClientTest, UnknownHostIs11210) {
  auto r = fetch(get("http://nonexistent.invalid/"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, fetch_codes::kBadHostName) << r.error().message;
}

TEST_F(CurlClientTest, SilentServerHitsTheTotalTimeout) {
  server.state().mode = ServerState::Mode::kSilent;
  const auto start = Clock::now();
  auto r = fetch(get(server.url("/slow#tt=300")));
  const auto elapsed = Clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, fetch_codes::kTotalTimeout) << r.error().message;
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 3s);
  EXPECT_EQ(server.seen().size(), 1u);  // total timeouts are not retried
}

TEST_F(CurlClientTest, SilentServerHitsTheReadTimeoutAndRetriesOnRt) {
  server.state().mode = ServerState::Mode::kSilent;
  const auto start = Clock::now();
  auto r = fetch(get(server.url("/slow#rt=200&tt=5000")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, fetch_codes::kRetrievalFailure) << r.error().message;
  EXPECT_GE(Clock::now() - start, 190ms);
  EXPECT_LT(Clock::now() - start, 3s);
  EXPECT_EQ(server.seen().size(), 1u);  // rt is not in the default policy

  auto retried = fetch(get(server.url("/slow#rt=200&tt=5000&rc=1&rp=rt")));
  ASSERT_FALSE(retried);
  EXPECT_EQ(retried.error().code, fetch_codes::kRetrievalFailure);
  EXPECT_EQ(server.seen().size(), 3u);
}

TEST_F(CurlClientTest, TotalTimeoutBoundsRetries) {
  server.state().mode = ServerState::Mode::kSilent;
  const auto start = Clock::now();
  // Each attempt would wait 200 ms, five retries would take > 1 s; tt stops it at 500 ms.
  auto r = fetch(get(server.url("/slow#rt=200&tt=500&rc=5&rp=rt")));
  ASSERT_FALSE(r);
  EXPECT_LT(Clock::now() - start, 2s);
  EXPECT_GE(Clock::now() - start, 450ms);
  EXPECT_LE(server.seen().size(), 3u);
}

TEST_F(CurlClientTest, GarbageReplyIsAProtocolViolation) {
  server.state().mode = ServerState::Mode::kRaw;
  server.state().raw = "HTTP/1.1 abc nonsense\r\nContent-Length: zz\r\n\r\n";
  auto r = fetch(get(server.url("/")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, fetch_codes::kProtocolViolation) << r.error().message;
}

TEST_F(CurlClientTest, ClosedWithoutReplyIsAConnectionFailure) {
  server.state().mode = ServerState::Mode::kRaw;
  server.state().raw = "";
  auto r = fetch(get(server.url("/#rc=0")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, fetch_codes::kConnectionFailure) << r.error().message;
}

TEST_F(CurlClientTest, TlsToAPlainServerIsAHandshakeError) {
  std::string url = server.url("/");
  url.replace(0, 4, "https");
  auto r = fetch(get(url));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, fetch_codes::kTlsHandshake) << r.error().message;
}

TEST_F(CurlClientTest, BadUrlsAndMethodsFailWithoutNetwork) {
  for (const char* bad :
       {"ftp://example.com/", "example.com/x", "http://", "http://a b/", "file:///etc/passwd"}) {
    auto r = fetch(get(bad));
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, fetch_codes::kInvalidUrl) << bad;
  }
  ClientRequest r = get(server.url("/"));
  r.method = "GE T";
  EXPECT_FALSE(fetch(std::move(r)));
  ClientRequest h = get(server.url("/"));
  h.headers = {{"X-Evil", "a\r\nInjected: 1"}};
  EXPECT_FALSE(fetch(std::move(h)));
  EXPECT_TRUE(server.seen().empty());
}

// ---- retries ---------------------------------------------------------------------------------

void status_sequence(TestServer& server, std::vector<unsigned> statuses) {
  auto next = std::make_shared<std::size_t>(0);
  server.state().handler = [statuses = std::move(statuses), next](const BeastRequest&) {
    const unsigned s = statuses[std::min(*next, statuses.size() - 1)];
    ++*next;
    return text(s, "status " + std::to_string(s));
  };
}

TEST_F(CurlClientTest, RetriesOn5xxWhenThePolicySaysSo) {
  status_sequence(server, {500, 500, 200});
  auto r = fetch(get(server.url("/flaky#rc=2&rp=5xx")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(r->body, "status 200");
  EXPECT_EQ(server.seen().size(), 3u);
}

TEST_F(CurlClientTest, RetriesExhaustedReturnTheLastResponse) {
  status_sequence(server, {503});
  auto r = fetch(get(server.url("/down#rc=2&rp=5xx")));
  ASSERT_TRUE(r) << r.error().message;  // a status is not a transport error
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->attempts, 3);
}

TEST_F(CurlClientTest, ErrorStatusesAreNotRetriedByDefault) {
  status_sequence(server, {404, 200});
  auto r = fetch(get(server.url("/missing")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 404);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->attempts, 1);

  status_sequence(server, {500, 200});
  r = fetch(get(server.url("/broken")));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->attempts, 1);

  status_sequence(server, {404, 200});
  r = fetch(get(server.url("/missing#rp=5xx&rc=3")));  // 4xx not in the policy
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->attempts, 1);
}

TEST_F(CurlClientTest, RetriesOn4xxWhenAsked) {
  status_sequence(server, {429, 200});
  auto r = fetch(get(server.url("/limited#rp=4xx&rc=1")));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->attempts, 2);
}

TEST_F(CurlClientTest, ExplicitSettingsReplaceTheFragment) {
  status_sequence(server, {500, 200});
  ClientRequest r = get(server.url("/x#rc=0"));
  ConnectionSettings settings;
  settings.retry_count = 1;
  settings.retry_policy = RetryPolicy::all();
  r.settings = settings;
  auto res = fetch(std::move(r));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->attempts, 2);
  EXPECT_EQ(server.seen().back().target, "/x");
}

// ---- limits ----------------------------------------------------------------------------------

TEST_F(CurlClientTest, BodyLimitWithContentLength) {
  server.state().handler = [](const BeastRequest&) { return text(200, std::string(2000, 'x')); };
  ClientRequest r = get(server.url("/big"));
  r.max_body_bytes = 1000;
  auto res = fetch(std::move(r));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, fetch_codes::kResponseTooLarge) << res.error().message;

  ClientRequest fits = get(server.url("/big"));
  fits.max_body_bytes = 2000;
  auto ok = fetch(std::move(fits));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->body.size(), 2000u);
}

TEST_F(CurlClientTest, BodyLimitWhenChunked) {
  server.state().handler = [](const BeastRequest&) {
    BeastResponse res = text(200, std::string(5000, 'y'));
    res.chunked(true);
    return res;
  };
  ClientRequest r = get(server.url("/big"));
  r.max_body_bytes = 1000;
  auto res = fetch(std::move(r));
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().code, fetch_codes::kResponseTooLarge) << res.error().message;
}

TEST_F(CurlClientTest, DefaultBodyLimitIsTenMebibytes) {
  EXPECT_EQ(ClientOptions{}.max_body_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(ClientOptions{}.max_redirects, 10);
  EXPECT_TRUE(ClientOptions{}.verify_tls);
}

// ---- cancellation and lifetime -----------------------------------------------------------

TEST_F(CurlClientTest, CancelCompletesAPendingRequest) {
  server.state().mode = ServerState::Mode::kSilent;
  std::optional<Result<ClientResponse>> out;
  boost::system::error_code code;
  const RequestId id =
      client->start(get(server.url("/hang")),
                    [&out, &code](boost::system::error_code ec, Result<ClientResponse> r) {
                      code = ec;
                      out.emplace(std::move(r));
                    });
  ASSERT_TRUE(run_until([&] { return server.seen().size() == 1; }));
  EXPECT_EQ(client->pending(), 1u);
  EXPECT_TRUE(client->cancel(id));
  EXPECT_FALSE(client->cancel(id));  // no longer pending
  EXPECT_FALSE(out.has_value());     // completions are posted, never inline
  ASSERT_TRUE(run_until([&] { return out.has_value(); }));
  EXPECT_EQ(code, asio::error::operation_aborted);
  EXPECT_EQ(client->pending(), 0u);
  // The client is still usable, and the server's hung connection was not reused.
  server.state().mode = ServerState::Mode::kAnswer;
  auto r = fetch(get(server.url("/after")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->connection_reused);
}

asio::awaitable<void> fetch_or_time_out(HttpClient& client, ClientRequest request,
                                        std::chrono::milliseconds limit, int& winner) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, limit);
  auto result =
      co_await (client.fetch(std::move(request)) || timer.async_wait(asio::use_awaitable));
  winner = static_cast<int>(result.index());
}

TEST_F(CurlClientTest, AwaitableIsCancelledByTheCoroutine) {
  server.state().mode = ServerState::Mode::kSilent;
  int winner = -1;
  asio::co_spawn(io, fetch_or_time_out(*client, get(server.url("/hang")), 100ms, winner),
                 asio::detached);
  ASSERT_TRUE(run_until([&] { return winner != -1; }));
  EXPECT_EQ(winner, 1);  // the timer
  EXPECT_EQ(client->pending(), 0u);
}

TEST_F(CurlClientTest, CancellationSlotCancels) {
  server.state().mode = ServerState::Mode::kSilent;
  asio::cancellation_signal signal;
  std::optional<Result<ClientResponse>> out;
  boost::system::error_code code;
  client->async_fetch(
      get(server.url("/hang")),
      asio::bind_cancellation_slot(
          signal.slot(), [&out, &code](boost::system::error_code ec, Result<ClientResponse> r) {
            code = ec;
            out.emplace(std::move(r));
          }));
  ASSERT_TRUE(run_until([&] { return server.seen().size() == 1; }));
  signal.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(run_until([&] { return out.has_value(); }));
  EXPECT_EQ(code, asio::error::operation_aborted);
  EXPECT_EQ(client->pending(), 0u);
  signal.emit(asio::cancellation_type::terminal);  // late: harmless
}

TEST_F(CurlClientTest, DestroyingTheClientCompletesPendingRequests) {
  server.state().mode = ServerState::Mode::kSilent;
  int cancelled = 0;
  int completed = 0;
  auto count = [&](boost::system::error_code ec, const Result<ClientResponse>&) {
    ++completed;
    if (ec == asio::error::operation_aborted) ++cancelled;
  };
  for (int i = 0; i < 5; ++i) client->start(get(server.url("/hang")), count);
  client->start(get("http://nonexistent.invalid/"), count);  // maybe still resolving
  std::optional<Result<ClientResponse>> awaited;
  bool aborted = false;
  asio::co_spawn(io, fetch_into(*client, get(server.url("/hang")), awaited, &aborted),
                 asio::detached);
  ASSERT_TRUE(run_until([&] { return server.seen().size() == 6; }));
  const int early = completed;  // the unknown host may have failed already
  client.reset();
  EXPECT_EQ(completed, early);  // not inline from the destructor
  ASSERT_TRUE(run_until([&] { return completed == 6 && aborted; }));
  EXPECT_GE(cancelled, 5);
  EXPECT_FALSE(awaited.has_value());  // the awaiting coroutine got operation_aborted thrown
}

TEST_F(CurlClientTest, DestroyingTheClientBeforeTheLoopRuns) {
  // Requests started and the client gone before any I/O happened: no leaks, no stray callbacks.
  int completed = 0;
  for (int i = 0; i < 3; ++i) {
    client->start(get(server.url("/x")),
                  [&completed](boost::system::error_code, const Result<ClientResponse>& r) {
                    EXPECT_FALSE(r);
                    ++completed;
                  });
  }
  client.reset();
  ASSERT_TRUE(run_until([&] { return completed == 3; }));
}

TEST_F(CurlClientTest, ClientCanBeReplacedWhileConnectionsAreCached) {
  ASSERT_TRUE(fetch(get(server.url("/a"))));
  client = std::make_unique<CurlClient>(io.get_executor(), ClientOptions{});
  auto r = fetch(get(server.url("/b")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->connection_reused);  // a new client has its own pool
  EXPECT_EQ(server.connections(), 2);
}

// ---- TLS ------------------------------------------------------------------------------------

struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};

std::string bio_text(BIO* bio) {
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio, &mem);
  return {mem->data, mem->length};
}

// A self-signed certificate for `san` (e.g. "IP:127.0.0.1"), valid from `from_days` to `to_days`
// relative to now.
TestCertificate make_certificate(const char* san, long from_days = -1, long to_days = 30) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), from_days * 86400);
  X509_gmtime_adj(X509_getm_notAfter(cert), to_days * 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("switchboard test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(cert, key, EVP_sha256());

  TestCertificate out;
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  out.cert_pem = bio_text(bio);
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = bio_text(bio);
  BIO_free(bio);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

class TlsTestServer {
 public:
  TlsTestServer(asio::io_context& io, const TestCertificate& cert)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        tls_(std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server)) {
    tls_->use_certificate_chain(asio::buffer(cert.cert_pem));
    tls_->use_private_key(asio::buffer(cert.key_pem), asio::ssl::context::pem);
    asio::co_spawn(io, accept_tls_connections(acceptor_, tls_, state_), asio::detached);
  }
  ~TlsTestServer() {
    boost::system::error_code ec;
    acceptor_.close(ec);
  }
  std::string url(std::string_view path) const {
    return "https://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) +
           std::string(path);
  }
  int connections() const { return state_->connections; }

 private:
  tcp::acceptor acceptor_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::shared_ptr<ServerState> state_ = std::make_shared<ServerState>();
};

TEST_F(CurlClientTest, TlsIsVerifiedByDefault) {
  TlsTestServer tls(io, make_certificate("IP:127.0.0.1"));
  auto r = fetch(get(tls.url("/secure")));  // self-signed: not in the system store
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, fetch_codes::kCertUntrusted) << r.error().message;
}

TEST_F(CurlClientTest, TrustedCertificateWorksAndConnectionsAreReused) {
  const TestCertificate cert = make_certificate("IP:127.0.0.1");
  TlsTestServer tls(io, cert);
  ClientOptions options;
  options.ca_pem = cert.cert_pem;
  client = std::make_unique<CurlClient>(io.get_executor(), options);
  for (int i = 0; i < 3; ++i) {
    auto r = fetch(get(tls.url("/secure")));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->body, "GET /secure\n");
    EXPECT_EQ(r->connection_reused, i > 0);
  }
  EXPECT_EQ(tls.connections(), 1);
}

TEST_F(CurlClientTest, CertificateForAnotherNameIs11235) {
  const TestCertificate cert = make_certificate("DNS:other.example");
  TlsTestServer tls(io, cert);
  ClientOptions options;
  options.ca_pem = cert.cert_pem;
  client = std::make_unique<CurlClient>(io.get_executor(), options);
  auto r = fetch(get(tls.url("/")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, fetch_codes::kCertDomainMismatch) << r.error().message;
}

TEST_F(CurlClientTest, ExpiredCertificateIs11236) {
  const TestCertificate cert = make_certificate("IP:127.0.0.1", -30, -1);
  TlsTestServer tls(io, cert);
  ClientOptions options;
  options.ca_pem = cert.cert_pem;
  client = std::make_unique<CurlClient>(io.get_executor(), options);
  auto r = fetch(get(tls.url("/")));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, fetch_codes::kCertExpired) << r.error().message;
}

TEST_F(CurlClientTest, VerificationCanBeTurnedOff) {
  TlsTestServer tls(io, make_certificate("DNS:other.example", -30, -1));
  ClientOptions options;
  options.verify_tls = false;
  client = std::make_unique<CurlClient>(io.get_executor(), options);
  auto r = fetch(get(tls.url("/")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
}

// ---- the seam --------------------------------------------------------------------------------

TEST_F(CurlClientTest, FakeClientFitsTheInterface) {
  // What the voice and event tests substitute for the real client (tests/support).
  sb::testing::FakeHttpClient fake;
  fake.reply_to("https://app.example/voice",
                {.status = 200, .body = "<Response/>", .content_type = "text/xml"});
  std::optional<Result<ClientResponse>> out;
  asio::co_spawn(io, fetch_into(fake, get("https://app.example/voice"), out), asio::detached);
  ASSERT_TRUE(run_until([&] { return out.has_value(); }));
  ASSERT_TRUE(*out);
  EXPECT_EQ((*out)->body, "<Response/>");
  EXPECT_EQ((*out)->content_type, "text/xml");
  ASSERT_EQ(fake.count(), 1u);
  EXPECT_EQ(fake.request(0).url, "https://app.example/voice");
}

// The order the fake answers in, as the tests that script it rely on.
TEST_F(CurlClientTest, TheFakeAnswersQueuedRepliesThenByUrlThenByDefault) {
  sb::testing::FakeHttpClient fake;
  fake.reply_by_default({.status = 204});
  fake.reply_to("http://app.test/a", {.status = 201});
  fake.next({.status = 500, .body = "boom"});
  fake.next(sb::testing::FakeReply::transport_failure(fetch_codes::kConnectTimeout, "timed out"));
  std::vector<std::optional<Result<ClientResponse>>> out(4);
  const char* urls[] = {"http://app.test/a", "http://app.test/a", "http://app.test/a?x=1#rc=1",
                        "http://app.test/b"};
  for (std::size_t i = 0; i < out.size(); ++i) {
    asio::co_spawn(io, fetch_into(fake, get(urls[i]), out[i]), asio::detached);
  }
  ASSERT_TRUE(run_until([&] { return out[3].has_value(); }));
  ASSERT_TRUE(*out[0]);
  EXPECT_EQ((*out[0])->status, 500);
  EXPECT_EQ((*out[0])->body, "boom");
  ASSERT_FALSE(*out[1]);
  EXPECT_EQ(out[1]->error().code, fetch_codes::kConnectTimeout);
  EXPECT_EQ((*out[2])->status, 201);  // its URL's reply: query and fragment aside
  EXPECT_EQ((*out[3])->status, 204);
  EXPECT_EQ(fake.count(), 4u);
}

TEST_F(CurlClientTest, TheFakeHoldsRequestsUntilReleasedAndACancelledOneThrows) {
  sb::testing::FakeHttpClient fake;
  fake.hold();
  std::optional<Result<ClientResponse>> held, cancelled;
  bool aborted = false;
  asio::cancellation_signal hang_up;
  asio::co_spawn(io, fetch_into(fake, get("http://app.test/held"), held), asio::detached);
  asio::co_spawn(io, fetch_into(fake, get("http://app.test/gone"), cancelled, &aborted),
                 asio::bind_cancellation_slot(hang_up.slot(), asio::detached));
  io.restart();
  io.poll();
  EXPECT_EQ(fake.count(), 2u);  // both arrived; neither is answered
  EXPECT_FALSE(held.has_value());
  hang_up.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(run_until([&] { return aborted; }));
  EXPECT_FALSE(cancelled.has_value());  // operation_aborted, as a cancelled fetch throws
  EXPECT_FALSE(held.has_value());
  fake.release();
  ASSERT_TRUE(run_until([&] { return held.has_value(); }));
  ASSERT_TRUE(*held);
  EXPECT_EQ((*held)->status, 200);
}

}  // namespace
}  // namespace sb::http
