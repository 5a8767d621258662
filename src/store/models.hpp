// The records the store keeps: accounts, API keys, incoming phone numbers, applications, the
// debugger log, calls, recordings, conferences, queues, messages with their media, and messaging
// opt-outs.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace sb::store {

struct Account {
  std::int64_t id = 0;    // row id: insertion order, used for keyset paging
  std::string sid;        // AC…
  std::string owner_sid;  // parent account SID; empty for a main account
  std::string friendly_name;
  std::string auth_token;
  std::string status = "active";  // active | suspended | closed
  std::string type = "Full";
  std::int64_t date_created = 0;  // Unix seconds
  std::int64_t date_updated = 0;
  // A second token accepted while the account rotates its token (Twilio's Secondary Auth
  // Token); empty when there is none. Webhooks are signed with auth_token only.
  std::string secondary_auth_token;
  std::int64_t secondary_created = 0;  // Unix seconds
  // The operator's per-account outbound policy (docs/security.md): nullopt follows the daemon's
  // http.outbound_deny_private, true/false replaces it for this account's fetches.
  std::optional<bool> outbound_deny_private;
  // Recording media served only with the account's credentials (Twilio's "Enforce HTTP Auth on
  // Media URLs").
  bool enforce_media_auth = false;

  bool is_main() const { return owner_sid.empty(); }
};

// A SIP trunk an account added through the REST API (SIP/Trunks.json, an extension), TK…:
// where its outbound calls to numbers with one of the prefixes go.
struct SipTrunk {
  std::int64_t id = 0;
  std::string sid;
  std::string account_sid;
  std::string friendly_name;      // the trunk's name
  std::string address;            // host:port
  std::string transport = "udp";  // udp, tcp, tls
  bool tls_verify = true;         // tls: check the trunk's certificate (TlsVerify=false: do not)
  std::string srtp;      // media encryption toward it: off, optional, required; "": media.srtp
  std::string prefixes;  // comma-separated ("+1,+44"); empty: every number
  std::string username;
  std::string password;  // digest credentials it answers challenges with; never shown
  std::string from_domain;
  std::int64_t date_created = 0;
  std::int64_t date_updated = 0;
};

// A list of SIP users (Twilio's SIP CredentialList, CL…); mapped to SIP domains, its users may
// register to them and call through them.
struct CredentialList {
  std::int64_t id = 0;
  std::string sid;
  std::string account_sid;
  std::string friendly_name;
  std::int64_t date_created = 0;
  std::int64_t date_updated = 0;
};

// One SIP user of a credential list (Twilio's Credential, CR…). The password is kept only as
// its two digest hashes, H(username:realm:password) in MD5 and SHA-256 (RFC 8760), for the
// realm it was set under.
struct SipCredential {
  std::int64_t id = 0;
  std::string sid;
  std::string account_sid;
  std::string credential_list_sid;
  std::string username;
  std::string realm;
  std::string ha1_md5;
  std::string ha1_sha256;
  std::int64_t date_created = 0;
  std::int64_t date_updated = 0;
};

// A SIP domain (Twilio's SIP Domain, SD…): a host name SIP requests are addressed to
// (sip:alice@office.example.com). Its users register to it, and calls to it run its VoiceUrl.
struct SipDomain {
  std::int64_t id = 0;
  std::string sid;
  std::string account_sid;
  std::string domain_name;  // unique across accounts; lower case
  std::string friendly_name;
  std::string voice_url;
  std::string voice_method = "POST";
  std::string voice_fallback_url;
  std::string voice_fallback_method = "POST";
  std::string voice_status_callback_url;
  std::string voice_status_callback_method = "POST";
  bool sip_registration = false;  // whether its users may register
  std::string srtp;  // media encryption of its calls: off, optional, required; "": media.srtp
  std::int64_t date_created = 0;
  std::int64_t date_updated = 0;
};

// Which credential lists authenticate a domain's registrations or calls (Twilio's
// Auth/Registrations and Auth/Calls CredentialListMappings; the legacy CredentialListMappings
// are the calls ones).
enum class MappingKind { kCalls, kRegistrations };
struct DomainMapping {
  std::int64_t id = 0;
  std::string account_sid;
  std::string domain_sid;
  std::string credential_list_sid;  // also the mapping's sid
  MappingKind kind = MappingKind::kCalls;
  std::string friendly_name;  // the list's, when read
  std::int64_t date_created = 0;
  std::int64_t date_updated = 0;
};

// A caller ID an account may place calls from besides its own numbers (Twilio's
// OutgoingCallerIds resource, PN…).
struct CallerId {
  std::int64_t id = 0;
  std::string sid;
  std::string account_sid;
  std::string phone_number;  // E.164
  std::string friendly_name;
  std::int64_t date_created = 0;
  std::int64_t date_updated = 0;
};

// An API key (Twilio's Key resource): SK… as the Basic-auth username and a secret as the
// password, acting as the account that created it within its scopes. Only a salted hash of the
// secret is kept; the secret itself is shown once, when the key is created.
struct ApiKey {
  std::int64_t id = 0;  // row id: keyset paging
  std::string sid;      // SK…
  std::string account_sid;
  std::string friendly_name;
  std::string secret_hash;  // api::hash_key_secret's output
  // "rest" (the 2010-04-01 API as the account), "publish" and "subscribe" (the /v1 events
  // API). All three is Twilio's Standard key.
  std::set<std::string, std::less<>> scopes;
  std::int64_t date_created = 0;
  std::int64_t date_updated = 0;

  bool has_scope(std::string_view scope) const { return scopes.contains(scope); }
};

// What numbers and applications share: where voice and SMS requests go.
struct WebhookSettings {
  std::string voice_url;
  std::string voice_method = "POST";
  std::string voice_fallback_url;
  std::string voice_fallback_method = "POST";
  std::string status_callback;
  std::string status_callback_method = "POST";
  std::string sms_url;
  std::string sms_method = "POST";
  std::string sms_fallback_url;
  std::string sms_fallback_method = "POST";
};

struct IncomingNumber {
  std::int64_t id = 0;
  std::string sid;  // PN…
  std::string account_sid;
  std::string phone_number;  // E.164 (+14155550100) or a SIP user part (1000, support)
  std::string friendly_name;
  std::string voice_application_sid;
  std::string sms_application_sid;
  WebhookSettings hooks;
  std::int64_t date_created = 0;
  std::int64_t date_updated = 0;
};

struct Application {
  std::int64_t id = 0;
  std::string sid;  // AP…
  std::string account_sid;
  std::string friendly_name;
  std::string sms_status_callback;
  WebhookSettings hooks;
  std::int64_t date_created = 0;
  std::int64_t date_updated = 0;
};

// One entry of the debugger log (Twilio's Notifications resource): a webhook or TwiML error or
// warning, with excerpts of the request and response that caused it.
struct Notification {
  std::int64_t id = 0;
  std::string sid;  // NO…
  std::string account_sid;
  std::string call_sid;
  int log = 0;  // 0 error, 1 warning
  int error_code = 0;
  std::string message_text;
  std::string request_method;
  std::string request_url;
  std::string request_variables;  // form-encoded
  std::string response_body;      // excerpt
  std::string response_headers;   // "Name: value" lines
  std::int64_t date_created = 0;
};

// One HTTP exchange the daemon had with a call's application (Twilio's Call Events resource):
// the TwiML request, its fallback, an action, a status callback. `response_code` is 0 when no
// answer came (refused, timed out), and then `error_code` says why.
struct CallEvent {
  std::int64_t id = 0;
  std::string account_sid;
  std::string call_sid;
  std::string type;  // webhook, fallback, action, status_callback
  std::string request_method;
  std::string request_url;
  std::string request_variables;  // form-encoded, in the order sent
  int response_code = 0;
  std::string content_type;
  std::string response_headers;  // "Name: value" lines
  std::string response_body;     // the first 64 KiB
  int duration_ms = 0;
  int error_code = 0;
  std::string error_message;
  std::int64_t date_created_ms = 0;
};

// A call's record (Twilio's Call resource); status moves queued/ringing -> in-progress ->
// completed, or ends busy, failed, no-answer, canceled.
struct Call {
  std::int64_t id = 0;
  std::string sid;  // CA…
  std::string account_sid;
  std::string parent_call_sid;
  std::string phone_number_sid;
  std::string to;
  std::string from;
  std::string status = "queued";
  std::string direction = "inbound";  // inbound, outbound-api, outbound-dial
  std::string answered_by;
  std::string forwarded_from;
  std::string caller_name;
  std::int64_t start_time = 0;  // Unix seconds; 0 = not started
  std::int64_t end_time = 0;
  std::int64_t duration = 0;       // seconds
  std::int64_t queue_time_ms = 0;  // outbound: how long it waited queued before it was dialled
  std::int64_t date_created = 0;
  std::int64_t date_updated = 0;
  // The call's RTP, written as it ends (an extension: Twilio's Call has no such fields).
  struct Media {
    std::int64_t packets_received = 0, packets_sent = 0, bytes_received = 0, bytes_sent = 0;
    std::int64_t packets_lost = 0, packets_late = 0;
  } media;
  // The SIP signalling's summary, written as the call ends (an extension): a JSON object made
  // by voice::SipTrace (Call-ID, peer, codec, who hung up, the messages in order); empty when
  // the call had no SIP dialog.
  std::string sip_summary;
};

// A call's recording (Twilio's Recording resource): the row, and the WAV file it points at.
struct Recording {
  std::int64_t id = 0;  // row id: keyset paging, newest first
  std::string sid;      // RE…
  std::string account_sid;
  std::string call_sid;
  std::string conference_sid;  // CF…; empty when the recording is not of a conference
  // in-progress | paused | stopped | processing | completed | absent | failed
  std::string status = "completed";
  // RecordVerb | DialVerb | StartCallRecordingAPI | OutboundAPI | Trunking | Conference | …
  std::string source = "RecordVerb";
  int channels = 1;
  std::int64_t duration = 0;    // seconds (Twilio renders it as a string)
  std::int64_t start_time = 0;  // Unix seconds
  std::int64_t date_created = 0;
  std::int64_t date_updated = 0;
  std::string media_path;  // the WAV file: absolute, or relative to the recordings directory
  int error_code = 0;      // 0: none
};

// A conference room's record (Twilio's Conference resource): status moves init -> in-progress
// -> completed. The room itself (its participants) lives in the voice module while it runs.
struct Conference {
  std::int64_t id = 0;  // row id: keyset paging, newest first
  std::string sid;      // CF…
  std::string account_sid;
  std::string friendly_name;               // <= 128 characters (checked by callers)
  std::string status = "init";             // init | in-progress | completed
  std::string region;                      // "" = none
  std::string reason_conference_ended;     // "" while not completed
  std::string call_sid_ending_conference;  // "" when none
  std::int64_t date_created = 0;           // Unix seconds
  std::int64_t date_updated = 0;
};

// A call queue (Twilio's Queue resource, QU…). Its members are the calls waiting in it, held by
// the voice module; the row is the queue's name and size limit.
struct Queue {
  std::int64_t id = 0;  // row id: keyset paging, oldest first
  std::string sid;      // QU…
  std::string account_sid;
  std::string friendly_name;  // <= 64 characters; unique per account
  int max_size = 1000;
  std::int64_t date_created = 0;  // Unix seconds
  std::int64_t date_updated = 0;
};

// A message (Twilio's Message resource). Outbound: queued -> sending -> sent -> delivered |
// undelivered | failed; scheduled -> (queued ...) | canceled. Inbound: received.
struct Message {
  std::int64_t id = 0;  // row id: keyset paging, newest first
  std::string sid;      // SM…
  std::string account_sid;
  std::string messaging_service_sid;
  std::string from, to;
  std::string body;
  std::string status = "queued";
  std::string direction = "outbound-api";  // inbound, outbound-api, outbound-call, outbound-reply
  int num_segments = 1;
  int num_media = 0;
  int error_code = 0;  // 0: none
  std::string error_message;
  std::string status_callback;  // URL ("" none)
  std::string status_callback_method = "POST";
  std::string application_sid;
  std::vector<std::string> media_urls;  // outbound MediaUrl values, in order
  int validity_period = 36000;          // seconds
  std::int64_t send_at = 0;             // Unix seconds, scheduled messages (0: not scheduled)
  std::int64_t date_created = 0, date_updated = 0, date_sent = 0;  // Unix seconds (0: null)
};

// One media item of a received message (stored bytes) — Twilio's Media resource ME….
struct MessageMedia {
  std::int64_t id = 0;  // row id: keyset paging, oldest first
  std::string sid;      // ME…
  std::string account_sid;
  std::string message_sid;
  std::string content_type;
  std::string data;  // the bytes (BLOB)
  std::int64_t date_created = 0, date_updated = 0;
};

}  // namespace sb::store
