// Twilio JSON shapes of the 2010-04-01 resources: snake_case fields, RFC 2822 dates, `uri`
// (the path from the host) and `subresource_uris`.
#pragma once

#include <boost/json.hpp>
#include <string>

#include "store/models.hpp"

namespace sb::api {

inline constexpr std::string_view kApiBase = "/2010-04-01";

std::string account_path(std::string_view account_sid);  // /2010-04-01/Accounts/AC….json
std::string account_child_path(std::string_view account_sid, std::string_view child);

boost::json::object account_json(const store::Account& account);
// Twilio's Key shape (sid, friendly_name, date_created, date_updated) plus our `scopes`; the
// secret is added by the create handler only.
boost::json::object key_json(const store::ApiKey& key);
boost::json::object number_json(const store::IncomingNumber& number);
boost::json::object application_json(const store::Application& application);

}  // namespace sb::api
