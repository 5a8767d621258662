// How long the router takes from the last byte of a TwiML response to the first CallControl
// action, and how many documents per second one worker fetches and starts, against a real
// loopback application server over pooled keep-alive connections.
//
//   bench_twiml_dispatch [calls=2000] [concurrency=1]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "support/app_server.hpp"
#include "support/fake_call_control.hpp"
#include "support/fake_notification_sink.hpp"
#include "twiml/interpreter.hpp"
#include "voice/application_source.hpp"

namespace {

using namespace sb;
using Steady = std::chrono::steady_clock;
namespace asio = boost::asio;

std::atomic<std::int64_t> g_last_byte_ns{0};

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now().time_since_epoch())
      .count();
}

asio::awaitable<void> one_call(voice::WebhookServices services, std::string url,
                               std::vector<double>* dispatch_us) {
  voice::CallInfo call;
  call.account_sid = "AC0123456789abcdef0123456789abcdef";
  call.call_sid = "CA0123456789abcdef0123456789abcdef";
  call.from = "+14155550100";
  call.to = "1000";
  voice::VoiceApplication app;
  app.url = url;
  voice::ApplicationSource source(services, call, app, "0123456789abcdef0123456789abcdef");
  // The document is one Say and a Hangup; the first action (answer) is stamped.
  sb::testing::FakeCallControl timing;
  std::int64_t first_action_ns = 0;
  timing.on_action = [&first_action_ns](std::string_view) {
    if (first_action_ns == 0) first_action_ns = now_ns();
  };
  twiml::Interpreter interpreter(timing, source);
  twiml::FetchRequest first;
  first.url = url;
  co_await interpreter.run(first);
  const std::int64_t last_byte = g_last_byte_ns.load();
  if (first_action_ns > last_byte && last_byte > 0) {
    dispatch_us->push_back(static_cast<double>(first_action_ns - last_byte) / 1000.0);
  }
}

asio::awaitable<void> worker(voice::WebhookServices services, std::string url, int calls,
                             std::vector<double>* dispatch_us) {
  for (int i = 0; i < calls; ++i) co_await one_call(services, url, dispatch_us);
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int concurrency = argc > 2 ? std::atoi(argv[2]) : 1;
  sb::testing::AppServer server;
  server.route("/voice", [](const sb::testing::RecordedRequest&) {
    sb::testing::Reply r;
    r.body = "<Response><Say>Hello</Say><Hangup/></Response>";
    return r;
  });
  // The server thread stamps the moment its response has been handed to the kernel.
  server.after_write([] { g_last_byte_ns.store(now_ns()); });

  asio::io_context io(1);
  http::CurlClient client(io.get_executor());
  sb::testing::FakeNotificationSink sink;
  voice::DocumentCache cache;
  SystemClock clock;
  voice::WebhookServices services{client, sink, cache, clock};
  std::vector<double> dispatch_us;
  dispatch_us.reserve(static_cast<std::size_t>(calls));
  const auto started = Steady::now();
  for (int w = 0; w < concurrency; ++w) {
    asio::co_spawn(io, worker(services, server.url("/voice"), calls / concurrency, &dispatch_us),
                   asio::detached);
  }
  io.run();
  const double seconds = std::chrono::duration<double>(Steady::now() - started).count();
  const int done = (calls / concurrency) * concurrency;
  std::printf("| measure | value |\n|---|---|\n");
  std::printf("| calls (document fetched, parsed, first action run) | %d |\n", done);
  std::printf("| concurrency | %d |\n", concurrency);
  std::printf("| documents per second (one worker) | %.0f |\n", done / seconds);
  if (concurrency == 1) {
    std::printf("| last response byte -> first CallControl action, p50 | %.1f us |\n",
                percentile(dispatch_us, 0.50));
    std::printf("| last response byte -> first CallControl action, p99 | %.1f us |\n",
                percentile(dispatch_us, 0.99));
  }
  return 0;
}
