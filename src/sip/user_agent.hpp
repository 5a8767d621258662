// The user-agent core: dialogs as UAS and UAC (RFC 3261 §12-15), CANCEL, re-INVITE, OPTIONS,
// INFO dtmf-relay, session-timer negotiation (RFC 4028), digest auth both ways, and the call
// API the call router uses. Pure like the transaction layer: bytes and ticks in, bytes (via
// Sender) and CallEvents out; the socket wiring lives in stack.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "sip/digest.hpp"
#include "sip/message.hpp"
#include "sip/registrar.hpp"
#include "sip/source_guard.hpp"
#include "sip/transaction.hpp"
#include "sip/transport.hpp"

namespace sb::sip {

using CallHandle = std::uint64_t;  // 0 is never a call

struct UaConfig {
  std::string host = "127.0.0.1";  // our address in Via and Contact
  std::uint16_t udp_port = 5060;
  std::uint16_t tcp_port = 5060;
  std::uint16_t tls_port = 0;  // 0: no SIP over TLS
  std::string user_agent = "Switchboard";
  TimerValues timers;
  Limits limits;
  // UAS challenge: when set, out-of-dialog INVITEs need credentials for this realm.
  std::optional<std::string> auth_realm;
  std::function<std::optional<std::string>(std::string_view username)> password_lookup;
  std::string auth_secret = "change-me";  // HMAC key for stateless nonces
  // The challenges a 401 carries, most preferred first (RFC 8760 §2.4).
  std::vector<DigestAlgorithm> challenge_algorithms = {DigestAlgorithm::kSha256,
                                                       DigestAlgorithm::kMd5};
  // SIP domains (SIP/Domains): REGISTER to a domain's name and INVITEs addressed to it are
  // authenticated against its users in `domain_realm`; registered contacts are kept in the
  // location service. Null: no domains (REGISTER gets 404).
  Directory* directory = nullptr;
  std::string domain_realm = "switchboard";
  RegistrarLimits registrar;
  // REGISTERs per source address: rate/s and burst; beyond, 503.
  double register_rate = 10;
  double register_burst = 40;
  int session_expires = 0;  // RFC 4028: 0 = do not ask for session timers ourselves
  int min_se = 90;
  // MESSAGE requests (RFC 3428) per source address: rate/s and burst; beyond, 503.
  double message_rate = 500;
  double message_burst = 1000;
  // New requests per source, and bans after failed authentications (sip.source_rate, ban_*).
  GuardLimits guard;
};

struct IncomingCall {
  CallHandle call = 0;
  std::string call_id;
  std::string request_uri;
  std::string from_uri, from_display, from_user, from_tag;
  std::string to_uri, to_user;
  std::vector<std::pair<std::string, std::string>> headers;  // every header, as received
  std::string sdp_offer;  // "" when the INVITE had no offer: answer() then sends our offer
                          // and the caller's answer arrives with the ACK (on_answered)
  Endpoint source;
  std::optional<DomainRef> domain;  // addressed to one of our SIP domains
  std::string auth_user;            // the domain user who authenticated
};

enum class EndReason {
  kLocalHangup,
  kRemoteHangup,
  kCancelled,
  kNoAck,
  kTimeout,
  kNoAnswer,  // we offered in a 2xx and the ACK brought no answer: we sent BYE (RFC 3261 §13.2.1)
};
std::string_view to_string(EndReason r);

// Callbacks for the call router. Every callback runs on the UserAgent's thread.
class CallEvents {
 public:
  virtual ~CallEvents() = default;
  virtual void on_incoming(const IncomingCall& call) = 0;
  // Outbound: 180/183 (early media SDP when present).
  virtual void on_ringing(CallHandle, int /*status*/, std::string_view /*sdp*/) {}
  // Outbound answered (remote SDP); inbound: the ACK for our 200 arrived, with the caller's
  // answer when our 200 carried the offer (an offerless INVITE), else usually empty.
  virtual void on_answered(CallHandle, std::string_view /*sdp*/) {}
  virtual void on_failed(CallHandle, int /*status*/, std::string_view /*reason*/) {}
  // Outbound: the X- headers of the INVITE's final response, just before on_answered or
  // on_failed (<Dial><Sip>: DialSipHeader_*).
  virtual void on_final_headers(CallHandle,
                                std::vector<std::pair<std::string, std::string>> /*headers*/) {}
  virtual void on_ended(CallHandle, EndReason) {}
  // A re-INVITE from the peer (hold, unhold, new address): return our answer SDP, or
  // nullopt to refuse it with 488.
  virtual std::optional<std::string> on_reoffer(CallHandle, std::string_view /*sdp*/) {
    return std::nullopt;
  }
  // A re-INVITE without an offer (RFC 3261 §14.2): return our offer for the 200 OK (the peer
  // answers in the ACK: on_ack_answer), or nullopt to refuse it with 488.
  virtual std::optional<std::string> on_offer_request(CallHandle) { return std::nullopt; }
  // The peer's answer, from the ACK, to the offer we put in the 200 to its offerless re-INVITE.
  virtual void on_ack_answer(CallHandle, std::string_view /*sdp*/) {}
  // The result of our own re-INVITE.
  virtual void on_reinvite_result(CallHandle, int /*status*/, std::string_view /*sdp*/) {}
  virtual void on_dtmf(CallHandle, char /*digit*/, int /*duration_ms*/) {}
};

struct Credentials {
  std::string username;
  std::string password;
};

// A MESSAGE request outside a dialog (RFC 3428), authenticated like an INVITE: answer it once
// with UserAgent::answer_message (202 when accepted), when ready.
struct IncomingMessage {
  std::uint64_t tx = 0;
  std::string call_id;
  std::string request_uri;
  std::string from_uri, from_display, from_user;
  std::string to_uri, to_user;  // to_user: the Request-URI's user part (else To's)
  std::string content_type;     // as received ("" when there was no body)
  std::string body;
  Endpoint source;
  std::optional<DomainRef> domain;  // addressed to one of our SIP domains
  std::string auth_user;            // the domain user who authenticated
};

// A MESSAGE we send; 401/407 challenges are answered once with `credentials`.
struct OutboundMessage {
  std::string target;  // Request-URI and To
  std::string from;    // our From URI
  Endpoint next_hop;
  std::optional<Credentials> credentials;
  std::string content_type = "text/plain;charset=UTF-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string call_id;                                       // empty: a random one
};

// Where MESSAGE requests go, and how ours end. Every callback runs on the UserAgent's thread.
class MessageEvents {
 public:
  virtual ~MessageEvents() = default;
  virtual void on_message(const IncomingMessage& message) = 0;
  // Our MESSAGE `handle` got its final response (408: none came).
  virtual void on_message_result(std::uint64_t handle, int status, std::string_view reason) = 0;
};

struct OutboundCall {
  std::string target;  // Request-URI and To, e.g. "sip:+15551234@trunk.example.com"
  std::string from;    // our URI for From, e.g. "sip:+15550000@switchboard.local"
  std::string from_display;
  Endpoint next_hop;  // where the INVITE goes (trunk or proxy)
  std::string sdp_offer;
  std::optional<Credentials> credentials;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string call_id;  // the Call-ID to use (unique); empty: a random one
  // More (Request-URI, next hop) pairs rung at the same time (a user registered on several
  // devices): the call router forks them, the first to answer wins.
  std::vector<std::pair<std::string, Endpoint>> forks;
};

// Our own registration to a provider (a trunk with `register = true`): REGISTER with digest,
// refreshed at half the granted time, retried with backoff (30 s doubling to 10 min) on failure.
struct Registration {
  std::string name;       // for logs and metrics (the trunk's)
  std::string aor;        // To and From: "sip:acct@provider.example"
  std::string registrar;  // Request-URI: "sip:provider.example"
  Endpoint next_hop;
  std::optional<Credentials> credentials;
  int expires = 600;
};
struct RegistrationStatus {
  std::string name;
  bool registered = false;
  int last_status = 0;          // the last final response (408: no answer)
  int granted_expires = 0;      // seconds the registrar granted
  std::uint64_t refreshes = 0;  // 2xx responses so far
};

struct UaStats {
  std::uint64_t received = 0;
  std::uint64_t malformed = 0;       // refused with a 4xx/5xx
  std::uint64_t dropped = 0;         // malformed and unanswerable (responses, no Via)
  std::uint64_t unknown_dialog = 0;  // 481s sent
  std::uint64_t calls_in = 0, calls_out = 0;
  std::uint64_t registers = 0;          // REGISTER requests
  std::uint64_t registers_limited = 0;  // refused with 503: over their source's budget
  std::uint64_t auth_failures = 0;      // 403: wrong credentials for a domain
  std::uint64_t messages_in = 0;        // MESSAGE requests outside dialogs
  std::uint64_t messages_limited = 0;   // refused with 503: over their source's budget
  std::uint64_t messages_out = 0;       // MESSAGE requests we sent (not counting auth retries)
};

class UserAgent final : public TransactionUser {
 public:
  UserAgent(UaConfig config, Sender& sender, CallEvents& events);
  ~UserAgent() override;

  // One complete message (a datagram, or a frame cut by StreamFramer) from `source`.
  void on_message(std::string_view bytes, const Endpoint& source, Millis now);
  void on_tick(Millis now);
  // The socket layer could not reach `peer` (TCP refused, TLS handshake or certificate failed):
  // its requests fail now, as 503 (RFC 3261 §8.1.3.1), not at Timer B as 408.
  void on_connection_failed(const Endpoint& peer, Millis now);
  std::optional<Millis> next_deadline() { return layer_.next_deadline(); }

  // --- call API (all return an error for an unknown call or a call in the wrong state) ---
  Status ringing(CallHandle call, std::string_view early_sdp = {});  // 180, or 183 with SDP
  // 200 OK with `sdp`: our answer, or our offer when the INVITE had none (the answer is then
  // due in the ACK; an ACK without one ends the call with BYE). An error when the call is gone
  // (a CANCEL won) or was already answered or refused.
  Status answer(CallHandle call, std::string_view sdp);
  // `extra_headers`: complete lines with CRLF, e.g. "Retry-After: 5\r\n".
  Status reject(CallHandle call, int status, std::string_view reason = {},
                std::string_view extra_headers = {});
  // BYE when established; CANCEL while an outbound call is early; 480 for an unanswered
  // inbound call.
  Status hangup(CallHandle call);
  Status reinvite(CallHandle call, std::string_view sdp);
  Status send_dtmf(CallHandle call, char digit, int duration_ms);  // INFO dtmf-relay
  Result<CallHandle> call(const OutboundCall& call);

  // --- messages (RFC 3428) ---
  // Without a handler, MESSAGE is refused with 405.
  void set_message_events(MessageEvents* events) { message_events_ = events; }
  // The final response to an IncomingMessage (202 accepted, or a refusal); `extra_headers` are
  // complete lines with CRLF. An error when `tx` was already answered or is unknown.
  Status answer_message(std::uint64_t tx, int status, std::string_view reason = {},
                        std::string_view extra_headers = {});
  // Sends a MESSAGE; its outcome arrives through MessageEvents::on_message_result.
  Result<std::uint64_t> send_message(const OutboundMessage& message);
  std::size_t messages_pending() const { return incoming_messages_.size() + outgoing_.size(); }

  // The live registrations of `aor` ("alice@office.example.com"), newest first.
  std::vector<Binding> registrations(const std::string& aor) const {
    return location_.lookup(aor, now_);
  }
  void unregister(const std::string& aor) { location_.remove(aor); }
  // Starts registering to a provider now (and keeps it refreshed).
  void add_registration(Registration registration);
  std::vector<RegistrationStatus> registration_status() const;
  std::size_t registered_aors() const { return location_.size(); }
  // Per-source limits and bans (the admin endpoint lifts bans through it).
  SourceGuard& guard() { return guard_; }
  const SourceGuard& guard() const { return guard_; }

  const UaStats& stats() const { return stats_; }
  std::size_t active_calls() const { return calls_.size(); }
  std::size_t transactions() const { return layer_.size(); }
  Millis now() const { return now_; }

  // TransactionUser
  void on_request(std::uint64_t tx, const Message& request, const Endpoint& source) override;
  void on_response(std::uint64_t tx, const Message& response) override;
  void on_timeout(std::uint64_t tx) override;
  void on_ack(std::uint64_t tx) override;
  void on_stray_response(const Message& response) override;

 private:
  struct Call;
  Call* find(CallHandle h);
  Call* find_dialog(std::string_view call_id, std::string_view local_tag);
  void handle_new_request(std::uint64_t tx, const Message& rq, const Endpoint& source);
  void handle_in_dialog(Call& c, std::uint64_t tx, const Message& rq);
  void handle_cancel(std::uint64_t tx, const Message& rq);
  void handle_register(std::uint64_t tx, const Message& rq, const Endpoint& source,
                       const std::string& tag);
  // The domain `rq` is addressed to (its Request-URI host), if any.
  std::optional<DomainRef> domain_of(const Message& rq);
  // Checks `rq`'s credentials for `domain`: true with `user` set, or false once a 401
  // challenge or a 403 has been sent.
  // An INVITE's or MESSAGE's caller: a domain user (`domain` set, `user` the one who logged in)
  // or a configured one. False once a 401 or 403 has been sent.
  bool authorize_caller(std::uint64_t tx, const Message& rq, const Endpoint& source,
                        const std::string& tag, std::optional<DomainRef>& domain,
                        std::string& user);
  bool authenticate(std::uint64_t tx, const Message& rq, const Endpoint& source,
                    const std::string& tag, const DomainRef& domain, Directory::Purpose purpose,
                    std::string& user);
  // A failed authentication from `source`: counted, and it may ban the source.
  void note_auth_failure(const Endpoint& source);
  void send_challenge(std::uint64_t tx, const Message& rq, const std::string& tag,
                      const DigestVerifier& verifier, bool stale);
  void handle_message(std::uint64_t tx, const Message& rq, const Endpoint& source,
                      const std::string& tag);
  struct OutgoingMessage;
  void transmit_message(OutgoingMessage& m, std::string_view auth_header);
  void on_message_response(std::uint64_t tx, const Message& response);
  struct OwnRegistration;
  void send_register(OwnRegistration& r, std::string_view auth_header);
  void on_register_response(OwnRegistration& r, const Message& response);
  void register_failed(OwnRegistration& r, int status);
  void handle_ack(const Message& ack);
  void answer_reinvite(Call& c, std::uint64_t tx, const Message& rq);
  void handle_uac_response(Call& c, std::uint64_t tx, const Message& r);
  void respond(std::uint64_t tx, const Message& rq, int status, std::string_view reason = {},
               std::string_view to_tag = {}, std::string_view extra = {},
               std::string_view body = {});
  std::string via(Transport t, std::string_view branch) const;
  std::string contact(Transport t, bool secure = false) const;
  std::uint16_t port_of(Transport t) const;  // our listening port for `t` (0: none)
  std::string sent_by(Transport t) const;    // "host:port" of Via and Contact
  std::string build_in_dialog(Call& c, std::string_view method, std::string_view extra = {},
                              std::string_view content_type = {}, std::string_view body = {});
  std::uint64_t send_in_dialog(Call& c, std::string_view method, std::string_view extra = {},
                               std::string_view content_type = {}, std::string_view body = {});
  void send_invite(Call& c, std::string_view auth_header);
  void send_ack_2xx(Call& c, const Message& response);
  void send_cancel(Call& c);
  void end(Call& c, EndReason reason, bool notify = true);
  void arm_session_timer(Call& c);
  void fail(Call& c, int status, std::string_view reason);
  std::string new_tag() const;
  std::string new_branch() const;

  UaConfig config_;
  Sender& sender_;
  CallEvents& events_;
  TransactionLayer layer_;
  bool connection_failed_ = false;  // timeouts now come from a connection that failed
  std::optional<DigestVerifier> verifier_;
  std::optional<DigestVerifier> domain_verifier_;
  LocationService location_;
  SourceBudget register_budget_;
  Millis last_registrar_sweep_{0};
  std::vector<std::unique_ptr<OwnRegistration>> own_registrations_;
  std::unordered_map<std::uint64_t, OwnRegistration*> register_txs_;
  MessageEvents* message_events_ = nullptr;
  SourceBudget message_budget_;
  SourceGuard guard_;
  struct PendingMessage {
    Message request;
    std::string tag;
  };
  std::unordered_map<std::uint64_t, PendingMessage> incoming_messages_;           // by server tx
  std::unordered_map<std::uint64_t, std::unique_ptr<OutgoingMessage>> outgoing_;  // by handle
  std::unordered_map<std::uint64_t, std::uint64_t> message_txs_;  // client tx -> handle
  std::uint64_t next_message_ = 1;
  std::unordered_map<CallHandle, std::unique_ptr<Call>> calls_;
  std::unordered_map<std::string, CallHandle> dialogs_;  // Call-ID|local-tag
  std::unordered_map<std::uint64_t, CallHandle> tx_calls_;
  CallHandle next_call_ = 1;
  Millis now_{0};
  Millis last_session_scan_{0};
  UaStats stats_;
};

// Parses an application/dtmf-relay body ("Signal=5\r\nDuration=160").
std::optional<std::pair<char, int>> parse_dtmf_relay(std::string_view body);

}  // namespace sb::sip
