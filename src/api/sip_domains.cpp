// Twilio's SIP API for registered users: SIP/CredentialLists (with their Credentials),
// SIP/Domains, and a domain's credential-list mappings for calls (Auth/Calls, and the legacy
// CredentialListMappings) and for registrations (Auth/Registrations). A credential's password
// is kept only as its two digest hashes (MD5 and SHA-256 of username:realm:password, RFC
// 8760), never stored or shown; the SIP stack reads these resources from the store for every
// REGISTER and every call to a domain, so a change applies at once.
#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/pagination.hpp"
#include "api/resources.hpp"
#include "api/validation.hpp"
#include "core/sid.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "media/srtp.hpp"
#include "sip/digest.hpp"

namespace sb::api {
namespace {

Error invalid(std::string message) {
  return Error::bad_request(codes::kInvalidParameter, std::move(message));
}

http::Response write_sip_error(const Error& e, std::string_view path, std::string_view conflict) {
  if (e.status == 404) return http::error_response(not_found_error(path));
  if (e.status == store::kConflict) return http::error_response(invalid(std::string(conflict)));
  return store_error(e);
}

std::string lists_path(std::string_view account) {
  return account_child_path(account, "SIP/CredentialLists");
}
std::string domains_path(std::string_view account) {
  return account_child_path(account, "SIP/Domains");
}
std::string mappings_path(std::string_view account, std::string_view domain,
                          store::MappingKind kind, bool legacy) {
  if (legacy) return domains_path(account) + "/" + std::string(domain) + "/CredentialListMappings";
  return domains_path(account) + "/" + std::string(domain) +
         (kind == store::MappingKind::kCalls ? "/Auth/Calls" : "/Auth/Registrations") +
         "/CredentialListMappings";
}

boost::json::object list_json(const store::CredentialList& l) {
  boost::json::object o;
  o["sid"] = l.sid;
  o["account_sid"] = l.account_sid;
  o["friendly_name"] = l.friendly_name;
  o["date_created"] = rfc2822(l.date_created);
  o["date_updated"] = rfc2822(l.date_updated);
  const std::string base = lists_path(l.account_sid) + "/" + l.sid;
  o["uri"] = base + ".json";
  o["subresource_uris"] = boost::json::object{{"credentials", base + "/Credentials.json"}};
  return o;
}

boost::json::object credential_json(const store::SipCredential& c) {
  boost::json::object o;
  o["sid"] = c.sid;
  o["account_sid"] = c.account_sid;
  o["credential_list_sid"] = c.credential_list_sid;
  o["username"] = c.username;
  o["date_created"] = rfc2822(c.date_created);
  o["date_updated"] = rfc2822(c.date_updated);
  o["uri"] =
      lists_path(c.account_sid) + "/" + c.credential_list_sid + "/Credentials/" + c.sid + ".json";
  return o;
}

boost::json::object domain_json(const store::SipDomain& d, bool has_credentials) {
  boost::json::object o;
  o["sid"] = d.sid;
  o["account_sid"] = d.account_sid;
  o["api_version"] = "2010-04-01";
  o["domain_name"] = d.domain_name;
  o["friendly_name"] = d.friendly_name;
  o["auth_type"] = has_credentials ? "CREDENTIAL_LIST" : "";
  auto url = [](const std::string& v) {
    return v.empty() ? boost::json::value(nullptr) : boost::json::value(v);
  };
  o["voice_url"] = url(d.voice_url);
  o["voice_method"] = d.voice_method;
  o["voice_fallback_url"] = url(d.voice_fallback_url);
  o["voice_fallback_method"] = d.voice_fallback_method;
  o["voice_status_callback_url"] = url(d.voice_status_callback_url);
  o["voice_status_callback_method"] = d.voice_status_callback_method;
  o["sip_registration"] = d.sip_registration;
  o["srtp"] = d.srtp.empty() ? boost::json::value(nullptr) : boost::json::value(d.srtp);
  o["emergency_calling_enabled"] = false;
  o["secure"] = false;
  o["byoc_trunk_sid"] = nullptr;
  o["emergency_caller_sid"] = nullptr;
  o["date_created"] = rfc2822(d.date_created);
  o["date_updated"] = rfc2822(d.date_updated);
  const std::string base = domains_path(d.account_sid) + "/" + d.sid;
  o["uri"] = base + ".json";
  o["subresource_uris"] = boost::json::object{
      {"credential_list_mappings", base + "/CredentialListMappings.json"},
      {"ip_access_control_list_mappings", base + "/IpAccessControlListMappings.json"},
      {"auth", base + "/Auth.json"}};
  return o;
}

boost::json::object mapping_json(const store::DomainMapping& m, bool legacy) {
  boost::json::object o;
  o["sid"] = m.credential_list_sid;
  o["account_sid"] = m.account_sid;
  o["domain_sid"] = m.domain_sid;
  o["friendly_name"] = m.friendly_name;
  o["date_created"] = rfc2822(m.date_created);
  o["date_updated"] = rfc2822(m.date_updated);
  o["uri"] = mappings_path(m.account_sid, m.domain_sid, m.kind, legacy) + "/" +
             m.credential_list_sid + ".json";
  return o;
}

// A SIP user name: 1-32 characters that need no escaping in a SIP URI's user part.
Status check_username(std::string_view name) {
  if (name.empty() || name.size() > 32) return invalid("Username must be 1 to 32 characters");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("-_.!~*'()+").find(c) != std::string_view::npos;
    if (!ok) {
      return invalid("Username may hold only letters, digits and - _ . ! ~ * ' ( ) +");
    }
  }
  return Ok{};
}

// Twilio's rule for SIP credential passwords: at least 12 characters with a digit, an upper
// and a lower case letter; bounded, and printable (it is typed into phones).
Status check_password(std::string_view pw) {
  bool digit = false, upper = false, lower = false;
  for (char c : pw) {
    if (c < 0x21 || c > 0x7e) return invalid("Password may hold only printable ASCII characters");
    digit = digit || (c >= '0' && c <= '9');
    upper = upper || (c >= 'A' && c <= 'Z');
    lower = lower || (c >= 'a' && c <= 'z');
  }
  if (pw.size() < 12 || pw.size() > 128 || !digit || !upper || !lower) {
    return invalid(
        "Password must be 12 to 128 characters with at least one digit, one upper case and one "
        "lower case letter");
  }
  return Ok{};
}

// A host name: labels of letters, digits and '-', separated by dots, not an IP address.
Result<std::string> check_domain_name(std::string_view name) {
  const std::string lower = to_lower(name);
  bool ok = !lower.empty() && lower.size() <= 253 && lower.front() != '.' && lower.back() != '.' &&
            lower.find("..") == std::string::npos;
  bool letter = false;
  for (char c : lower) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.');
    letter = letter || (c >= 'a' && c <= 'z');
  }
  if (!ok || !letter) {
    return invalid("DomainName " + std::string(name) +
                   " is not a valid host name (letters, digits, '-' and '.')");
  }
  return lower;
}

Status set_method(const http::Form& params, const char* key, std::string& out) {
  if (auto v = params.get(key)) {
    auto m = normalize_method(*v);
    if (!m) {
      return Error::bad_request(codes::kInvalidMethod,
                                std::string(key) + " must be GET or POST, not " + std::string(*v));
    }
    out = *m;
  }
  return Ok{};
}

Status set_url(const http::Form& params, const char* key, std::string& out) {
  if (auto v = params.get(key)) {
    if (!v->empty() && !is_valid_webhook_url(*v)) {
      return Error::bad_request(codes::kInvalidUrl,
                                std::string(key) + " is not a valid URL: " + std::string(*v));
    }
    out = std::string(*v);
  }
  return Ok{};
}

Status apply_domain_params(const http::Form& params, store::SipDomain& d) {
  if (auto v = params.get("DomainName")) {
    auto name = check_domain_name(*v);
    if (!name) return name.error();
    d.domain_name = *name;
  }
  if (auto v = params.get("FriendlyName")) {
    if (auto s = check_friendly_name(*v); !s) return s;
    d.friendly_name = std::string(*v);
  }
  for (auto [key, field] :
       {std::pair{"VoiceUrl", &d.voice_url}, std::pair{"VoiceFallbackUrl", &d.voice_fallback_url},
        std::pair{"VoiceStatusCallbackUrl", &d.voice_status_callback_url}}) {
    if (auto s = set_url(params, key, *field); !s) return s;
  }
  for (auto [key, field] :
       {std::pair{"VoiceMethod", &d.voice_method},
        std::pair{"VoiceFallbackMethod", &d.voice_fallback_method},
        std::pair{"VoiceStatusCallbackMethod", &d.voice_status_callback_method}}) {
    if (auto s = set_method(params, key, *field); !s) return s;
  }
  if (auto v = params.get("SipRegistration")) {
    if (iequals(*v, "true")) {
      d.sip_registration = true;
    } else if (iequals(*v, "false")) {
      d.sip_registration = false;
    } else {
      return invalid("SipRegistration must be true or false");
    }
  }
  // Switchboard's own: the media encryption of calls through the domain (media.srtp's values).
  if (auto v = params.get("Srtp")) {
    if (*v == "default") {
      d.srtp.clear();
    } else if (media::parse_srtp_policy(*v)) {
      d.srtp = std::string(*v);
    } else {
      return invalid("Srtp must be off, optional, required or default");
    }
  }
  return Ok{};
}

}  // namespace

// ---- CredentialLists ----

asio::awaitable<http::Response> list_credential_lists(Context& ctx, const Scope& scope,
                                                      const http::Form& query) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  auto rows = ctx.store.list_credential_lists({scope.account.sid, {}, {}}, page->request());
  if (!rows) co_return store_error(rows.error());
  co_return page_response("credential_lists", *rows, list_json, scope.path, "", *page);
}

asio::awaitable<http::Response> create_credential_list(Context& ctx, const Scope& scope,
                                                       const http::Form& params) {
  auto name = params.get("FriendlyName");
  if (!name || name->empty()) {
    co_return http::error_response(invalid("FriendlyName is required"));
  }
  if (auto s = check_friendly_name(*name); !s) co_return http::error_response(s.error());
  store::CredentialList row;
  row.sid = make_sid(sid_prefix::kCredentialList);
  row.account_sid = scope.account.sid;
  row.friendly_name = std::string(*name);
  row.date_created = row.date_updated = ctx.clock.now_unix();
  store::Mutation insert = store::SaveCredentialList{row, true};
  if (auto s = co_await commit(ctx.store, insert); !s) co_return store_error(s.error());
  co_return http::json_response(201, list_json(row));
}

asio::awaitable<http::Response> credential_list_item(Context& ctx, const Scope& scope,
                                                     std::string_view sid, Verb verb,
                                                     const http::Form& params) {
  auto found = ctx.store.find_credential_list(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  store::CredentialList row = std::move(**found);
  if (verb == Verb::kFetch) co_return http::json_response(200, list_json(row));
  if (verb == Verb::kDelete) {
    // Its credentials and mappings go with it: its users can no longer register or call (the
    // SIP stack checks a user's rights on each request and each client: call).
    store::Mutation remove = store::DeleteCredentialList{row.account_sid, row.sid};
    if (auto s = co_await commit(ctx.store, remove); !s) {
      co_return write_sip_error(s.error(), scope.path, "");
    }
    co_return http::Response{boost::beast::http::status::no_content, 11};
  }
  if (auto v = params.get("FriendlyName")) {
    if (v->empty()) co_return http::error_response(invalid("FriendlyName is required"));
    if (auto s = check_friendly_name(*v); !s) co_return http::error_response(s.error());
    row.friendly_name = std::string(*v);
  }
  row.date_updated = ctx.clock.now_unix();
  store::Mutation update = store::SaveCredentialList{row, false};
  if (auto s = co_await commit(ctx.store, update); !s) {
    co_return write_sip_error(s.error(), scope.path, "");
  }
  co_return http::json_response(200, list_json(row));
}

// ---- Credentials ----

asio::awaitable<http::Response> list_credentials(Context& ctx, const Scope& scope,
                                                 std::string_view list_sid,
                                                 const http::Form& query) {
  auto list = ctx.store.find_credential_list(scope.account.sid, list_sid);
  if (!list) co_return store_error(list.error());
  if (!list->has_value()) co_return http::error_response(not_found_error(scope.path));
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  auto rows =
      ctx.store.list_credentials({scope.account.sid, std::string(list_sid), {}}, page->request());
  if (!rows) co_return store_error(rows.error());
  co_return page_response("credentials", *rows, credential_json, scope.path, "", *page);
}

asio::awaitable<http::Response> create_credential(Context& ctx, const Scope& scope,
                                                  std::string_view list_sid,
                                                  const http::Form& params) {
  auto list = ctx.store.find_credential_list(scope.account.sid, list_sid);
  if (!list) co_return store_error(list.error());
  if (!list->has_value()) co_return http::error_response(not_found_error(scope.path));
  auto username = params.get("Username");
  auto password = params.get("Password");
  if (!username) co_return http::error_response(invalid("Username is required"));
  if (!password) co_return http::error_response(invalid("Password is required"));
  if (auto s = check_username(*username); !s) co_return http::error_response(s.error());
  if (auto s = check_password(*password); !s) co_return http::error_response(s.error());
  store::SipCredential row;
  row.sid = make_sid(sid_prefix::kCredential);
  row.account_sid = scope.account.sid;
  row.credential_list_sid = std::string(list_sid);
  row.username = std::string(*username);
  row.realm = ctx.sip_realm;
  const auto secret = sip::DigestSecret::from_password(row.username, row.realm, *password);
  row.ha1_md5 = secret.ha1_md5;
  row.ha1_sha256 = secret.ha1_sha256;
  row.date_created = row.date_updated = ctx.clock.now_unix();
  store::Mutation insert = store::SaveCredential{row, true};
  if (auto s = co_await commit(ctx.store, insert); !s) {
    co_return write_sip_error(
        s.error(), scope.path,
        "The username " + row.username + " is already in this credential list");
  }
  co_return http::json_response(201, credential_json(row));
}

asio::awaitable<http::Response> credential_item(Context& ctx, const Scope& scope,
                                                std::string_view list_sid, std::string_view sid,
                                                Verb verb, const http::Form& params) {
  auto found = ctx.store.find_credential(scope.account.sid, list_sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  store::SipCredential row = std::move(**found);
  if (verb == Verb::kFetch) co_return http::json_response(200, credential_json(row));
  if (verb == Verb::kDelete) {
    store::Mutation remove =
        store::DeleteCredential{row.account_sid, row.credential_list_sid, row.sid};
    if (auto s = co_await commit(ctx.store, remove); !s) {
      co_return write_sip_error(s.error(), scope.path, "");
    }
    co_return http::Response{boost::beast::http::status::no_content, 11};
  }
  // Only the password changes (Twilio's update); the username is the credential's identity.
  auto password = params.get("Password");
  if (!password) co_return http::error_response(invalid("Password is required"));
  if (auto s = check_password(*password); !s) co_return http::error_response(s.error());
  row.realm = ctx.sip_realm;
  const auto secret = sip::DigestSecret::from_password(row.username, row.realm, *password);
  row.ha1_md5 = secret.ha1_md5;
  row.ha1_sha256 = secret.ha1_sha256;
  row.date_updated = ctx.clock.now_unix();
  store::Mutation update = store::SaveCredential{row, false};
  if (auto s = co_await commit(ctx.store, update); !s) {
    co_return write_sip_error(s.error(), scope.path, "");
  }
  co_return http::json_response(200, credential_json(row));
}

// ---- Domains ----

namespace {
Result<bool> has_call_credentials(store::Store& store, const store::SipDomain& d) {
  store::PageRequest one;
  one.limit = 1;
  auto rows = store.list_domain_mappings({d.account_sid, d.sid, store::MappingKind::kCalls}, one);
  if (!rows) return rows.error();
  if (!rows->items.empty()) return true;
  rows =
      store.list_domain_mappings({d.account_sid, d.sid, store::MappingKind::kRegistrations}, one);
  if (!rows) return rows.error();
  return !rows->items.empty();
}
}  // namespace

asio::awaitable<http::Response> list_sip_domains(Context& ctx, const Scope& scope,
                                                 const http::Form& query) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  auto rows = ctx.store.list_sip_domains({scope.account.sid, {}, {}}, page->request());
  if (!rows) co_return store_error(rows.error());
  co_return page_response(
      "domains", *rows,
      [&ctx](const store::SipDomain& d) {
        auto mapped = has_call_credentials(ctx.store, d);
        return domain_json(d, mapped && *mapped);
      },
      scope.path, "", *page);
}

asio::awaitable<http::Response> create_sip_domain(Context& ctx, const Scope& scope,
                                                  const http::Form& params) {
  if (!params.get("DomainName")) co_return http::error_response(invalid("DomainName is required"));
  store::SipDomain row;
  row.sid = make_sid(sid_prefix::kSipDomain);
  row.account_sid = scope.account.sid;
  if (auto s = apply_domain_params(params, row); !s) co_return http::error_response(s.error());
  row.date_created = row.date_updated = ctx.clock.now_unix();
  store::Mutation insert = store::SaveSipDomain{row, true};
  if (auto s = co_await commit(ctx.store, insert); !s) {
    co_return write_sip_error(s.error(), scope.path,
                              "The domain name " + row.domain_name + " is already in use");
  }
  co_return http::json_response(201, domain_json(row, false));
}

asio::awaitable<http::Response> sip_domain_item(Context& ctx, const Scope& scope,
                                                std::string_view sid, Verb verb,
                                                const http::Form& params) {
  auto found = ctx.store.find_sip_domain(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  store::SipDomain row = std::move(**found);
  if (verb == Verb::kDelete) {
    store::Mutation remove = store::DeleteSipDomain{row.account_sid, row.sid};
    if (auto s = co_await commit(ctx.store, remove); !s) {
      co_return write_sip_error(s.error(), scope.path, "");
    }
    co_return http::Response{boost::beast::http::status::no_content, 11};
  }
  if (verb == Verb::kUpdate) {
    if (auto s = apply_domain_params(params, row); !s) co_return http::error_response(s.error());
    row.date_updated = ctx.clock.now_unix();
    store::Mutation update = store::SaveSipDomain{row, false};
    if (auto s = co_await commit(ctx.store, update); !s) {
      co_return write_sip_error(s.error(), scope.path,
                                "The domain name " + row.domain_name + " is already in use");
    }
  }
  auto mapped = has_call_credentials(ctx.store, row);
  if (!mapped) co_return store_error(mapped.error());
  co_return http::json_response(200, domain_json(row, *mapped));
}

// ---- Credential-list mappings ----

asio::awaitable<http::Response> domain_mappings(Context& ctx, const Scope& scope,
                                                const MappingTarget& target, Verb verb,
                                                const http::Form& params) {
  auto domain = ctx.store.find_sip_domain(scope.account.sid, target.domain_sid);
  if (!domain) co_return store_error(domain.error());
  if (!domain->has_value()) co_return http::error_response(not_found_error(scope.path));
  const char* key = target.legacy ? "credential_list_mappings" : "contents";
  const auto to_json = [legacy = target.legacy](const store::DomainMapping& m) {
    return mapping_json(m, legacy);
  };
  if (verb == Verb::kList) {
    auto page = parse_page_params(params);
    if (!page) co_return http::error_response(page.error());
    auto rows = ctx.store.list_domain_mappings(
        {scope.account.sid, std::string(target.domain_sid), target.kind}, page->request());
    if (!rows) co_return store_error(rows.error());
    co_return page_response(key, *rows, to_json, scope.path, "", *page);
  }
  if (verb == Verb::kCreate) {
    auto list_sid = params.get("CredentialListSid");
    if (!list_sid) co_return http::error_response(invalid("CredentialListSid is required"));
    auto list = is_sid(*list_sid, sid_prefix::kCredentialList)
                    ? ctx.store.find_credential_list(scope.account.sid, *list_sid)
                    : Result<std::optional<store::CredentialList>>(std::nullopt);
    if (!list) co_return store_error(list.error());
    if (!list->has_value()) {
      co_return http::error_response(invalid("CredentialListSid " + std::string(*list_sid) +
                                             " is not a credential list of "
                                             "this account"));
    }
    store::DomainMapping row;
    row.account_sid = scope.account.sid;
    row.domain_sid = std::string(target.domain_sid);
    row.credential_list_sid = std::string(*list_sid);
    row.kind = target.kind;
    row.friendly_name = (*list)->friendly_name;
    row.date_created = row.date_updated = ctx.clock.now_unix();
    store::Mutation insert = store::InsertDomainMapping{row};
    if (auto s = co_await commit(ctx.store, insert); !s) {
      co_return write_sip_error(
          s.error(), scope.path,
          "Credential list " + row.credential_list_sid + " is already mapped to this domain");
    }
    co_return http::json_response(201, to_json(row));
  }
  // One mapping: fetch or delete.
  store::PageRequest all;
  all.limit = 1000;
  auto rows = ctx.store.list_domain_mappings(
      {scope.account.sid, std::string(target.domain_sid), target.kind}, all);
  if (!rows) co_return store_error(rows.error());
  const store::DomainMapping* found = nullptr;
  for (const auto& m : rows->items) {
    if (m.credential_list_sid == target.list_sid) found = &m;
  }
  if (!found) co_return http::error_response(not_found_error(scope.path));
  if (verb == Verb::kFetch) co_return http::json_response(200, to_json(*found));
  store::Mutation remove = store::DeleteDomainMapping{
      scope.account.sid, std::string(target.domain_sid), std::string(target.list_sid), target.kind};
  if (auto s = co_await commit(ctx.store, remove); !s) {
    co_return write_sip_error(s.error(), scope.path, "");
  }
  co_return http::Response{boost::beast::http::status::no_content, 11};
}

}  // namespace sb::api
