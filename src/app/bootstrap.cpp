#include "app/bootstrap.hpp"

#include "core/log.hpp"
#include "core/random.hpp"
#include "core/sid.hpp"

namespace sb::app {

Status close_interrupted_calls(store::Store& store, const Clock& clock) {
  return store.write_sync(store::CloseInterruptedCalls{clock.now_unix()});
}

Status load_trunks(store::Store& store, const Config& config, voice::TrunkTable& table) {
  table.set_configured(config.sip_trunks);
  store::PageRequest page;
  page.limit = 500;
  for (;;) {
    auto rows = store.list_trunks({}, page);
    if (!rows) return rows.error();
    for (const auto& row : rows->items) {
      page.after_id = row.id;
      auto trunk = voice::trunk_from(row);
      if (!trunk) {
        spdlog::warn("trunk {} skipped: {}", row.sid, trunk.error().message);
        continue;
      }
      table.put(row.account_sid, row.sid, std::move(*trunk));
    }
    if (!rows->has_more || rows->items.empty()) return Ok{};
  }
}

Result<MainAccount> ensure_main_account(store::Store& store, const Config& config,
                                        const Clock& clock) {
  MainAccount out;
  if (config.account_sid) {
    out.token_from_config = true;
    auto found = store.find_account(*config.account_sid);
    if (!found) return found.error();
    if (found->has_value()) {
      out.account = **found;
      if (!out.account.is_main()) {
        return Error::internal("SWITCHBOARD_ACCOUNT_SID names a subaccount");
      }
      if (out.account.auth_token != *config.auth_token) {
        out.account.auth_token = *config.auth_token;
        out.account.date_updated = clock.now_unix();
        if (auto s = store.write_sync(store::UpdateAccount{out.account}); !s) return s.error();
      }
      return out;
    }
    out.account.sid = *config.account_sid;
    out.account.auth_token = *config.auth_token;
  } else {
    auto found = store.first_main_account();
    if (!found) return found.error();
    if (found->has_value()) {
      out.account = **found;
      return out;
    }
    out.account.sid = make_sid(sid_prefix::kAccount);
    out.account.auth_token = random_hex(16);
  }
  out.account.friendly_name = "Main account";
  out.account.date_created = out.account.date_updated = clock.now_unix();
  if (auto s = store.write_sync(store::InsertAccount{out.account}); !s) return s.error();
  out.created = true;
  return out;
}

Result<std::string> ensure_demo_number(store::Store& store, const store::Account& account,
                                       const std::string& public_url, const Clock& clock) {
  constexpr const char* kDemoNumber = "1000";
  const std::string demo_url = public_url + "/demo/voice";
  auto found = store.find_number_by_phone(kDemoNumber);
  if (!found) return found.error();
  if (found->has_value()) {
    // The demo follows the daemon's current address: a restart on another port (or public URL)
    // must not leave the number pointing at the old one. A number the user repointed elsewhere
    // is theirs and stays as it is.
    auto& existing = **found;
    const auto& url = existing.hooks.voice_url;
    constexpr std::string_view kDemoPath = "/demo/voice";
    const bool is_demo =
        url.size() >= kDemoPath.size() &&
        url.compare(url.size() - kDemoPath.size(), kDemoPath.size(), kDemoPath) == 0;
    if (is_demo && url != demo_url) {
      existing.hooks.voice_url = demo_url;
      existing.date_updated = clock.now_unix();
      if (auto s = store.write_sync(store::UpdateNumber{existing}); !s) return s.error();
    }
    return std::string(kDemoNumber);
  }
  store::IncomingNumber number;
  number.sid = make_sid(sid_prefix::kIncomingNumber);
  number.account_sid = account.sid;
  number.phone_number = kDemoNumber;
  number.friendly_name = "Switchboard demo";
  number.hooks.voice_url = demo_url;
  number.date_created = number.date_updated = clock.now_unix();
  if (auto s = store.write_sync(store::InsertNumber{number}); !s) return s.error();
  return std::string(kDemoNumber);
}

}  // namespace sb::app
