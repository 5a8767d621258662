#include "api/json.hpp"

#include "core/time.hpp"

namespace sb::api {
namespace {

boost::json::value nullable(const std::string& s) {
  if (s.empty()) return nullptr;
  return boost::json::value(s);
}

void add_hooks(boost::json::object& o, const store::WebhookSettings& h) {
  o["voice_url"] = nullable(h.voice_url);
  o["voice_method"] = h.voice_method;
  o["voice_fallback_url"] = nullable(h.voice_fallback_url);
  o["voice_fallback_method"] = h.voice_fallback_method;
  o["status_callback"] = nullable(h.status_callback);
  o["status_callback_method"] = h.status_callback_method;
  o["sms_url"] = nullable(h.sms_url);
  o["sms_method"] = h.sms_method;
  o["sms_fallback_url"] = nullable(h.sms_fallback_url);
  o["sms_fallback_method"] = h.sms_fallback_method;
  o["voice_caller_id_lookup"] = false;
}

}  // namespace

std::string account_path(std::string_view account_sid) {
  return std::string(kApiBase) + "/Accounts/" + std::string(account_sid) + ".json";
}

std::string account_child_path(std::string_view account_sid, std::string_view child) {
  return std::string(kApiBase) + "/Accounts/" + std::string(account_sid) + "/" + std::string(child);
}

boost::json::object account_json(const store::Account& a) {
  boost::json::object o;
  o["sid"] = a.sid;
  o["owner_account_sid"] = a.owner_sid.empty() ? a.sid : a.owner_sid;
  o["friendly_name"] = a.friendly_name;
  o["status"] = a.status;
  o["type"] = a.type;
  o["auth_token"] = a.auth_token;
  o["date_created"] = rfc2822(a.date_created);
  o["date_updated"] = rfc2822(a.date_updated);
  o["uri"] = account_path(a.sid);
  boost::json::object subs;
  subs["incoming_phone_numbers"] = account_child_path(a.sid, "IncomingPhoneNumbers.json");
  subs["applications"] = account_child_path(a.sid, "Applications.json");
  subs["notifications"] = account_child_path(a.sid, "Notifications.json");
  subs["calls"] = account_child_path(a.sid, "Calls.json");
  subs["recordings"] = account_child_path(a.sid, "Recordings.json");
  subs["keys"] = account_child_path(a.sid, "Keys.json");
  o["subresource_uris"] = std::move(subs);
  return o;
}

boost::json::object key_json(const store::ApiKey& k) {
  boost::json::object o;
  o["sid"] = k.sid;
  o["friendly_name"] = nullable(k.friendly_name);
  o["date_created"] = rfc2822(k.date_created);
  o["date_updated"] = rfc2822(k.date_updated);
  boost::json::array scopes;
  for (const auto& scope : k.scopes) scopes.push_back(boost::json::value(scope));
  o["scopes"] = std::move(scopes);
  return o;
}

boost::json::object number_json(const store::IncomingNumber& n) {
  boost::json::object o;
  o["sid"] = n.sid;
  o["account_sid"] = n.account_sid;
  o["friendly_name"] = n.friendly_name.empty() ? n.phone_number : n.friendly_name;
  o["phone_number"] = n.phone_number;
  o["origin"] = "switchboard";
  o["api_version"] = "2010-04-01";
  o["voice_application_sid"] = nullable(n.voice_application_sid);
  o["sms_application_sid"] = nullable(n.sms_application_sid);
  add_hooks(o, n.hooks);
  boost::json::object caps;
  caps["voice"] = true;
  caps["sms"] = false;
  caps["mms"] = false;
  caps["fax"] = false;
  o["capabilities"] = std::move(caps);
  o["status"] = "in-use";
  o["beta"] = false;
  o["trunk_sid"] = nullptr;
  o["date_created"] = rfc2822(n.date_created);
  o["date_updated"] = rfc2822(n.date_updated);
  o["uri"] = account_child_path(n.account_sid, "IncomingPhoneNumbers/" + n.sid + ".json");
  return o;
}

boost::json::object application_json(const store::Application& a) {
  boost::json::object o;
  o["sid"] = a.sid;
  o["account_sid"] = a.account_sid;
  o["friendly_name"] = a.friendly_name;
  o["api_version"] = "2010-04-01";
  add_hooks(o, a.hooks);
  o["sms_status_callback"] = nullable(a.sms_status_callback);
  o["message_status_callback"] = nullptr;
  o["public_application_connect_enabled"] = false;
  o["date_created"] = rfc2822(a.date_created);
  o["date_updated"] = rfc2822(a.date_updated);
  o["uri"] = account_child_path(a.account_sid, "Applications/" + a.sid + ".json");
  return o;
}

}  // namespace sb::api
