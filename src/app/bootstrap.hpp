// Start-up set-up: the main account (from SWITCHBOARD_ACCOUNT_SID/AUTH_TOKEN or generated), the
// calls an earlier process left unfinished, and the demo number that `make run` offers.
#pragma once

#include <string>

#include "app/config.hpp"
#include "core/time.hpp"
#include "store/store.hpp"
#include "voice/outbound.hpp"

namespace sb::app {

struct MainAccount {
  store::Account account;
  bool created = false;  // made by this start
  bool token_from_config = false;
};

Result<MainAccount> ensure_main_account(store::Store& store, const Config& config,
                                        const Clock& clock);

// Ends the calls a previous process left unfinished (store::CloseInterruptedCalls); before SIP
// starts, so that no call of this process is touched.
Status close_interrupted_calls(store::Store& store, const Clock& clock);

// The trunks calls are routed through: the configured ones, then every account's from the store
// (a stored trunk that no longer parses is skipped with a warning).
Status load_trunks(store::Store& store, const Config& config, voice::TrunkTable& table);

// The demo number "1000" on the main account, answered by the daemon's own /demo/voice
// application; an existing demo number is repointed at `public_url` when the daemon moved
// (another port or public URL), a number 1000 the user pointed elsewhere is left alone. Returns
// the number's phone string.
Result<std::string> ensure_demo_number(store::Store& store, const store::Account& account,
                                       const std::string& public_url, const Clock& clock);

}  // namespace sb::app
