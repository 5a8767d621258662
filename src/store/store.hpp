// The store's interface: reads on the caller's thread, writes through one queued writer.
// SqliteStore implements it; later, a PostgreSQL store for cluster mode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/error.hpp"
#include "store/models.hpp"

namespace sb::store {

// A page of a list: rows after `after_id` (keyset) or, without it, skipping `offset` rows.
struct PageRequest {
  std::int64_t after_id = 0;
  std::int64_t offset = 0;
  std::size_t limit = 50;
  // A list in time order (calls filtered by start time): the previous page's last row's time,
  // with after_id breaking ties; -1 otherwise.
  std::int64_t after_time = -1;
};

template <typename T>
struct Page {
  std::vector<T> items;
  bool has_more = false;  // another row exists past this page
};

struct AccountFilter {
  std::string visible_to;  // the account itself and its subaccounts; empty: the main accounts
  std::string friendly_name;
  std::string status;
};

struct NumberFilter {
  std::string account_sid;
  std::string phone_number;  // substring; '*' matches any one character
  std::string friendly_name;
};

struct NotificationFilter {
  std::string account_sid;
  std::string call_sid;  // empty: every call
  int log = -1;          // -1: errors and warnings
};

struct CallFilter {
  std::string account_sid;
  std::string to;
  std::string from;
  std::string status;
  std::string parent_call_sid;
  std::int64_t started_after = 0;   // start_time >= this (0: no bound)
  std::int64_t started_before = 0;  // start_time < this (0: no bound)
};

// Twilio's Recordings list filters: CallSid, ConferenceSid, DateCreated (that day, GMT),
// DateCreated< (on or before) and DateCreated> (on or after); the bounds compare date_created,
// in Unix seconds.
struct RecordingFilter {
  std::string account_sid;
  std::string call_sid;                              // empty: every call
  std::optional<std::int64_t> created_before;        // date_created <= this
  std::optional<std::int64_t> created_after;         // date_created >= this
  std::optional<std::int64_t> created_on_day_start;  // within [this, this + 1 day)
  std::string conference_sid;  // empty: any (last, so that positional initializers keep working)
};

// Twilio's Conferences list filters: FriendlyName (exact), Status, DateCreated and DateUpdated
// (that day, GMT), with < (on or before) and > (on or after) as RecordingFilter has them; the
// bounds compare date_created and date_updated, in Unix seconds.
struct ConferenceFilter {
  std::string account_sid;
  std::string friendly_name;  // exact; empty: any
  std::string status;         // empty: any
  std::optional<std::int64_t> created_before, created_after, created_on_day_start;
  std::optional<std::int64_t> updated_before, updated_after, updated_on_day_start;
};

// Twilio's Messages list filters: To, From, DateSent (that day, GMT), DateSent< (on or before)
// and DateSent> (on or after). The bounds compare date_sent, or date_created for a message not
// sent yet (date_sent 0), in Unix seconds.
struct MessageFilter {
  std::string account_sid;
  std::string to;                                 // exact; empty: any
  std::string from;                               // exact; empty: any
  std::optional<std::int64_t> sent_before;        // <= this
  std::optional<std::int64_t> sent_after;         // >= this
  std::optional<std::int64_t> sent_on_day_start;  // within [this, this + 1 day)
};

struct ApplicationFilter {
  std::string account_sid;
  std::string friendly_name;
};

struct ApiKeyFilter {
  std::string account_sid;
};

struct TrunkFilter {
  std::string account_sid;  // empty: every account's (start-up)
};

// Credential lists, credentials, domains and mappings of one account, oldest first.
struct SipFilter {
  std::string account_sid;
  std::string parent_sid;                  // credentials: their list; mappings: their domain
  MappingKind kind = MappingKind::kCalls;  // mappings only
};

struct CallerIdFilter {
  std::string account_sid;
  std::string phone_number;   // exact; empty: any
  std::string friendly_name;  // exact; empty: any
};

// Writes. Insert fails with a conflict on a duplicate unique key; Update and Delete with
// not-found when the row is gone.
struct InsertAccount {
  Account account;
};
struct UpdateAccount {
  Account account;
};
struct InsertApiKey {
  ApiKey key;
};
// Writes the key's mutable fields (friendly_name, scopes, date_updated).
struct UpdateApiKey {
  ApiKey key;
};
struct DeleteApiKey {
  std::string account_sid, sid;
};
struct InsertNumber {
  IncomingNumber number;
};
struct UpdateNumber {
  IncomingNumber number;
};
struct DeleteNumber {
  std::string account_sid, sid;
};
struct InsertApplication {
  Application application;
};
struct UpdateApplication {
  Application application;
};
// Also clears the application from every number that pointed at it, in the same transaction.
struct DeleteApplication {
  std::string account_sid, sid;
};

struct InsertNotification {
  Notification notification;
};
struct InsertCall {
  Call call;
};
struct InsertCallEvent {
  CallEvent event;
};
// Writes the call's mutable fields (status, times, duration, answered_by, queue_time_ms).
struct UpdateCall {
  Call call;
};
// At start-up: the calls a previous process left unfinished (it stopped without ending them: a
// crash, a kill) get their end: queued ones canceled (never dialled), ringing ones failed,
// answered ones completed at `now` with the duration they had, so no row stays "ringing".
struct CloseInterruptedCalls {
  std::int64_t now = 0;  // Unix seconds
};
struct InsertRecording {
  Recording recording;
};
// A number may be a caller ID of an account once (conflict otherwise).
struct InsertCallerId {
  CallerId caller_id;
};
// SIP identities: `create` inserts (conflict on a duplicate unique key), else updates every
// mutable field (not-found when the row is gone).
struct SaveCredentialList {
  CredentialList list;
  bool create = true;
};
// Also deletes the list's credentials and its mappings to domains.
struct DeleteCredentialList {
  std::string account_sid, sid;
};
struct SaveCredential {  // unique: (credential_list_sid, username)
  SipCredential credential;
  bool create = true;
};
struct DeleteCredential {
  std::string account_sid, credential_list_sid, sid;
};
struct SaveSipDomain {  // unique: domain_name
  SipDomain domain;
  bool create = true;
};
// Also deletes the domain's mappings.
struct DeleteSipDomain {
  std::string account_sid, sid;
};
struct InsertDomainMapping {  // conflict when the list is already mapped that way
  DomainMapping mapping;
};
struct DeleteDomainMapping {
  std::string account_sid, domain_sid, credential_list_sid;
  MappingKind kind = MappingKind::kCalls;
};
// Writes friendly_name and date_updated.
struct UpdateCallerId {
  CallerId caller_id;
};
struct DeleteCallerId {
  std::string account_sid, sid;
};
struct InsertTrunk {
  SipTrunk trunk;
};
// Writes every field but sid, account_sid and date_created.
struct UpdateTrunk {
  SipTrunk trunk;
};
struct DeleteTrunk {
  std::string account_sid, sid;
};
// Writes the recording's mutable fields (status, channels, duration, start_time, media_path,
// error_code, conference_sid, date_updated).
struct UpdateRecording {
  Recording recording;
};
// Deletes the row only; the WAV file is the caller's to remove.
struct DeleteRecording {
  std::string account_sid, sid;
};

struct InsertConference {
  Conference conference;
};
// Writes the conference's mutable fields (status, region, reason_conference_ended,
// call_sid_ending_conference, date_updated).
struct UpdateConference {
  Conference conference;
};
// At start-up: the conferences a previous process left open (a crash, a kill) are completed at
// `now`, as if their last participant had left ("last-participant-left").
struct CloseInterruptedConferences {
  std::int64_t now = 0;  // Unix seconds
};
// Conflict when the account already has a queue of that friendly_name.
struct InsertQueue {
  Queue queue;
};
// Writes friendly_name, max_size and date_updated; conflict on another queue's name.
struct UpdateQueue {
  Queue queue;
};
struct DeleteQueue {
  std::string account_sid;
  std::string sid;
};

// A message and the media it arrived with, in one transaction; conflict on a duplicate SID. The
// media rows take the message's account_sid and sid as theirs.
struct InsertMessage {
  Message message;
  std::vector<MessageMedia> media;
};
// Writes the message's mutable fields (body, status, error_code, error_message, num_segments,
// num_media, date_sent, date_updated, send_at).
struct UpdateMessage {
  Message message;
};
// Also deletes the message's media.
struct DeleteMessage {
  std::string account_sid, sid;
};
struct DeleteMessageMedia {
  std::string account_sid, message_sid, sid;
};
// Whether `address` (the far party) has opted out of messages from `number` (ours), as STOP /
// START keywords set it: opted out inserts or refreshes the row, opted in removes it. Never
// not-found.
struct SetOptOut {
  std::string account_sid, number, address;
  bool opted_out = true;
  std::int64_t at = 0;  // Unix seconds
};

using Mutation = std::variant<
    InsertAccount, UpdateAccount, InsertNumber, UpdateNumber, DeleteNumber, InsertApplication,
    UpdateApplication, DeleteApplication, InsertNotification, InsertCall, InsertCallEvent,
    UpdateCall, CloseInterruptedCalls, InsertRecording, UpdateRecording, DeleteRecording,
    InsertApiKey, UpdateApiKey, DeleteApiKey, InsertCallerId, UpdateCallerId, DeleteCallerId,
    InsertTrunk, UpdateTrunk, DeleteTrunk, SaveCredentialList, DeleteCredentialList, SaveCredential,
    DeleteCredential, SaveSipDomain, DeleteSipDomain, InsertDomainMapping, DeleteDomainMapping,
    InsertMessage, UpdateMessage, DeleteMessage, DeleteMessageMedia, SetOptOut, InsertConference,
    UpdateConference, CloseInterruptedConferences, InsertQueue, UpdateQueue, DeleteQueue>;

// Error codes a write can fail with, beyond internal failures.
inline constexpr int kConflict = 409;

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<std::optional<Account>> find_account(std::string_view sid) = 0;
  // The first main (parentless) account created, if any.
  virtual Result<std::optional<Account>> first_main_account() = 0;
  virtual Result<Page<Account>> list_accounts(const AccountFilter& filter,
                                              const PageRequest& page) = 0;
  virtual Result<std::optional<ApiKey>> find_api_key(std::string_view account_sid,
                                                     std::string_view sid) = 0;
  // Authentication's lookup: the key's SID is the Basic-auth username, with no account beside it.
  virtual Result<std::optional<ApiKey>> find_api_key_by_sid(std::string_view sid) = 0;
  // Oldest first.
  virtual Result<Page<ApiKey>> list_api_keys(const ApiKeyFilter& filter,
                                             const PageRequest& page) = 0;

  virtual Result<std::optional<IncomingNumber>> find_number(std::string_view account_sid,
                                                            std::string_view sid) = 0;
  virtual Result<std::optional<IncomingNumber>> find_number_by_phone(
      std::string_view phone_number) = 0;
  virtual Result<Page<IncomingNumber>> list_numbers(const NumberFilter& filter,
                                                    const PageRequest& page) = 0;
  virtual Result<std::optional<Application>> find_application(std::string_view account_sid,
                                                              std::string_view sid) = 0;
  virtual Result<Page<Application>> list_applications(const ApplicationFilter& filter,
                                                      const PageRequest& page) = 0;

  virtual Result<std::optional<Notification>> find_notification(std::string_view account_sid,
                                                                std::string_view sid) = 0;
  virtual Result<Page<Notification>> list_notifications(const NotificationFilter& filter,
                                                        const PageRequest& page) = 0;

  virtual Result<std::optional<CallerId>> find_caller_id(std::string_view account_sid,
                                                         std::string_view sid) = 0;
  // The account's caller ID for `phone_number`, if it has one.
  virtual Result<std::optional<CallerId>> find_caller_id_by_phone(
      std::string_view account_sid, std::string_view phone_number) = 0;
  // Oldest first.
  virtual Result<Page<CallerId>> list_caller_ids(const CallerIdFilter& filter,
                                                 const PageRequest& page) = 0;

  virtual Result<std::optional<SipTrunk>> find_trunk(std::string_view account_sid,
                                                     std::string_view sid) = 0;
  // Oldest first.
  virtual Result<Page<SipTrunk>> list_trunks(const TrunkFilter& filter,
                                             const PageRequest& page) = 0;

  // SIP identities (SIP/CredentialLists, SIP/Domains and their mappings).
  virtual Result<std::optional<CredentialList>> find_credential_list(std::string_view account_sid,
                                                                     std::string_view sid) = 0;
  virtual Result<Page<CredentialList>> list_credential_lists(const SipFilter& filter,
                                                             const PageRequest& page) = 0;
  virtual Result<std::optional<SipCredential>> find_credential(std::string_view account_sid,
                                                               std::string_view list_sid,
                                                               std::string_view sid) = 0;
  virtual Result<Page<SipCredential>> list_credentials(const SipFilter& filter,
                                                       const PageRequest& page) = 0;
  virtual Result<std::optional<SipDomain>> find_sip_domain(std::string_view account_sid,
                                                           std::string_view sid) = 0;
  // The domain SIP requests to `domain_name` (lower case) are for, whichever account owns it.
  virtual Result<std::optional<SipDomain>> find_sip_domain_by_name(
      std::string_view domain_name) = 0;
  virtual Result<Page<SipDomain>> list_sip_domains(const SipFilter& filter,
                                                   const PageRequest& page) = 0;
  virtual Result<Page<DomainMapping>> list_domain_mappings(const SipFilter& filter,
                                                           const PageRequest& page) = 0;
  // The credential `username` has in one of the lists mapped to `domain_sid` as `kind`.
  virtual Result<std::optional<SipCredential>> find_domain_user(std::string_view domain_sid,
                                                                MappingKind kind,
                                                                std::string_view username) = 0;

  virtual Result<std::optional<Call>> find_call(std::string_view account_sid,
                                                std::string_view sid) = 0;
  // Newest first.
  virtual Result<Page<Call>> list_calls(const CallFilter& filter, const PageRequest& page) = 0;
  // The call's HTTP exchanges, oldest first; keyset paging upward from the last row's id.
  virtual Result<Page<CallEvent>> list_call_events(std::string_view account_sid,
                                                   std::string_view call_sid,
                                                   const PageRequest& page) = 0;

  virtual Result<std::optional<Recording>> find_recording(std::string_view account_sid,
                                                          std::string_view sid) = 0;
  // Newest first.
  virtual Result<Page<Recording>> list_recordings(const RecordingFilter& filter,
                                                  const PageRequest& page) = 0;

  virtual Result<std::optional<Conference>> find_conference(std::string_view account_sid,
                                                            std::string_view sid) = 0;
  // Newest first (date_created, then id, descending); keyset paging from the last row's id.
  virtual Result<Page<Conference>> list_conferences(const ConferenceFilter& filter,
                                                    const PageRequest& page) = 0;

  virtual Result<std::optional<Queue>> find_queue(std::string_view account_sid,
                                                  std::string_view sid) = 0;
  // The account's queue named `friendly_name` (exact), if it has one.
  virtual Result<std::optional<Queue>> find_queue_by_name(std::string_view account_sid,
                                                          std::string_view friendly_name) = 0;
  // Oldest first.
  virtual Result<Page<Queue>> list_queues(std::string_view account_sid,
                                          const PageRequest& page) = 0;

  virtual Result<std::optional<Message>> find_message(std::string_view account_sid,
                                                      std::string_view sid) = 0;
  // Newest first.
  virtual Result<Page<Message>> list_messages(const MessageFilter& filter,
                                              const PageRequest& page) = 0;
  // Outbound messages a sender has yet to finish (queued, accepted, sending, scheduled), every
  // account's, oldest first: at start-up, what a previous process left to send.
  virtual Result<std::vector<Message>> list_unfinished_messages(std::size_t limit) = 0;
  // The media item with its bytes.
  virtual Result<std::optional<MessageMedia>> find_message_media(std::string_view account_sid,
                                                                 std::string_view message_sid,
                                                                 std::string_view sid) = 0;
  // A message's media, oldest first, without their bytes (`data` is empty: find_message_media
  // reads one item's).
  virtual Result<Page<MessageMedia>> list_message_media(std::string_view account_sid,
                                                        std::string_view message_sid,
                                                        const PageRequest& page) = 0;
  // Whether `address` has opted out of the account's messages from `number`.
  virtual Result<bool> is_opted_out(std::string_view account_sid, std::string_view number,
                                    std::string_view address) = 0;

  // Queues a write; `done` runs on the writer thread once it is committed (or failed).
  // Error.status is kConflict for a unique-key clash, 404 for a missing row.
  virtual void write(Mutation mutation, std::function<void(Status)> done) = 0;

  // Blocks until every write queued so far is committed.
  virtual void flush() = 0;

  // Convenience for tools and tests: queue a write and wait for its outcome.
  Status write_sync(Mutation mutation);
};

}  // namespace sb::store
