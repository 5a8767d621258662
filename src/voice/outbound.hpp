// Outbound calls (Calls.json create): where a call goes by its To (a SIP trunk chosen by the
// longest matching number prefix, or a sip: URI dialled directly), what a placed call carries
// from the REST API to the worker that dials it, and the Dialer the API places calls through.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "media/srtp.hpp"
#include "sip/transport.hpp"
#include "sip/user_agent.hpp"
#include "store/models.hpp"
#include "voice/call_info.hpp"

namespace sb::voice {

// A SIP trunk ([[sip.trunks]] in the TOML): where calls to numbers with one of its prefixes go.
struct Trunk {
  std::string name;
  std::string host;  // IP address or name (resolved when a call is dialled)
  std::uint16_t port = 5060;
  sip::Transport transport = sip::Transport::kUdp;
  bool tls_verify = true;                 // tls: check its certificate against host
  std::optional<media::SrtpPolicy> srtp;  // its media encryption; nullopt: media.srtp
  std::vector<std::string> prefixes;  // "+1", "+44", "1"; "" (or none at all) matches any number
  std::string username;               // digest credentials for 401/407 challenges (optional)
  std::string password;
  std::string from_domain;  // the host of our From URI; empty: the trunk's host
  // Register to the trunk (providers that reach us only at a registered contact): REGISTER as
  // username@(from_domain or host), refreshed; needs username and password.
  bool register_to = false;
  int register_expires = 600;
};

// A trunk's settings check: names, a host, a transport, prefixes of digits after an optional '+'.
Status validate_trunk(const Trunk& trunk);

// A trunk from its REST resource (store::SipTrunk): address and prefixes parsed and checked.
Result<Trunk> trunk_from(const store::SipTrunk& row);

// The trunks calls are routed through: the configured ones (the TOML's, every account's) and
// each account's own (SIP/Trunks.json), changed live. Thread-safe: the REST API writes, the
// call router reads.
class TrunkTable {
 public:
  void set_configured(std::vector<Trunk> trunks);
  void put(const std::string& account_sid, const std::string& sid, Trunk trunk);
  void remove(const std::string& sid);
  // The account's trunks first (they win a tie on prefix length), then the configured ones.
  std::vector<Trunk> for_account(const std::string& account_sid) const;

 private:
  mutable std::mutex mu_;
  std::vector<Trunk> configured_;
  std::map<std::string, std::pair<std::string, Trunk>> accounts_;  // sid -> (account, trunk)
};

// Where one call goes: the Request-URI, the next hop and what the INVITE carries.
struct Destination {
  std::string target;  // Request-URI and To ("sip:+14155550100@trunk.example.com")
  std::string host;    // next hop: IP or name
  std::uint16_t port = 5060;
  sip::Transport transport = sip::Transport::kUdp;
  bool tls_verify = true;                 // tls: check the certificate names host
  std::optional<media::SrtpPolicy> srtp;  // the trunk's media encryption (nullopt: default)
  std::string from_domain;                // host of our From URI ("" : our own address)
  std::optional<sip::Credentials> credentials;
  std::vector<std::pair<std::string, std::string>> headers;  // X- headers from a sip: URI
  std::string trunk;                                         // the trunk's name, if any
  std::uint64_t connection = 0;  // a registered contact's TCP connection (0: any)
  // A registered user's other contacts, rung at once: (Request-URI, next hop).
  std::vector<std::pair<std::string, sip::Endpoint>> forks;
};

// The user part our From URI carries for a Calls.json From: a number as it is, a client:NAME's
// NAME, a sip: URI's user, or a caller name. nullopt unless it is 1-64 URI-safe characters
// (letters, digits, - _ . ! ~ * ' ( ) +): nothing else may reach the INVITE's From header.
std::optional<std::string> caller_user(std::string_view from);

// Whether `name: value` can go in a SIP message as it is: a token name, no CR, LF or NUL.
bool safe_sip_header(std::string_view name, std::string_view value);

// Digits with an optional leading '+' (E.164 or a short code).
bool is_phone_number(std::string_view text);

// The destination of `to`: a phone number through the trunk with the longest matching prefix;
// a sip: URI (";transport=tcp", "?X-Header=value" honoured) directly. `credentials` (Calls.json
// SipAuthUsername/SipAuthPassword) answer a sip: URI's challenges. Errors (Twilio 13224 text):
// no trunk for the number, a malformed URI, client: identities (those go to client_destination).
Result<Destination> resolve_destination(std::string_view to, const std::vector<Trunk>& trunks,
                                        std::optional<sip::Credentials> credentials = {});

// Where "client:NAME" rings: every live registration of NAME (`bindings`, newest first), the
// newest as the call's target and the others as forks. An error when there is none.
Result<Destination> client_destination(std::string_view name,
                                       const std::vector<sip::Binding>& bindings);

// A call the REST API created, on its way to the worker that dials it.
struct OutboundRequest {
  store::Account account;
  CallInfo info;                 // CallSid, From, To; direction outbound-api, status queued
  std::string phone_number_sid;  // the From number's, when it is one of the account's
  VoiceApplication application;  // Url (or the Application's) with fallback and status callback
  std::string application_sid;
  std::string twiml;         // an inline document (Calls.json Twiml) instead of the Url
  int timeout_s = 60;        // ringing before no-answer (Twilio: default 60, at most 600)
  int time_limit_s = 14400;  // the longest the call may last once answered (Twilio: 4 h)
  std::string send_digits;   // played as RFC 4733 events once answered (w: 0.5 s, W: 1 s)
  std::optional<sip::Credentials> sip_auth;
  std::int64_t queued_at_ms = 0;  // when the REST API accepted it (the clock's ms)
  CallRecordingPlan recording;    // Record=true and its settings
  MachineDetectionPlan machine_detection;
  std::string preferred_codec;  // offered first ("PCMA"): a <Dial> child speaks the caller's
  // Headers for the INVITE (<Client><Parameter>s); only those fit for a header field are sent.
  std::vector<std::pair<std::string, std::string>> sip_headers;
  // Participants.json: the conference the call joins once answered (told when it never does).
  std::string conference_sid;
};

// How the REST API places calls. Callable from any thread.
class Dialer {
 public:
  virtual ~Dialer() = default;
  // Queues the call (its record already says queued); it is dialled in order, at the account's
  // rate, when the process has room for another call.
  virtual void place(OutboundRequest request) = 0;
  // Takes a call that is still queued off the queue; false when it has left it.
  virtual bool cancel_queued(const std::string& account_sid, const std::string& call_sid) = 0;
  // Whether the account has as many calls queued as it may (calls.max_queued_per_account).
  virtual bool queue_full(const std::string& account_sid) const = 0;
  // Whether the account has as many live calls as it may (calls.max_active_per_account).
  virtual bool at_call_limit(const std::string& account_sid) const {
    (void)account_sid;
    return false;
  }
};

// A SIP final response in Twilio's terms: 486/600 busy, 408/480/487 no-answer, else failed.
std::string status_of_sip_failure(int sip_status);

}  // namespace sb::voice
