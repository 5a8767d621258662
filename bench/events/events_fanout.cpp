// The event router end to end, in process: the real HTTP server, /v1 stream endpoint and
// EventService (events.db with synchronous=FULL), driven by N WebSocket clients (Boost.Beast)
// on loopback. Measures stream deliveries per second and publish-to-receive latency (from the
// publish call, durable commit included, to the client's read), then durable webhook
// deliveries per second to a loopback receiver. With --redis PORT, the same fan-out through a
// running redis-server (PUBLISH to N SUBSCRIBE connections) in the same run.
//
//   bench_events_fanout [subscribers=1000] [events=200] [webhook_events=5000] [--redis PORT]
//                       [--workers N=2] [--client-threads N=2]
// Prints a burst, a 50 events/s and a 1,000 events/s run for each system.
#include <pthread.h>
#include <time.h>
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/api.hpp"
#include "app/bootstrap.hpp"
#include "app/event_router.hpp"
#include "core/log.hpp"
#include "events/delivery_policy.hpp"
#include "http/base64.hpp"
#include "store/sqlite_store.hpp"
#include "support/app_server.hpp"
#include "support/temp_dir.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
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

// A WebSocket subscriber that reads like the Redis one below: the upgrade by hand, then raw
// reads with the server's (unmasked) frames parsed in place, many per read, so that the
// client's cost stays small next to the server's.
asio::awaitable<void> ws_client(tcp::endpoint ep, std::string auth, Stats& stats,
                                std::atomic<int>& connected) {
  tcp::socket s(co_await asio::this_coro::executor);
  auto [cec] = co_await s.async_connect(ep, kTuple);
  if (cec) co_return;
  const std::string upgrade =
      "GET /v1/Channels/bench/Stream?heartbeat_ms=120000 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: "
      "websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\nAuthorization: " +
      auth + "\r\n\r\n";
  auto [wec, wn] = co_await asio::async_write(s, asio::buffer(upgrade), kTuple);
  if (wec) co_return;
  std::vector<char> buf(256 * 1024);
  std::size_t have = 0;
  bool open = false;
  for (;;) {
    auto [ec, n] =
        co_await s.async_read_some(asio::buffer(buf.data() + have, buf.size() - have), kTuple);
    if (ec) co_return;
    have += n;
    std::size_t at = 0;
    if (!open) {
      const std::string_view head(buf.data(), have);
      const auto end = head.find("\r\n\r\n");
      if (end == std::string_view::npos) continue;
      if (!head.starts_with("HTTP/1.1 101")) {
        std::fprintf(stderr, "handshake: %.*s\n", static_cast<int>(head.find('\r')), head.data());
        co_return;
      }
      open = true;
      ++connected;
      at = end + 4;
    }
    const std::int64_t now = now_ns();
    for (;;) {
      const auto* b = reinterpret_cast<const unsigned char*>(buf.data() + at);
      const std::size_t left = have - at;
      if (left < 2) break;
      std::size_t hdr = 2, len = b[1] & 0x7F;
      if (len == 126) {
        if (left < 4) break;
        hdr = 4;
        len = (std::size_t{b[2]} << 8) | b[3];
      } else if (len == 127) {
        if (left < 10) break;
        hdr = 10;
        len = 0;
        for (int i = 0; i < 8; ++i) len = (len << 8) | b[2 + i];
      }
      if (left < hdr + len) break;
      if ((b[0] & 0x0F) == 0x1) {
        const std::string_view msg(buf.data() + at + hdr, len);
        if (auto t = stamp(msg, "\"t\":")) stats.latencies_ns.push_back(now - t);
        stats.received.fetch_add(1, std::memory_order_relaxed);
      }
      at += hdr + len;
    }
    std::memmove(buf.data(), buf.data() + at, have - at);
    have -= at;
    if (have == buf.size()) buf.resize(buf.size() * 2);
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
  double server_cpu = 0, client_cpu = 0, other_cpu = 0;  // seconds
};

double thread_cpu_s(std::thread& t) {
  clockid_t id;
  if (pthread_getcpuclockid(t.native_handle(), &id) != 0) return 0;
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double process_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double threads_cpu_s(std::vector<std::thread>& ts) {
  double sum = 0;
  for (auto& t : ts) sum += thread_cpu_s(t);
  return sum;
}

// CPU seconds of the server's HTTP workers, the subscribers' thread and the rest of the
// process (events executor, durable writer, publishers) over a run.
struct CpuMeter {
  std::vector<std::thread>& server;
  std::function<double()> client;
  double s0, c0, p0;
  CpuMeter(std::vector<std::thread>& s, std::function<double()> c)
      : server(s), client(std::move(c)), s0(threads_cpu_s(s)), c0(client()), p0(process_cpu_s()) {}
  void stop(Figures& f) {
    f.server_cpu = threads_cpu_s(server) - s0;
    f.client_cpu = client() - c0;
    f.other_cpu = process_cpu_s() - p0 - f.server_cpu - f.client_cpu;
  }
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

// The subscribers' side: `threads` event loops, each with its own thread and counters, and the
// connections spread over them round-robin (the same harness for both systems).
class Subscribers {
 public:
  Subscribers(int threads, std::size_t samples_each) {
    for (int i = 0; i < threads; ++i) {
      ios_.push_back(std::make_unique<asio::io_context>(1));
      guards_.push_back(asio::make_work_guard(*ios_.back()));
      stats_.push_back(std::make_unique<Stats>());
      stats_.back()->latencies_ns.reserve(samples_each);
    }
    for (auto& io : ios_) threads_.emplace_back([&io] { io->run(); });
  }
  ~Subscribers() {
    guards_.clear();
    for (auto& io : ios_) io->stop();
    for (auto& t : threads_) t.join();
  }
  // `make(executor, stats)` returns the awaitable of one connection.
  template <typename Make>
  void spawn(int connections, Make make) {
    for (int i = 0; i < connections; ++i) {
      const auto k = static_cast<std::size_t>(i) % ios_.size();
      asio::co_spawn(*ios_[k], make(*stats_[k]), asio::detached);
    }
  }
  std::uint64_t received() const {
    std::uint64_t n = 0;
    for (const auto& s : stats_) n += s->received.load(std::memory_order_relaxed);
    return n;
  }
  // Lets every thread finish the read it is in, then resets the counters.
  void reset() {
    settle();
    for (auto& s : stats_) {
      s->received = 0;
      s->latencies_ns.clear();
    }
  }
  // After a run: waits for the threads to finish their last reads, then merges their samples.
  Figures summarize(double seconds) {
    settle();
    Stats merged;
    for (auto& s : stats_) {
      merged.received += s->received.load();
      merged.latencies_ns.insert(merged.latencies_ns.end(), s->latencies_ns.begin(),
                                 s->latencies_ns.end());
    }
    return ::summarize(merged, seconds);
  }
  double cpu_s() { return threads_cpu_s(threads_); }

 private:
  void settle() {
    for (auto& io : ios_) asio::post(*io, asio::use_future).get();
  }
  std::vector<std::unique_ptr<asio::io_context>> ios_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::unique_ptr<Stats>> stats_;
  std::vector<std::thread> threads_;
};

struct PublishStats {
  std::mutex mu;
  std::vector<std::int64_t> commit_ns;  // publish call to durable acknowledgement
};

// Publishes `events` one per call from `publishers` concurrent loops on the events executor.
// `interval_us` > 0 paces each publisher (one publish per interval; the publishers start
// evenly staggered over one interval) to measure latency at a given rate; 0 publishes as
// fast as commits allow (throughput).
void publish_events(sb::events::EventService& svc, sb::events::ChannelPtr ch, int events,
                    int publishers, int batch, int interval_us = 0,
                    PublishStats* commits = nullptr) {
  std::atomic<int> next{0}, done{0};
  const auto start_at = SteadyClock::now();
  for (int p = 0; p < publishers; ++p) {
    const auto first = start_at + std::chrono::microseconds(interval_us * p / publishers);
    asio::co_spawn(
        svc.executor(),
        [](sb::events::EventService& svc, sb::events::ChannelPtr ch, int events, int batch,
           int interval_us, SteadyClock::time_point due, PublishStats* commits,
           std::atomic<int>& next, std::atomic<int>& done) -> asio::awaitable<void> {
          asio::steady_timer pacer(co_await asio::this_coro::executor);
          for (;;) {
            if (interval_us > 0) {
              pacer.expires_at(due);
              co_await pacer.async_wait(kTuple);
              due += std::chrono::microseconds(interval_us);
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
            const auto t0 = now_ns();
            auto r =
                co_await svc.publish(ch, "account", std::move(bodies), std::nullopt, batch > 1);
            if (!r) std::fprintf(stderr, "publish: %s\n", r.error().message.c_str());
            if (commits) {
              std::lock_guard lock(commits->mu);
              commits->commit_ns.push_back(now_ns() - t0);
            }
          }
          ++done;
        }(svc, ch, events, batch, interval_us, first, commits, next, done),
        asio::detached);
  }
  wait_until([&] { return done.load() == publishers; }, 120);
}

// Publishes `events` PUBLISH commands on one connection, each waiting for its reply, paced
// like publish_events when `interval_us` > 0.
void redis_publish(tcp::socket& pub, int events, int interval_us) {
  boost::system::error_code ec;
  std::array<char, 4096> sink;
  auto due = SteadyClock::now();
  for (int i = 0; i < events && !ec; ++i) {
    if (interval_us > 0) {
      std::this_thread::sleep_until(due);
      due += std::chrono::microseconds(interval_us);
    }
    const std::string payload = "t=" + std::to_string(now_ns()) + ";";
    const std::string cmd = "*3\r\n$7\r\nPUBLISH\r\n$5\r\nbench\r\n$" +
                            std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
    asio::write(pub, asio::buffer(cmd), ec);
    pub.read_some(asio::buffer(sink), ec);  // ":<receivers>\r\n": one round trip per PUBLISH
  }
}

double percentile_ms(std::vector<std::int64_t> v, int pct) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[std::min(v.size() - 1, v.size() * pct / 100)]) / 1e6;
}

void print_row(const char* name, const Figures& f) {
  const double per = f.delivered ? 1e9 / static_cast<double>(f.delivered) : 0;
  std::printf("%-40s %12llu %12.0f %9.2f %9.2f %8.0f %8.0f %8.0f\n", name,
              static_cast<unsigned long long>(f.delivered),
              f.seconds > 0 ? static_cast<double>(f.delivered) / f.seconds : 0.0, f.p50_ms,
              f.p99_ms, f.server_cpu * per, f.client_cpu * per, f.other_cpu * per);
}

}  // namespace

int main(int argc, char** argv) {
  int subscribers = 1000, events = 200, webhook_events = 5000, redis_port = 0, http_workers = 2,
      client_threads = 2;
  std::vector<int> positional;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--redis") == 0 && i + 1 < argc) {
      redis_port = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
      http_workers = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--client-threads") == 0 && i + 1 < argc) {
      client_threads = std::max(1, std::atoi(argv[++i]));
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
  sb::app::Config config;
  config.data_dir = dir.path().string();
  config.account_sid = "AC" + std::string(32, 'a');
  config.auth_token = std::string(32, 'b');
  if (!sb::app::ensure_main_account(store, config, clock)) return 1;

  // HTTP workers as the daemon runs them: one io_context and thread each (one per core).
  std::vector<std::unique_ptr<asio::io_context>> server_ios;
  std::vector<asio::io_context*> worker_ptrs;
  for (int i = 0; i < http_workers; ++i) {
    server_ios.push_back(std::make_unique<asio::io_context>(1));
    worker_ptrs.push_back(server_ios.back().get());
  }
  asio::io_context& server_io = *server_ios.front();
  sb::http::Metrics metrics(static_cast<unsigned>(http_workers));
  sb::metrics::Registry registry;
  registry.add([&metrics](sb::metrics::Exposition& out) { metrics.collect(out); });
  sb::api::Api api(store, clock, registry);
  sb::http::ServerLimits limits;
  sb::http::Server server(
      worker_ptrs, limits,
      [&api](sb::http::Request& req, sb::http::RequestInfo& info) { return api.handle(req, info); },
      metrics);
  auto ep = server.listen({"127.0.0.1", 0});
  if (!ep) return 1;
  auto router = sb::app::EventRouter::start(config, store, api,
                                            "http://127.0.0.1:" + std::to_string(ep->port()));
  auto* svc = &router->service();
  server.start();
  std::vector<std::thread> server_threads;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> server_guards;
  for (auto& io : server_ios) {
    server_guards.push_back(asio::make_work_guard(*io));  // a worker may have nothing to do yet
    server_threads.emplace_back([&io] { io->run(); });
  }

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
  const std::size_t samples =
      static_cast<std::size_t>(subscribers) * std::max(events, 2000) / client_threads + 1;
  Subscribers subs(client_threads, samples);
  auto subs_cpu = [&subs] { return subs.cpu_s(); };
  std::atomic<int> connected{0};
  subs.spawn(subscribers, [&](Stats& st) { return ws_client(*ep, auth, st, connected); });
  if (!wait_until([&] { return connected.load() == subscribers; }, 60)) {
    std::fprintf(stderr, "only %d of %d WebSocket clients connected\n", connected.load(),
                 subscribers);
  }

  // Three runs through the same subscribers: `events` published as fast as durable commits
  // allow (4 concurrent publishers: throughput, with the queueing that a burst brings), then
  // paced at 50 events/s (latency at light load), then paced at `fast_rate` events/s over two
  // seconds (latency at the aimed delivery rate: fast_rate x subscribers per second).
  const int fast_rate = 1000;
  auto ws_phase = [&](int n, int publishers, int interval_us, PublishStats* commits) {
    subs.reset();
    const std::uint64_t expected = static_cast<std::uint64_t>(connected.load()) * n;
    CpuMeter cpu(server_threads, subs_cpu);
    const auto t0 = SteadyClock::now();
    publish_events(*svc, ch, n, publishers, 1, interval_us, commits);
    wait_until([&] { return subs.received() >= expected; }, 60);
    const double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
    auto f = subs.summarize(secs);
    cpu.stop(f);
    return f;
  };
  Figures ws = ws_phase(events, 4, 0, nullptr);
  PublishStats slow_commits, fast_commits;
  Figures paced = ws_phase(events, 1, 1'000'000 / 50, &slow_commits);
  Figures fast = ws_phase(2 * fast_rate, 8, 8 * 1'000'000 / fast_rate, &fast_commits);

  Figures redis, redis_paced, redis_fast;
  bool have_redis = false;
  if (redis_port > 0) {
    Subscribers rsubs(client_threads, samples);
    auto rsubs_cpu = [&rsubs] { return rsubs.cpu_s(); };
    std::atomic<int> rconnected{0};
    tcp::endpoint rep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(redis_port));
    rsubs.spawn(subscribers, [&](Stats& st) { return redis_client(rep, st, rconnected); });
    if (wait_until([&] { return rconnected.load() == subscribers; }, 30)) {
      tcp::socket pub(server_io);
      boost::system::error_code ec;
      pub.connect(rep, ec);
      auto redis_phase = [&](int n, int interval_us) {
        rsubs.reset();
        CpuMeter cpu(server_threads, rsubs_cpu);
        const auto r0 = SteadyClock::now();
        redis_publish(pub, n, interval_us);
        const std::uint64_t rexpected = static_cast<std::uint64_t>(subscribers) * n;
        wait_until([&] { return rsubs.received() >= rexpected; }, 60);
        const double rsecs = std::chrono::duration<double>(SteadyClock::now() - r0).count();
        auto f = rsubs.summarize(rsecs);
        cpu.stop(f);
        f.server_cpu = 0;  // redis-server's own CPU is not in this process
        return f;
      };
      redis = redis_phase(events, 0);
      redis_paced = redis_phase(events, 1'000'000 / 50);
      redis_fast = redis_phase(2 * fast_rate, 1'000'000 / fast_rate);
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
      "\nEvent router fan-out, %d WebSocket subscribers (%d HTTP workers, %d subscriber threads, "
      "loopback; latency is publish call to the client's read, durable commit included)\n",
      connected.load(), http_workers, client_threads);
  std::printf("%-40s %12s %12s %9s %9s %26s\n", "", "deliveries", "per second", "p50 ms", "p99 ms",
              "CPU ns/delivery: http subs rest");
  const std::string fast_name = "paced " + std::to_string(fast_rate) + " events/s";
  print_row("switchboard, burst (durable publish)", ws);
  print_row("switchboard, paced 50 events/s", paced);
  print_row(("switchboard, " + fast_name).c_str(), fast);
  if (have_redis) {
    print_row("redis-server PUBLISH, burst (in memory)", redis);
    print_row("redis-server PUBLISH, paced 50 events/s", redis_paced);
    print_row(("redis-server PUBLISH, " + fast_name).c_str(), redis_fast);
  }
  std::printf("durable commit p50/p99: %.2f / %.2f ms at 50 events/s, %.2f / %.2f ms at %d/s\n",
              percentile_ms(slow_commits.commit_ns, 50), percentile_ms(slow_commits.commit_ns, 99),
              percentile_ms(fast_commits.commit_ns, 50), percentile_ms(fast_commits.commit_ns, 99),
              fast_rate);
  std::printf("\nDurable webhooks: %d events, batches of 50, one receiver\n", webhook_events);
  std::printf("%-34s %14zu %12.0f   (accepted in %.2f s, all delivered in %.2f s)\n",
              "switchboard webhook deliveries", got, static_cast<double>(got) / wsecs, accept_secs,
              wsecs);

  server.begin_shutdown();
  server_guards.clear();
  for (auto& io : server_ios) io->stop();
  for (auto& t : server_threads) t.join();
  router->stop();
  store.close();
  return 0;
}
