// The REST resource handlers under /2010-04-01, called by the router in api.cpp once the caller
// is authenticated and the path's account is in its scope.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <vector>

#include "api/context.hpp"
#include "http/server.hpp"

namespace sb::api {

// The account a request acts on and the request path, for `uri` fields and 404 messages.
struct Scope {
  const store::Account& caller;   // who authenticated
  const store::Account& account;  // the {AccountSid} of the path (caller or a subaccount)
  std::string_view path;
};

asio::awaitable<http::Response> list_accounts(Context& ctx, const store::Account& caller,
                                              const http::Form& query);
asio::awaitable<http::Response> create_account(Context& ctx, const store::Account& caller,
                                               const http::Form& params);
asio::awaitable<http::Response> update_account(Context& ctx, const Scope& scope,
                                               const http::Form& params);

// Twilio's auth token rotation (accounts.twilio.com/v1), served under kAccountsV1Base:
// POST/DELETE AuthTokens/Secondary and POST AuthTokens/Promote, for the authenticated account
// (its own credentials, primary or secondary token; not an API key). `base_url` prefixes `url`.
inline constexpr std::string_view kAccountsV1Base = "/accounts/v1/";
asio::awaitable<http::Response> handle_auth_tokens(Context& ctx, const http::Request& req,
                                                   http::RequestInfo& info, std::string_view path,
                                                   std::string base_url);

// Keys.json and Keys/{Sid}.json (API keys): callable with account credentials only; the
// router refuses API keys before these run.
asio::awaitable<http::Response> list_keys(Context& ctx, const Scope& scope,
                                          const http::Form& query);
// FriendlyName and our extension Scopes (rest, publish, subscribe; comma-separated or
// repeated; default all three). The response carries the secret, the only time it is shown.
asio::awaitable<http::Response> create_key(Context& ctx, const Scope& scope,
                                           const http::Form& params);
asio::awaitable<http::Response> fetch_key(Context& ctx, const Scope& scope, std::string_view sid);
asio::awaitable<http::Response> update_key(Context& ctx, const Scope& scope, std::string_view sid,
                                           const http::Form& params);
asio::awaitable<http::Response> delete_key(Context& ctx, const Scope& scope, std::string_view sid);

// SIP/CredentialLists, their Credentials, SIP/Domains and their credential-list mappings
// (sip_domains.cpp). Item handlers take the verb the router matched.
enum class Verb { kList, kCreate, kFetch, kUpdate, kDelete };
asio::awaitable<http::Response> list_credential_lists(Context& ctx, const Scope& scope,
                                                      const http::Form& query);
asio::awaitable<http::Response> create_credential_list(Context& ctx, const Scope& scope,
                                                       const http::Form& params);
asio::awaitable<http::Response> credential_list_item(Context& ctx, const Scope& scope,
                                                     std::string_view sid, Verb verb,
                                                     const http::Form& params);
asio::awaitable<http::Response> list_credentials(Context& ctx, const Scope& scope,
                                                 std::string_view list_sid,
                                                 const http::Form& query);
asio::awaitable<http::Response> create_credential(Context& ctx, const Scope& scope,
                                                  std::string_view list_sid,
                                                  const http::Form& params);
asio::awaitable<http::Response> credential_item(Context& ctx, const Scope& scope,
                                                std::string_view list_sid, std::string_view sid,
                                                Verb verb, const http::Form& params);
asio::awaitable<http::Response> list_sip_domains(Context& ctx, const Scope& scope,
                                                 const http::Form& query);
asio::awaitable<http::Response> create_sip_domain(Context& ctx, const Scope& scope,
                                                  const http::Form& params);
asio::awaitable<http::Response> sip_domain_item(Context& ctx, const Scope& scope,
                                                std::string_view sid, Verb verb,
                                                const http::Form& params);
// Domains/{SD}/CredentialListMappings[/{CL}].json (legacy: calls),
// Domains/{SD}/Auth/{Calls,Registrations}/CredentialListMappings[/{CL}].json.
struct MappingTarget {
  std::string_view domain_sid;
  store::MappingKind kind = store::MappingKind::kCalls;
  bool legacy = false;
  std::string_view list_sid;  // item routes
};
asio::awaitable<http::Response> domain_mappings(Context& ctx, const Scope& scope,
                                                const MappingTarget& target, Verb verb,
                                                const http::Form& params);

asio::awaitable<http::Response> list_numbers(Context& ctx, const Scope& scope,
                                             const http::Form& query);
asio::awaitable<http::Response> create_number(Context& ctx, const Scope& scope,
                                              const http::Form& params);
asio::awaitable<http::Response> fetch_number(Context& ctx, const Scope& scope,
                                             std::string_view sid);
asio::awaitable<http::Response> update_number(Context& ctx, const Scope& scope,
                                              std::string_view sid, const http::Form& params);
asio::awaitable<http::Response> delete_number(Context& ctx, const Scope& scope,
                                              std::string_view sid);

asio::awaitable<http::Response> list_applications(Context& ctx, const Scope& scope,
                                                  const http::Form& query);
asio::awaitable<http::Response> create_application(Context& ctx, const Scope& scope,
                                                   const http::Form& params);
asio::awaitable<http::Response> fetch_application(Context& ctx, const Scope& scope,
                                                  std::string_view sid);
asio::awaitable<http::Response> update_application(Context& ctx, const Scope& scope,
                                                   std::string_view sid, const http::Form& params);
asio::awaitable<http::Response> delete_application(Context& ctx, const Scope& scope,
                                                   std::string_view sid);

// Notifications.json, or Calls/{CallSid}/Notifications.json with `call_sid`.
asio::awaitable<http::Response> list_notifications(Context& ctx, const Scope& scope,
                                                   const http::Form& query,
                                                   std::string_view call_sid = {});
asio::awaitable<http::Response> fetch_notification(Context& ctx, const Scope& scope,
                                                   std::string_view sid,
                                                   std::string_view call_sid = {});
boost::json::object notification_json(const store::Notification& n);

// Calls/{CallSid}/Events.json: the call's exchanges with its application, oldest first.
asio::awaitable<http::Response> list_call_events(Context& ctx, const Scope& scope,
                                                 const http::Form& query,
                                                 std::string_view call_sid);
boost::json::object call_event_json(const store::CallEvent& e);

asio::awaitable<http::Response> list_calls(Context& ctx, const Scope& scope,
                                           const http::Form& query);
// OutgoingCallerIds.json (GET: the list; POST: a validation request, which adds one) and
// OutgoingCallerIds/{Sid}.json.
asio::awaitable<http::Response> list_caller_ids(Context& ctx, const Scope& scope,
                                                const http::Form& query);
asio::awaitable<http::Response> create_validation_request(Context& ctx, const Scope& scope,
                                                          const http::Form& params);
asio::awaitable<http::Response> fetch_caller_id(Context& ctx, const Scope& scope,
                                                std::string_view sid);
asio::awaitable<http::Response> update_caller_id(Context& ctx, const Scope& scope,
                                                 std::string_view sid, const http::Form& params);
asio::awaitable<http::Response> delete_caller_id(Context& ctx, const Scope& scope,
                                                 std::string_view sid);

// SIP/Trunks.json and SIP/Trunks/{Sid}.json (an extension): an account's outbound trunks.
asio::awaitable<http::Response> list_trunks(Context& ctx, const Scope& scope,
                                            const http::Form& query);
asio::awaitable<http::Response> create_trunk(Context& ctx, const Scope& scope,
                                             const http::Form& params);
asio::awaitable<http::Response> fetch_trunk(Context& ctx, const Scope& scope, std::string_view sid);
asio::awaitable<http::Response> update_trunk(Context& ctx, const Scope& scope, std::string_view sid,
                                             const http::Form& params);
asio::awaitable<http::Response> delete_trunk(Context& ctx, const Scope& scope,
                                             std::string_view sid);

// Calls.json create: an outbound call (queued, then dialled at the account's rate).
asio::awaitable<http::Response> create_call(Context& ctx, const Scope& scope,
                                            const http::Form& params);
asio::awaitable<http::Response> fetch_call(Context& ctx, const Scope& scope, std::string_view sid);
// Live call modification: Url (+Method) or Twiml runs a new document; Status=completed hangs up;
// Status=canceled ends a call that is not answered yet.
asio::awaitable<http::Response> update_call(Context& ctx, const Scope& scope, std::string_view sid,
                                            const http::Form& params);
boost::json::object call_json(const store::Call& call);
// Calls/{CallSid}/Streams.json: a Media Stream on a live call (streams.cpp).
asio::awaitable<http::Response> create_stream(Context& ctx, const Scope& scope,
                                              std::string_view call_sid, const http::Form& params);
// Calls/{CallSid}/Streams/{Sid|Name}.json: Status=stopped.
asio::awaitable<http::Response> update_stream(Context& ctx, const Scope& scope,
                                              std::string_view call_sid,
                                              const std::string& sid_or_name,
                                              const http::Form& params);

// What Calls.json and Participants.json share of creating an outbound call (calls.cpp), in the
// order create_call runs them. Each refusal is Twilio's (21201, 21210, 21205, 21208, …).
// To and From onto request.info (and the From number's SID): From must be one of the account's
// numbers or verified caller IDs when it is a number. The response refusing the call, if any.
std::optional<http::Response> check_call_parties(Context& ctx, const Scope& scope,
                                                 const http::Form& params,
                                                 voice::OutboundRequest& request);
// StatusCallback, StatusCallbackMethod and StatusCallbackEvent onto `app`; with `document`,
// also Method, FallbackUrl and FallbackMethod (the settings of a call's own Url).
Status apply_call_webhooks(const http::Form& params, voice::VoiceApplication& app, bool document);
// Timeout (`min_timeout`..600 s, default 60), TimeLimit, SendDigits, SipAuthUsername and
// SipAuthPassword, MachineDetection and its settings, Record and the recording's settings.
Status apply_call_settings(const http::Form& params, int min_timeout,
                           voice::OutboundRequest& request);
// The queued record of a checked request (429 when the account's dialling queue is full). The
// caller commits it, then hands both to dial_queued_call: a call is never dialled without its row.
Result<store::Call> queued_call_record(Context& ctx, const Scope& scope,
                                       const voice::OutboundRequest& request);
void dial_queued_call(Context& ctx, const Scope& scope, const store::Call& record,
                      voice::OutboundRequest request);
// "2026-12-01" -> Unix seconds at 00:00 GMT; nullopt when not a real date.
std::optional<std::int64_t> parse_day(std::string_view text);
// parse_day's dates, or ISO 8601 date-times as the official clients send them
// ("2026-12-01T17:00:00Z", an optional fraction, or an offset "+01:00") -> Unix seconds.
std::optional<std::int64_t> parse_date_time(std::string_view text);
// Twilio's date filters on a list: `name` (that GMT day: its midnight in `on_day`), `name<` (on
// or before) and `name>` (on or after), each a date or a date-time; 400/20001 naming the bad one.
Status parse_date_filters(const http::Form& query, std::string_view name,
                          std::optional<std::int64_t>& on_day, std::optional<std::int64_t>& before,
                          std::optional<std::int64_t>& after);

// Recordings (account-wide, or one call's when `call_sid` is not empty). `public_base` is what
// media_url starts with ("https://sb.example.com"; empty: a path).
asio::awaitable<http::Response> list_recordings(Context& ctx, const Scope& scope,
                                                const http::Form& query, std::string_view call_sid,
                                                std::string_view public_base);
asio::awaitable<http::Response> fetch_recording(Context& ctx, const Scope& scope,
                                                std::string_view sid, std::string_view call_sid,
                                                std::string_view public_base);
// Deletes the row, then the WAV file; 400 while the recording is still in progress or paused.
asio::awaitable<http::Response> delete_recording(Context& ctx, const Scope& scope,
                                                 std::string_view sid, std::string_view call_sid);
boost::json::object recording_json(const store::Recording& r, std::string_view public_base);
// The media of Recordings/{Sid} with `extension` "" or "wav" (audio/x-wav); "mp3" is refused
// (no encoder). Unauthenticated, as Twilio serves media by default: the SID is the secret.
http::Response recording_media(Context& ctx, std::string_view account_sid, std::string_view sid,
                               std::string_view extension, std::string_view path);

// Messages.json, Messages/{Sid}.json and their Media (messages.cpp).
boost::json::object message_json(const store::Message& m);
asio::awaitable<http::Response> list_messages(Context& ctx, const Scope& scope,
                                              const http::Form& query);
// To, From, Body, MediaUrl (up to 10), StatusCallback(Method), ApplicationSid, ValidityPeriod,
// SendAt + ScheduleType=fixed; stored (queued or scheduled) before the 201, then sent.
asio::awaitable<http::Response> create_message(Context& ctx, const Scope& scope,
                                               const http::Form& params);
asio::awaitable<http::Response> fetch_message(Context& ctx, const Scope& scope,
                                              std::string_view sid);
// Body="" redacts a finished message; Status=canceled cancels a scheduled one.
asio::awaitable<http::Response> update_message(Context& ctx, const Scope& scope,
                                               std::string_view sid, const http::Form& params);
asio::awaitable<http::Response> delete_message(Context& ctx, const Scope& scope,
                                               std::string_view sid);
asio::awaitable<http::Response> list_message_media(Context& ctx, const Scope& scope,
                                                   std::string_view message_sid,
                                                   const http::Form& query);
asio::awaitable<http::Response> message_media_item(Context& ctx, const Scope& scope,
                                                   std::string_view message_sid,
                                                   std::string_view sid, bool del);
// The bytes of Messages/{SM}/Media/{ME} (no extension), unauthenticated as Twilio serves them.
http::Response message_media_content(Context& ctx, std::string_view account_sid,
                                     std::string_view message_sid, std::string_view sid,
                                     std::string_view path);

// Conferences.json and Conferences/{Sid}.json (conferences.cpp): the rooms' records. Update
// takes Status=completed (the room ends, its participants go on after their <Dial>).
asio::awaitable<http::Response> list_conferences(Context& ctx, const Scope& scope,
                                                 const http::Form& query);
asio::awaitable<http::Response> fetch_conference(Context& ctx, const Scope& scope,
                                                 std::string_view sid);
asio::awaitable<http::Response> update_conference(Context& ctx, const Scope& scope,
                                                  std::string_view sid, const http::Form& params);
// Conferences/{ConferenceSid}/Participants[/{CallSid|Label}].json: the live room's participants
// (none once it is over). `who` is a CallSid or a label, percent-decoded.
asio::awaitable<http::Response> list_participants(Context& ctx, const Scope& scope,
                                                  std::string_view conference_sid,
                                                  const http::Form& query);
// An outbound call (checked as Calls.json checks one) that joins the room once answered.
// `conference` is a live conference's SID or a FriendlyName (percent-decoded; the room opens
// when none of that name is live).
asio::awaitable<http::Response> create_participant(Context& ctx, const Scope& scope,
                                                   std::string_view conference,
                                                   const http::Form& params);
asio::awaitable<http::Response> fetch_participant(Context& ctx, const Scope& scope,
                                                  std::string_view conference_sid,
                                                  std::string_view who);
// Muted, Hold (+HoldUrl, HoldMethod), AnnounceUrl, WaitUrl, BeepOnExit, EndConferenceOnExit,
// Coaching, CallSidToCoach: only what is given changes.
asio::awaitable<http::Response> update_participant(Context& ctx, const Scope& scope,
                                                   std::string_view conference_sid,
                                                   std::string_view who, const http::Form& params);
// Kicks the participant: its call goes on after its <Dial>.
asio::awaitable<http::Response> delete_participant(Context& ctx, const Scope& scope,
                                                   std::string_view conference_sid,
                                                   std::string_view who);

// Queues.json and Queues/{Sid}.json (queues.cpp). Delete refuses a queue with callers in it.
asio::awaitable<http::Response> list_queues(Context& ctx, const Scope& scope,
                                            const http::Form& query);
asio::awaitable<http::Response> create_queue(Context& ctx, const Scope& scope,
                                             const http::Form& params);
asio::awaitable<http::Response> fetch_queue(Context& ctx, const Scope& scope, std::string_view sid);
asio::awaitable<http::Response> update_queue(Context& ctx, const Scope& scope, std::string_view sid,
                                             const http::Form& params);
asio::awaitable<http::Response> delete_queue(Context& ctx, const Scope& scope,
                                             std::string_view sid);
// Queues/{QueueSid}/Members[/{CallSid|Front}].json: the callers waiting, front first.
asio::awaitable<http::Response> list_queue_members(Context& ctx, const Scope& scope,
                                                   std::string_view queue_sid,
                                                   const http::Form& query);
asio::awaitable<http::Response> fetch_queue_member(Context& ctx, const Scope& scope,
                                                   std::string_view queue_sid,
                                                   std::string_view who);
// Url (required) and Method (default POST): the member leaves the queue and its call runs Url.
asio::awaitable<http::Response> dequeue_queue_member(Context& ctx, const Scope& scope,
                                                     std::string_view queue_sid,
                                                     std::string_view who,
                                                     const http::Form& params);

// A list of live state (participants, queue members) paged as the store pages its rows: `id`
// orders the rows and is what PageToken carries. 400 for bad paging parameters.
struct LiveRow {
  std::int64_t id = 0;
  boost::json::object json;
};
http::Response live_list_response(std::string_view key, std::vector<LiveRow> rows,
                                  const http::Form& query, std::string_view path,
                                  std::string_view filters);

// "FriendlyName=x&Status=active&" for the filters present, carried into page URIs.
std::string encode_filters(const http::Form& query, std::initializer_list<const char*> keys);

}  // namespace sb::api
