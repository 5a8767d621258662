// A Store that forwards to another and counts the reads that reach it, per calling thread, so a
// test can show which paths read the database and on which thread.
#pragma once

#include <map>
#include <mutex>
#include <thread>

#include "store/store.hpp"

namespace sb::testing {

class CountingStore final : public store::Store {
 public:
  explicit CountingStore(store::Store& inner) : inner_(inner) {}

  int reads() const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& [_, count] : reads_) n += count;
    return n;
  }
  int reads_on(std::thread::id thread) const {
    std::lock_guard lock(mu_);
    auto it = reads_.find(thread);
    return it == reads_.end() ? 0 : it->second;
  }
  void reset() {
    std::lock_guard lock(mu_);
    reads_.clear();
  }

  using store::Store::write_sync;

  Result<std::optional<store::Account>> find_account(std::string_view sid) override {
    count();
    return inner_.find_account(sid);
  }
  Result<std::optional<store::Account>> first_main_account() override {
    count();
    return inner_.first_main_account();
  }
  Result<store::Page<store::Account>> list_accounts(const store::AccountFilter& f,
                                                    const store::PageRequest& p) override {
    count();
    return inner_.list_accounts(f, p);
  }
  Result<std::optional<store::ApiKey>> find_api_key(std::string_view account_sid,
                                                    std::string_view sid) override {
    count();
    return inner_.find_api_key(account_sid, sid);
  }
  Result<std::optional<store::ApiKey>> find_api_key_by_sid(std::string_view sid) override {
    count();
    return inner_.find_api_key_by_sid(sid);
  }
  Result<std::optional<store::SipTrunk>> find_trunk(std::string_view a,
                                                    std::string_view sid) override {
    count();
    return inner_.find_trunk(a, sid);
  }
  Result<store::Page<store::SipTrunk>> list_trunks(const store::TrunkFilter& f,
                                                   const store::PageRequest& p) override {
    count();
    return inner_.list_trunks(f, p);
  }
  Result<std::optional<store::CredentialList>> find_credential_list(std::string_view a,
                                                                    std::string_view sid) override {
    count();
    return inner_.find_credential_list(a, sid);
  }
  Result<store::Page<store::CredentialList>> list_credential_lists(
      const store::SipFilter& f, const store::PageRequest& p) override {
    count();
    return inner_.list_credential_lists(f, p);
  }
  Result<std::optional<store::SipCredential>> find_credential(std::string_view a,
                                                              std::string_view l,
                                                              std::string_view sid) override {
    count();
    return inner_.find_credential(a, l, sid);
  }
  Result<store::Page<store::SipCredential>> list_credentials(const store::SipFilter& f,
                                                             const store::PageRequest& p) override {
    count();
    return inner_.list_credentials(f, p);
  }
  Result<std::optional<store::SipDomain>> find_sip_domain(std::string_view a,
                                                          std::string_view sid) override {
    count();
    return inner_.find_sip_domain(a, sid);
  }
  Result<std::optional<store::SipDomain>> find_sip_domain_by_name(std::string_view n) override {
    count();
    return inner_.find_sip_domain_by_name(n);
  }
  Result<store::Page<store::SipDomain>> list_sip_domains(const store::SipFilter& f,
                                                         const store::PageRequest& p) override {
    count();
    return inner_.list_sip_domains(f, p);
  }
  Result<store::Page<store::DomainMapping>> list_domain_mappings(
      const store::SipFilter& f, const store::PageRequest& p) override {
    count();
    return inner_.list_domain_mappings(f, p);
  }
  Result<std::optional<store::SipCredential>> find_domain_user(std::string_view d,
                                                               store::MappingKind k,
                                                               std::string_view u) override {
    count();
    return inner_.find_domain_user(d, k, u);
  }
  Result<std::optional<store::CallerId>> find_caller_id(std::string_view a,
                                                        std::string_view sid) override {
    count();
    return inner_.find_caller_id(a, sid);
  }
  Result<std::optional<store::CallerId>> find_caller_id_by_phone(std::string_view a,
                                                                 std::string_view phone) override {
    count();
    return inner_.find_caller_id_by_phone(a, phone);
  }
  Result<store::Page<store::CallerId>> list_caller_ids(const store::CallerIdFilter& f,
                                                       const store::PageRequest& p) override {
    count();
    return inner_.list_caller_ids(f, p);
  }
  Result<store::Page<store::ApiKey>> list_api_keys(const store::ApiKeyFilter& f,
                                                   const store::PageRequest& p) override {
    count();
    return inner_.list_api_keys(f, p);
  }
  Result<std::optional<store::IncomingNumber>> find_number(std::string_view account_sid,
                                                           std::string_view sid) override {
    count();
    return inner_.find_number(account_sid, sid);
  }
  Result<std::optional<store::IncomingNumber>> find_number_by_phone(
      std::string_view phone_number) override {
    count();
    return inner_.find_number_by_phone(phone_number);
  }
  Result<store::Page<store::IncomingNumber>> list_numbers(const store::NumberFilter& f,
                                                          const store::PageRequest& p) override {
    count();
    return inner_.list_numbers(f, p);
  }
  Result<std::optional<store::Application>> find_application(std::string_view account_sid,
                                                             std::string_view sid) override {
    count();
    return inner_.find_application(account_sid, sid);
  }
  Result<store::Page<store::Application>> list_applications(const store::ApplicationFilter& f,
                                                            const store::PageRequest& p) override {
    count();
    return inner_.list_applications(f, p);
  }
  Result<std::optional<store::Notification>> find_notification(std::string_view account_sid,
                                                               std::string_view sid) override {
    count();
    return inner_.find_notification(account_sid, sid);
  }
  Result<store::Page<store::Notification>> list_notifications(
      const store::NotificationFilter& f, const store::PageRequest& p) override {
    count();
    return inner_.list_notifications(f, p);
  }
  Result<std::optional<store::Call>> find_call(std::string_view account_sid,
                                               std::string_view sid) override {
    count();
    return inner_.find_call(account_sid, sid);
  }
  Result<store::Page<store::Call>> list_calls(const store::CallFilter& f,
                                              const store::PageRequest& p) override {
    count();
    return inner_.list_calls(f, p);
  }
  Result<store::Page<store::CallEvent>> list_call_events(std::string_view account_sid,
                                                         std::string_view call_sid,
                                                         const store::PageRequest& p) override {
    count();
    return inner_.list_call_events(account_sid, call_sid, p);
  }
  Result<std::optional<store::Recording>> find_recording(std::string_view account_sid,
                                                         std::string_view sid) override {
    count();
    return inner_.find_recording(account_sid, sid);
  }
  Result<store::Page<store::Recording>> list_recordings(const store::RecordingFilter& f,
                                                        const store::PageRequest& p) override {
    count();
    return inner_.list_recordings(f, p);
  }
  Result<std::optional<store::Conference>> find_conference(std::string_view account_sid,
                                                           std::string_view sid) override {
    count();
    return inner_.find_conference(account_sid, sid);
  }
  Result<store::Page<store::Conference>> list_conferences(const store::ConferenceFilter& f,
                                                          const store::PageRequest& p) override {
    count();
    return inner_.list_conferences(f, p);
  }
  Result<std::optional<store::Queue>> find_queue(std::string_view account_sid,
                                                 std::string_view sid) override {
    count();
    return inner_.find_queue(account_sid, sid);
  }
  Result<std::optional<store::Queue>> find_queue_by_name(std::string_view account_sid,
                                                         std::string_view name) override {
    count();
    return inner_.find_queue_by_name(account_sid, name);
  }
  Result<store::Page<store::Queue>> list_queues(std::string_view account_sid,
                                                const store::PageRequest& p) override {
    count();
    return inner_.list_queues(account_sid, p);
  }
  Result<std::optional<store::Message>> find_message(std::string_view account_sid,
                                                     std::string_view sid) override {
    count();
    return inner_.find_message(account_sid, sid);
  }
  Result<store::Page<store::Message>> list_messages(const store::MessageFilter& f,
                                                    const store::PageRequest& p) override {
    count();
    return inner_.list_messages(f, p);
  }
  Result<std::vector<store::Message>> list_unfinished_messages(std::size_t limit) override {
    count();
    return inner_.list_unfinished_messages(limit);
  }
  Result<std::optional<store::MessageMedia>> find_message_media(std::string_view a,
                                                                std::string_view message_sid,
                                                                std::string_view sid) override {
    count();
    return inner_.find_message_media(a, message_sid, sid);
  }
  Result<store::Page<store::MessageMedia>> list_message_media(
      std::string_view a, std::string_view message_sid, const store::PageRequest& p) override {
    count();
    return inner_.list_message_media(a, message_sid, p);
  }
  Result<bool> is_opted_out(std::string_view a, std::string_view number,
                            std::string_view address) override {
    count();
    return inner_.is_opted_out(a, number, address);
  }
  void write(store::Mutation mutation, std::function<void(Status)> done) override {
    inner_.write(std::move(mutation), std::move(done));
  }
  void flush() override { inner_.flush(); }

 private:
  void count() {
    std::lock_guard lock(mu_);
    ++reads_[std::this_thread::get_id()];
  }

  store::Store& inner_;
  mutable std::mutex mu_;
  std::map<std::thread::id, int> reads_;
};

}  // namespace sb::testing
