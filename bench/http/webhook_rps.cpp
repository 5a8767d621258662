// Webhook requests per second through CurlClient to a loopback Beast server over pooled
// keep-alive connections, at several concurrency levels. Peer figure from the same run: a plain
// blocking libcurl easy handle reusing its connection (concurrency 1).
//
// Built with -DSB_BENCH=ON as bench_webhook_rps; run: bench_webhook_rps [requests-per-level]
#include <curl/curl.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "http/client.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> serve(tcp::socket socket) {
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request<bhttp::string_body> req;
    auto [ec, n] = co_await bhttp::async_read(socket, buffer, req, kTuple);
    if (ec) co_return;
    bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
    res.set(bhttp::field::content_type, "text/xml");
    res.body() = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Say>Hi</Say></Response>";
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [wec, wn] = co_await bhttp::async_write(socket, res, kTuple);
    if (wec) co_return;
  }
}

asio::awaitable<void> accept(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
  }
}

struct Level {
  double seconds = 0;
  long connections = 0;
  int failures = 0;
};

Level run_level(asio::io_context& io, sb::http::CurlClient& client, const std::string& url,
                int concurrency, int total) {
  Level out;
  int started = 0;
  int done = 0;
  std::function<void()> launch;
  launch = [&] {
    sb::http::ClientRequest r;
    r.method = "POST";
    r.url = url;
    r.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"X-Twilio-Signature", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}};
    r.body =
        "AccountSid=AC00000000000000000000000000000000&CallSid=CA0000000000000000000000000000"
        "0000&From=%2B15551230000&To=%2B15559870000&CallStatus=ringing&Direction=inbound"
        "&ApiVersion=2010-04-01";
    ++started;
    client.start(std::move(r),
                 [&](boost::system::error_code, sb::Result<sb::http::ClientResponse> res) {
                   ++done;
                   if (!res || res->status != 200) {
                     ++out.failures;
                   } else {
                     out.connections += res->new_connections;
                   }
                   if (started < total) launch();
                   if (done == total) io.stop();
                 });
  };
  const auto t0 = Clock::now();
  for (int i = 0; i < concurrency && started < total; ++i) launch();
  io.restart();
  io.run();
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return out;
}

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

double run_peer(const std::string& url, int total) {
  CURL* e = curl_easy_init();
  const std::string body = "AccountSid=AC00000000000000000000000000000000&CallStatus=ringing";
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard);
  const auto t0 = Clock::now();
  for (int i = 0; i < total; ++i) curl_easy_perform(e);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  curl_easy_cleanup(e);
  return s;
}

int main(int argc, char** argv) {
  const int total = argc > 1 ? std::atoi(argv[1]) : 20000;
  asio::io_context server_io;
  tcp::acceptor acceptor(server_io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::co_spawn(server_io, accept(acceptor), asio::detached);
  auto guard = asio::make_work_guard(server_io);
  std::thread server([&] { server_io.run(); });
  const std::string url =
      "http://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/voice";

  asio::io_context io;
  sb::http::CurlClient client(io.get_executor());
  run_level(io, client, url, 1, 200);  // warm-up

  std::printf("%-12s %-11s %10s %12s %12s %9s\n", "client", "concurrency", "requests", "seconds",
              "req/s", "new conns");
  for (int c : {1, 8, 32, 128}) {
    const Level l = run_level(io, client, url, c, total);
    std::printf("%-12s %-11d %10d %12.3f %12.0f %9ld%s\n", "CurlClient", c, total, l.seconds,
                total / l.seconds, l.connections, l.failures ? "  (failures!)" : "");
  }
  const double peer = run_peer(url, total);
  std::printf("%-12s %-11d %10d %12.3f %12.0f %9s\n", "curl_easy", 1, total, peer, total / peer,
              "1");

  guard.reset();
  server_io.stop();
  server.join();
  return 0;
}
