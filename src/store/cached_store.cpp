#include "store/cached_store.hpp"

#include <deque>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/log.hpp"

namespace sb::store {
namespace {

// Rows listed per query while loading.
constexpr std::size_t kLoadPage = 500;

// The writes that change a cached table.
template <typename W>
constexpr bool kChangesCache =
    std::is_same_v<W, InsertAccount> || std::is_same_v<W, UpdateAccount> ||
    std::is_same_v<W, InsertApiKey> || std::is_same_v<W, UpdateApiKey> ||
    std::is_same_v<W, DeleteApiKey> || std::is_same_v<W, InsertNumber> ||
    std::is_same_v<W, UpdateNumber> || std::is_same_v<W, DeleteNumber> ||
    std::is_same_v<W, InsertApplication> || std::is_same_v<W, UpdateApplication> ||
    std::is_same_v<W, DeleteApplication>;

bool changes_cache(const Mutation& mutation) {
  return std::visit([](const auto& w) { return kChangesCache<std::decay_t<decltype(w)>>; },
                    mutation);
}

// Every row of an ascending keyset-paged list, handed to `take` in order.
template <typename T, typename List, typename Take>
Status each_row(List list, Take take) {
  PageRequest page;
  page.limit = kLoadPage;
  for (;;) {
    Result<Page<T>> rows = list(page);
    if (!rows) return rows.error();
    for (T& row : rows->items) {
      page.after_id = row.id;
      take(std::move(row));
    }
    if (!rows->has_more || rows->items.empty()) return Ok{};
  }
}

// The row as committed, read back for the row id SQLite gave it; the written row when the read
// fails or a later write in the same batch already deleted it (that write's completion follows).
template <typename T>
std::shared_ptr<const T> committed_row(Result<std::optional<T>> found, const T& written) {
  if (found && found->has_value()) return std::make_shared<const T>(std::move(**found));
  if (!found) {
    spdlog::warn("store cache: cannot read back {}: {}", written.sid, found.error().message);
  }
  return std::make_shared<const T>(written);
}

template <typename T>
std::optional<T> copy_of(const std::shared_ptr<const T>& row) {
  if (!row) return std::nullopt;
  return *row;
}

}  // namespace

// Runs on the writer's completion, under apply_mu_. Updates copy the cached row and set the
// columns SqliteStore's UPDATE writes; identity columns (id, sid, owner, phone number,
// date_created) never change.
struct CachedStore::Applier {
  CachedStore& cache;

  template <typename T>
  void put(Rows<T>& rows, const std::string& key, std::shared_ptr<const T> row) {
    std::shared_ptr<const T> old;  // released after the lock
    std::unique_lock lock(cache.rows_mu_);
    old = std::exchange(rows[key], std::move(row));
  }

  template <typename T>
  void erase(Rows<T>& rows, const std::string& key) {
    std::shared_ptr<const T> old;
    std::unique_lock lock(cache.rows_mu_);
    if (auto it = rows.find(key); it != rows.end()) {
      old = std::move(it->second);
      rows.erase(it);
    }
  }

  void operator()(const InsertAccount& m) {
    put(cache.accounts_, m.account.sid,
        committed_row(cache.inner_.find_account(m.account.sid), m.account));
  }

  void operator()(const UpdateAccount& m) {
    const Account& w = m.account;
    Account row =
        known_or_read(cache.accounts_, w, [&] { return cache.inner_.find_account(w.sid); });
    row.friendly_name = w.friendly_name;
    row.auth_token = w.auth_token;
    row.status = w.status;
    row.date_updated = w.date_updated;
    row.secondary_auth_token = w.secondary_auth_token;
    row.secondary_created = w.secondary_created;
    row.outbound_deny_private = w.outbound_deny_private;
    row.enforce_media_auth = w.enforce_media_auth;
    put(cache.accounts_, w.sid, std::make_shared<const Account>(std::move(row)));
  }

  void operator()(const InsertApiKey& m) {
    put(cache.api_keys_, m.key.sid,
        committed_row(cache.inner_.find_api_key_by_sid(m.key.sid), m.key));
  }

  void operator()(const UpdateApiKey& m) {
    const ApiKey& w = m.key;
    ApiKey row = known_or_read(cache.api_keys_, w,
                               [&] { return cache.inner_.find_api_key(w.account_sid, w.sid); });
    row.friendly_name = w.friendly_name;
    row.scopes = w.scopes;
    row.date_updated = w.date_updated;
    put(cache.api_keys_, w.sid, std::make_shared<const ApiKey>(std::move(row)));
  }

  void operator()(const DeleteApiKey& m) { erase(cache.api_keys_, m.sid); }

  void operator()(const InsertNumber& m) {
    const IncomingNumber& w = m.number;
    put_number(committed_row(cache.inner_.find_number(w.account_sid, w.sid), w));
  }

  void operator()(const UpdateNumber& m) {
    const IncomingNumber& w = m.number;
    IncomingNumber row = known_or_read(
        cache.numbers_, w, [&] { return cache.inner_.find_number(w.account_sid, w.sid); });
    row.friendly_name = w.friendly_name;
    row.voice_application_sid = w.voice_application_sid;
    row.sms_application_sid = w.sms_application_sid;
    row.date_updated = w.date_updated;
    row.hooks = w.hooks;
    put_number(std::make_shared<const IncomingNumber>(std::move(row)));
  }

  void operator()(const DeleteNumber& m) { erase_number(m.sid); }

  void operator()(const InsertApplication& m) {
    const Application& w = m.application;
    put(cache.applications_, w.sid,
        committed_row(cache.inner_.find_application(w.account_sid, w.sid), w));
  }

  void operator()(const UpdateApplication& m) {
    const Application& w = m.application;
    Application row = known_or_read(cache.applications_, w, [&] {
      return cache.inner_.find_application(w.account_sid, w.sid);
    });
    row.friendly_name = w.friendly_name;
    row.sms_status_callback = w.sms_status_callback;
    row.date_updated = w.date_updated;
    row.hooks = w.hooks;
    put(cache.applications_, w.sid, std::make_shared<const Application>(std::move(row)));
  }

  // As in the store: the application goes, and every number that pointed at it (any account's)
  // loses that pointer in the same step.
  void operator()(const DeleteApplication& m) {
    std::vector<std::shared_ptr<const IncomingNumber>> cleared;
    for (const auto& [sid, number] : cache.numbers_) {  // appliers alone change the maps
      if (number->voice_application_sid != m.sid && number->sms_application_sid != m.sid) continue;
      auto row = std::make_shared<IncomingNumber>(*number);
      if (row->voice_application_sid == m.sid) row->voice_application_sid.clear();
      if (row->sms_application_sid == m.sid) row->sms_application_sid.clear();
      cleared.push_back(std::move(row));
    }
    std::shared_ptr<const Application> old;
    std::unique_lock lock(cache.rows_mu_);
    if (auto it = cache.applications_.find(m.sid); it != cache.applications_.end()) {
      old = std::move(it->second);
      cache.applications_.erase(it);
    }
    for (auto& row : cleared) {
      cache.numbers_by_phone_[row->phone_number] = row;
      std::swap(cache.numbers_[row->sid], row);  // the old rows are released after the lock
    }
  }

  template <typename W>
  void operator()(const W&) {}  // not a cached table

  // The cached row to update; the inner store's when the cache lacks it (a row written around
  // the cache), or else the written row.
  template <typename T, typename Find>
  T known_or_read(const Rows<T>& rows, const T& written, Find find) {
    if (auto known = cache.lookup(rows, written.sid)) return *known;
    return *committed_row(find(), written);
  }

  void put_number(std::shared_ptr<const IncomingNumber> row) {
    std::shared_ptr<const IncomingNumber> old;
    std::unique_lock lock(cache.rows_mu_);
    auto& slot = cache.numbers_[row->sid];
    if (slot && slot->phone_number != row->phone_number) {
      if (auto it = cache.numbers_by_phone_.find(slot->phone_number);
          it != cache.numbers_by_phone_.end() && it->second->sid == row->sid) {
        cache.numbers_by_phone_.erase(it);
      }
    }
    cache.numbers_by_phone_[row->phone_number] = row;
    old = std::exchange(slot, std::move(row));
  }

  void erase_number(const std::string& sid) {
    std::shared_ptr<const IncomingNumber> old;
    std::unique_lock lock(cache.rows_mu_);
    auto it = cache.numbers_.find(sid);
    if (it == cache.numbers_.end()) return;
    old = std::move(it->second);
    cache.numbers_.erase(it);
    // A later number may hold the phone number already (deleted and re-added in one batch).
    if (auto by_phone = cache.numbers_by_phone_.find(old->phone_number);
        by_phone != cache.numbers_by_phone_.end() && by_phone->second->sid == sid) {
      cache.numbers_by_phone_.erase(by_phone);
    }
  }
};

Result<std::unique_ptr<CachedStore>> CachedStore::open(Store& inner) {
  auto cache = std::unique_ptr<CachedStore>(new CachedStore(inner));
  if (auto s = cache->load(); !s) return s.error();
  return cache;
}

CachedStore::~CachedStore() { inner_.flush(); }

Status CachedStore::load() {
  // Accounts breadth first from the main ones: an empty visible_to lists the main accounts,
  // and an account's listing is itself and its subaccounts.
  std::deque<std::string> owners = {""};
  while (!owners.empty()) {
    const std::string owner = std::move(owners.front());
    owners.pop_front();
    auto s = each_row<Account>(
        [&](const PageRequest& page) {
          AccountFilter filter;
          filter.visible_to = owner;
          return inner_.list_accounts(filter, page);
        },
        [&](Account&& a) {
          if (a.sid == owner || accounts_.contains(a.sid)) return;
          owners.push_back(a.sid);
          std::string sid = a.sid;
          accounts_.emplace(std::move(sid), std::make_shared<const Account>(std::move(a)));
        });
    if (!s) return s;
  }
  for (const auto& entry : accounts_) {
    const std::string& account_sid = entry.first;  // (a lambda may not capture a binding)
    auto keys = each_row<ApiKey>(
        [&](const PageRequest& page) { return inner_.list_api_keys({account_sid}, page); },
        [&](ApiKey&& k) {
          std::string sid = k.sid;
          api_keys_.emplace(std::move(sid), std::make_shared<const ApiKey>(std::move(k)));
        });
    if (!keys) return keys;
    auto numbers = each_row<IncomingNumber>(
        [&](const PageRequest& page) {
          NumberFilter filter;
          filter.account_sid = account_sid;
          return inner_.list_numbers(filter, page);
        },
        [&](IncomingNumber&& n) {
          auto row = std::make_shared<const IncomingNumber>(std::move(n));
          numbers_.emplace(row->sid, row);
          numbers_by_phone_.emplace(row->phone_number, std::move(row));
        });
    if (!numbers) return numbers;
    auto apps = each_row<Application>(
        [&](const PageRequest& page) {
          ApplicationFilter filter;
          filter.account_sid = account_sid;
          return inner_.list_applications(filter, page);
        },
        [&](Application&& a) {
          std::string sid = a.sid;
          applications_.emplace(std::move(sid), std::make_shared<const Application>(std::move(a)));
        });
    if (!apps) return apps;
  }
  const Counts n = counts();
  spdlog::info("store cache: {} accounts, {} API keys, {} numbers, {} applications", n.accounts,
               n.api_keys, n.numbers, n.applications);
  return Ok{};
}

template <typename T>
std::shared_ptr<const T> CachedStore::lookup(const Rows<T>& rows, std::string_view key) const {
  std::shared_lock lock(rows_mu_);
  auto it = rows.find(key);
  return it == rows.end() ? nullptr : it->second;
}

CachedStore::Counts CachedStore::counts() const {
  std::shared_lock lock(rows_mu_);
  return {accounts_.size(), api_keys_.size(), numbers_.size(), applications_.size()};
}

void CachedStore::apply(const Mutation& mutation) {
  std::lock_guard lock(apply_mu_);
  std::visit(Applier{*this}, mutation);
}

void CachedStore::write(Mutation mutation, std::function<void(Status)> done) {
  if (!changes_cache(mutation)) {
    inner_.write(std::move(mutation), std::move(done));
    return;
  }
  Mutation applied = mutation;
  inner_.write(std::move(mutation),
               [this, applied = std::move(applied), done = std::move(done)](Status s) {
                 if (s) apply(applied);
                 done(std::move(s));
               });
}

void CachedStore::flush() { inner_.flush(); }

Result<std::optional<Account>> CachedStore::find_account(std::string_view sid) {
  return copy_of(lookup(accounts_, sid));
}

Result<std::optional<ApiKey>> CachedStore::find_api_key_by_sid(std::string_view sid) {
  return copy_of(lookup(api_keys_, sid));
}

Result<std::optional<ApiKey>> CachedStore::find_api_key(std::string_view account_sid,
                                                        std::string_view sid) {
  auto row = lookup(api_keys_, sid);
  if (row && row->account_sid != account_sid) row.reset();
  return copy_of(row);
}

Result<std::optional<IncomingNumber>> CachedStore::find_number(std::string_view account_sid,
                                                               std::string_view sid) {
  auto row = lookup(numbers_, sid);
  if (row && row->account_sid != account_sid) row.reset();
  return copy_of(row);
}

Result<std::optional<IncomingNumber>> CachedStore::find_number_by_phone(
    std::string_view phone_number) {
  return copy_of(lookup(numbers_by_phone_, phone_number));
}

Result<std::optional<Application>> CachedStore::find_application(std::string_view account_sid,
                                                                 std::string_view sid) {
  auto row = lookup(applications_, sid);
  if (row && row->account_sid != account_sid) row.reset();
  return copy_of(row);
}

Result<std::optional<Account>> CachedStore::first_main_account() {
  return inner_.first_main_account();
}

Result<Page<Account>> CachedStore::list_accounts(const AccountFilter& filter,
                                                 const PageRequest& page) {
  return inner_.list_accounts(filter, page);
}

// Trunks are read at start-up and by the REST API (the call router keeps its own table).
Result<std::optional<SipTrunk>> CachedStore::find_trunk(std::string_view account_sid,
                                                        std::string_view sid) {
  return inner_.find_trunk(account_sid, sid);
}
Result<Page<SipTrunk>> CachedStore::list_trunks(const TrunkFilter& filter,
                                                const PageRequest& page) {
  return inner_.list_trunks(filter, page);
}

// SIP identities are read by the REST API and per REGISTER / domain call (indexed reads; the
// registrar rate-limits sources before it reads): from the store itself.
Result<std::optional<CredentialList>> CachedStore::find_credential_list(
    std::string_view account_sid, std::string_view sid) {
  return inner_.find_credential_list(account_sid, sid);
}
Result<Page<CredentialList>> CachedStore::list_credential_lists(const SipFilter& filter,
                                                                const PageRequest& page) {
  return inner_.list_credential_lists(filter, page);
}
Result<std::optional<SipCredential>> CachedStore::find_credential(std::string_view account_sid,
                                                                  std::string_view list_sid,
                                                                  std::string_view sid) {
  return inner_.find_credential(account_sid, list_sid, sid);
}
Result<Page<SipCredential>> CachedStore::list_credentials(const SipFilter& filter,
                                                          const PageRequest& page) {
  return inner_.list_credentials(filter, page);
}
Result<std::optional<SipDomain>> CachedStore::find_sip_domain(std::string_view account_sid,
                                                              std::string_view sid) {
  return inner_.find_sip_domain(account_sid, sid);
}
Result<std::optional<SipDomain>> CachedStore::find_sip_domain_by_name(
    std::string_view domain_name) {
  return inner_.find_sip_domain_by_name(domain_name);
}
Result<Page<SipDomain>> CachedStore::list_sip_domains(const SipFilter& filter,
                                                      const PageRequest& page) {
  return inner_.list_sip_domains(filter, page);
}
Result<Page<DomainMapping>> CachedStore::list_domain_mappings(const SipFilter& filter,
                                                              const PageRequest& page) {
  return inner_.list_domain_mappings(filter, page);
}
Result<std::optional<SipCredential>> CachedStore::find_domain_user(std::string_view domain_sid,
                                                                   MappingKind kind,
                                                                   std::string_view username) {
  return inner_.find_domain_user(domain_sid, kind, username);
}

// Caller IDs are read only when a call is created: from the store itself.
Result<std::optional<CallerId>> CachedStore::find_caller_id(std::string_view account_sid,
                                                            std::string_view sid) {
  return inner_.find_caller_id(account_sid, sid);
}
Result<std::optional<CallerId>> CachedStore::find_caller_id_by_phone(
    std::string_view account_sid, std::string_view phone_number) {
  return inner_.find_caller_id_by_phone(account_sid, phone_number);
}
Result<Page<CallerId>> CachedStore::list_caller_ids(const CallerIdFilter& filter,
                                                    const PageRequest& page) {
  return inner_.list_caller_ids(filter, page);
}

Result<Page<ApiKey>> CachedStore::list_api_keys(const ApiKeyFilter& filter,
                                                const PageRequest& page) {
  return inner_.list_api_keys(filter, page);
}

Result<Page<IncomingNumber>> CachedStore::list_numbers(const NumberFilter& filter,
                                                       const PageRequest& page) {
  return inner_.list_numbers(filter, page);
}

Result<Page<Application>> CachedStore::list_applications(const ApplicationFilter& filter,
                                                         const PageRequest& page) {
  return inner_.list_applications(filter, page);
}

Result<std::optional<Notification>> CachedStore::find_notification(std::string_view account_sid,
                                                                   std::string_view sid) {
  return inner_.find_notification(account_sid, sid);
}

Result<Page<Notification>> CachedStore::list_notifications(const NotificationFilter& filter,
                                                           const PageRequest& page) {
  return inner_.list_notifications(filter, page);
}

Result<std::optional<Call>> CachedStore::find_call(std::string_view account_sid,
                                                   std::string_view sid) {
  return inner_.find_call(account_sid, sid);
}

Result<Page<Call>> CachedStore::list_calls(const CallFilter& filter, const PageRequest& page) {
  return inner_.list_calls(filter, page);
}

Result<Page<CallEvent>> CachedStore::list_call_events(std::string_view account_sid,
                                                      std::string_view call_sid,
                                                      const PageRequest& page) {
  return inner_.list_call_events(account_sid, call_sid, page);
}

Result<std::optional<Recording>> CachedStore::find_recording(std::string_view account_sid,
                                                             std::string_view sid) {
  return inner_.find_recording(account_sid, sid);
}

Result<Page<Recording>> CachedStore::list_recordings(const RecordingFilter& filter,
                                                     const PageRequest& page) {
  return inner_.list_recordings(filter, page);
}

// Conferences and queues are read by the REST API and when a room or queue is first joined
// (indexed reads): from the store itself.
Result<std::optional<Conference>> CachedStore::find_conference(std::string_view account_sid,
                                                               std::string_view sid) {
  return inner_.find_conference(account_sid, sid);
}

Result<Page<Conference>> CachedStore::list_conferences(const ConferenceFilter& filter,
                                                       const PageRequest& page) {
  return inner_.list_conferences(filter, page);
}

Result<std::optional<Queue>> CachedStore::find_queue(std::string_view account_sid,
                                                     std::string_view sid) {
  return inner_.find_queue(account_sid, sid);
}

Result<std::optional<Queue>> CachedStore::find_queue_by_name(std::string_view account_sid,
                                                             std::string_view friendly_name) {
  return inner_.find_queue_by_name(account_sid, friendly_name);
}

Result<Page<Queue>> CachedStore::list_queues(std::string_view account_sid,
                                             const PageRequest& page) {
  return inner_.list_queues(account_sid, page);
}

// Messages, their media and opt-outs are read by the REST API, the sender and per inbound
// message (indexed reads): from the store itself.
Result<std::optional<Message>> CachedStore::find_message(std::string_view account_sid,
                                                         std::string_view sid) {
  return inner_.find_message(account_sid, sid);
}

Result<Page<Message>> CachedStore::list_messages(const MessageFilter& filter,
                                                 const PageRequest& page) {
  return inner_.list_messages(filter, page);
}

Result<std::vector<Message>> CachedStore::list_unfinished_messages(std::size_t limit) {
  return inner_.list_unfinished_messages(limit);
}

Result<std::optional<MessageMedia>> CachedStore::find_message_media(std::string_view account_sid,
                                                                    std::string_view message_sid,
                                                                    std::string_view sid) {
  return inner_.find_message_media(account_sid, message_sid, sid);
}

Result<Page<MessageMedia>> CachedStore::list_message_media(std::string_view account_sid,
                                                           std::string_view message_sid,
                                                           const PageRequest& page) {
  return inner_.list_message_media(account_sid, message_sid, page);
}

Result<bool> CachedStore::is_opted_out(std::string_view account_sid, std::string_view number,
                                       std::string_view address) {
  return inner_.is_opted_out(account_sid, number, address);
}

}  // namespace sb::store
