// http::Server on loopback: worker io_contexts on threads the test owns, driven by raw sockets
// (tests/support/http_peer.hpp). Limits are small so that timeouts fire fast; every wait is on
// a condition with a generous upper bound.
#include "http/server.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "metrics/exposition.hpp"
#include "support/http_peer.hpp"

namespace sb::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using sb::testing::http_request;
using sb::testing::HttpPeer;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Polls `condition` until it holds or `patience` passed.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds patience = HttpPeer::kPatience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

Response text(unsigned status, std::string body) {
  return text_response(status, std::move(body), "text/plain");
}

// What the handler saw and what it waits for; shared by the workers and the test thread.
class Backend {
 public:
  struct Seen {
    std::string target;
    tcp::endpoint remote;
    unsigned worker = 0;
  };

  void saw(const Request& req, const RequestInfo& info) {
    std::lock_guard lock(mu_);
    seen_.push_back({std::string(req.target()), info.remote, info.worker});
  }
  std::vector<Seen> seen() const {
    std::lock_guard lock(mu_);
    return seen_;
  }

  // A /hold request parks on `gate` (a timer that never expires) until release(); false when
  // already released.
  bool park(asio::steady_timer* gate) {
    std::lock_guard lock(mu_);
    if (released_) return false;
    parked_.push_back(gate);
    cv_.notify_all();
    return true;
  }
  bool wait_parked(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, HttpPeer::kPatience, [&] { return parked_.size() >= n; });
  }
  // The cancel runs on the gate's own worker, after its handler has started waiting.
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    for (asio::steady_timer* gate : parked_)
      asio::post(gate->get_executor(), [gate] { gate->cancel(); });
    parked_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Seen> seen_;
  std::vector<asio::steady_timer*> parked_;
  bool released_ = false;
};

// A stream as WebSocket and SSE run one: greets with the target and the bytes that came after
// the request, echoes what arrives, ends on "bye", on the peer leaving or on cancellation. With
// `park_on`, it first waits there between its greeting and its first read, as a stream waiting
// for something else than its socket does.
asio::awaitable<void> echo_stream(Stream& stream, beast::flat_buffer& buffer, Request request,
                                  Backend* park_on) {
  const std::string hello = "stream " + std::string(request.target()) + " carried [" +
                            beast::buffers_to_string(buffer.data()) + "]\n";
  buffer.consume(buffer.size());
  auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(hello), kTuple);
  if (wec) co_return;
  if (park_on) {
    asio::steady_timer gate(co_await asio::this_coro::executor,
                            asio::steady_timer::time_point::max());
    if (park_on->park(&gate)) co_await gate.async_wait(kTuple);
  }
  std::array<char, 256> chunk;
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(chunk), kTuple);
    if (ec) co_return;
    const std::string got(chunk.data(), n);
    if (got == "bye") co_return;
    auto [eec, en] = co_await asio::async_write(stream, asio::buffer(got), kTuple);
    if (eec) co_return;
  }
}

asio::awaitable<Response> handle(Request& req, RequestInfo& info, Backend* backend) {
  backend->saw(req, info);
  const std::string target(req.target());
  if (target == "/echo") {
    info.route = "/echo";
    co_return text(200, req.body());
  }
  if (target.starts_with("/things/")) {
    info.route = "/things/{id}";
    co_return text(200, target.substr(8));
  }
  if (target == "/throw") {
    info.route = "/throw";
    throw std::runtime_error("handler failed");
  }
  if (target == "/throw-int") {
    info.route = "/throw-int";
    throw 42;  // not a std::exception: still a 500, not a lost connection
  }
  if (target == "/hold") {
    info.route = "/hold";
    asio::steady_timer gate(co_await asio::this_coro::executor,
                            asio::steady_timer::time_point::max());
    if (backend->park(&gate)) co_await gate.async_wait(kTuple);
    co_return text(200, "released");
  }
  if (target == "/stream" || target == "/stream-parked") {
    info.route = "/stream";
    Backend* park_on = target == "/stream-parked" ? backend : nullptr;
    info.takeover = [park_on](Stream& stream, beast::flat_buffer& buffer, Request request) {
      return echo_stream(stream, buffer, std::move(request), park_on);
    };
    co_return text(200, "not sent: the stream owns the connection");
  }
  co_return text(404, "no such route");
}

// Timeouts long enough never to fire unless a test shortens them.
ServerLimits test_limits() {
  ServerLimits limits;
  limits.max_body_bytes = 64;
  limits.max_header_bytes = 1024;
  limits.read_timeout_ms = 60000;
  limits.idle_timeout_ms = 60000;
  limits.max_connections = 64;
  return limits;
}

std::string render(const Metrics& metrics) {
  metrics::Exposition out;
  metrics.collect(out);
  return out.take();
}

std::string requests_line(std::string_view route, std::string_view method, unsigned status,
                          unsigned count) {
  return "switchboard_http_requests_total{route=\"" + std::string(route) + "\",method=\"" +
         std::string(method) + "\",status=\"" + std::to_string(status) + "\"} " +
         std::to_string(count) + "\n";
}

// Keeps a worker busy (as a long handler would) until release() or the end of the scope.
class BusyWorker {
 public:
  explicit BusyWorker(asio::io_context& worker) {
    asio::post(worker, [released = released_.get_future().share()] {
      released.wait_for(HttpPeer::kPatience);
    });
  }
  ~BusyWorker() { release(); }
  BusyWorker(const BusyWorker&) = delete;
  BusyWorker& operator=(const BusyWorker&) = delete;
  void release() {
    if (!std::exchange(done_, true)) released_.set_value();
  }

 private:
  std::promise<void> released_;
  bool done_ = false;
};

class ServerTest : public ::testing::Test {
 protected:
  void start(ServerLimits limits = test_limits(), unsigned workers = 1) {
    std::vector<asio::io_context*> pointers;
    for (unsigned i = 0; i < workers; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>(1));
      pointers.push_back(contexts_.back().get());
    }
    metrics_ = std::make_unique<Metrics>(workers);
    server_ = std::make_unique<Server>(
        pointers, limits,
        [backend = &backend_](Request& req, RequestInfo& info) {
          return handle(req, info, backend);
        },
        *metrics_);
    auto bound = server_->listen({"127.0.0.1", 0});
    ASSERT_TRUE(bound) << bound.error().message;
    endpoint_ = *bound;
    server_->start();
    for (auto& context : contexts_) {
      guards_.push_back(asio::make_work_guard(*context));
      threads_.emplace_back([c = context.get()] { c->run(); });
    }
  }

  void TearDown() override {
    if (!server_) return;
    backend_.release();
    server_->begin_shutdown();
    EXPECT_TRUE(eventually([&] { return server_->active_connections() == 0; }))
        << server_->active_connections() << " connection(s) left";
    guards_.clear();
    for (auto& context : contexts_) context->stop();
    for (auto& thread : threads_) thread.join();
    server_.reset();
  }

  // Waits until worker `i` ran a no-op posted now: what was posted there before has run too.
  void sync_with_worker(unsigned i) {
    auto done = std::make_shared<std::promise<void>>();
    asio::post(*contexts_[i], [done] { done->set_value(); });
    ASSERT_EQ(done->get_future().wait_for(HttpPeer::kPatience), std::future_status::ready);
  }

  bool metrics_show(const std::string& line) {
    return eventually([&] { return render(*metrics_).find(line) != std::string::npos; });
  }

  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::unique_ptr<Metrics> metrics_;
  Backend backend_;
  std::unique_ptr<Server> server_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  tcp::endpoint endpoint_;
};

// ---- routing and keep-alive ------------------------------------------------------------------

TEST_F(ServerTest, RoutesToTheHandlerWithTheRemoteAndWorker) {
  start();
  HttpPeer peer(endpoint_);
  ASSERT_TRUE(peer.connected());
  ASSERT_TRUE(peer.send(http_request("GET", "/things/42")));
  auto res = peer.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);
  EXPECT_EQ(res->body(), "42");
  EXPECT_EQ((*res)[bhttp::field::server].substr(0, 12), "switchboard/");
  const auto seen = backend_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].target, "/things/42");
  EXPECT_EQ(seen[0].remote, peer.local_endpoint());
  EXPECT_EQ(seen[0].worker, 0u);
  EXPECT_TRUE(metrics_show(requests_line("/things/{id}", "GET", 200, 1)));
}

TEST_F(ServerTest, SpreadsConnectionsOverWorkersInTurn) {
  start(test_limits(), 2);
  for (int i = 0; i < 4; ++i) {
    HttpPeer peer(endpoint_);
    ASSERT_TRUE(peer.send(http_request("GET", "/echo")));
    ASSERT_TRUE(peer.read_response());
  }
  const auto seen = backend_.seen();
  ASSERT_EQ(seen.size(), 4u);
  for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(seen[i].worker, i % 2) << i;
}

TEST_F(ServerTest, KeepsTheConnectionAliveAcrossRequests) {
  start();
  HttpPeer peer(endpoint_);
  for (int i = 0; i < 3; ++i) {
    const std::string body = "request " + std::to_string(i);
    ASSERT_TRUE(peer.send(http_request("POST", "/echo", body)));
    auto res = peer.read_response();
    ASSERT_TRUE(res) << i;
    EXPECT_EQ(res->body(), body);
    EXPECT_TRUE(res->keep_alive());
  }
  // Two pipelined requests in one write: two responses, in order.
  ASSERT_TRUE(peer.send(http_request("GET", "/things/1") + http_request("GET", "/things/2")));
  auto first = peer.read_response();
  auto second = peer.read_response();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->body(), "1");
  EXPECT_EQ(second->body(), "2");
  const auto seen = backend_.seen();
  ASSERT_EQ(seen.size(), 5u);
  for (const auto& s : seen) EXPECT_EQ(s.remote, peer.local_endpoint());
  EXPECT_EQ(server_->active_connections(), 1u);
}

TEST_F(ServerTest, ClosesAfterTheResponseWhenTheClientAsks) {
  start();
  HttpPeer close(endpoint_);
  ASSERT_TRUE(close.send(http_request("GET", "/echo", {}, "Connection: close\r\n")));
  auto res = close.read_response();
  ASSERT_TRUE(res);
  EXPECT_FALSE(res->keep_alive());
  EXPECT_TRUE(close.closed_within());

  HttpPeer http10(endpoint_);  // HTTP/1.0 without keep-alive
  ASSERT_TRUE(http10.send("GET /echo HTTP/1.0\r\n\r\n"));
  ASSERT_TRUE(http10.read_response());
  EXPECT_TRUE(http10.closed_within());
}

TEST_F(ServerTest, HeadGetsTheHeadersOfGetWithoutTheBody) {
  start();
  HttpPeer peer(endpoint_);
  ASSERT_TRUE(peer.send(http_request("HEAD", "/things/12345")));
  auto head = peer.read_response(/*head=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->result_int(), 200u);
  EXPECT_EQ((*head)[bhttp::field::content_length], "5");
  // Had a body been written, it would now be read as the next response's start.
  ASSERT_TRUE(peer.send(http_request("GET", "/things/7")));
  auto get = peer.read_response();
  ASSERT_TRUE(get);
  EXPECT_EQ(get->result_int(), 200u);
  EXPECT_EQ(get->body(), "7");
}

// ---- limits and bad requests -------------------------------------------------------------------

TEST_F(ServerTest, HeaderOverTheLimitGets431AndTheConnectionCloses) {
  start();
  HttpPeer peer(endpoint_);
  ASSERT_TRUE(
      peer.send(http_request("GET", "/echo", {}, "X-Big: " + std::string(2000, 'h') + "\r\n")));
  auto res = peer.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 431u);
  EXPECT_FALSE(res->keep_alive());
  EXPECT_NE(res->body().find("\"code\":20001"), std::string::npos) << res->body();
  EXPECT_TRUE(peer.closed_within());
  EXPECT_TRUE(backend_.seen().empty());
  EXPECT_TRUE(metrics_show(requests_line("rejected", "UNKNOWN", 431, 1)));
}

TEST_F(ServerTest, BodyOverTheLimitGets413) {
  start();
  HttpPeer sized(endpoint_);
  ASSERT_TRUE(sized.send(http_request("POST", "/echo", std::string(65, 'b'))));
  auto res = sized.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 413u);
  EXPECT_TRUE(sized.closed_within());

  HttpPeer chunked(endpoint_);  // no Content-Length: the limit applies as the chunks arrive
  ASSERT_TRUE(chunked.send(http_request("POST", "/echo", {}, "Transfer-Encoding: chunked\r\n") +
                           "28\r\n" + std::string(40, 'c') + "\r\n28\r\n" + std::string(40, 'c') +
                           "\r\n0\r\n\r\n"));
  res = chunked.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 413u);
  EXPECT_TRUE(chunked.closed_within());

  HttpPeer exact(endpoint_);  // at the limit is fine
  ASSERT_TRUE(exact.send(http_request("POST", "/echo", std::string(64, 'b'))));
  res = exact.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);
  EXPECT_EQ(res->body().size(), 64u);
  EXPECT_TRUE(metrics_show(requests_line("rejected", "UNKNOWN", 413, 2)));
}

TEST_F(ServerTest, MalformedRequestsGet400) {
  start();
  const std::vector<std::string> malformed = {
      "GET /echo\r\n\r\n",                                   // no version
      "GET /echo HTTP/1.1\r\nNo colon here\r\n\r\n",         // bad field
      "POST /echo HTTP/1.1\r\nContent-Length: ten\r\n\r\n",  // bad Content-Length
      "POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",  // bad chunk size
  };
  for (const auto& bytes : malformed) {
    HttpPeer peer(endpoint_);
    ASSERT_TRUE(peer.send(bytes));
    auto res = peer.read_response();
    ASSERT_TRUE(res) << bytes;
    EXPECT_EQ(res->result_int(), 400u) << bytes;
    EXPECT_NE(res->body().find("Malformed HTTP request"), std::string::npos) << res->body();
    EXPECT_TRUE(peer.closed_within()) << bytes;
  }
  EXPECT_TRUE(backend_.seen().empty());
}

TEST_F(ServerTest, ExpectContinueGets100BeforeTheBody) {
  start();
  HttpPeer peer(endpoint_);
  ASSERT_TRUE(peer.send(
      http_request("POST", "/echo", {}, "Expect: 100-continue\r\nContent-Length: 5\r\n")));
  auto interim = peer.read_response();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->result_int(), 100u);
  ASSERT_TRUE(peer.send("hello"));
  auto res = peer.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);
  EXPECT_EQ(res->body(), "hello");
  EXPECT_TRUE(res->keep_alive());

  // A body announced over the limit is refused at once: no 100, the client never sends it.
  HttpPeer big(endpoint_);
  ASSERT_TRUE(big.send(
      http_request("POST", "/echo", {}, "Expect: 100-continue\r\nContent-Length: 65\r\n")));
  res = big.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 413u);
  EXPECT_TRUE(big.closed_within());
}

// ---- timeouts ----------------------------------------------------------------------------------

TEST_F(ServerTest, IdleTimeoutClosesAnIdleKeepAliveConnection) {
  auto limits = test_limits();
  limits.idle_timeout_ms = 200;
  start(limits);
  HttpPeer used(endpoint_);
  ASSERT_TRUE(used.send(http_request("GET", "/echo")));
  auto res = used.read_response();
  ASSERT_TRUE(res);
  EXPECT_TRUE(res->keep_alive());
  std::string after;
  EXPECT_TRUE(used.closed_within(HttpPeer::kPatience, &after));
  EXPECT_EQ(after, "");  // closed without a word

  HttpPeer silent(endpoint_);  // connected, never sent a byte
  EXPECT_TRUE(silent.closed_within());
  EXPECT_TRUE(eventually([&] { return server_->active_connections() == 0; }));
}

// The read timeout counts from a request's first byte and covers its header and body: a client
// trickling either (slowloris) must not hold the connection for the much longer idle timeout.
TEST_F(ServerTest, ReadTimeoutCutsARequestThatNeverEnds) {
  auto limits = test_limits();
  limits.read_timeout_ms = 300;
  limits.idle_timeout_ms = 600000;
  start(limits);
  HttpPeer header(endpoint_);
  ASSERT_TRUE(header.send("GET /echo HTTP/1.1\r\nHost: test\r\n"));
  HttpPeer body(endpoint_);
  ASSERT_TRUE(body.send(http_request("POST", "/echo", {}, "Content-Length: 10\r\n") + "abc"));
  EXPECT_TRUE(header.closed_within()) << "a header that never ends";
  EXPECT_TRUE(body.closed_within()) << "a body that never ends";
  EXPECT_TRUE(backend_.seen().empty());
}

// ---- connections -------------------------------------------------------------------------------

TEST_F(ServerTest, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  auto limits = test_limits();
  limits.max_connections = 1;
  start(limits);
  auto first = std::make_unique<HttpPeer>(endpoint_);
  ASSERT_TRUE(first->send(http_request("GET", "/echo")));
  ASSERT_TRUE(first->read_response());

  HttpPeer refused(endpoint_);  // the kernel completes the handshake; the server closes it
  refused.send(http_request("GET", "/echo"));
  std::string got;
  EXPECT_TRUE(refused.closed_within(HttpPeer::kPatience, &got));
  EXPECT_EQ(got, "");
  EXPECT_EQ(backend_.seen().size(), 1u);

  first.reset();
  ASSERT_TRUE(eventually([&] { return server_->active_connections() == 0; }));
  HttpPeer later(endpoint_);
  ASSERT_TRUE(later.send(http_request("GET", "/echo")));
  EXPECT_TRUE(later.read_response());
}

// A connection counts from its accept, not from when its worker gets to it: with one worker
// busy, connections handed to it must still count against the limit.
TEST_F(ServerTest, ConnectionLimitHoldsWhileAWorkerIsBusy) {
  auto limits = test_limits();
  limits.max_connections = 2;
  start(limits, 2);
  BusyWorker busy(*contexts_[1]);

  HttpPeer a(endpoint_);  // worker 0
  ASSERT_TRUE(a.send(http_request("GET", "/echo")));
  ASSERT_TRUE(a.read_response());
  HttpPeer b(endpoint_);  // worker 1, busy: accepted, not yet started
  HttpPeer c(endpoint_);  // worker 0: the third connection, over the limit
  c.send(http_request("GET", "/echo"));
  std::string got;
  EXPECT_TRUE(c.closed_within(HttpPeer::kPatience, &got));
  EXPECT_EQ(got, "") << "a third connection was served with a limit of 2";

  busy.release();
  ASSERT_TRUE(b.send(http_request("GET", "/echo")));
  auto res = b.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);
  EXPECT_EQ(server_->active_connections(), 2u);
}

// ---- handler failures --------------------------------------------------------------------------

// Whatever a handler throws, std::exception or not, the client gets a 500 and the connection goes
// on. An exception escaping the session would leave it registered: shutdown would wait for it,
// then touch its freed state.
TEST_F(ServerTest, HandlerExceptionGets500AndTheConnectionLives) {
  start();
  for (const char* target : {"/throw", "/throw-int"}) {
    HttpPeer peer(endpoint_);
    ASSERT_TRUE(peer.send(http_request("GET", target)));
    auto res = peer.read_response();
    ASSERT_TRUE(res) << target;
    EXPECT_EQ(res->result_int(), 500u);
    EXPECT_NE(res->body().find("\"status\":500"), std::string::npos) << res->body();
    EXPECT_TRUE(res->keep_alive());
    ASSERT_TRUE(peer.send(http_request("GET", "/things/9")));
    res = peer.read_response();
    ASSERT_TRUE(res) << target;
    EXPECT_EQ(res->body(), "9");
    EXPECT_TRUE(metrics_show(requests_line(target, "GET", 500, 1)));
  }
  EXPECT_TRUE(eventually([&] { return server_->active_connections() == 0; }));
}

// ---- takeover ----------------------------------------------------------------------------------

TEST_F(ServerTest, TakeoverOwnsTheConnectionUntilItEnds) {
  start();
  HttpPeer peer(endpoint_);
  // Bytes sent after the request reach the stream through the buffer.
  ASSERT_TRUE(peer.send(http_request("GET", "/stream") + "EXTRA"));
  const std::string hello = "stream /stream carried [EXTRA]\n";
  auto greeting = peer.read_bytes(hello.size());
  ASSERT_TRUE(greeting);
  EXPECT_EQ(*greeting, hello);  // no HTTP response before it
  ASSERT_TRUE(peer.send("ping"));
  auto echo = peer.read_bytes(4);
  ASSERT_TRUE(echo);
  EXPECT_EQ(*echo, "ping");
  ASSERT_TRUE(peer.send("bye"));
  std::string after;
  EXPECT_TRUE(peer.closed_within(HttpPeer::kPatience, &after));
  EXPECT_EQ(after, "");  // and none after it
  EXPECT_TRUE(metrics_show(requests_line("/stream", "GET", 101, 1)));
  EXPECT_TRUE(eventually([&] { return server_->active_connections() == 0; }));
}

// ---- shutdown ----------------------------------------------------------------------------------

TEST_F(ServerTest, GracefulShutdownFinishesInFlightRequestsAndClosesTheRest) {
  start();
  HttpPeer idle(endpoint_);
  ASSERT_TRUE(idle.send(http_request("GET", "/echo")));
  ASSERT_TRUE(idle.read_response());
  HttpPeer busy(endpoint_);
  ASSERT_TRUE(busy.send(http_request("GET", "/hold")));
  ASSERT_TRUE(backend_.wait_parked(1));
  EXPECT_EQ(server_->active_connections(), 2u);

  server_->begin_shutdown();
  server_->begin_shutdown();  // a second call changes nothing
  EXPECT_TRUE(server_->stopping());
  sync_with_worker(0);  // the listener closes on the worker, posted by begin_shutdown
  HttpPeer late(endpoint_);
  EXPECT_FALSE(late.connected());
  std::string got;
  EXPECT_TRUE(idle.closed_within(HttpPeer::kPatience, &got));
  EXPECT_EQ(got, "");
  EXPECT_TRUE(eventually([&] { return server_->active_connections() == 1; }));

  backend_.release();
  auto res = busy.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200u);
  EXPECT_EQ(res->body(), "released");
  EXPECT_FALSE(res->keep_alive());  // closing: no further request
  EXPECT_TRUE(busy.closed_within());
  EXPECT_TRUE(eventually([&] { return server_->active_connections() == 0; }));
  EXPECT_TRUE(metrics_show(requests_line("/hold", "GET", 200, 1)));
}

TEST_F(ServerTest, ShutdownEndsATakenOverStream) {
  start();
  HttpPeer peer(endpoint_);
  ASSERT_TRUE(peer.send(http_request("GET", "/stream")));
  ASSERT_TRUE(peer.read_bytes(std::string("stream /stream carried []\n").size()));
  server_->begin_shutdown();
  EXPECT_TRUE(peer.closed_within());
  EXPECT_TRUE(eventually([&] { return server_->active_connections() == 0; }));
}

// A stream busy elsewhere when the shutdown comes has no read to cancel; its next read must
// still end instead of waiting for a client that may never write.
TEST_F(ServerTest, ShutdownEndsAStreamThatWasBetweenReads) {
  start();
  HttpPeer peer(endpoint_);
  ASSERT_TRUE(peer.send(http_request("GET", "/stream-parked")));
  ASSERT_TRUE(peer.read_bytes(std::string("stream /stream-parked carried []\n").size()));
  ASSERT_TRUE(backend_.wait_parked(1));
  server_->begin_shutdown();
  sync_with_worker(0);  // the shutdown's work on the worker is done, with the stream parked
  backend_.release();
  EXPECT_TRUE(peer.closed_within());
  EXPECT_TRUE(eventually([&] { return server_->active_connections() == 0; }));
}

// ---- metrics and listening ---------------------------------------------------------------------

TEST_F(ServerTest, MetricsCountRequestsByRouteMethodAndStatus) {
  start();
  HttpPeer peer(endpoint_);
  const std::vector<std::string> requests = {
      http_request("GET", "/things/1"), http_request("GET", "/things/2"),
      http_request("POST", "/things/3", "x"), http_request("GET", "/nowhere")};
  for (const auto& r : requests) {
    ASSERT_TRUE(peer.send(r));
    ASSERT_TRUE(peer.read_response());
  }
  EXPECT_TRUE(metrics_show(requests_line("/things/{id}", "GET", 200, 2)));
  EXPECT_TRUE(metrics_show(requests_line("/things/{id}", "POST", 200, 1)));
  EXPECT_TRUE(metrics_show(requests_line("unmatched", "GET", 404, 1)));
  EXPECT_TRUE(
      metrics_show("switchboard_http_request_duration_seconds_count{route=\"/things/{id}\"} 3\n"));
}

TEST_F(ServerTest, ListenReportsErrorsAsValues) {
  start();
  std::vector<asio::io_context*> pointers{contexts_[0].get()};
  Metrics metrics(1);
  Server other(pointers, test_limits(), {}, metrics);  // never started: no handler needed
  auto taken = other.listen({"127.0.0.1", endpoint_.port()});
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().status, 500);
  EXPECT_NE(taken.error().message.find("cannot listen"), std::string::npos);
  Server named(pointers, test_limits(), {}, metrics);
  auto bad_host = named.listen({"not an address", 0});
  ASSERT_FALSE(bad_host);
  EXPECT_EQ(bad_host.error().status, 400);
  Server local(pointers, test_limits(), {}, metrics);
  auto bound = local.listen({"localhost", 0});
  ASSERT_TRUE(bound);
  EXPECT_EQ(bound->address().to_string(), "127.0.0.1");
  EXPECT_NE(bound->port(), 0);
}

}  // namespace
}  // namespace sb::http

namespace sb::http {
namespace {

TEST(TlsConfig, ABadFileIsAnErrorNamingItAndKeepsThePreviousContext) {
  TlsConfig none({"", ""});
  auto missing_both = none.load();
  ASSERT_FALSE(missing_both);
  EXPECT_NE(missing_both.error().message.find("http.tls_key"), std::string::npos);
  EXPECT_EQ(none.current(), nullptr);

  TlsConfig absent({"/nonexistent/switchboard-cert.pem", "/nonexistent/switchboard-key.pem"});
  auto loaded = absent.load();
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message.find("/nonexistent/switchboard-cert.pem"), std::string::npos)
      << loaded.error().message;
  EXPECT_EQ(absent.current(), nullptr);
}

}  // namespace
}  // namespace sb::http
