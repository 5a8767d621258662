// The embedded store: one SQLite file in WAL mode, written through a SqliteWriter (one thread
// committing queued writes in batches), and a pool of reader connections so reads never wait
// on the writer.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/sqlite_writer.hpp"
#include "store/store.hpp"

namespace sb::store {

class SqliteStore final : public Store {
 public:
  struct Options {
    std::size_t max_batch = 256;  // writes committed in one transaction at most
  };

  // Opens (creating if needed) and migrates the file at `path`.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path);
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path, Options options);
  ~SqliteStore() override;

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Result<std::optional<Account>> find_account(std::string_view sid) override;
  Result<std::optional<Account>> first_main_account() override;
  Result<Page<Account>> list_accounts(const AccountFilter& filter,
                                      const PageRequest& page) override;
  Result<std::optional<ApiKey>> find_api_key(std::string_view account_sid,
                                             std::string_view sid) override;
  Result<std::optional<ApiKey>> find_api_key_by_sid(std::string_view sid) override;
  Result<Page<ApiKey>> list_api_keys(const ApiKeyFilter& filter, const PageRequest& page) override;
  Result<std::optional<IncomingNumber>> find_number(std::string_view account_sid,
                                                    std::string_view sid) override;
  Result<std::optional<IncomingNumber>> find_number_by_phone(
      std::string_view phone_number) override;
  Result<Page<IncomingNumber>> list_numbers(const NumberFilter& filter,
                                            const PageRequest& page) override;
  Result<std::optional<Application>> find_application(std::string_view account_sid,
                                                      std::string_view sid) override;
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

  void write(Mutation mutation, std::function<void(Status)> done) override;
  void flush() override;

  // Drains the queue, checkpoints the WAL and stops the writer; later writes fail.
  void close();

  class Connection;  // a sqlite3 handle with its prepared statements

 private:
  SqliteStore(std::string path, Options options, std::unique_ptr<Connection> writer);

  class ReaderLease;
  Result<ReaderLease> borrow_reader();
  void give_back(std::unique_ptr<Connection> conn);

  std::string path_;
  Options options_;
  std::unique_ptr<Connection> writer_conn_;

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;

  // After writer_conn_: destroyed (joined) before the connection it writes on.
  std::unique_ptr<SqliteWriter> writer_;
};

}  // namespace sb::store
