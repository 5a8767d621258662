// Authentication (HTTP Basic AccountSid:AuthToken) and account scoping: an account acts on
// itself and on its subaccounts; every other account is invisible (404).
#pragma once

#include <string_view>

#include "core/error.hpp"
#include "http/response.hpp"
#include "store/store.hpp"

namespace sb::api {

// The authenticated account, or 401 with Twilio code 20003. Closed accounts cannot log in.
Result<store::Account> authenticate(store::Store& store, const http::Request& req);

// The account `path_sid` names, when `caller` may act on it; 404 (20404) otherwise.
Result<store::Account> resolve_scope(store::Store& store, const store::Account& caller,
                                     std::string_view path_sid, std::string_view path);

Error not_found_error(std::string_view path);

}  // namespace sb::api
