#include "app/sip_front.hpp"

#include <filesystem>

#include "core/log.hpp"
#include "core/random.hpp"
#include "http/client.hpp"
#include "media/http_media_fetcher.hpp"
#include "media/media_cache.hpp"
#include "media/media_worker.hpp"
#include "media/offload.hpp"
#include "media/port_pool.hpp"
#include "media/tts.hpp"
#include "media/url_audio.hpp"
#include "voice/call_router.hpp"
#include "voice/document_cache.hpp"
#include "voice/notifications.hpp"

namespace sb::app {

// What every call shares, whichever worker it runs on (each of these is thread-safe).
struct SipFront::Shared {
  Shared(const VoiceDeps& deps, const Config& config)
      : notifications(deps.store, deps.events),
        ports(config.rtp_port_min, config.rtp_port_max),
        cache(std::filesystem::path(config.data_dir) / "cache" / "media", deps.clock),
        tts(engines(), cache),
        files({.threads = media::default_blocking_threads(2), .max_queued = 256}) {}

  static std::vector<std::unique_ptr<media::TtsEngine>> engines() {
    std::vector<std::unique_ptr<media::TtsEngine>> out;
    out.push_back(std::make_unique<media::FliteEngine>());
    out.push_back(std::make_unique<media::EspeakEngine>());
    return out;
  }

  voice::StoreNotificationSink notifications;
  media::PortPool ports;
  media::MediaCache cache;
  media::Synthesizer tts;     // its own threads: min(4, cores)
  media::BlockingPool files;  // Play's cache reads and writes and decoding, off the event loops
};

// One worker's share of the calls: its webhook client, media clock and audio loader, and the
// CallWorker that runs the calls handed to it.
struct SipFront::Worker {
  Worker(boost::asio::io_context& io, const VoiceDeps& deps, const Config& config, Shared& shared,
         const std::string& rtp_address)
      : client(io.get_executor()),
        media_clock(io.get_executor(), config.media_latch),
        fetcher(client),
        audio(fetcher, shared.cache, shared.files),
        media{media_clock,     shared.ports,          shared.tts,
              audio,           rtp_address,           config.recordings_dir(),
              deps.public_url, &shared.notifications, &deps.store,
              &deps.clock},
        calls(io,
              voice::SessionServices{
                  voice::WebhookServices{client, shared.notifications, documents, deps.clock},
                  deps.store, &deps.registry, deps.events},
              media) {}

  http::CurlClient client;
  voice::DocumentCache documents;
  media::MediaWorker media_clock;
  media::HttpMediaFetcher fetcher;
  media::UrlAudioLoader audio;
  voice::MediaContext media;
  voice::CallWorker calls;
};

SipFront::SipFront(std::vector<boost::asio::io_context*> workers, VoiceDeps deps)
    : ios_(std::move(workers)), deps_(std::move(deps)), sampler_(*ios_.front()) {}

SipFront::~SipFront() {
  stack_.reset();
  router_.reset();
  workers_.clear();
  shared_.reset();
}

Result<sip::Endpoint> SipFront::start(const Config& config, http::Metrics& metrics) {
  auto address = parse_listen_address(config.sip_listen);
  if (!address) return address.error();
  sip::UaConfig ua;
  if (!config.sip_users.empty()) {
    // Out-of-dialog INVITEs must authenticate (RFC 3261 §22, digest SHA-256; nonces keyed by a
    // secret made at each start).
    ua.auth_realm = config.sip_realm;
    ua.auth_secret = random_hex(32);
    ua.password_lookup =
        [users = config.sip_users](std::string_view user) -> std::optional<std::string> {
      auto it = users.find(std::string(user));
      if (it == users.end()) return std::nullopt;
      return it->second;
    };
  }
  ua.host =
      address->host == "0.0.0.0" || address->host == "localhost" ? "127.0.0.1" : address->host;
  auto allow = voice::AddressAcl::parse(config.sip_allow);
  if (!allow) return allow.error();
  const std::string rtp_address = config.rtp_address.empty() ? ua.host : config.rtp_address;
  shared_ = std::make_unique<Shared>(deps_, config);
  // Made once here, not on a call's event loop at each <Record>.
  std::error_code fs_error;
  std::filesystem::create_directories(config.recordings_dir(), fs_error);
  if (fs_error) return Error{500, 500, "recordings directory: " + fs_error.message()};
  std::vector<voice::CallWorker*> call_workers;
  for (auto* io : ios_) {
    workers_.push_back(std::make_unique<Worker>(*io, deps_, config, *shared_, rtp_address));
    call_workers.push_back(&workers_.back()->calls);
  }
  router_ = std::make_unique<voice::CallRouter>(
      *ios_.front(), std::move(call_workers),
      voice::RouterOptions{config.max_calls, 5, std::move(*allow)});
  const std::string host = address->host == "localhost" ? "127.0.0.1" : address->host;
  // UDP and TCP share one port. With port 0 the free UDP port may be taken for TCP (another
  // process's connection): then try another one.
  Result<sip::Endpoint> udp = Error{500, 500, "SIP: no port"};
  for (int attempt = 0;; ++attempt) {
    stack_ = std::make_unique<sip::SipStack>(*ios_.front(), ua, *router_);
    udp = stack_->listen_udp(host, address->port);
    if (!udp) return udp.error();
    auto tcp = stack_->listen_tcp(host, udp->port);
    if (tcp) break;
    if (address->port != 0 || attempt >= 20) return tcp.error();
    stack_.reset();
  }
  stack_->start();
  router_->bind(stack_->ua());
  for (auto& w : workers_) {
    w->media_clock.start();
    counters_->media.push_back(std::make_unique<Counters::Media>());
  }
  running_ = true;
  sample();
  metrics.add_collector([c = counters_](std::string& out) {
    auto line = [&out](const char* name, const char* help, const char* type, std::uint64_t v) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
             name + " " + std::to_string(v) + "\n";
    };
    line("switchboard_sip_messages_received_total", "SIP messages received.", "counter",
         c->received.load());
    line("switchboard_sip_messages_malformed_total",
         "Malformed SIP requests refused with a 4xx/5xx.", "counter", c->malformed.load());
    line("switchboard_sip_messages_dropped_total",
         "Malformed SIP messages dropped because no response could be formed.", "counter",
         c->dropped.load());
    line("switchboard_sip_unknown_dialog_total", "481 responses for unknown dialogs.", "counter",
         c->unknown_dialog.load());
    line("switchboard_sip_calls_in_total", "Incoming INVITEs.", "counter", c->calls_in.load());
    line("switchboard_sip_udp_datagrams_in_total", "UDP datagrams received.", "counter",
         c->udp_in.load());
    line("switchboard_sip_tcp_messages_in_total", "TCP messages received.", "counter",
         c->tcp_in.load());
    line("switchboard_sip_socket_errors_total", "SIP socket send and receive errors.", "counter",
         c->send_errors.load() + c->receive_errors.load());
    line("switchboard_sip_framing_errors_total", "TCP streams closed for bad framing.", "counter",
         c->framing_errors.load());
    line("switchboard_calls_active", "Calls in progress.", "gauge", c->active_calls.load());
    line("switchboard_calls_routed_total", "Calls that started a session.", "counter",
         c->routed.load());
    line("switchboard_calls_completed_total", "Call sessions that ended.", "counter",
         c->completed.load());
    out +=
        "# HELP switchboard_calls_refused_total INVITEs refused, by reason.\n"
        "# TYPE switchboard_calls_refused_total counter\n";
    auto refused = [&out](const char* reason, std::uint64_t v) {
      out += std::string("switchboard_calls_refused_total{reason=\"") + reason + "\"} " +
             std::to_string(v) + "\n";
    };
    refused("not_found", c->not_found.load());
    refused("forbidden", c->forbidden.load());
    refused("no_application", c->no_application.load());
    refused("bad_sdp", c->bad_sdp.load());
    refused("overloaded", c->overloaded.load());
    auto per_worker = [&out, &c](const char* name, const char* help, const char* type, auto field) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
      for (std::size_t i = 0; i < c->media.size(); ++i) {
        out += std::string(name) + "{worker=\"" + std::to_string(i) + "\"} " +
               std::to_string((c->media[i].get()->*field).load()) + "\n";
      }
    };
    using M = Counters::Media;
    per_worker("switchboard_media_ticks_total", "20 ms media ticks run.", "counter", &M::ticks);
    per_worker("switchboard_media_late_ticks_total",
               "Media ticks that fired more than one interval late (audio timing slipped).",
               "counter", &M::late_ticks);
    per_worker("switchboard_media_tick_max_lateness_microseconds",
               "Largest media tick lateness seen.", "gauge", &M::max_lateness_us);
    per_worker("switchboard_media_streams", "RTP sessions paced by the worker.", "gauge",
               &M::streams);
    out +=
        "# HELP switchboard_rtp_packets_ignored_total RTP and RTCP packets ignored for coming "
        "from a source other than the call's peer (media.latch).\n"
        "# TYPE switchboard_rtp_packets_ignored_total counter\n";
    for (std::size_t i = 0; i < c->media.size(); ++i) {
      for (const auto& [protocol, v] : {std::pair{"rtp", c->media[i]->rtp_ignored.load()},
                                        std::pair{"rtcp", c->media[i]->rtcp_ignored.load()}}) {
        out += "switchboard_rtp_packets_ignored_total{worker=\"" + std::to_string(i) +
               "\",protocol=\"" + protocol + "\"} " + std::to_string(v) + "\n";
      }
    }
  });
  return *udp;
}

void SipFront::sample() {
  if (!running_) return;
  const auto& ua = stack_->ua().stats();
  const auto& tr = stack_->transport_stats();
  counters_->received = ua.received;
  counters_->malformed = ua.malformed;
  counters_->dropped = ua.dropped;
  counters_->unknown_dialog = ua.unknown_dialog;
  counters_->calls_in = ua.calls_in;
  counters_->udp_in = tr.udp_in;
  counters_->tcp_in = tr.tcp_in;
  counters_->send_errors = tr.send_errors;
  counters_->receive_errors = tr.receive_errors;
  counters_->framing_errors = tr.framing_errors;
  const auto& rs = router_->stats();
  counters_->active_calls = router_->active();
  counters_->routed = rs.routed;
  counters_->not_found = rs.not_found;
  counters_->forbidden = rs.forbidden;
  counters_->no_application = rs.no_application;
  counters_->bad_sdp = rs.bad_sdp;
  counters_->overloaded = rs.overloaded;
  counters_->completed = rs.completed;
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    boost::asio::post(*ios_[i], [w = workers_[i].get(), m = counters_->media[i].get()] {
      const auto& st = w->media_clock.stats();
      m->ticks = st.ticks;
      m->late_ticks = st.late_ticks;
      m->max_lateness_us = static_cast<std::uint64_t>(st.max_lateness.count());
      m->streams = w->media_clock.streams();
      m->rtp_ignored = st.rtp_ignored;
      m->rtcp_ignored = st.rtcp_ignored;
    });
  }
  sampler_.expires_after(std::chrono::milliseconds(250));
  sampler_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) sample();
  });
}

void SipFront::hang_up_all() {
  if (running_) router_->hang_up_all();
}

void SipFront::stop() {
  if (!running_) return;
  running_ = false;
  sampler_.cancel();
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    boost::asio::post(*ios_[i], [w = workers_[i].get()] { w->media_clock.stop(); });
  }
  stack_->stop();
}

}  // namespace sb::app
