// The event router end to end, in process: the real HTTP server, /v1 stream endpoint and
// EventService (events.db with synchronous=FULL), driven by N WebSocket clients (Boost.Beast)
// on loopback. Measures stream deliveries per second and publish-to-receive latency (from the
// publish call, durable commit included, to the client's read), then durable webhook
// deliveries per second to a loopback receiver. With --redis PORT, the same fan-out through a
// running redis-server (PUBLISH to N SUBSCRIBE connections) in the same run.
//
//   bench_events_fanout [subscribers=1000] [events=200] [webhook_events=5000] [--redis PORT]
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "api/api.hpp"
#include "api/events_api.hpp"
#include "app/bootstrap.hpp"
#include "core/log.hpp"
#include "events/delivery_policy.hpp"
#include "http/base64.hpp"
#include "store/sqlite_store.hpp"
#include "support/app_server.hpp"
#include "support/temp_dir.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
      .count();
}

struct Stats {
  std::atomic<std::uint64_t> received{0};
  std::vector<std::int64_t> latencies_ns;  // client thread only
};

// Pulls the publisher's timestamp out of a message: `"t":<ns>` (JSON) or `t=<ns>` (Redis).
std::int64_t stamp(std::string_view msg, std::string_view key) {
  const auto p = msg.find(key);
  if (p == std::string_view::npos) return 0;
  return std::strtoll(msg.data() + p + key.size(), nullptr, 10);
}

asio::awaitable<void> ws_client(tcp::endpoint ep, std::string auth, Stats& stats,
                                std::atomic<int>& connected) {
  websocket::stream<beast::tcp_stream> ws(co_await asio::this_coro::executor);
  auto [cec] = co_await beast::get_lowest_layer(ws).async_connect(ep, kTuple);
  if (cec) co_return;
  ws.set_option(websocket::stream_base::decorator(
      [auth](websocket::request_type& req) { req.set(beast::http::field::authorization, auth); }));
  auto [hec] = co_await ws.async_handshake("127.0.0.1", "/v1/Channels/bench/Stream", kTuple);
  if (hec) {
    std::fprintf(stderr, "handshake: %s\n", hec.message().c_str());
    co_return;
  }
  ++connected;
  beast::flat_buffer buffer;
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buffer, kTuple);
    if (ec) co_return;
    const auto data = buffer.cdata();
    const std::string_view msg(static_cast<const char*>(data.data()), data.size());
    if (auto t = stamp(msg, "\"t\":")) stats.latencies_ns.push_back(now_ns() - t);
    stats.received.fetch_add(1, std::memory_order_relaxed);
    buffer.consume(buffer.size());
  }
}

asio::awaitable<void> redis_client(tcp::endpoint ep, Stats& stats, std::atomic<int>& connected) {
  tcp::socket s(co_await asio::this_coro::executor);
  auto [cec] = co_await s.async_connect(ep, kTuple);
  if (cec) co_return;
  std::string cmd = "SUBSCRIBE bench\r\n";
  co_await asio::async_write(s, asio::buffer(cmd), kTuple);
  std::string buf;
  bool subscribed = false;
  std::array<char, 65536> chunk;
  for (;;) {
    auto [ec, n] = co_await s.async_read_some(asio::buffer(chunk), kTuple);
    if (ec) co_return;
    buf.append(chunk.data(), n);
    // Each published payload is "t=<ns>;" and appears once per message frame.
    std::size_t pos = 0;
    for (;;) {
      const auto p = buf.find("t=", pos);
      if (p == std::string::npos) break;
      const auto end = buf.find(';', p);
      if (end == std::string::npos) break;
      stats.latencies_ns.push_back(now_ns() - std::strtoll(buf.data() + p + 2, nullptr, 10));
      stats.received.fetch_add(1, std::memory_order_relaxed);
      pos = end + 1;
    }
    if (!subscribed && buf.find("subscribe") != std::string::npos) {
      subscribed = true;
      ++connected;
    }
    buf.erase(0, pos ? pos : (buf.size() > 64 ? buf.size() - 64 : 0));
  }
}

struct Figures {
  double seconds = 0;
  std::uint64_t delivered = 0;
  double p50_ms = 0, p99_ms = 0;
};

Figures summarize(Stats& stats, double seconds) {
  Figures f;
  f.seconds = seconds;
  f.delivered = stats.received.load();
  auto& l = stats.latencies_ns;
  if (!l.empty()) {
    std::sort(l.begin(), l.end());
    f.p50_ms = static_cast<double>(l[l.size() / 2]) / 1e6;
    f.p99_ms = static_cast<double>(l[std::min(l.size() - 1, l.size() * 99 / 100)]) / 1e6;
  }
  return f;
}

bool wait_until(const std::function<bool()>& done, double timeout_s) {
  const auto deadline = SteadyClock::now() + std::chrono::duration<double>(timeout_s);
  while (!done()) {
    if (SteadyClock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Publishes `events` one per call from `publishers` concurrent loops on the events executor.
// `interval_us` > 0 paces each publisher (one publish per interval) to measure latency below
// saturation; 0 publishes as fast as commits allow (throughput).
void publish_events(sb::events::EventService& svc, sb::events::ChannelPtr ch, int events,
                    int publishers, int batch, int interval_us = 0) {
  std::atomic<int> next{0}, done{0};
  for (int p = 0; p < publishers; ++p) {
    asio::co_spawn(
        svc.executor(),
        [](sb::events::EventService& svc, sb::events::ChannelPtr ch, int events, int batch,
           int interval_us, std::atomic<int>& next,
           std::atomic<int>& done) -> asio::awaitable<void> {
          asio::steady_timer pacer(co_await asio::this_coro::executor);
          auto due = SteadyClock::now();
          for (;;) {
            if (interval_us > 0) {
              due += std::chrono::microseconds(interval_us);
              pacer.expires_at(due);
              co_await pacer.async_wait(kTuple);
            }
            const int start = next.fetch_add(batch);
            if (start >= events) break;
            std::vector<sb::events::Body> bodies;
            for (int i = start; i < std::min(events, start + batch); ++i) {
              sb::events::Body b;
              b["type"] = "bench.tick";
              b["source"] = "bench";
              json::object data;
              data["t"] = now_ns();
              data["i"] = i;
              b["data"] = std::move(data);
              b["metadata"] = json::object();
              bodies.push_back(std::move(b));
            }
            auto r =
                co_await svc.publish(ch, "account", std::move(bodies), std::nullopt, batch > 1);
            if (!r) std::fprintf(stderr, "publish: %s\n", r.error().message.c_str());
          }
          ++done;
        }(svc, ch, events, batch, interval_us, next, done),
        asio::detached);
  }
  wait_until([&] { return done.load() == publishers; }, 120);
}

}  // namespace

int main(int argc, char** argv) {
  int subscribers = 1000, events = 200, webhook_events = 5000, redis_port = 0;
  std::vector<int> positional;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--redis") == 0 && i + 1 < argc) {
      redis_port = std::atoi(argv[++i]);
    } else {
      positional.push_back(std::atoi(argv[i]));
    }
  }
  if (positional.size() > 0) subscribers = positional[0];
  if (positional.size() > 1) events = positional[1];
  if (positional.size() > 2) webhook_events = positional[2];
  spdlog::set_level(spdlog::level::warn);

  sb::testing::TempDir dir;
  auto opened = sb::store::SqliteStore::open(dir.file("switchboard.db"));
  if (!opened) return 1;
  auto& store = **opened;
  sb::SystemClock clock;
  sb::Config config;
  config.data_dir = dir.path().string();
  config.account_sid = "AC" + std::string(32, 'a');
  config.auth_token = std::string(32, 'b');
  if (!sb::app::ensure_main_account(store, config, clock)) return 1;

  asio::io_context server_io(1);
  sb::http::Metrics metrics(1);
  sb::api::Api api(store, clock, metrics);
  sb::HttpLimits limits;
  sb::http::Server server(
      {&server_io}, limits,
      [&api](sb::http::Request& req, sb::http::RequestInfo& info) { return api.handle(req, info); },
      metrics);
  auto ep = server.listen({"127.0.0.1", 0});
  if (!ep) return 1;
  auto module =
      sb::app::start_events(config, store, api, "http://127.0.0.1:" + std::to_string(ep->port()));
  auto* svc = sb::app::events_service(module);
  server.start();
  std::thread server_thread([&] { server_io.run(); });

  auto ch = asio::co_spawn(
                svc->executor(),
                [](sb::events::EventService* s) -> asio::awaitable<sb::events::ChannelPtr> {
                  auto c = co_await s->create_channel("AC" + std::string(32, 'a'), "bench",
                                                      json::value());
                  co_return c ? *c : nullptr;
                }(svc),
                asio::use_future)
                .get();

  const std::string auth =
      "Basic " + sb::http::base64_encode(*config.account_sid + ":" + *config.auth_token);
  Stats stats;
  stats.latencies_ns.reserve(static_cast<std::size_t>(subscribers) * events);
  std::atomic<int> connected{0};
  asio::io_context client_io(1);
  for (int i = 0; i < subscribers; ++i) {
    asio::co_spawn(client_io, ws_client(*ep, auth, stats, connected), asio::detached);
  }
  auto guard = asio::make_work_guard(client_io);
  std::thread client_thread([&] { client_io.run(); });
  if (!wait_until([&] { return connected.load() == subscribers; }, 60)) {
    std::fprintf(stderr, "only %d of %d WebSocket clients connected\n", connected.load(),
                 subscribers);
  }

  const std::uint64_t expected = static_cast<std::uint64_t>(connected.load()) * events;
  const auto t0 = SteadyClock::now();
  publish_events(*svc, ch, events, 4, 1);
  wait_until([&] { return stats.received.load() >= expected; }, 60);
  const double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  // Let the client thread finish its last read before reading its samples.
  asio::post(client_io, asio::use_future).get();
  Figures ws = summarize(stats, secs);

  // The same fan-out paced at `paced_rate` events per second: latency below saturation.
  const int paced_rate = 50;
  stats.received = 0;
  stats.latencies_ns.clear();
  const auto p0 = SteadyClock::now();
  publish_events(*svc, ch, events, 1, 1, 1'000'000 / paced_rate);
  wait_until([&] { return stats.received.load() >= expected; }, 60);
  const double psecs = std::chrono::duration<double>(SteadyClock::now() - p0).count();
  asio::post(client_io, asio::use_future).get();
  Figures paced = summarize(stats, psecs);

  Figures redis;
  bool have_redis = false;
  if (redis_port > 0) {
    Stats rstats;
    rstats.latencies_ns.reserve(static_cast<std::size_t>(subscribers) * events);
    std::atomic<int> rconnected{0};
    tcp::endpoint rep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(redis_port));
    for (int i = 0; i < subscribers; ++i) {
      asio::co_spawn(client_io, redis_client(rep, rstats, rconnected), asio::detached);
    }
    if (wait_until([&] { return rconnected.load() == subscribers; }, 30)) {
      tcp::socket pub(server_io);
      boost::system::error_code ec;
      pub.connect(rep, ec);
      const auto r0 = SteadyClock::now();
      std::array<char, 4096> sink;
      for (int i = 0; i < events && !ec; ++i) {
        const std::string payload = "t=" + std::to_string(now_ns()) + ";";
        const std::string cmd = "*3\r\n$7\r\nPUBLISH\r\n$5\r\nbench\r\n$" +
                                std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
        asio::write(pub, asio::buffer(cmd), ec);
        pub.read_some(asio::buffer(sink), ec);  // ":<receivers>\r\n": one round trip per PUBLISH
      }
      const std::uint64_t rexpected = static_cast<std::uint64_t>(subscribers) * events;
      wait_until([&] { return rstats.received.load() >= rexpected; }, 60);
      const double rsecs = std::chrono::duration<double>(SteadyClock::now() - r0).count();
      asio::post(client_io, asio::use_future).get();
      redis = summarize(rstats, rsecs);
      have_redis = true;
    } else {
      std::fprintf(stderr, "redis: only %d subscribers connected\n", rconnected.load());
    }
  }

  // Durable webhooks: every event through the outbox to a loopback receiver.
  sb::testing::AppServer receiver;
  receiver.reply("/hook", sb::testing::Reply{200, "text/plain", "", {}, 0, false});
  auto hook_ch = asio::co_spawn(
                     svc->executor(),
                     [](sb::events::EventService* s,
                        std::string url) -> asio::awaitable<sb::events::ChannelPtr> {
                       auto c = co_await s->create_channel("AC" + std::string(32, 'a'), "hooks",
                                                           json::value());
                       if (!c) co_return nullptr;
                       co_await s->create_subscriber(*c, "webhook", url,
                                                     sb::events::generate_secret(), json::value());
                       co_return *c;
                     }(svc, receiver.url("/hook")),
                     asio::use_future)
                     .get();
  const auto w0 = SteadyClock::now();
  publish_events(*svc, hook_ch, webhook_events, 4, 50);
  const double accept_secs = std::chrono::duration<double>(SteadyClock::now() - w0).count();
  receiver.wait_for("/hook", static_cast<std::size_t>(webhook_events), 120000);
  const double wsecs = std::chrono::duration<double>(SteadyClock::now() - w0).count();
  const auto got = receiver.requests_to("/hook").size();

  std::printf(
      "\nEvent router fan-out, %d WebSocket subscribers x %d events (1 HTTP worker, loopback)\n",
      connected.load(), events);
  std::printf("%-34s %14s %12s %10s %10s\n", "", "deliveries", "per second", "p50 ms", "p99 ms");
  std::printf("%-34s %14llu %12.0f %10.2f %10.2f\n", "switchboard (durable publish)",
              static_cast<unsigned long long>(ws.delivered),
              static_cast<double>(ws.delivered) / ws.seconds, ws.p50_ms, ws.p99_ms);
  std::printf("%-34s %14llu %12.0f %10.2f %10.2f\n", "switchboard, paced 50 events/s",
              static_cast<unsigned long long>(paced.delivered),
              static_cast<double>(paced.delivered) / paced.seconds, paced.p50_ms, paced.p99_ms);
  if (have_redis) {
    std::printf("%-34s %14llu %12.0f %10.2f %10.2f\n", "redis-server PUBLISH (in memory)",
                static_cast<unsigned long long>(redis.delivered),
                static_cast<double>(redis.delivered) / redis.seconds, redis.p50_ms, redis.p99_ms);
  }
  std::printf("\nDurable webhooks: %d events, batches of 50, one receiver\n", webhook_events);
  std::printf("%-34s %14zu %12.0f   (accepted in %.2f s, all delivered in %.2f s)\n",
              "switchboard webhook deliveries", got, static_cast<double>(got) / wsecs, accept_secs,
              wsecs);

  guard.reset();
  client_io.stop();
  client_thread.join();
  server.begin_shutdown();
  server_io.stop();
  server_thread.join();
  sb::app::stop_events(module);
  store.close();
  return 0;
}
