#include "sip/user_agent.hpp"

#include <algorithm>

#include "core/log.hpp"
#include "sip/request_check.hpp"
#include "sip/syntax.hpp"

namespace sb::sip {

std::string_view to_string(EndReason r) {
  switch (r) {
    case EndReason::kLocalHangup:
      return "local-hangup";
    case EndReason::kRemoteHangup:
      return "remote-hangup";
    case EndReason::kCancelled:
      return "cancelled";
    case EndReason::kNoAck:
      return "no-ack";
    case EndReason::kTimeout:
      return "timeout";
    case EndReason::kNoAnswer:
      return "no-answer-in-ack";
  }
  return "?";
}

struct UserAgent::Call {
  enum class State { kIncoming, kEarly, kAnswering, kConfirmed, kCalling, kEnded };
  CallHandle handle = 0;
  bool outbound = false;
  State state = State::kIncoming;
  bool zombie = false;  // the router was told it ended; protocol work still pending
  std::string call_id, local_tag, remote_tag;
  std::string local_party, remote_party;  // From/To header values, with tags
  std::string remote_target;
  std::vector<std::string> route_set;
  std::uint32_t local_cseq = 0;
  std::uint32_t remote_cseq = 0;
  Endpoint peer;
  bool secure = false;             // set up with a sips: Request-URI: our Contact is sips: too
  std::vector<std::uint64_t> txs;  // transactions whose events concern this call
  // UAS
  std::uint64_t invite_tx = 0;
  // UAS: the INVITE received, until answered or refused; UAC: the INVITE last sent, until its
  // final response (CANCEL is built from it). Released afterwards to keep idle calls small.
  std::optional<Message> invite;
  std::uint32_t invite_cseq = 0;
  // Our 2xx to the initial INVITE carries the offer (the INVITE had none): the answer is due in
  // the ACK (RFC 3261 §13.2.1).
  bool offer_in_2xx = false;
  // Likewise for the peer's offerless re-INVITE with this CSeq (§14.2), answered by `reoffer_tx`.
  bool reoffer_pending = false;
  std::uint32_t reoffer_cseq = 0;
  std::uint64_t reoffer_tx = 0;
  std::string session_timer_headers;
  // RFC 4028 with the caller as refresher: without a refresh by `session_deadline` we send BYE.
  Millis session_interval{0};
  Millis session_deadline{0};
  // UAC
  OutboundCall spec;
  bool got_provisional = false;
  bool cancel_pending = false;
  int auth_attempts = 0;
  std::string last_ack;
  std::uint32_t last_ack_cseq = 0;
  // re-INVITE in progress (ours)
  std::uint64_t reinvite_tx = 0;
  std::uint32_t reinvite_cseq = 0;
  bool awaiting_reinvite_ack = false;  // theirs: we sent 2xx
};

struct UserAgent::OutgoingMessage {
  std::uint64_t handle = 0;
  OutboundMessage spec;
  std::string from_tag;
  std::uint32_t cseq = 0;
  std::uint64_t tx = 0;
  int auth_attempts = 0;
};

struct UserAgent::OwnRegistration {
  Registration spec;
  RegistrationStatus status;
  std::string call_id, from_tag;
  std::uint32_t cseq = 0;
  std::uint64_t tx = 0;  // the REGISTER in flight
  Millis next{0};        // when to send the next one
  Millis backoff{30000};
  int auth_attempts = 0;  // challenges answered since the last success
};

namespace {

bool starts_with_scheme(std::string_view uri, std::string_view scheme) {
  return uri.size() >= scheme.size() && iequals(uri.substr(0, scheme.size()), scheme);
}

std::string uri_of(std::string_view value) {
  auto na = parse_name_addr(value);
  return na ? std::string(na->uri.raw) : std::string();
}

// The Authorization (401) or Proxy-Authorization (407) line answering `response`'s challenge
// (SHA-256 when offered, else the first we can answer) for `method` to `uri`; "" when it
// carries none we can answer.
std::string answer_challenge(const Message& response, const Credentials& credentials,
                             std::string_view method, std::string_view uri) {
  const bool www = response.status() == 401;
  const Hdr h = www ? Hdr::kWwwAuthenticate : Hdr::kProxyAuthenticate;
  std::optional<DigestChallenge> best;
  for (std::size_t i = 0; i < response.header_count(); ++i) {
    if (response.header_at(i).id != h) continue;
    auto ch = parse_challenge(response.header_at(i).value);
    if (ch && (!best || ch->algorithm == DigestAlgorithm::kSha256)) best = *ch;
  }
  if (!best) return "";
  return std::string(www ? "Authorization: " : "Proxy-Authorization: ") +
         make_authorization(*best, credentials.username, credentials.password, method, uri,
                            random_hex(8)) +
         "\r\n";
}

Error state_error(std::string m) {
  return Error::bad_request(codes::kInvalidParameter, std::move(m));
}

// "192.0.2.7": digits and dots only (no domain name looks like that).
bool is_ipv4_literal(std::string_view host) {
  return host.find_first_not_of("0123456789.") == std::string_view::npos;
}

int status_of(std::string_view response) {
  // "SIP/2.0 NNN ..."
  if (response.size() < 11) return 500;
  auto v = parse_uint(response.substr(8, 3), 999);
  return v ? static_cast<int>(*v) : 500;
}

}  // namespace

std::optional<std::pair<char, int>> parse_dtmf_relay(std::string_view body) {
  std::optional<char> digit;
  int duration = 250;
  std::size_t pos = 0;
  while (pos < body.size()) {
    auto eol = body.find('\n', pos);
    if (eol == std::string_view::npos) eol = body.size();
    std::string_view line = trim(body.substr(pos, eol - pos));
    pos = eol + 1;
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view k = trim(line.substr(0, eq));
    const std::string_view v = trim(line.substr(eq + 1));
    if (iequals(k, "Signal") && v.size() == 1) {
      const char c = v[0];
      if (is_digit(c) || c == '*' || c == '#' || (c >= 'A' && c <= 'D') || (c >= 'a' && c <= 'd')) {
        digit = static_cast<char>(c >= 'a' && c <= 'd' ? c - 'a' + 'A' : c);
      }
    } else if (iequals(k, "Duration")) {
      if (auto d = parse_uint(v, 100000)) duration = static_cast<int>(*d);
    }
  }
  if (!digit) return std::nullopt;
  return std::make_pair(*digit, duration);
}

UserAgent::UserAgent(UaConfig config, Sender& sender, CallEvents& events)
    : config_(std::move(config)),
      sender_(sender),
      events_(events),
      layer_(sender, *this, config_.timers),
      location_(config_.registrar),
      register_budget_(config_.register_rate, config_.register_burst),
      message_budget_(config_.message_rate, config_.message_burst),
      guard_(config_.guard) {
  if (config_.auth_realm) {
    DigestVerifier::SecretLookup lookup;
    if (config_.password_lookup) {
      lookup = [realm = *config_.auth_realm, passwords = config_.password_lookup](
                   std::string_view user) -> std::optional<DigestSecret> {
        auto password = passwords(user);
        if (!password) return std::nullopt;
        return DigestSecret::from_password(user, realm, *password);
      };
    }
    verifier_.emplace(*config_.auth_realm, config_.auth_secret, std::move(lookup));
  }
  if (config_.directory) domain_verifier_.emplace(config_.domain_realm, config_.auth_secret);
}

UserAgent::~UserAgent() = default;

std::string UserAgent::new_tag() const { return random_hex(6); }
std::string UserAgent::new_branch() const { return "z9hG4bK" + random_hex(8); }

std::uint16_t UserAgent::port_of(Transport t) const {
  switch (t) {
    case Transport::kTcp:
      return config_.tcp_port;
    case Transport::kTls:
      return config_.tls_port;
    case Transport::kUdp:
      break;
  }
  return config_.udp_port;
}

std::string UserAgent::sent_by(Transport t) const {
  // TLS out without a TLS listener (no sip.tls_listen): no port of ours to name.
  const auto port = port_of(t);
  return port == 0 ? config_.host : config_.host + ":" + std::to_string(port);
}

std::string UserAgent::via(Transport t, std::string_view branch) const {
  return "SIP/2.0/" + std::string(to_string(t)) + " " + sent_by(t) +
         ";branch=" + std::string(branch) + ";rport";
}

std::string UserAgent::contact(Transport t, bool secure) const {
  const std::string where = sent_by(t);
  switch (t) {
    case Transport::kTcp:
      return "<sip:sb@" + where + ";transport=tcp>";
    case Transport::kTls:
      // A dialog set up with a sips: URI keeps sips: in its Contact (RFC 3261 §8.1.1.8, §12.1.1).
      return secure ? "<sips:sb@" + where + ">" : "<sip:sb@" + where + ";transport=tls>";
    case Transport::kUdp:
      break;
  }
  return "<sip:sb@" + where + ">";
}

UserAgent::Call* UserAgent::find(CallHandle h) {
  auto it = calls_.find(h);
  return it == calls_.end() ? nullptr : it->second.get();
}

UserAgent::Call* UserAgent::find_dialog(std::string_view call_id, std::string_view local_tag) {
  std::string key(call_id);
  key.append("|").append(local_tag);
  auto it = dialogs_.find(key);
  return it == dialogs_.end() ? nullptr : find(it->second);
}

void UserAgent::arm_session_timer(Call& c) {
  if (c.session_interval.count() <= 0) return;
  // RFC 4028 §10: the side that is not the refresher sends BYE before the session expires,
  // 32 s or a third of the interval ahead, whichever is less.
  const Millis margin = std::min(Millis(32000), c.session_interval / 3);
  c.session_deadline = now_ + c.session_interval - margin;
}

void UserAgent::on_tick(Millis now) {
  now_ = now;
  layer_.on_tick(now);
  for (auto& r : own_registrations_) {
    if (r->tx == 0 && now >= r->next) send_register(*r, {});
  }
  if (now - last_registrar_sweep_ >= Millis(30000)) {
    last_registrar_sweep_ = now;
    location_.expire(now);
  }
  if (now - last_session_scan_ < Millis(1000)) return;
  last_session_scan_ = now;
  std::vector<CallHandle> expired;
  for (const auto& [h, c] : calls_) {
    if (c->state == Call::State::kConfirmed && !c->zombie && c->session_deadline.count() > 0 &&
        now >= c->session_deadline) {
      expired.push_back(h);
    }
  }
  for (CallHandle h : expired) {
    if (Call* c = find(h)) {
      send_in_dialog(*c, "BYE");
      end(*c, EndReason::kTimeout);
    }
  }
}

void UserAgent::on_message(std::string_view bytes, const Endpoint& source, Millis now) {
  now_ = now;
  ++stats_.received;
  // A banned source is not read at all (not even answered: a scanner learns nothing more).
  if (guard_.banned(source.address, now)) return;
  ParseError e;
  auto m = Message::parse(bytes, &e, config_.limits);
  if (!m) {
    if (auto r = make_error_response(bytes, e)) {
      ++stats_.malformed;
      sender_.send(source, *r);
    } else {
      ++stats_.dropped;
    }
    return;
  }
  if (m->is_request()) {
    // RFC 3581 / §18.2.1: record where the request really came from in the top Via.
    const Via& v = m->top_via();
    const bool want_rport = v.param("rport").has_value();
    if (v.host != source.address || want_rport) {
      std::string_view first_field;
      for (std::size_t i = 0; i < m->header_count(); ++i) {
        if (m->header_at(i).id == Hdr::kVia) {
          first_field = m->header_at(i).value;
          break;
        }
      }
      ValueList list(first_field);
      const auto top = list.next();
      if (top) {
        std::string nv = "SIP/2.0/" + std::string(v.transport) + " " + std::string(v.host);
        if (v.port) nv += ":" + std::to_string(v.port);
        ParamList params(v.params);
        while (auto p = params.next()) {
          if (iequals(p->name, "received") || iequals(p->name, "rport")) continue;
          nv.append(";").append(p->name);
          if (p->has_value) nv.append("=").append(p->value);
        }
        nv += ";received=" + source.address;
        if (want_rport) nv += ";rport=" + std::to_string(source.port);
        const std::string_view raw = m->raw();
        const std::size_t off = static_cast<std::size_t>(top->data() - raw.data());
        std::string rewritten;
        rewritten.reserve(raw.size() + 40);
        rewritten.append(raw.substr(0, off)).append(nv).append(raw.substr(off + top->size()));
        if (auto m2 = Message::parse(rewritten, &e, config_.limits)) m = std::move(m2);
      }
    }
  }
  layer_.on_message(*m, source, now);
}

void UserAgent::respond(std::uint64_t tx, const Message& rq, int status, std::string_view reason,
                        std::string_view to_tag, std::string_view extra, std::string_view body) {
  std::string ex(extra);
  ex += "User-Agent: " + config_.user_agent + "\r\n";
  layer_.respond(tx, status,
                 make_response(rq, status, reason, to_tag, ex,
                               body.empty() ? std::string_view{} : "application/sdp", body),
                 now_);
}

void UserAgent::on_request(std::uint64_t tx, const Message& rq, const Endpoint& source) {
  if (tx == 0) {
    handle_ack(rq);
    return;
  }
  if (rq.method() == "CANCEL") {
    handle_cancel(tx, rq);
    return;
  }
  const std::string_view to_tag = rq.to().tag();
  if (!to_tag.empty()) {
    if (Call* c = find_dialog(rq.call_id(), to_tag); c && !c->zombie) {
      handle_in_dialog(*c, tx, rq);
    } else {
      ++stats_.unknown_dialog;
      respond(tx, rq, 481);
    }
    return;
  }
  handle_new_request(tx, rq, source);
}

void UserAgent::handle_new_request(std::uint64_t tx, const Message& rq, const Endpoint& source) {
  const std::string tag = new_tag();
  if (!guard_.admit(source.address, now_)) {
    respond(tx, rq, 503, "Too many requests from this address", tag, "Retry-After: 5\r\n");
    return;
  }
  if (auto refusal = check_request(rq, tag)) {
    layer_.respond(tx, status_of(*refusal), *refusal, now_);
    return;
  }
  if (rq.method() == "OPTIONS") {
    respond(tx, rq, 200, {}, tag,
            "Allow: " + std::string(kAllowedMethods) +
                "\r\nAccept: application/sdp\r\nSupported: " + std::string(kSupportedExtensions) +
                "\r\n");
    return;
  }
  if (rq.method() == "REGISTER") {
    handle_register(tx, rq, source, tag);
    return;
  }
  if (rq.method() == "MESSAGE") {
    handle_message(tx, rq, source, tag);
    return;
  }
  if (rq.method() != "INVITE") {
    ++stats_.unknown_dialog;
    respond(tx, rq, 481);
    return;
  }
  std::optional<DomainRef> domain;
  std::string auth_user;
  if (!authorize_caller(tx, rq, source, tag, domain, auth_user)) return;
  std::string session_timer;
  Millis session_interval{0};
  if (auto se = rq.header(Hdr::kSessionExpires)) {
    auto secs = parse_uint(trim(se->substr(0, se->find(';'))), std::uint64_t{86400} * 7);
    if (!secs) {
      respond(tx, rq, 400, "Malformed Session-Expires", tag);
      return;
    }
    if (*secs < static_cast<std::uint64_t>(config_.min_se)) {
      respond(tx, rq, 422, {}, tag, "Min-SE: " + std::to_string(config_.min_se) + "\r\n");
      return;
    }
    bool uac_supports = false;
    rq.for_each_value(Hdr::kSupported, [&](std::string_view v) {
      if (iequals(v, "timer")) uac_supports = true;
    });
    session_timer = "Session-Expires: " + std::to_string(*secs) + ";refresher=uac\r\n";
    session_interval = Millis(static_cast<std::int64_t>(*secs) * 1000);
    if (uac_supports) session_timer += "Require: timer\r\n";
  }
  auto c = std::make_unique<Call>();
  c->handle = next_call_++;
  c->state = Call::State::kIncoming;
  c->call_id = std::string(rq.call_id());
  c->local_tag = tag;
  c->remote_tag = std::string(rq.from().tag());
  c->local_party = std::string(*rq.header(Hdr::kTo)) + ";tag=" + tag;
  c->remote_party = std::string(*rq.header(Hdr::kFrom));
  if (auto ct = rq.header(Hdr::kContact)) c->remote_target = uri_of(*ct);
  if (c->remote_target.empty()) c->remote_target = std::string(rq.from().uri.raw);
  rq.for_each_value(Hdr::kRecordRoute, [&](std::string_view v) { c->route_set.emplace_back(v); });
  c->remote_cseq = rq.cseq().number;
  c->peer = source;
  c->secure = starts_with_scheme(rq.request_uri(), "sips:");
  c->invite_tx = tx;
  c->invite = rq;
  c->invite_cseq = rq.cseq().number;
  c->session_timer_headers = std::move(session_timer);
  c->session_interval = session_interval;
  c->txs.push_back(tx);
  tx_calls_[tx] = c->handle;
  dialogs_[c->call_id + "|" + tag] = c->handle;
  ++stats_.calls_in;

  IncomingCall in;
  in.call = c->handle;
  in.call_id = c->call_id;
  in.request_uri = std::string(rq.request_uri());
  in.from_uri = std::string(rq.from().uri.raw);
  in.from_display = rq.from().quoted ? unquote("\"" + std::string(rq.from().display_name) + "\"")
                                     : std::string(rq.from().display_name);
  in.from_user = unescape(rq.from().uri.user);
  in.from_tag = c->remote_tag;
  in.to_uri = std::string(rq.to().uri.raw);
  in.to_user = unescape(rq.uri().sip ? rq.uri().user : rq.to().uri.user);
  for (std::size_t i = 0; i < rq.header_count(); ++i) {
    in.headers.emplace_back(rq.header_at(i).name, rq.header_at(i).value);
  }
  in.sdp_offer = std::string(rq.body());
  in.source = source;
  in.domain = std::move(domain);
  in.auth_user = std::move(auth_user);
  const CallHandle h = c->handle;
  calls_[h] = std::move(c);
  events_.on_incoming(in);
}

bool UserAgent::authorize_caller(std::uint64_t tx, const Message& rq, const Endpoint& source,
                                 const std::string& tag, std::optional<DomainRef>& domain,
                                 std::string& user) {
  // A request to a SIP domain authenticates as one of its users; others as the configured
  // callers (when there are any).
  domain = domain_of(rq);
  if (domain) return authenticate(tx, rq, source, tag, *domain, Directory::Purpose::kCall, user);
  if (!verifier_) return true;
  const auto outcome = verifier_->verify(rq, now_.count() / 1000);
  if (outcome == DigestVerifier::Outcome::kOk) return true;
  if (outcome == DigestVerifier::Outcome::kBad) note_auth_failure(source);
  send_challenge(tx, rq, tag, *verifier_, outcome == DigestVerifier::Outcome::kStale);
  return false;
}

void UserAgent::send_challenge(std::uint64_t tx, const Message& rq, const std::string& tag,
                               const DigestVerifier& verifier, bool stale) {
  const std::int64_t secs = now_.count() / 1000;
  // RFC 8760 §2.4: one challenge per algorithm, most preferred first (SHA-256, then MD5 for
  // the many phones, and sipp, that know no other).
  std::string ch;
  for (DigestAlgorithm alg : config_.challenge_algorithms) {
    ch += "WWW-Authenticate: " + verifier.challenge(secs, alg, stale) + "\r\n";
  }
  respond(tx, rq, 401, {}, tag, ch);
}

std::optional<DomainRef> UserAgent::domain_of(const Message& rq) {
  if (!config_.directory || !rq.uri().sip) return std::nullopt;
  const std::string host = to_lower(rq.uri().host);
  // Domains are names: an address (ours, or a trunk's) is never one, and costs no lookup.
  if (host.empty() || host.front() == '[' || is_ipv4_literal(host)) return std::nullopt;
  return config_.directory->domain(host);
}

bool UserAgent::authenticate(std::uint64_t tx, const Message& rq, const Endpoint& source,
                             const std::string& tag, const DomainRef& domain,
                             Directory::Purpose purpose, std::string& user) {
  const std::int64_t secs = now_.count() / 1000;
  auto lookup = [&](std::string_view name) {
    return config_.directory->user(domain, purpose, name);
  };
  const auto outcome = domain_verifier_->verify(rq, secs, lookup, &user);
  switch (outcome) {
    case DigestVerifier::Outcome::kOk:
      return true;
    case DigestVerifier::Outcome::kMissing:
    case DigestVerifier::Outcome::kStale:
      send_challenge(tx, rq, tag, *domain_verifier_, outcome == DigestVerifier::Outcome::kStale);
      return false;
    case DigestVerifier::Outcome::kBad:
      break;
  }
  // Wrong credentials (RFC 3261 §22.4: no second challenge): 403, the same for a user that
  // does not exist; the source is banned after repeated failures (SourceGuard).
  note_auth_failure(source);
  respond(tx, rq, 403, "Wrong credentials", tag);
  return false;
}

void UserAgent::note_auth_failure(const Endpoint& source) {
  ++stats_.auth_failures;
  if (guard_.failure(source.address, now_)) {
    const auto& limits = guard_.limits();
    spdlog::warn("sip: banned {} for {} s after {} failed authentications within {} s",
                 source.address, limits.ban_time.count() / 1000, limits.ban_after,
                 limits.ban_window.count() / 1000);
  }
}

void UserAgent::handle_register(std::uint64_t tx, const Message& rq, const Endpoint& source,
                                const std::string& tag) {
  ++stats_.registers;
  if (!register_budget_.take(source.address, now_)) {
    ++stats_.registers_limited;
    respond(tx, rq, 503, "Too many registrations from this address", tag, "Retry-After: 30\r\n");
    return;
  }
  if (!rq.to().uri.sip) {
    respond(tx, rq, 400, "To is not a SIP address of record", tag);  // RFC 4475 §3.3.4
    return;
  }
  auto domain = domain_of(rq);
  if (!domain) {
    respond(tx, rq, 404, "Domain not found", tag);
    return;
  }
  if (!domain->registration) {
    respond(tx, rq, 403, "Registration is not enabled for this domain", tag);
    return;
  }
  std::string user;
  if (!authenticate(tx, rq, source, tag, *domain, Directory::Purpose::kRegister, user)) return;
  // One may register only oneself (§10.3 step 6).
  if (!rq.to().uri.sip || unescape(rq.to().uri.user) != user ||
      to_lower(rq.to().uri.host) != domain->name) {
    note_auth_failure(source);
    respond(tx, rq, 403, "The To user is not the authenticated user", tag);
    return;
  }
  const auto outcome = location_.apply(user + "@" + domain->name, rq, source, now_);
  respond(tx, rq, outcome.status, outcome.reason, tag, outcome.headers);
}

void UserAgent::handle_in_dialog(Call& c, std::uint64_t tx, const Message& rq) {
  const std::string_view m = rq.method();
  if (rq.cseq().number < c.remote_cseq || (rq.cseq().number == c.remote_cseq && m != "ACK" &&
                                           c.remote_cseq != 0 && !c.outbound && m == "INVITE")) {
    respond(tx, rq, 500, "CSeq out of order");
    return;
  }
  c.remote_cseq = rq.cseq().number;
  if (m == "BYE") {
    respond(tx, rq, 200);
    end(c, EndReason::kRemoteHangup);
    return;
  }
  if (m == "INVITE" || m == "UPDATE") {
    if (m == "INVITE" && (c.reinvite_tx != 0 || c.state != Call::State::kConfirmed)) {
      respond(tx, rq, 491);
      return;
    }
    if (auto ct = rq.header(Hdr::kContact)) {
      auto target = uri_of(*ct);
      if (!target.empty()) c.remote_target = target;
    }
    std::string sdp;
    const bool offerless_invite = m == "INVITE" && rq.body().empty();
    if (!rq.body().empty()) {
      auto a = events_.on_reoffer(c.handle, rq.body());
      if (!a) {
        respond(tx, rq, 488);
        return;
      }
      sdp = std::move(*a);
    } else if (offerless_invite) {
      // §14.2: the 200 carries our offer; the answer comes with the ACK.
      auto offer = events_.on_offer_request(c.handle);
      if (!offer || offer->empty()) {
        respond(tx, rq, 488);
        return;
      }
      sdp = std::move(*offer);
    }
    std::string extra =
        "Contact: " + contact(c.peer.transport, c.secure) + "\r\n" + c.session_timer_headers;
    respond(tx, rq, 200, {}, {}, extra, sdp);
    if (m == "INVITE") c.awaiting_reinvite_ack = true;
    if (offerless_invite) {
      c.reoffer_pending = true;
      c.reoffer_cseq = rq.cseq().number;
      c.reoffer_tx = tx;  // no ACK at all: on_timeout ends the call
      c.txs.push_back(tx);
      tx_calls_[tx] = c.handle;
    }
    arm_session_timer(c);  // a re-INVITE or UPDATE refreshes the session
    return;
  }
  if (m == "INFO") {
    const auto type = rq.header(Hdr::kContentType).value_or("");
    if (iequals(trim(type.substr(0, type.find(';'))), "application/dtmf-relay")) {
      auto d = parse_dtmf_relay(rq.body());
      if (!d) {
        respond(tx, rq, 400, "Malformed dtmf-relay body");
        return;
      }
      respond(tx, rq, 200);
      events_.on_dtmf(c.handle, d->first, d->second);
      return;
    }
    respond(tx, rq, rq.body().empty() ? 200 : 415);
    return;
  }
  if (m == "OPTIONS") {
    respond(tx, rq, 200, {}, {}, "Allow: " + std::string(kAllowedMethods) + "\r\n");
    return;
  }
  if (auto refusal = check_request(rq, {})) {
    layer_.respond(tx, status_of(*refusal), *refusal, now_);
    return;
  }
  respond(tx, rq, 501);
}

void UserAgent::handle_cancel(std::uint64_t tx, const Message& rq) {
  const std::uint64_t inv = layer_.find_invite_for_cancel(rq);
  if (inv == 0) {
    respond(tx, rq, 481);
    return;
  }
  respond(tx, rq, 200);
  const ServerTransaction* st = layer_.server(inv);
  if (!st || st->state() != TxState::kProceeding) return;  // already answered: no effect
  auto it = tx_calls_.find(inv);
  Call* c = it == tx_calls_.end() ? nullptr : find(it->second);
  respond(inv, *st->request(), 487, {}, c ? std::string_view(c->local_tag) : std::string_view{});
  if (c) end(*c, EndReason::kCancelled);
}

void UserAgent::handle_ack(const Message& ack) {
  Call* c = find_dialog(ack.call_id(), ack.to().tag());
  if (!c || c->outbound) return;
  const std::uint32_t cseq = ack.cseq().number;
  if (c->state == Call::State::kAnswering && cseq == c->invite_cseq) {
    c->state = Call::State::kConfirmed;
    if (std::exchange(c->offer_in_2xx, false) && ack.body().empty()) {
      // We offered in the 200 and the ACK brought no answer: there is no session (§13.2.1).
      send_in_dialog(*c, "BYE");
      end(*c, EndReason::kNoAnswer);
      return;
    }
    arm_session_timer(*c);
    if (!c->zombie) events_.on_answered(c->handle, ack.body());
    return;
  }
  c->awaiting_reinvite_ack = false;
  if (c->reoffer_pending && cseq == c->reoffer_cseq) {
    c->reoffer_pending = false;
    c->reoffer_tx = 0;
    if (ack.body().empty()) {
      send_in_dialog(*c, "BYE");
      end(*c, EndReason::kNoAnswer);
      return;
    }
    events_.on_ack_answer(c->handle, ack.body());
  }
}

void UserAgent::on_ack(std::uint64_t) {}

void UserAgent::on_connection_failed(const Endpoint& peer, Millis now) {
  connection_failed_ = true;
  layer_.on_connection_failed(peer, now);
  connection_failed_ = false;
}

void UserAgent::on_timeout(std::uint64_t tx) {
  const int status = connection_failed_ ? 503 : 408;
  const std::string_view reason =
      connection_failed_ ? "Service Unavailable (no connection)" : "Request Timeout";
  if (auto m = message_txs_.find(tx); m != message_txs_.end()) {
    const std::uint64_t handle = m->second;
    message_txs_.erase(m);
    outgoing_.erase(handle);
    if (message_events_) message_events_->on_message_result(handle, status, reason);
    return;
  }
  if (auto reg = register_txs_.find(tx); reg != register_txs_.end()) {
    OwnRegistration* own = reg->second;
    register_txs_.erase(reg);
    own->tx = 0;
    register_failed(*own, status);
    return;
  }
  auto it = tx_calls_.find(tx);
  if (it == tx_calls_.end()) return;
  Call* c = find(it->second);
  if (!c) return;
  if (tx == c->invite_tx) {
    if (!c->outbound) {
      if (c->state == Call::State::kAnswering) {
        // No ACK for our 2xx (§13.3.1.4): the session is over.
        send_in_dialog(*c, "BYE");
        end(*c, EndReason::kNoAck);
      }
      return;
    }
    if (c->zombie) {
      end(*c, EndReason::kLocalHangup, false);
      return;
    }
    fail(*c, status, reason);
    return;
  }
  if (tx == c->reoffer_tx) {
    // Our offer in the 2xx to their re-INVITE was never ACKed (§13.3.1.4 applies to it too).
    send_in_dialog(*c, "BYE");
    end(*c, EndReason::kNoAck);
    return;
  }
  if (tx == c->reinvite_tx) {
    c->reinvite_tx = 0;
    events_.on_reinvite_result(c->handle, status, {});
  }
}

void UserAgent::on_response(std::uint64_t tx, const Message& r) {
  if (message_txs_.count(tx) != 0) {
    on_message_response(tx, r);
    return;
  }
  if (auto reg = register_txs_.find(tx); reg != register_txs_.end()) {
    if (r.status() >= 200) {
      OwnRegistration* own = reg->second;
      register_txs_.erase(reg);
      own->tx = 0;
      on_register_response(*own, r);
    }
    return;
  }
  auto it = tx_calls_.find(tx);
  if (it == tx_calls_.end()) return;
  Call* c = find(it->second);
  if (c) handle_uac_response(*c, tx, r);
}

void UserAgent::on_stray_response(const Message& r) {
  // A 2xx retransmitted after the client transaction ended: ACK it again (§13.2.2.4).
  if (r.status() < 200 || r.status() >= 300 || r.cseq().method != "INVITE") return;
  Call* c = find_dialog(r.call_id(), r.from().tag());
  if (c && c->outbound && !c->last_ack.empty() && r.cseq().number == c->last_ack_cseq) {
    sender_.send(c->peer, c->last_ack);
  }
}

void UserAgent::handle_uac_response(Call& c, std::uint64_t tx, const Message& r) {
  const int code = r.status();
  if (tx == c.reinvite_tx) {
    if (code < 200) return;
    if (code < 300) send_ack_2xx(c, r);
    c.reinvite_tx = 0;
    events_.on_reinvite_result(c.handle, code, r.body());
    return;
  }
  if (tx != c.invite_tx) return;  // BYE, INFO, CANCEL responses need nothing
  if (code == 100) return;
  if (code >= 200) c.invite.reset();  // no CANCEL after a final response
  if (code < 200) {
    c.got_provisional = true;
    if (c.state == Call::State::kCalling) c.state = Call::State::kEarly;
    if (c.cancel_pending) {
      c.cancel_pending = false;
      send_cancel(c);
    }
    if (!c.zombie) events_.on_ringing(c.handle, code, r.body());
    return;
  }
  if (!c.zombie && c.state != Call::State::kConfirmed) {
    std::vector<std::pair<std::string, std::string>> x;
    for (std::size_t i = 0; i < r.header_count(); ++i) {
      const HeaderField& f = r.header_at(i);
      if (f.name.size() > 2 && (f.name[0] == 'X' || f.name[0] == 'x') && f.name[1] == '-') {
        x.emplace_back(std::string(f.name), std::string(f.value));
      }
    }
    if (!x.empty()) events_.on_final_headers(c.handle, std::move(x));
  }
  if (code < 300) {
    if (c.state == Call::State::kConfirmed) {  // retransmitted 2xx
      if (!c.last_ack.empty()) sender_.send(c.peer, c.last_ack);
      return;
    }
    c.remote_tag = std::string(r.to().tag());
    c.remote_party = std::string(*r.header(Hdr::kTo));
    if (auto ct = r.header(Hdr::kContact)) {
      auto target = uri_of(*ct);
      if (!target.empty()) c.remote_target = target;
    }
    c.route_set.clear();
    r.for_each_value(Hdr::kRecordRoute, [&](std::string_view v) { c.route_set.emplace_back(v); });
    std::reverse(c.route_set.begin(), c.route_set.end());
    c.state = Call::State::kConfirmed;
    send_ack_2xx(c, r);
    if (c.zombie) {
      // Hung up while ringing, but the 200 won the race with our CANCEL.
      send_in_dialog(c, "BYE");
      end(c, EndReason::kLocalHangup, false);
      return;
    }
    events_.on_answered(c.handle, r.body());
    return;
  }
  if ((code == 401 || code == 407) && c.spec.credentials && c.auth_attempts < 2 && !c.zombie) {
    const std::string auth = answer_challenge(r, *c.spec.credentials, "INVITE", c.spec.target);
    if (!auth.empty()) {
      ++c.auth_attempts;
      send_invite(c, auth);
      return;
    }
  }
  if (c.zombie) {
    end(c, EndReason::kLocalHangup, false);
    return;
  }
  fail(c, code, r.reason());
}

std::string UserAgent::build_in_dialog(Call& c, std::string_view method, std::string_view extra,
                                       std::string_view content_type, std::string_view body) {
  MessageWriter w;
  w.request_line(method, c.remote_target);
  w.header("Via", via(c.peer.transport, new_branch()));
  w.header("Max-Forwards", "70");
  w.header("From", c.local_party);
  w.header("To", c.remote_party);
  w.header("Call-ID", c.call_id);
  w.header("CSeq", std::to_string(++c.local_cseq) + " " + std::string(method));
  for (const auto& r : c.route_set) w.header("Route", r);
  if (method == "INVITE" || method == "UPDATE") {
    w.header("Contact", contact(c.peer.transport, c.secure));
  }
  w.header("User-Agent", config_.user_agent);
  std::string out = w.finish(content_type, body);
  if (!extra.empty()) out.insert(out.find("\r\nContent-") + 2, extra);
  return out;
}

std::uint64_t UserAgent::send_in_dialog(Call& c, std::string_view method, std::string_view extra,
                                        std::string_view content_type, std::string_view body) {
  auto m = Message::parse(build_in_dialog(c, method, extra, content_type, body));
  if (!m) return 0;
  const auto tx = layer_.send_request(std::move(*m), c.peer, now_);
  c.txs.push_back(tx);
  tx_calls_[tx] = c.handle;
  return tx;
}

void UserAgent::send_invite(Call& c, std::string_view auth_header) {
  const Transport t = c.peer.transport;
  MessageWriter w;
  w.request_line("INVITE", c.spec.target);
  w.header("Via", via(t, new_branch()));
  w.header("Max-Forwards", "70");
  w.header("From", c.local_party);
  w.header("To", "<" + c.spec.target + ">");
  w.header("Call-ID", c.call_id);
  w.header("CSeq", std::to_string(++c.local_cseq) + " INVITE");
  w.header("Contact", contact(t, c.secure));
  w.header("Allow", kAllowedMethods);
  w.header("Supported", kSupportedExtensions);
  if (config_.session_expires > 0) {
    w.header("Session-Expires", std::to_string(config_.session_expires));
  }
  w.header("User-Agent", config_.user_agent);
  for (const auto& [k, v] : c.spec.headers) w.header(k, v);
  std::string out = w.finish("application/sdp", c.spec.sdp_offer);
  if (!auth_header.empty()) out.insert(out.find("\r\nContent-") + 2, auth_header);
  auto m = Message::parse(out);
  if (!m) {
    fail(c, 400, "Cannot build INVITE");
    return;
  }
  c.invite = *m;
  c.got_provisional = false;
  const auto tx = layer_.send_request(std::move(*m), c.peer, now_);
  c.invite_tx = tx;
  c.txs.push_back(tx);
  tx_calls_[tx] = c.handle;
}

void UserAgent::handle_message(std::uint64_t tx, const Message& rq, const Endpoint& source,
                               const std::string& tag) {
  if (!message_events_) {
    respond(tx, rq, 405, {}, tag, "Allow: " + std::string(kAllowedMethods) + "\r\n");
    return;
  }
  ++stats_.messages_in;
  if (!message_budget_.take(source.address, now_)) {
    ++stats_.messages_limited;
    respond(tx, rq, 503, "Too many messages from this address", tag, "Retry-After: 5\r\n");
    return;
  }
  // Messages to a SIP domain come from its users (who log in, as for a call).
  std::optional<DomainRef> domain;
  std::string auth_user;
  if (!authorize_caller(tx, rq, source, tag, domain, auth_user)) return;
  IncomingMessage in;
  in.tx = tx;
  in.call_id = std::string(rq.call_id());
  in.request_uri = std::string(rq.request_uri());
  in.from_uri = std::string(rq.from().uri.raw);
  in.from_display = rq.from().quoted ? unquote("\"" + std::string(rq.from().display_name) + "\"")
                                     : std::string(rq.from().display_name);
  in.from_user = unescape(rq.from().uri.user);
  in.to_uri = std::string(rq.to().uri.raw);
  in.to_user = unescape(rq.uri().sip ? rq.uri().user : rq.to().uri.user);
  if (auto type = rq.header(Hdr::kContentType)) in.content_type = std::string(trim(*type));
  in.body = std::string(rq.body());
  in.source = source;
  in.domain = std::move(domain);
  in.auth_user = std::move(auth_user);
  incoming_messages_.emplace(tx, PendingMessage{rq, tag});
  message_events_->on_message(in);
}

Status UserAgent::answer_message(std::uint64_t tx, int status, std::string_view reason,
                                 std::string_view extra_headers) {
  auto it = incoming_messages_.find(tx);
  if (it == incoming_messages_.end()) return state_error("no MESSAGE awaits an answer");
  if (status < 200 || status > 699) return state_error("a MESSAGE needs a final response");
  respond(tx, it->second.request, status, reason, it->second.tag, extra_headers);
  incoming_messages_.erase(it);
  return Ok{};
}

Result<std::uint64_t> UserAgent::send_message(const OutboundMessage& message) {
  for (const auto& [name, value] : message.headers) {
    if (!is_token(name) || value.find_first_of("\r\n") != std::string::npos) {
      return state_error("header " + name + " cannot go in a SIP message");
    }
  }
  auto m = std::make_unique<OutgoingMessage>();
  m->handle = next_message_++;
  m->spec = message;
  if (m->spec.call_id.empty()) m->spec.call_id = random_hex(12) + "@" + config_.host;
  m->from_tag = new_tag();
  OutgoingMessage& ref = *m;
  outgoing_[m->handle] = std::move(m);
  ++stats_.messages_out;
  transmit_message(ref, {});
  if (ref.tx == 0) {
    const std::uint64_t handle = ref.handle;
    outgoing_.erase(handle);
    return state_error("cannot build the MESSAGE request");
  }
  return ref.handle;
}

void UserAgent::transmit_message(OutgoingMessage& m, std::string_view auth_header) {
  const Transport t = m.spec.next_hop.transport;
  MessageWriter w;
  w.request_line("MESSAGE", m.spec.target);
  w.header("Via", via(t, new_branch()));
  w.header("Max-Forwards", "70");
  w.header("From", "<" + m.spec.from + ">;tag=" + m.from_tag);
  w.header("To", "<" + m.spec.target + ">");
  w.header("Call-ID", m.spec.call_id);
  w.header("CSeq", std::to_string(++m.cseq) + " MESSAGE");
  w.header("User-Agent", config_.user_agent);
  for (const auto& [k, v] : m.spec.headers) w.header(k, v);
  std::string out = w.finish(m.spec.content_type, m.spec.body);
  if (!auth_header.empty()) out.insert(out.find("\r\nContent-") + 2, auth_header);
  auto parsed = Message::parse(out);
  if (!parsed) {
    m.tx = 0;
    return;
  }
  m.tx = layer_.send_request(std::move(*parsed), m.spec.next_hop, now_);
  message_txs_[m.tx] = m.handle;
}

void UserAgent::on_message_response(std::uint64_t tx, const Message& r) {
  const int code = r.status();
  if (code < 200) return;
  const std::uint64_t handle = message_txs_[tx];
  message_txs_.erase(tx);
  auto it = outgoing_.find(handle);
  if (it == outgoing_.end()) return;
  OutgoingMessage& m = *it->second;
  if ((code == 401 || code == 407) && m.spec.credentials && m.auth_attempts < 1) {
    const std::string auth = answer_challenge(r, *m.spec.credentials, "MESSAGE", m.spec.target);
    if (!auth.empty()) {
      ++m.auth_attempts;
      transmit_message(m, auth);
      if (m.tx != 0) return;
    }
  }
  const std::string reason(r.reason());
  outgoing_.erase(it);
  if (message_events_) message_events_->on_message_result(handle, code, reason);
}

void UserAgent::add_registration(Registration registration) {
  auto r = std::make_unique<OwnRegistration>();
  r->spec = std::move(registration);
  r->status.name = r->spec.name;
  r->call_id = random_hex(12) + "@" + config_.host;
  r->from_tag = new_tag();
  r->next = now_;
  own_registrations_.push_back(std::move(r));
}

std::vector<RegistrationStatus> UserAgent::registration_status() const {
  std::vector<RegistrationStatus> out;
  for (const auto& r : own_registrations_) out.push_back(r->status);
  return out;
}

void UserAgent::send_register(OwnRegistration& r, std::string_view auth_header) {
  const Transport t = r.spec.next_hop.transport;
  MessageWriter w;
  w.request_line("REGISTER", r.spec.registrar);
  w.header("Via", via(t, new_branch()));
  w.header("Max-Forwards", "70");
  w.header("From", "<" + r.spec.aor + ">;tag=" + r.from_tag);
  w.header("To", "<" + r.spec.aor + ">");
  w.header("Call-ID", r.call_id);
  w.header("CSeq", std::to_string(++r.cseq) + " REGISTER");  // one Call-ID, rising CSeq (§10.2)
  w.header("Contact", contact(t));
  w.header("Expires", std::to_string(r.spec.expires));
  w.header("User-Agent", config_.user_agent);
  std::string out = w.finish();
  if (!auth_header.empty()) out.insert(out.find("\r\nContent-") + 2, auth_header);
  auto m = Message::parse(out);
  if (!m) {
    register_failed(r, 400);
    return;
  }
  r.tx = layer_.send_request(std::move(*m), r.spec.next_hop, now_);
  register_txs_[r.tx] = &r;
}

void UserAgent::on_register_response(OwnRegistration& r, const Message& resp) {
  const int code = resp.status();
  if (code >= 200 && code < 300) {
    // What the registrar granted: our Contact's expires, else Expires, else what we asked.
    int granted = r.spec.expires;
    if (auto e = resp.header(Hdr::kExpires)) {
      if (auto v = parse_uint(trim(*e), 1u << 30)) granted = static_cast<int>(*v);
    }
    resp.for_each_value(Hdr::kContact, [&](std::string_view value) {
      auto na = parse_name_addr(value);
      if (!na || na->uri.host != config_.host) return;
      if (auto p = na->param("expires")) {
        if (auto v = parse_uint(*p, 1u << 30)) granted = static_cast<int>(*v);
      }
    });
    granted = std::max(granted, 2);
    r.status.registered = true;
    r.status.last_status = code;
    r.status.granted_expires = granted;
    ++r.status.refreshes;
    r.auth_attempts = 0;
    r.backoff = Millis(30000);
    r.next = now_ + Millis(static_cast<std::int64_t>(granted) * 500);  // refresh at half-time
    return;
  }
  if ((code == 401 || code == 407) && r.spec.credentials && r.auth_attempts < 2) {
    const std::string auth =
        answer_challenge(resp, *r.spec.credentials, "REGISTER", r.spec.registrar);
    if (!auth.empty()) {
      ++r.auth_attempts;
      send_register(r, auth);
      return;
    }
  }
  if (code == 423) {
    if (auto min = resp.header("Min-Expires")) {
      if (auto v = parse_uint(trim(*min), 1u << 30);
          v && *v > static_cast<unsigned>(r.spec.expires)) {
        r.spec.expires = static_cast<int>(*v);
        send_register(r, {});
        return;
      }
    }
  }
  register_failed(r, code);
}

void UserAgent::register_failed(OwnRegistration& r, int status) {
  r.status.registered = false;
  r.status.last_status = status;
  r.auth_attempts = 0;
  r.next = now_ + r.backoff;
  r.backoff = std::min(r.backoff * 2, Millis(600000));
}

void UserAgent::send_ack_2xx(Call& c, const Message& r) {
  MessageWriter w;
  w.request_line("ACK", c.remote_target);
  w.header("Via", via(c.peer.transport, new_branch()));
  w.header("Max-Forwards", "70");
  w.header("From", c.local_party);
  w.header("To", *r.header(Hdr::kTo));
  w.header("Call-ID", c.call_id);
  w.header("CSeq", std::to_string(r.cseq().number) + " ACK");
  for (const auto& route : c.route_set) w.header("Route", route);
  c.last_ack = w.finish();
  c.last_ack_cseq = r.cseq().number;
  sender_.send(c.peer, c.last_ack);
}

void UserAgent::send_cancel(Call& c) {
  if (!c.invite) return;
  const Message& inv = *c.invite;
  MessageWriter w;
  w.request_line("CANCEL", inv.request_uri());
  ValueList vias(*inv.header(Hdr::kVia));
  w.header("Via", vias.next().value_or(""));
  w.header("Max-Forwards", "70");
  w.header("From", *inv.header(Hdr::kFrom));
  w.header("To", *inv.header(Hdr::kTo));
  w.header("Call-ID", inv.call_id());
  w.header("CSeq", std::to_string(inv.cseq().number) + " CANCEL");
  for (std::size_t i = 0; i < inv.header_count(); ++i) {
    if (inv.header_at(i).id == Hdr::kRoute) w.header("Route", inv.header_at(i).value);
  }
  auto m = Message::parse(w.finish());
  if (m) layer_.send_request(std::move(*m), c.peer, now_);
}

void UserAgent::end(Call& c, EndReason reason, bool notify) {
  const CallHandle h = c.handle;
  if (notify && !c.zombie) events_.on_ended(h, reason);
  for (auto tx : c.txs) {
    auto it = tx_calls_.find(tx);
    if (it != tx_calls_.end() && it->second == h) tx_calls_.erase(it);
  }
  dialogs_.erase(c.call_id + "|" + c.local_tag);
  calls_.erase(h);
}

void UserAgent::fail(Call& c, int status, std::string_view reason) {
  const CallHandle h = c.handle;
  const std::string r(reason);
  end(c, EndReason::kTimeout, false);
  events_.on_failed(h, status, r);
}

// --- call API ---

Status UserAgent::ringing(CallHandle h, std::string_view early_sdp) {
  Call* c = find(h);
  if (!c || c->outbound || c->zombie ||
      (c->state != Call::State::kIncoming && c->state != Call::State::kEarly)) {
    return state_error("call cannot ring");
  }
  std::string extra = "Contact: " + contact(c->peer.transport, c->secure) + "\r\n";
  for (const auto& rr : c->route_set) extra += "Record-Route: " + rr + "\r\n";
  respond(c->invite_tx, *c->invite, early_sdp.empty() ? 180 : 183, {}, c->local_tag, extra,
          early_sdp);
  c->state = Call::State::kEarly;
  return Ok{};
}

Status UserAgent::answer(CallHandle h, std::string_view sdp) {
  Call* c = find(h);
  if (!c || c->outbound || c->zombie ||
      (c->state != Call::State::kIncoming && c->state != Call::State::kEarly)) {
    return state_error("call cannot be answered");
  }
  if (sdp.empty()) return state_error("answer needs SDP");
  c->offer_in_2xx = c->invite->body().empty();
  std::string extra = "Contact: " + contact(c->peer.transport, c->secure) + "\r\n";
  for (const auto& rr : c->route_set) extra += "Record-Route: " + rr + "\r\n";
  extra += "Allow: " + std::string(kAllowedMethods) + "\r\n";
  extra += c->session_timer_headers;
  respond(c->invite_tx, *c->invite, 200, {}, c->local_tag, extra, sdp);
  c->state = Call::State::kAnswering;
  c->invite.reset();
  return Ok{};
}

Status UserAgent::reject(CallHandle h, int status, std::string_view reason,
                         std::string_view extra_headers) {
  Call* c = find(h);
  if (!c || c->outbound || c->zombie ||
      (c->state != Call::State::kIncoming && c->state != Call::State::kEarly)) {
    return state_error("call cannot be rejected");
  }
  if (status < 300 || status > 699) return state_error("reject needs a 3xx-6xx status");
  respond(c->invite_tx, *c->invite, status, reason, c->local_tag, extra_headers);
  end(*c, EndReason::kLocalHangup, false);
  return Ok{};
}

Status UserAgent::hangup(CallHandle h) {
  Call* c = find(h);
  if (!c || c->zombie) return state_error("no such call");
  switch (c->state) {
    case Call::State::kIncoming:
    case Call::State::kEarly:
      if (!c->outbound) {
        respond(c->invite_tx, *c->invite, 480, {}, c->local_tag);
        end(*c, EndReason::kLocalHangup);
        return Ok{};
      }
      events_.on_ended(h, EndReason::kLocalHangup);
      c->zombie = true;
      send_cancel(*c);
      return Ok{};
    case Call::State::kCalling:
      // CANCEL may only follow a provisional response (§9.1).
      events_.on_ended(h, EndReason::kLocalHangup);
      c->zombie = true;
      c->cancel_pending = true;
      return Ok{};
    case Call::State::kAnswering:
    case Call::State::kConfirmed:
      send_in_dialog(*c, "BYE");
      end(*c, EndReason::kLocalHangup);
      return Ok{};
    case Call::State::kEnded:
      break;
  }
  return state_error("call already ended");
}

Status UserAgent::reinvite(CallHandle h, std::string_view sdp) {
  Call* c = find(h);
  if (!c || c->zombie || c->state != Call::State::kConfirmed) {
    return state_error("call is not established");
  }
  if (c->reinvite_tx != 0) return state_error("a re-INVITE is already in progress");
  c->reinvite_tx = send_in_dialog(*c, "INVITE", {}, "application/sdp", sdp);
  c->reinvite_cseq = c->local_cseq;
  return Ok{};
}

Status UserAgent::send_dtmf(CallHandle h, char digit, int duration_ms) {
  Call* c = find(h);
  if (!c || c->zombie || c->state != Call::State::kConfirmed) {
    return state_error("call is not established");
  }
  const std::string body =
      "Signal=" + std::string(1, digit) + "\r\nDuration=" + std::to_string(duration_ms) + "\r\n";
  send_in_dialog(*c, "INFO", {}, "application/dtmf-relay", body);
  return Ok{};
}

Result<CallHandle> UserAgent::call(const OutboundCall& spec) {
  auto target = parse_uri(spec.target);
  if (!target || !target->sip) return state_error("target must be a sip: URI");
  auto from = parse_uri(spec.from);
  if (!from) return state_error("bad From URI");
  if (spec.next_hop.address.empty() || spec.next_hop.port == 0) {
    return state_error("next hop needed");
  }
  auto c = std::make_unique<Call>();
  c->handle = next_call_++;
  c->outbound = true;
  c->state = Call::State::kCalling;
  c->spec = spec;
  c->call_id = spec.call_id.empty() ? random_hex(12) + "@" + config_.host : spec.call_id;
  c->local_tag = new_tag();
  std::string display;
  if (!spec.from_display.empty()) {
    display = "\"";
    for (char ch : spec.from_display) {
      if (ch == '"' || ch == '\\') display.push_back('\\');
      if (ch != '\r' && ch != '\n') display.push_back(ch);
    }
    display += "\" ";
  }
  c->local_party = display + "<" + spec.from + ">;tag=" + c->local_tag;
  c->remote_party = "<" + spec.target + ">";
  c->remote_target = spec.target;
  c->peer = spec.next_hop;
  c->secure = starts_with_scheme(spec.target, "sips:");
  const CallHandle h = c->handle;
  dialogs_[c->call_id + "|" + c->local_tag] = h;
  Call& ref = *c;
  calls_[h] = std::move(c);
  ++stats_.calls_out;
  send_invite(ref, {});
  if (!find(h)) return state_error("could not send INVITE");
  return h;
}

}  // namespace sb::sip
