#include "app/sip_service.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>

#include "core/log.hpp"
#include "core/random.hpp"

namespace sb::app {

// Copies of figures owned by the SIP thread and the workers, refreshed by sample() and read by
// the scraper on any thread.
struct SipService::Figures {
  std::atomic<std::uint64_t> received{0}, malformed{0}, dropped{0}, unknown_dialog{0}, calls_in{0},
      udp_in{0}, tcp_in{0}, socket_errors{0}, framing_errors{0}, active_calls{0}, routed{0},
      not_found{0}, forbidden{0}, no_application{0}, bad_sdp{0}, overloaded{0}, account_limited{0},
      completed{0}, registers{0}, registers_limited{0}, auth_failures{0}, registered{0},
      tls_handshakes{0}, tls_handshake_failures{0};
  // Messaging (SIP MESSAGE): requests in, refused (the flood limit among them), sent, outcomes.
  std::atomic<std::uint64_t> messages_in{0}, messages_limited{0}, messages_received{0},
      messages_refused{0}, message_webhooks{0}, messages_sent{0}, messages_delivered{0},
      messages_failed{0};
  struct Media {
    std::atomic<std::uint64_t> ticks{0}, late_ticks{0}, streams{0}, rtp_ignored{0}, rtcp_ignored{0};
    std::atomic<std::uint64_t> rtp_received{0}, rtp_received_bytes{0}, rtp_sent{0},
        rtp_sent_bytes{0}, rtp_late{0}, rtp_lost{0};
    std::atomic<double> max_lateness_s{0};
  };
  std::vector<std::unique_ptr<Media>> media;
  // The per-source guard: bans imposed, sources banned now, messages dropped from them, new
  // requests refused over their source's rate.
  std::atomic<std::uint64_t> bans_total{0}, banned_now{0}, banned_dropped{0}, source_limited{0};
  mutable std::mutex bans_mu;
  std::vector<api::SourceBan> bans;  // as of the last sample, wall-clock times
  mutable std::mutex registrations_mu;
  std::vector<sip::RegistrationStatus> registrations;  // our own, to trunks

  void collect(metrics::Exposition& out) const;
};

void SipService::Figures::collect(metrics::Exposition& out) const {
  using metrics::Kind;
  auto one = [&out](const char* name, const char* help, Kind kind,
                    const std::atomic<std::uint64_t>& v) {
    out.family(name, help, kind);
    out.sample(v.load());
  };
  one("switchboard_sip_messages_received_total", "SIP messages received.", Kind::kCounter,
      received);
  one("switchboard_sip_messages_malformed_total", "Malformed SIP requests refused with a 4xx/5xx.",
      Kind::kCounter, malformed);
  one("switchboard_sip_messages_dropped_total",
      "Malformed SIP messages dropped because no response could be formed.", Kind::kCounter,
      dropped);
  one("switchboard_sip_unknown_dialog_total", "481 responses for unknown dialogs.", Kind::kCounter,
      unknown_dialog);
  one("switchboard_sip_calls_in_total", "Incoming INVITEs.", Kind::kCounter, calls_in);
  one("switchboard_sip_udp_datagrams_in_total", "UDP datagrams received.", Kind::kCounter, udp_in);
  one("switchboard_sip_tcp_messages_in_total", "TCP messages received.", Kind::kCounter, tcp_in);
  one("switchboard_sip_socket_errors_total", "SIP socket send and receive errors.", Kind::kCounter,
      socket_errors);
  one("switchboard_sip_framing_errors_total", "TCP streams closed for bad framing.", Kind::kCounter,
      framing_errors);
  one("switchboard_sip_tls_handshakes_total",
      "SIP over TLS connections secured (accepted and opened).", Kind::kCounter, tls_handshakes);
  one("switchboard_sip_tls_handshake_failures_total",
      "SIP over TLS handshakes that failed (protocol, cipher, certificate or timeout).",
      Kind::kCounter, tls_handshake_failures);
  one("switchboard_sip_registers_total", "REGISTER requests.", Kind::kCounter, registers);
  one("switchboard_sip_registers_limited_total",
      "REGISTER requests refused with 503 for exceeding their source's budget.", Kind::kCounter,
      registers_limited);
  one("switchboard_sip_auth_failures_total",
      "Requests to SIP domains refused with 403 for wrong credentials.", Kind::kCounter,
      auth_failures);
  one("switchboard_sip_bans_total",
      "Sources banned after repeated failed authentications (sip.ban_after).", Kind::kCounter,
      bans_total);
  one("switchboard_sip_banned_sources", "Sources banned now: their messages are dropped.",
      Kind::kGauge, banned_now);
  one("switchboard_sip_banned_messages_dropped_total", "Messages from banned sources, dropped.",
      Kind::kCounter, banned_dropped);
  one("switchboard_sip_requests_limited_total",
      "New requests refused with 503 for exceeding their source's rate (sip.source_rate).",
      Kind::kCounter, source_limited);
  one("switchboard_sip_registered_users", "Addresses of record with a live registration.",
      Kind::kGauge, registered);
  {
    std::lock_guard lock(registrations_mu);
    if (!registrations.empty()) {
      out.family("switchboard_sip_trunk_registered",
                 "1 while our registration to the trunk stands, else 0.", Kind::kGauge);
      for (const auto& r : registrations) {
        out.sample(std::uint64_t{r.registered ? 1u : 0u}, {{"trunk", r.name}});
      }
      out.family("switchboard_sip_trunk_registrations_total",
                 "Registrations to the trunk the registrar accepted (first and refreshes).",
                 Kind::kCounter);
      for (const auto& r : registrations) out.sample(r.refreshes, {{"trunk", r.name}});
    }
  }
  one("switchboard_sip_message_requests_total", "MESSAGE requests received outside dialogs.",
      Kind::kCounter, messages_in);
  one("switchboard_sip_message_requests_limited_total",
      "MESSAGE requests refused with 503 for exceeding their source's budget.", Kind::kCounter,
      messages_limited);
  out.family("switchboard_messages_total",
             "Messages by outcome: received (stored, 202), "
             "refused (a 4xx/5xx to the MESSAGE), sent (MESSAGE requests we sent), delivered, "
             "failed (failed or undelivered).",
             Kind::kCounter);
  out.sample(messages_received.load(), {{"outcome", "received"}});
  out.sample(messages_refused.load(), {{"outcome", "refused"}});
  out.sample(messages_sent.load(), {{"outcome", "sent"}});
  out.sample(messages_delivered.load(), {{"outcome", "delivered"}});
  out.sample(messages_failed.load(), {{"outcome", "failed"}});
  one("switchboard_message_webhooks_total",
      "Requests made to messaging applications (SmsUrl, "
      "fallback, Redirect, action).",
      Kind::kCounter, message_webhooks);
  one("switchboard_calls_active", "Calls in progress.", Kind::kGauge, active_calls);
  one("switchboard_calls_routed_total", "Calls that started a session.", Kind::kCounter, routed);
  one("switchboard_calls_completed_total", "Call sessions that ended.", Kind::kCounter, completed);
  out.family("switchboard_calls_refused_total", "INVITEs refused, by reason.", Kind::kCounter);
  out.sample(not_found.load(), {{"reason", "not_found"}});
  out.sample(forbidden.load(), {{"reason", "forbidden"}});
  out.sample(no_application.load(), {{"reason", "no_application"}});
  out.sample(bad_sdp.load(), {{"reason", "bad_sdp"}});
  out.sample(overloaded.load(), {{"reason", "overloaded"}});
  out.sample(account_limited.load(), {{"reason", "account_limit"}});

  auto per_worker = [&](const char* name, const char* help, Kind kind, auto read) {
    out.family(name, help, kind);
    for (std::size_t i = 0; i < media.size(); ++i) {
      const std::string worker = std::to_string(i);
      out.sample(read(*media[i]), {{"worker", worker}});
    }
  };
  per_worker("switchboard_media_ticks_total", "20 ms media ticks run.", Kind::kCounter,
             [](const Media& m) { return m.ticks.load(); });
  per_worker("switchboard_media_late_ticks_total",
             "Media ticks that fired more than one interval late (audio timing slipped).",
             Kind::kCounter, [](const Media& m) { return m.late_ticks.load(); });
  per_worker("switchboard_media_tick_max_lateness_seconds", "Largest media tick lateness seen.",
             Kind::kGauge, [](const Media& m) { return m.max_lateness_s.load(); });
  per_worker("switchboard_media_streams", "RTP sessions paced by the worker.", Kind::kGauge,
             [](const Media& m) { return m.streams.load(); });
  out.family("switchboard_rtp_packets_ignored_total",
             "RTP and RTCP packets ignored for coming from a source other than the call's peer "
             "(media.latch).",
             Kind::kCounter);
  for (std::size_t i = 0; i < media.size(); ++i) {
    const std::string worker = std::to_string(i);
    out.sample(media[i]->rtp_ignored.load(), {{"worker", worker}, {"protocol", "rtp"}});
    out.sample(media[i]->rtcp_ignored.load(), {{"worker", worker}, {"protocol", "rtcp"}});
  }
  // Audio that flowed, over every call: what a user checks first when a call was silent.
  auto directional = [&](const char* name, const char* help, auto in, auto sent) {
    out.family(name, help, Kind::kCounter);
    for (std::size_t i = 0; i < media.size(); ++i) {
      const std::string worker = std::to_string(i);
      out.sample(in(*media[i]), {{"worker", worker}, {"direction", "received"}});
      out.sample(sent(*media[i]), {{"worker", worker}, {"direction", "sent"}});
    }
  };
  directional(
      "switchboard_rtp_packets_total", "RTP packets of calls, received and sent.",
      [](const Media& m) { return m.rtp_received.load(); },
      [](const Media& m) { return m.rtp_sent.load(); });
  directional(
      "switchboard_rtp_bytes_total", "RTP bytes (headers included) of calls, received and sent.",
      [](const Media& m) { return m.rtp_received_bytes.load(); },
      [](const Media& m) { return m.rtp_sent_bytes.load(); });
  per_worker("switchboard_rtp_packets_lost_total",
             "RTP packets the peers sent that never arrived (counted as each call's media ends).",
             Kind::kCounter, [](const Media& m) { return m.rtp_lost.load(); });
  per_worker("switchboard_rtp_packets_late_total",
             "RTP packets received out of order (after a packet numbered above them).",
             Kind::kCounter, [](const Media& m) { return m.rtp_late.load(); });
}

SipService::SipService(boost::asio::io_context& sip_io, CallWorkers& calls)
    : sip_io_(sip_io), calls_(calls), figures_(std::make_shared<Figures>()), sampler_(sip_io) {}

SipService::~SipService() {
  stack_.reset();
  router_.reset();
}

Result<sip::Endpoint> SipService::start(const Config& config, metrics::Registry& metrics,
                                        std::shared_ptr<voice::TrunkTable> trunks,
                                        const MessagingSetup& messaging) {
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
  // SIP domains (SIP/Domains.json): their users register and call in, authenticated against
  // their credential lists in the configured realm.
  directory_ = std::make_unique<voice::SipDirectory>(calls_.call_workers().front()->store(),
                                                     config.sip_realm);
  ua.directory = directory_.get();
  ua.domain_realm = config.sip_realm;
  auto digest = parse_digest_algorithms(config.sip_digest);
  if (!digest) return digest.error();
  ua.challenge_algorithms = std::move(*digest);
  ua.message_rate = config.sip_message_rate;
  ua.message_burst = config.sip_message_burst;
  ua.guard = config.sip_guard;
  if (ua.auth_secret == "change-me") ua.auth_secret = random_hex(32);
  ua.host =
      address->host == "0.0.0.0" || address->host == "localhost" ? "127.0.0.1" : address->host;
  auto allow = voice::AddressAcl::parse(config.sip_allow);
  if (!allow) return allow.error();
  voice::RouterOptions options;
  options.max_calls = config.max_calls;
  options.allow = std::move(*allow);
  options.calls_per_second = config.calls_per_second;
  options.max_queued_per_account = config.max_queued_per_account;
  options.max_active_per_account = config.max_active_per_account;
  options.inbound_cps_per_account = config.inbound_cps_per_account;
  const std::shared_ptr<voice::TrunkTable> options_trunks = trunks;
  options.trunks = std::move(trunks);
  options.directory = directory_.get();
  router_ = std::make_unique<voice::CallRouter>(sip_io_, calls_.call_workers(), std::move(options));
  const std::string host = address->host == "localhost" ? "127.0.0.1" : address->host;
  // UDP and TCP share one port. With port 0 the free UDP port may be taken for TCP (another
  // process's connection): then try another one.
  Result<sip::Endpoint> udp = Error::internal("SIP: no port");
  for (int attempt = 0;; ++attempt) {
    stack_ = std::make_unique<sip::SipStack>(sip_io_, ua, *router_);
    udp = stack_->listen_udp(host, address->port);
    if (!udp) return udp.error();
    auto tcp = stack_->listen_tcp(host, udp->port);
    if (tcp) break;
    if (address->port != 0 || attempt >= 20) return tcp.error();
    stack_.reset();
  }
  if (auto s = start_tls(config); !s) return s.error();
  message_client_ = std::make_unique<http::CurlClient>(sip_io_.get_executor());
  message_notifications_ = std::make_unique<voice::StoreNotificationSink>(messaging.store);
  messaging::MessagingOptions message_options;
  message_options.allow = *voice::AddressAcl::parse(config.sip_allow);
  message_options.public_url = messaging.public_url;
  message_options.local_host = ua.host;
  messaging_ = std::make_unique<messaging::MessagingService>(
      sip_io_,
      messaging::MessagingDeps{messaging.store, messaging.clock, *message_client_,
                               *message_notifications_, messaging.events, options_trunks,
                               directory_.get()},
      std::move(message_options));
  stack_->start();
  router_->bind(stack_->ua());
  messaging_->bind(stack_->ua());  // before the worker threads run: no MESSAGE has come yet
  messaging_->resume();
  if (auto s = start_registrations(config); !s) return s.error();
  calls_.start_media();
  for (std::size_t i = 0; i < calls_.size(); ++i) {
    figures_->media.push_back(std::make_unique<Figures::Media>());
  }
  running_ = true;
  sample();
  metrics.add([f = figures_](metrics::Exposition& out) { f->collect(out); });
  return *udp;
}

Status SipService::start_tls(const Config& config) {
  auto client = sip::make_sip_client_tls(config.sip_tls_ca);
  if (!client) return client.error();
  stack_->set_tls_client(std::move(*client));
  if (config.sip_tls_listen.empty()) return Ok{};
  auto where = parse_listen_address(config.sip_tls_listen);
  if (!where) return where.error();
  auto server = sip::make_sip_server_tls({config.sip_tls_cert, config.sip_tls_key});
  if (!server) return server.error();
  const std::string host = where->host == "localhost" ? "127.0.0.1" : where->host;
  auto bound = stack_->listen_tls(host, where->port, std::move(*server));
  if (!bound) return bound.error();
  tls_endpoint_ = *bound;
  return Ok{};
}

Status SipService::start_registrations(const Config& config) {
  for (const auto& t : config.sip_trunks) {
    if (!t.register_to) continue;
    // The registrar's address, once at start (a name is looked up now).
    boost::system::error_code ec;
    std::string address = t.host;
    (void)boost::asio::ip::make_address(address, ec);
    if (ec) {
      boost::asio::ip::udp::resolver resolver(sip_io_);
      auto found = resolver.resolve(t.host, std::to_string(t.port), ec);
      if (ec || found.empty()) {
        return Error::bad_request(0, "sip.trunks '" + t.name + "': cannot resolve " + t.host +
                                         " to register: " + ec.message());
      }
      address = found.begin()->endpoint().address().to_string();
    }
    sip::Registration r;
    r.name = t.name;
    const std::string domain = t.from_domain.empty() ? t.host : t.from_domain;
    r.aor = "sip:" + t.username + "@" + domain;
    r.registrar = "sip:" + domain;
    r.next_hop = sip::Endpoint{address, t.port, t.transport, 0};
    r.next_hop.tls_name = t.host;
    r.next_hop.tls_verify = t.tls_verify;
    r.credentials = sip::Credentials{t.username, t.password};
    r.expires = t.register_expires;
    boost::asio::post(sip_io_, [this, r = std::move(r)]() mutable {
      if (stack_) stack_->ua().add_registration(std::move(r));
    });
  }
  return Ok{};
}

void SipService::sample() {
  if (!running_) return;
  const auto& ua = stack_->ua().stats();
  const auto& tr = stack_->transport_stats();
  Figures& f = *figures_;
  f.received = ua.received;
  f.malformed = ua.malformed;
  f.dropped = ua.dropped;
  f.unknown_dialog = ua.unknown_dialog;
  f.calls_in = ua.calls_in;
  f.registers = ua.registers;
  f.registers_limited = ua.registers_limited;
  f.auth_failures = ua.auth_failures;
  f.registered = stack_->ua().registered_aors();
  {
    const auto& guard = stack_->ua().guard();
    f.bans_total = guard.stats().bans;
    f.banned_dropped = guard.stats().dropped;
    f.source_limited = guard.stats().limited;
    const sip::Millis now = stack_->ua().now();
    auto list = guard.bans(now);
    f.banned_now = list.size();
    const std::int64_t wall = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
    std::vector<api::SourceBan> out;
    out.reserve(list.size());
    for (auto& b : list) {
      out.push_back(api::SourceBan{std::move(b.address), wall - (now - b.since).count(),
                                   wall + (b.until - now).count(), b.failures, b.dropped});
    }
    std::lock_guard lock(f.bans_mu);
    f.bans = std::move(out);
  }
  f.messages_in = ua.messages_in;
  f.messages_limited = ua.messages_limited;
  const auto& ms = messaging_->stats();
  f.messages_received = ms.received;
  f.messages_refused = ms.refused;
  f.message_webhooks = ms.webhooks;
  f.messages_sent = ms.sent;
  f.messages_delivered = ms.delivered;
  f.messages_failed = ms.failed;
  {
    auto regs = stack_->ua().registration_status();
    std::lock_guard lock(f.registrations_mu);
    f.registrations = std::move(regs);
  }
  f.udp_in = tr.udp_in;
  f.tcp_in = tr.tcp_in;
  f.socket_errors = tr.send_errors + tr.receive_errors;
  f.framing_errors = tr.framing_errors;
  f.tls_handshakes = tr.tls_handshakes;
  f.tls_handshake_failures = tr.tls_handshake_failures;
  const auto& rs = router_->stats();
  f.active_calls = router_->active();
  f.routed = rs.routed;
  f.not_found = rs.not_found;
  f.forbidden = rs.forbidden;
  f.no_application = rs.no_application;
  f.bad_sdp = rs.bad_sdp;
  f.overloaded = rs.overloaded;
  f.account_limited = rs.account_limited;
  f.completed = rs.completed;
  for (std::size_t i = 0; i < calls_.size(); ++i) {
    calls_.sample_media(i, [figures = figures_, i](const CallWorkers::MediaFigures& m) {
      Figures::Media& out = *figures->media[i];
      out.ticks = m.ticks;
      out.late_ticks = m.late_ticks;
      out.max_lateness_s = m.max_lateness_s;
      out.streams = m.streams;
      out.rtp_ignored = m.rtp_ignored;
      out.rtcp_ignored = m.rtcp_ignored;
      out.rtp_received = m.rtp_received;
      out.rtp_received_bytes = m.rtp_received_bytes;
      out.rtp_sent = m.rtp_sent;
      out.rtp_sent_bytes = m.rtp_sent_bytes;
      out.rtp_late = m.rtp_late;
      out.rtp_lost = m.rtp_lost;
    });
  }
  sampler_.expires_after(std::chrono::milliseconds(250));
  sampler_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) sample();
  });
}

std::vector<api::SourceBan> SipService::bans() const {
  std::lock_guard lock(figures_->bans_mu);
  return figures_->bans;
}

bool SipService::lift(const std::string& address) {
  {
    std::lock_guard lock(figures_->bans_mu);
    auto& list = figures_->bans;
    const auto it = std::find_if(list.begin(), list.end(),
                                 [&](const api::SourceBan& b) { return b.address == address; });
    if (it == list.end()) return false;
    list.erase(it);
  }
  boost::asio::post(sip_io_, [this, address] {
    if (running_ && stack_->ua().guard().lift(address)) {
      spdlog::info("sip: ban on {} lifted by an operator", address);
    }
  });
  return true;
}

void SipService::hang_up_all() {
  if (running_) router_->hang_up_all();
}

void SipService::stop() {
  if (!running_) return;
  running_ = false;
  sampler_.cancel();
  calls_.stop_media();
  stack_->stop();
}

}  // namespace sb::app
