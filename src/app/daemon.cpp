#include "app/daemon.hpp"

#include <sys/stat.h>

#include <boost/asio.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <optional>
#include <thread>

#include "api/api.hpp"
#include "app/bootstrap.hpp"
#include "app/call_workers.hpp"
#include "app/event_router.hpp"
#include "app/sip_service.hpp"
#include "console/console.hpp"
#include "core/log.hpp"
#include "events/service.hpp"
#include "http/outbound_policy.hpp"
#include "http/server.hpp"
#include "media/media_worker.hpp"
#include "store/cached_store.hpp"
#include "store/sqlite_store.hpp"
#include "voice/call_registry.hpp"
#include "voice/conference.hpp"

namespace sb::app {

namespace asio = boost::asio;

namespace {

// Writes the main account's credentials and the API base next to the data, readable by the
// owner only, so that a developer can find them after the one-time print scrolled away and load
// them with `. var/main-account.env` (the README's $SID, $TOKEN and $API; the names the Twilio
// helper libraries read; the daemon's own). Rewritten at each start: the address may change.
void save_credentials(const std::filesystem::path& dir, const store::Account& account,
                      const std::string& base_url) {
  const auto path = dir / "main-account.env";
  const auto tmp = dir / "main-account.env.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    ::chmod(tmp.c_str(), 0600);
    out << "# Switchboard's main account. Load into a shell with: . " << path.string() << "\n"
        << "export SID=" << account.sid << "\n"
        << "export TOKEN=" << account.auth_token << "\n"
        << "export API=" << base_url << "/2010-04-01/Accounts/" << account.sid << "\n"
        << "export TWILIO_ACCOUNT_SID=" << account.sid << "\n"
        << "export TWILIO_AUTH_TOKEN=" << account.auth_token << "\n"
        << "export SWITCHBOARD_ACCOUNT_SID=" << account.sid << "\n"
        << "export SWITCHBOARD_AUTH_TOKEN=" << account.auth_token << "\n";
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) spdlog::warn("could not write {}: {}", path.string(), ec.message());
}

// The call router's events go to the event router's system publisher.
class EventServiceSink final : public voice::CallEventSink, public messaging::MessageEventSink {
 public:
  explicit EventServiceSink(events::EventService* service) : service_(service) {}
  void publish(std::string account_sid, std::string channel, std::string type,
               boost::json::value data) override {
    if (service_) {
      service_->publish_system(std::move(account_sid), std::move(channel), std::move(type),
                               std::move(data));
    }
  }

 private:
  events::EventService* service_;
};

// Where peers send RTP: the configured address, else the SIP listen host (a wildcard or
// "localhost" listen means loopback).
std::string rtp_address(const Config& config) {
  if (!config.rtp_address.empty()) return config.rtp_address;
  auto sip = parse_listen_address(config.sip_listen);
  const std::string host = sip ? sip->host : "127.0.0.1";
  return host == "0.0.0.0" || host == "localhost" ? "127.0.0.1" : host;
}

}  // namespace

int serve(const Config& config) {
  std::signal(SIGPIPE, SIG_IGN);
  // Before any HTTP client exists: every fetch for a tenant obeys it (docs/security.md).
  http::OutboundPolicy::set_process_default(
      http::OutboundPolicy{.deny_private = config.outbound_deny_private});
  if (config.outbound_deny_private) {
    spdlog::info("outbound requests: loopback and private addresses refused");
  }
  // Catch SIGINT/SIGTERM from the very start: a signal that lands while the daemon is still
  // starting (or just printed its banner) must drain, not kill the process outright.
  asio::io_context control(1);
  asio::signal_set signals(control, SIGINT, SIGTERM, SIGHUP);
  std::error_code fs_error;
  std::filesystem::create_directories(config.data_dir, fs_error);
  if (fs_error) {
    spdlog::critical("cannot create data dir {}: {}", config.data_dir, fs_error.message());
    return 1;
  }
  const auto db_path = std::filesystem::path(config.data_dir) / "switchboard.db";
  auto opened = store::SqliteStore::open(db_path.string());
  if (!opened) {
    spdlog::critical("{}", opened.error().message);
    return 1;
  }
  auto& sqlite = *opened.value();
  // Authentication and call routing read accounts, keys, numbers and applications from memory
  // kept in step with the writer, never from the file on an event loop.
  auto cached = store::CachedStore::open(sqlite);
  if (!cached) {
    spdlog::critical("store cache: {}", cached.error().message);
    return 1;
  }
  auto& store = *cached.value();
  SystemClock clock;
  // An account's own outbound policy (set by the operator at /admin/v1/Accounts/{AC}.json)
  // replaces the daemon's for its fetches; read from the in-memory account cache.
  http::OutboundPolicy::set_account_lookup([&store](std::string_view sid) -> std::optional<bool> {
    auto account = store.find_account(sid);
    if (!account || !*account) return std::nullopt;
    return (*account)->outbound_deny_private;
  });

  if (auto closed = close_interrupted_calls(store, clock); !closed) {
    spdlog::critical("closing interrupted calls: {}", closed.error().message);
    return 1;
  }
  auto main_account = ensure_main_account(store, config, clock);
  if (!main_account) {
    spdlog::critical("main account: {}", main_account.error().message);
    return 1;
  }

  const unsigned n_workers =
      config.workers ? config.workers : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::io_context*> workers;
  for (unsigned i = 0; i < n_workers; ++i) {
    contexts.push_back(std::make_unique<asio::io_context>(1));
    workers.push_back(contexts.back().get());
  }

  metrics::Registry registry;  // what /metrics serves
  http::Metrics metrics(n_workers);
  registry.add([&metrics](metrics::Exposition& out) { metrics.collect(out); });
  api::Api api(store, clock, registry);
  api.set_session_limits(
      {.ttl_s = config.console_session_ttl_s, .max_failures = config.console_max_failed_signins});
  // HTTPS when a certificate is configured; a bad file stops the start with the reason.
  std::optional<http::TlsConfig> tls;
  if (config.http_tls()) {
    tls.emplace(http::TlsFiles{config.http_tls_cert, config.http_tls_key});
    if (auto loaded = tls->load(); !loaded) {
      spdlog::critical("{}", loaded.error().message);
      return 1;
    }
  }
  http::Server server(
      workers, config.http,
      [&api](http::Request& req, http::RequestInfo& info) { return api.handle(req, info); },
      metrics, tls ? &*tls : nullptr);
  auto listen_address = parse_listen_address(config.http_listen);
  auto endpoint = server.listen(*listen_address);
  if (!endpoint) {
    spdlog::critical("{}", endpoint.error().message);
    spdlog::critical(
        "the REST API address is set by --http-listen, SWITCHBOARD_HTTP_LISTEN or [http] listen "
        "(now {}); 127.0.0.1:0 picks a free port (with make run: make run ARGS=\"--http-listen "
        "127.0.0.1:0\")",
        config.http_listen);
    return 1;
  }
  // Absolute URLs (recordings, the demo application, signed stream URLs) use the configured
  // public URL, else the address actually bound (so that --http-listen :0 works too).
  const std::string public_url =
      !config.public_url.empty()
          ? config.effective_public_url()
          : std::string(tls ? "https://" : "http://") +
                (endpoint->address().is_unspecified() ? std::string("127.0.0.1")
                 : endpoint->address().is_v6()        ? "[" + endpoint->address().to_string() + "]"
                                                      : endpoint->address().to_string()) +
                ":" + std::to_string(endpoint->port());
  std::optional<std::string> demo_number;
  if (config.demo) {
    auto demo = ensure_demo_number(store, main_account->account, public_url, clock);
    if (!demo) {
      spdlog::critical("demo number: {}", demo.error().message);
      return 1;
    }
    demo_number = *demo;
  }
  // The event router: its own store (DATA_DIR/events.db), /v1 routes and streams.
  auto event_router = EventRouter::start(config, store, api, public_url);
  if (!event_router) return 1;
  // Live calls, so that Calls/{Sid}.json updates reach them.
  voice::CallRegistry calls;
  api.set_call_registry(&calls);
  api.set_recordings_dir(config.recordings_dir());
  api.set_public_url(public_url);  // media_url of recordings, as RecordingUrl
  api.set_rate_limit(config.api_account_rate, config.api_account_burst);
  // Calls spread over every worker; SIP on worker 0 (UDP and TCP on one port).
  EventServiceSink call_events(&event_router->service());
  std::error_code dir_error;  // made once here, not on a call's event loop at each <Record>
  std::filesystem::create_directories(config.recordings_dir(), dir_error);
  if (dir_error) {
    spdlog::critical("recordings directory {}: {}", config.recordings_dir().string(),
                     dir_error.message());
    return 1;
  }
  // Live conferences (the rooms left open by a crash are closed in the store first).
  store.write(store::CloseInterruptedConferences{clock.now_unix()}, [](Status s) {
    if (!s) spdlog::warn("closing interrupted conferences: {}", s.error().message);
  });
  voice::ConferenceRegistry conferences(store, clock, &call_events);
  api.set_conferences(&conferences);
  voice::QueueRegistry queues(store, clock, &call_events);
  api.set_queues(&queues);
  // Speech engines. PocketSphinx loads its model (about 40 MB) at the first
  // <Gather input="speech">, or now, on its own threads, with [speech] preload = true.
  auto recognizers = speech::Recognizers::create(config.speech);
  if (!recognizers) {
    spdlog::critical("speech: {}", recognizers.error().message);
    return 1;
  }
  if (config.speech_preload) (*recognizers)->warm_up();
  CallWorkers call_workers(workers,
                           VoiceDeps{store, clock, calls, &call_events, public_url, &conferences,
                                     &queues, recognizers->get()},
                           config, rtp_address(config));
  SipService sip(*workers.front(), call_workers);
  auto trunks = std::make_shared<voice::TrunkTable>();
  if (auto loaded = load_trunks(store, config, *trunks); !loaded) {
    spdlog::critical("trunks: {}", loaded.error().message);
    return 1;
  }
  api.set_trunks(trunks.get());
  api.set_sip_realm(config.sip_realm);
  auto sip_bound =
      sip.start(config, registry, trunks, MessagingSetup{store, clock, &call_events, public_url});
  if (!sip_bound) {
    spdlog::critical("sip: {}", sip_bound.error().message);
    spdlog::critical(
        "the SIP address is set by --sip-listen, SWITCHBOARD_SIP_LISTEN or [sip] listen (now {}); "
        "127.0.0.1:0 picks a free port",
        config.sip_listen);
    return 1;
  }
  api.set_dialer(&sip.dialer());
  api.set_sip_bans(&sip);
  api.set_message_dispatcher(&sip.messages());

  // The web console: its figures sampled each second on the control thread, its pages and
  // endpoints under /console.
  console::MetricsHistory history(
      [&calls, &call_workers] {
        console::Totals t;
        t.calls_started = calls.started();
        t.concurrent_calls = calls.size();
        const voice::WebhookFigures& w = call_workers.webhook_figures();
        t.webhook_requests = w.requests.load(std::memory_order_relaxed);
        t.webhook_errors = w.errors.load(std::memory_order_relaxed);
        for (std::size_t i = 0; i < t.latency.size(); ++i) {
          t.latency[i] = w.buckets[i].load(std::memory_order_relaxed);
        }
        return t;
      },
      voice::WebhookFigures::kBucketsMs);
  std::unique_ptr<console::Console> web_console;
  if (config.console_enabled) {
    web_console = std::make_unique<console::Console>(console::ConsoleDeps{
        .store = store,
        .clock = clock,
        .sessions = api.sessions(),
        .calls = &calls,
        .history = &history,
        .events = &event_router->service(),
        .stopping = [&server] { return server.stopping(); },
        .secure_cookie = public_url.rfind("https://", 0) == 0,
    });
    api.set_console_handler([c = web_console.get()](http::Request& req, http::RequestInfo& info) {
      return c->handle(req, info);
    });
  }
  asio::steady_timer history_timer(control);
  std::function<void()> sample_history = [&] {
    history.tick(clock.now_ms());
    history_timer.expires_after(std::chrono::seconds(1));
    history_timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) sample_history();
    });
  };
  sample_history();
  registry.add([&call_workers](metrics::Exposition& out) {
    const voice::WebhookFigures& w = call_workers.webhook_figures();
    out.family("switchboard_webhook_requests_total",
               "Requests to calls' applications (TwiML, fallbacks, actions, status callbacks).",
               metrics::Kind::kCounter);
    out.sample(w.requests.load());
    out.family("switchboard_webhook_errors_total",
               "Of those, the ones that failed (no answer, HTTP 4xx/5xx, a bad document).",
               metrics::Kind::kCounter);
    out.sample(w.errors.load());
    out.family("switchboard_webhook_duration_seconds",
               "How long requests to calls' applications took.", metrics::Kind::kHistogram);
    std::array<double, voice::WebhookFigures::kBucketsMs.size()> bounds{};
    std::array<std::uint64_t, voice::WebhookFigures::kBucketsMs.size()> counts{};
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      bounds[i] = static_cast<double>(voice::WebhookFigures::kBucketsMs[i]) / 1000.0;
      counts[i] = w.buckets[i].load();
      total += counts[i];
    }
    total += w.buckets.back().load();
    out.histogram(bounds, counts, total, static_cast<double>(w.duration_ms_sum.load()) / 1000.0);
  });
  server.start();

  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  std::vector<std::thread> threads;
  for (auto* ctx : workers) {
    guards.push_back(asio::make_work_guard(*ctx));
    threads.emplace_back([ctx, realtime = config.realtime] {
      if (realtime) {
        // The media tick must not wait behind other processes: 5,000 sessions keep p99 send
        // jitter under 1 ms this way on a shared 2-core machine (bench/README.md).
        if (auto s = media::use_realtime_scheduling(); !s) {
          spdlog::warn("realtime scheduling not available: {}", s.error().message);
        }
      }
      ctx->run();
    });
  }

  const std::string bound = endpoint->address().is_v6()
                                ? "[" + endpoint->address().to_string() + "]"
                                : endpoint->address().to_string();
  const std::string base =
      (tls ? "https://" : "http://") + bound + ":" + std::to_string(endpoint->port());
  std::printf("Switchboard %s\n", SB_VERSION);
  std::printf("  listening:    %s\n", base.c_str());
  std::printf("  REST API:     %s/2010-04-01/Accounts/%s.json\n", base.c_str(),
              main_account->account.sid.c_str());
  if (web_console) std::printf("  console:      %s/console/\n", base.c_str());
  std::printf("  health:       %s/healthz\n", base.c_str());
  std::printf("  metrics:      %s/metrics\n", base.c_str());
  std::printf("  sip:          udp+tcp %s:%u\n", sip_bound->address.c_str(),
              static_cast<unsigned>(sip_bound->port));
  if (const auto& tls_sip = sip.tls_endpoint()) {
    std::printf("  sip tls:      %s:%u\n", tls_sip->address.c_str(),
                static_cast<unsigned>(tls_sip->port));
  }
  std::printf("  public URL:   %s\n", public_url.c_str());
  std::printf("  data dir:     %s\n", config.data_dir.c_str());
  std::printf("  account SID:  %s\n", main_account->account.sid.c_str());
  if (main_account->token_from_config) {
    std::printf("  auth token:   from SWITCHBOARD_AUTH_TOKEN\n");
  } else {
    save_credentials(config.data_dir, main_account->account, base);
    if (main_account->created) {
      std::printf("  auth token:   %s  (shown once)\n", main_account->account.auth_token.c_str());
    }
    std::printf("  credentials:  . %s/main-account.env   (sets $SID $TOKEN $API)\n",
                config.data_dir.c_str());
  }
  if (demo_number) {
    std::printf("  demo number:  %s -> %s/demo/voice\n", demo_number->c_str(), public_url.c_str());
    // What a newcomer runs next: a softphone, or sipp with the scenario that presses a key.
    const std::string host = sip_bound->address == "0.0.0.0" || sip_bound->address == "::"
                                 ? std::string("127.0.0.1")
                                 : sip_bound->address;
    const auto port = static_cast<unsigned>(sip_bound->port);
    std::printf("  call it:      sip:%s@%s:%u from a softphone, or\n", demo_number->c_str(),
                host.c_str(), port);
    std::printf("                sipp -sf examples/sipp/keys.xml %s:%u -s %s -m 1 -mi %s\n",
                host.c_str(), port, demo_number->c_str(), host.c_str());
  }
  std::fflush(stdout);

  // The main thread waits for a termination signal (perhaps already pending), then drains.
  int exit_code = 0;
  std::promise<void> sip_stopped;
  auto sip_stopped_future = sip_stopped.get_future();
  std::function<void(const boost::system::error_code&, int)> on_signal;
  on_signal = [&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    if (signo == SIGHUP) {
      // Rereads the certificate and key: new connections get them, open ones keep theirs.
      if (!tls) {
        spdlog::info("SIGHUP: nothing to reload (no http.tls_cert)");
      } else if (auto reloaded = tls->load(); reloaded) {
        spdlog::info("SIGHUP: reloaded TLS certificate {}", tls->files().cert_file);
      } else {
        spdlog::error("SIGHUP: kept the previous certificate: {}", reloaded.error().message);
      }
      signals.async_wait(on_signal);
      return;
    }
    spdlog::info("signal {}: draining {} connection(s)", signo, server.active_connections());
    // Streams first: their writers send close 1001 (going away) while the sockets are still
    // open; the server then cancels what is left.
    event_router->service().close_streams();
    history_timer.cancel();
    auto drain = std::make_shared<asio::steady_timer>(control, std::chrono::milliseconds(100));
    drain->async_wait(
        [drain, &server](const boost::system::error_code&) { server.begin_shutdown(); });
    // Live calls get their BYE; the stack stops once those had a moment to go out.
    asio::post(*workers.front(), [&sip] { sip.hang_up_all(); });
    auto stop_sip =
        std::make_shared<asio::steady_timer>(*workers.front(), std::chrono::milliseconds(200));
    stop_sip->async_wait([stop_sip, &sip, &sip_stopped](const boost::system::error_code&) {
      sip.stop();
      sip_stopped.set_value();
    });
  };
  signals.async_wait(on_signal);
  control.run();

  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(config.shutdown_timeout_ms);
  while (server.active_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (server.active_connections() > 0) {
    spdlog::warn("shutdown: {} connection(s) still busy after {} ms; closing",
                 server.active_connections(), config.shutdown_timeout_ms);
    exit_code = 0;
  }
  sip_stopped_future.wait_for(std::chrono::seconds(2));
  guards.clear();
  for (auto* ctx : workers) ctx->stop();
  for (auto& t : threads) t.join();
  http::OutboundPolicy::set_account_lookup(nullptr);  // it refers to the store closing below
  event_router->stop();  // flushes the outbox state before the store closes
  sqlite.close();
  spdlog::info("stopped; store flushed");
  return exit_code;
}

}  // namespace sb::app
