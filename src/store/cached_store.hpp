// A Store decorator that serves the hot reads (authentication: accounts and API keys; call
// routing: numbers by phone, applications, accounts) from memory kept in step with the writer,
// so that those paths never wait on SQLite on an event loop. Everything else passes through.
#pragma once

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/store.hpp"

namespace sb::store {

class CachedStore final : public Store {
 public:
  // Loads accounts, API keys, numbers and applications from `inner`. `inner` must outlive the
  // cache, and every write to those tables must go through the cache from then on (a row that
  // another process writes into the file is not seen until the next open).
  static Result<std::unique_ptr<CachedStore>> open(Store& inner);
  // Waits for the writes queued through the cache: their completions update it.
  ~CachedStore() override;

  CachedStore(const CachedStore&) = delete;
  CachedStore& operator=(const CachedStore&) = delete;

  // Served from memory.
  Result<std::optional<Account>> find_account(std::string_view sid) override;
  Result<std::optional<ApiKey>> find_api_key(std::string_view account_sid,
                                             std::string_view sid) override;
  Result<std::optional<ApiKey>> find_api_key_by_sid(std::string_view sid) override;
  Result<std::optional<IncomingNumber>> find_number(std::string_view account_sid,
                                                    std::string_view sid) override;
  Result<std::optional<IncomingNumber>> find_number_by_phone(
      std::string_view phone_number) override;
  Result<std::optional<Application>> find_application(std::string_view account_sid,
                                                      std::string_view sid) override;

  // Passed through to the inner store.
  Result<std::optional<Account>> first_main_account() override;
  Result<Page<Account>> list_accounts(const AccountFilter& filter,
                                      const PageRequest& page) override;
  Result<Page<ApiKey>> list_api_keys(const ApiKeyFilter& filter, const PageRequest& page) override;
  Result<Page<IncomingNumber>> list_numbers(const NumberFilter& filter,
                                            const PageRequest& page) override;
  Result<Page<Application>> list_applications(const ApplicationFilter& filter,
                                              const PageRequest& page) override;
  Result<std::optional<Notification>> find_notification(std::string_view account_sid,
                                                        std::string_view sid) override;
  Result<Page<Notification>> list_notifications(const NotificationFilter& filter,
                                                const PageRequest& page) override;
  Result<std::optional<CallerId>> find_caller_id(std::string_view account_sid,
                                                 std::string_view sid) override;
  Result<std::optional<CallerId>> find_caller_id_by_phone(std::string_view account_sid,
                                                          std::string_view phone_number) override;
  Result<Page<CallerId>> list_caller_ids(const CallerIdFilter& filter,
                                         const PageRequest& page) override;
  Result<std::optional<SipTrunk>> find_trunk(std::string_view account_sid,
                                             std::string_view sid) override;
  Result<Page<SipTrunk>> list_trunks(const TrunkFilter& filter, const PageRequest& page) override;
  Result<std::optional<CredentialList>> find_credential_list(std::string_view account_sid,
                                                             std::string_view sid) override;
  Result<Page<CredentialList>> list_credential_lists(const SipFilter& filter,
                                                     const PageRequest& page) override;
  Result<std::optional<SipCredential>> find_credential(std::string_view account_sid,
                                                       std::string_view list_sid,
                                                       std::string_view sid) override;
  Result<Page<SipCredential>> list_credentials(const SipFilter& filter,
                                               const PageRequest& page) override;
  Result<std::optional<SipDomain>> find_sip_domain(std::string_view account_sid,
                                                   std::string_view sid) override;
  Result<std::optional<SipDomain>> find_sip_domain_by_name(std::string_view domain_name) override;
  Result<Page<SipDomain>> list_sip_domains(const SipFilter& filter,
                                           const PageRequest& page) override;
  Result<Page<DomainMapping>> list_domain_mappings(const SipFilter& filter,
                                                   const PageRequest& page) override;
  Result<std::optional<SipCredential>> find_domain_user(std::string_view domain_sid,
                                                        MappingKind kind,
                                                        std::string_view username) override;
  Result<std::optional<Call>> find_call(std::string_view account_sid,
                                        std::string_view sid) override;
  Result<Page<Call>> list_calls(const CallFilter& filter, const PageRequest& page) override;
  Result<Page<CallEvent>> list_call_events(std::string_view account_sid, std::string_view call_sid,
                                           const PageRequest& page) override;
  Result<std::optional<Recording>> find_recording(std::string_view account_sid,
                                                  std::string_view sid) override;
  Result<Page<Recording>> list_recordings(const RecordingFilter& filter,
                                          const PageRequest& page) override;
  Result<std::optional<Conference>> find_conference(std::string_view account_sid,
                                                    std::string_view sid) override;
  Result<Page<Conference>> list_conferences(const ConferenceFilter& filter,
                                            const PageRequest& page) override;
  Result<std::optional<Queue>> find_queue(std::string_view account_sid,
                                          std::string_view sid) override;
  Result<std::optional<Queue>> find_queue_by_name(std::string_view account_sid,
                                                  std::string_view friendly_name) override;
  Result<Page<Queue>> list_queues(std::string_view account_sid, const PageRequest& page) override;

  Result<std::optional<Message>> find_message(std::string_view account_sid,
                                              std::string_view sid) override;
  Result<Page<Message>> list_messages(const MessageFilter& filter,
                                      const PageRequest& page) override;
  Result<std::vector<Message>> list_unfinished_messages(std::size_t limit) override;
  Result<std::optional<MessageMedia>> find_message_media(std::string_view account_sid,
                                                         std::string_view message_sid,
                                                         std::string_view sid) override;
  Result<Page<MessageMedia>> list_message_media(std::string_view account_sid,
                                                std::string_view message_sid,
                                                const PageRequest& page) override;
  Result<bool> is_opted_out(std::string_view account_sid, std::string_view number,
                            std::string_view address) override;

  // A committed write to a cached table is applied to memory in its completion, before `done`
  // runs, so the caller's next read sees it; a failed one changes nothing.
  void write(Mutation mutation, std::function<void(Status)> done) override;
  void flush() override;

  // How many rows are held, for tests and logs.
  struct Counts {
    std::size_t accounts = 0, api_keys = 0, numbers = 0, applications = 0;
  };
  Counts counts() const;

 private:
  struct Applier;  // applies one committed mutation (cached_store.cpp)

  explicit CachedStore(Store& inner) : inner_(inner) {}
  Status load();
  void apply(const Mutation& mutation);

  // Heterogeneous lookup: find by string_view without building a string.
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  template <typename T>
  using Rows = std::unordered_map<std::string, std::shared_ptr<const T>, TextHash, std::equal_to<>>;

  template <typename T>
  std::shared_ptr<const T> lookup(const Rows<T>& rows, std::string_view key) const;

  Store& inner_;
  // Rows are immutable once published: a reader copies the pointer under the shared lock and
  // the row after it, so it sees a whole old or a whole new row. Writers replace pointers under
  // the exclusive lock, held only for the map operations.
  mutable std::shared_mutex rows_mu_;
  Rows<Account> accounts_;                 // by SID
  Rows<ApiKey> api_keys_;                  // by SID
  Rows<IncomingNumber> numbers_;           // by SID
  Rows<IncomingNumber> numbers_by_phone_;  // the same rows, by phone_number (unique)
  Rows<Application> applications_;         // by SID
  // Serializes appliers, which read the maps without rows_mu_ (only they change them).
  std::mutex apply_mu_;
};

}  // namespace sb::store
