#include "api/api.hpp"

#include <array>
#include <chrono>
#include <optional>
#include <string>

#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/path.hpp"
#include "api/resources.hpp"
#include "core/log.hpp"
#include "core/sid.hpp"
#include "core/text.hpp"

namespace sb::api {

namespace bhttp = boost::beast::http;

namespace {

// "IncomingPhoneNumbers/PN….json" -> "PN…" when the segment ends ".json".
std::optional<std::string_view> strip_json(std::string_view segment) {
  constexpr std::string_view kExt = ".json";
  if (segment.size() <= kExt.size() || segment.substr(segment.size() - kExt.size()) != kExt) {
    return std::nullopt;
  }
  return segment.substr(0, segment.size() - kExt.size());
}

// /2010-04-01/Accounts/{AccountSid}/Recordings/{Sid} with no extension or one other than
// .json: a recording's media, served without credentials.
struct MediaTarget {
  std::string_view account_sid, sid, extension;
};

std::optional<MediaTarget> media_target(std::string_view path) {
  auto parts = split_path<5>(path.substr(1));
  if (!parts || parts->second != 5) return std::nullopt;
  const auto& seg = parts->first;
  if (seg[0] != kApiBase.substr(1) || seg[1] != "Accounts" || seg[3] != "Recordings") {
    return std::nullopt;
  }
  const std::string_view name = seg[4];
  const auto dot = name.find('.');
  const std::string_view extension =
      dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  if (extension == "json") return std::nullopt;
  return MediaTarget{seg[2], name.substr(0, dot), extension};
}

// /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{Sid} with no extension: a
// received message's media, served without credentials.
struct MessageMediaTarget {
  std::string_view account_sid, message_sid, sid;
};

std::optional<MessageMediaTarget> message_media_target(std::string_view path) {
  auto parts = split_path<7>(path.substr(1));
  if (!parts || parts->second != 7) return std::nullopt;
  const auto& seg = parts->first;
  if (seg[0] != kApiBase.substr(1) || seg[1] != "Accounts" || seg[3] != "Messages" ||
      seg[5] != "Media" || seg[6].find('.') != std::string_view::npos) {
    return std::nullopt;
  }
  return MessageMediaTarget{seg[2], seg[4], seg[6]};
}

// What absolute URLs in responses start with: the public URL or, unset, the Host the client
// used (when it is a plain host[:port]).
std::string public_base(const Context& ctx, const http::Request& req) {
  if (!ctx.public_url.empty()) return ctx.public_url;
  const std::string_view host = req[bhttp::field::host];
  if (host.empty() || host.size() > 255) return "";
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return "";
  }
  return "http://" + std::string(host);
}

using http::method_not_allowed;

http::Response twiml(std::string body) {
  return http::text_response(200, std::move(body), "text/xml; charset=utf-8");
}

// The demo application (make run): greets, gathers one digit and reads it back.
http::Response demo_response(std::string_view path, const http::Form& params) {
  if (path == "/demo/voice") {
    return twiml(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>\n"
        "  <Say>Welcome to Switchboard.</Say>\n"
        "  <Gather numDigits=\"1\" action=\"/demo/gather\" method=\"POST\" timeout=\"5\">\n"
        "    <Say>Press any key.</Say>\n  </Gather>\n"
        "  <Say>We did not receive any input. Goodbye.</Say>\n  <Hangup/>\n</Response>\n");
  }
  std::string digits(params.get("Digits").value_or(""));
  std::string spoken;
  for (char c : digits) {
    if ((c >= '0' && c <= '9') || c == '*' || c == '#') {
      if (!spoken.empty()) spoken += ' ';
      spoken += c == '*'   ? std::string("star")
                : c == '#' ? std::string("pound")
                           : std::string(1, c);
    }
  }
  if (spoken.empty()) spoken = "nothing";
  return twiml("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response>\n  <Say>You pressed " +
               spoken + ". Goodbye.</Say>\n  <Hangup/>\n</Response>\n");
}

// /2010-04-01/Accounts/{AccountSid}/SIP/… (but Trunks): credential lists, credentials, domains
// and their credential-list mappings. `seg` holds the path's segments, SIP at [3].
asio::awaitable<http::Response> handle_sip(Context& ctx, http::RequestInfo& info,
                                           const Scope& scope,
                                           const std::array<std::string_view, 10>& seg,
                                           std::size_t n, bhttp::verb method,
                                           const http::Form& params) {
  const bool get = method == bhttp::verb::get;
  const bool post = method == bhttp::verb::post;
  const bool del = method == bhttp::verb::delete_;
  const std::string base = "/2010-04-01/Accounts/{AccountSid}/SIP/";
  auto not_found = [&] { return http::error_response(not_found_error(scope.path)); };
  // A collection (GET list, POST create) or an item (GET, POST update, DELETE).
  auto collection_verb = [&]() -> std::optional<Verb> {
    if (get) return Verb::kList;
    if (post) return Verb::kCreate;
    return std::nullopt;
  };
  auto item_verb = [&](bool updatable) -> std::optional<Verb> {
    if (get) return Verb::kFetch;
    if (post && updatable) return Verb::kUpdate;
    if (del) return Verb::kDelete;
    return std::nullopt;
  };
  auto sid_of = [](std::string_view segment, std::string_view prefix) {
    auto sid = strip_json(segment);
    return sid && is_sid(*sid, prefix) ? sid : std::nullopt;
  };

  if (seg[4] == "CredentialLists.json" && n == 5) {
    info.route = base + "CredentialLists.json";
    auto verb = collection_verb();
    if (!verb) co_return method_not_allowed("GET, POST");
    if (*verb == Verb::kList) {
      co_return co_await list_credential_lists(ctx, scope, params);
    }
    co_return co_await create_credential_list(ctx, scope, params);
  }
  if (seg[4] == "CredentialLists" && n >= 6) {
    if (n == 6) {
      info.route = base + "CredentialLists/{Sid}.json";
      auto sid = sid_of(seg[5], sid_prefix::kCredentialList);
      if (!sid) co_return not_found();
      auto verb = item_verb(true);
      if (!verb) co_return method_not_allowed("GET, POST, DELETE");
      co_return co_await credential_list_item(ctx, scope, *sid, *verb, params);
    }
    if (!is_sid(seg[5], sid_prefix::kCredentialList)) co_return not_found();
    if (n == 7 && seg[6] == "Credentials.json") {
      info.route = base + "CredentialLists/{CredentialListSid}/Credentials.json";
      auto verb = collection_verb();
      if (!verb) co_return method_not_allowed("GET, POST");
      if (*verb == Verb::kList) {
        co_return co_await list_credentials(ctx, scope, seg[5], params);
      }
      co_return co_await create_credential(ctx, scope, seg[5], params);
    }
    if (n == 8 && seg[6] == "Credentials") {
      info.route = base + "CredentialLists/{CredentialListSid}/Credentials/{Sid}.json";
      auto sid = sid_of(seg[7], sid_prefix::kCredential);
      if (!sid) co_return not_found();
      auto verb = item_verb(true);
      if (!verb) co_return method_not_allowed("GET, POST, DELETE");
      co_return co_await credential_item(ctx, scope, seg[5], *sid, *verb, params);
    }
    co_return not_found();
  }
  if (seg[4] == "Domains.json" && n == 5) {
    info.route = base + "Domains.json";
    auto verb = collection_verb();
    if (!verb) co_return method_not_allowed("GET, POST");
    if (*verb == Verb::kList) {
      co_return co_await list_sip_domains(ctx, scope, params);
    }
    co_return co_await create_sip_domain(ctx, scope, params);
  }
  if (seg[4] == "Domains" && n >= 6) {
    if (n == 6) {
      info.route = base + "Domains/{Sid}.json";
      auto sid = sid_of(seg[5], sid_prefix::kSipDomain);
      if (!sid) co_return not_found();
      auto verb = item_verb(true);
      if (!verb) co_return method_not_allowed("GET, POST, DELETE");
      co_return co_await sip_domain_item(ctx, scope, *sid, *verb, params);
    }
    if (!is_sid(seg[5], sid_prefix::kSipDomain)) co_return not_found();
    MappingTarget target{seg[5], store::MappingKind::kCalls, false, {}};
    std::size_t at = 6;  // where "CredentialListMappings" is
    if (seg[6] == "CredentialListMappings.json" || seg[6] == "CredentialListMappings") {
      target.legacy = true;
    } else if (seg[6] == "Auth" && n >= 9 && (seg[7] == "Calls" || seg[7] == "Registrations")) {
      target.kind =
          seg[7] == "Calls" ? store::MappingKind::kCalls : store::MappingKind::kRegistrations;
      at = 8;
    } else {
      co_return not_found();
    }
    const std::string route = target.legacy ? base + "Domains/{DomainSid}/CredentialListMappings"
                                            : base + "Domains/{DomainSid}/Auth/" +
                                                  std::string(seg[7]) + "/CredentialListMappings";
    if (n == at + 1 && seg[at] == "CredentialListMappings.json") {
      info.route = route + ".json";
      auto verb = collection_verb();
      if (!verb) co_return method_not_allowed("GET, POST");
      co_return co_await domain_mappings(ctx, scope, target, *verb, params);
    }
    if (n == at + 2 && seg[at] == "CredentialListMappings") {
      info.route = route + "/{Sid}.json";
      auto sid = sid_of(seg[at + 1], sid_prefix::kCredentialList);
      if (!sid) co_return not_found();
      target.list_sid = *sid;
      auto verb = item_verb(false);
      if (!verb) co_return method_not_allowed("GET, DELETE");
      co_return co_await domain_mappings(ctx, scope, target, *verb, params);
    }
    co_return not_found();
  }
  co_return not_found();
}

// /2010-04-01/Accounts/{AccountSid}/Conferences… : the rooms and their participants.
asio::awaitable<http::Response> handle_conferences(Context& ctx, http::RequestInfo& info,
                                                   const Scope& scope,
                                                   const std::array<std::string_view, 10>& seg,
                                                   std::size_t n, bhttp::verb method,
                                                   const http::Form& params) {
  const bool get = method == bhttp::verb::get;
  const bool post = method == bhttp::verb::post;
  const bool del = method == bhttp::verb::delete_;
  const std::string base = "/2010-04-01/Accounts/{AccountSid}/Conferences";
  auto not_found = [&] { return http::error_response(not_found_error(scope.path)); };

  if (n == 4 && seg[3] == "Conferences.json") {
    info.route = base + ".json";
    if (get) {
      co_return co_await list_conferences(ctx, scope, params);
    }
    co_return method_not_allowed("GET");
  }
  if (n < 5 || seg[3] != "Conferences") co_return not_found();
  if (n == 5) {
    info.route = base + "/{Sid}.json";
    auto sid = strip_json(seg[4]);
    if (!sid || !is_sid(*sid, sid_prefix::kConference)) co_return not_found();
    if (get) {
      co_return co_await fetch_conference(ctx, scope, *sid);
    }
    if (post) {
      co_return co_await update_conference(ctx, scope, *sid, params);
    }
    co_return method_not_allowed("GET, POST");
  }
  if (n == 6 && seg[5] == "Participants.json") {
    info.route = base + "/{ConferenceSid}/Participants.json";
    // Create takes a FriendlyName in place of the SID (the room opens if none is live).
    auto conference = decode_segment(seg[4]);
    if (!conference) co_return not_found();
    if (get) {
      if (!is_sid(*conference, sid_prefix::kConference)) co_return not_found();
      co_return co_await list_participants(ctx, scope, *conference, params);
    }
    if (post) {
      co_return co_await create_participant(ctx, scope, *conference, params);
    }
    co_return method_not_allowed("GET, POST");
  }
  if (n == 7 && seg[5] == "Participants") {
    info.route = base + "/{ConferenceSid}/Participants/{CallSid}.json";
    // {CallSid} may be a participant's label, percent-encoded.
    auto raw = strip_json(seg[6]);
    auto who = raw ? decode_segment(*raw) : std::nullopt;
    if (!who || !is_sid(seg[4], sid_prefix::kConference)) co_return not_found();
    if (get) {
      co_return co_await fetch_participant(ctx, scope, seg[4], *who);
    }
    if (post) {
      co_return co_await update_participant(ctx, scope, seg[4], *who, params);
    }
    if (del) {
      co_return co_await delete_participant(ctx, scope, seg[4], *who);
    }
    co_return method_not_allowed("GET, POST, DELETE");
  }
  co_return not_found();
}

// /2010-04-01/Accounts/{AccountSid}/Queues… : the queues and their members.
asio::awaitable<http::Response> handle_queues(Context& ctx, http::RequestInfo& info,
                                              const Scope& scope,
                                              const std::array<std::string_view, 10>& seg,
                                              std::size_t n, bhttp::verb method,
                                              const http::Form& params) {
  const bool get = method == bhttp::verb::get;
  const bool post = method == bhttp::verb::post;
  const bool del = method == bhttp::verb::delete_;
  const std::string base = "/2010-04-01/Accounts/{AccountSid}/Queues";
  auto not_found = [&] { return http::error_response(not_found_error(scope.path)); };

  if (n == 4 && seg[3] == "Queues.json") {
    info.route = base + ".json";
    if (get) {
      co_return co_await list_queues(ctx, scope, params);
    }
    if (post) {
      co_return co_await create_queue(ctx, scope, params);
    }
    co_return method_not_allowed("GET, POST");
  }
  if (n < 5 || seg[3] != "Queues") co_return not_found();
  if (n == 5) {
    info.route = base + "/{Sid}.json";
    auto sid = strip_json(seg[4]);
    if (!sid || !is_sid(*sid, sid_prefix::kQueue)) co_return not_found();
    if (get) {
      co_return co_await fetch_queue(ctx, scope, *sid);
    }
    if (post) {
      co_return co_await update_queue(ctx, scope, *sid, params);
    }
    if (del) {
      co_return co_await delete_queue(ctx, scope, *sid);
    }
    co_return method_not_allowed("GET, POST, DELETE");
  }
  if (n == 6 && seg[5] == "Members.json") {
    info.route = base + "/{QueueSid}/Members.json";
    if (!is_sid(seg[4], sid_prefix::kQueue)) co_return not_found();
    if (get) {
      co_return co_await list_queue_members(ctx, scope, seg[4], params);
    }
    co_return method_not_allowed("GET");
  }
  if (n == 7 && seg[5] == "Members") {
    info.route = base + "/{QueueSid}/Members/{CallSid}.json";
    auto who = strip_json(seg[6]);  // a CallSid or Front: nothing to decode
    if (!who || !is_sid(seg[4], sid_prefix::kQueue)) co_return not_found();
    if (get) {
      co_return co_await fetch_queue_member(ctx, scope, seg[4], *who);
    }
    if (post) {
      co_return co_await dequeue_queue_member(ctx, scope, seg[4], *who, params);
    }
    co_return method_not_allowed("GET, POST");
  }
  co_return not_found();
}

// Twilio's "Enforce HTTP Auth on Media URLs": when `account_sid` has it on, its recording and
// message media need credentials that reach it (its own, one of its keys, its parent's, or the
// console's session); nullopt when the media may be served.
std::optional<http::Response> media_auth_refusal(Context& ctx, const http::Request& req,
                                                 std::string_view account_sid,
                                                 std::string_view path) {
  auto account = ctx.store.find_account(account_sid);
  if (!account) return store_error(account.error());
  if (!*account || !(*account)->enforce_media_auth) return std::nullopt;
  auto caller = authenticate(ctx.store, req, ctx.sessions);
  if (!caller) {
    return uses_session_cookie(req) ? http::error_response(caller.error())
                                    : http::auth_error_response(caller.error());
  }
  auto scoped = resolve_scope(ctx.store, *caller, account_sid, path);
  if (!scoped) return http::error_response(scoped.error());
  return std::nullopt;
}

}  // namespace

Api::Api(store::Store& store, const Clock& clock, const metrics::Registry& metrics)
    : ctx_{store, clock, http::FormLimits{}},
      metrics_(metrics),
      sessions_(std::make_unique<ConsoleSessions>(clock)) {
  ctx_.sessions = sessions_.get();
}

void Api::set_session_limits(SessionLimits limits) {
  sessions_ = std::make_unique<ConsoleSessions>(ctx_.clock, limits);
  ctx_.sessions = sessions_.get();
}

void Api::set_public_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  ctx_.public_url = std::move(url);
}

asio::awaitable<http::Response> Api::handle(http::Request& req, http::RequestInfo& info) {
  const std::string_view target = req.target();
  const auto qmark = target.find('?');
  const std::string_view path = target.substr(0, qmark);
  const std::string_view query =
      qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);
  const auto method = req.method();

  if (path == "/healthz") {
    info.route = "/healthz";
    if (method != bhttp::verb::get && method != bhttp::verb::head) {
      co_return method_not_allowed("GET");
    }
    co_return http::text_response(200, "ok\n", "text/plain; charset=utf-8");
  }
  if (path == "/metrics") {
    info.route = "/metrics";
    if (method != bhttp::verb::get) co_return method_not_allowed("GET");
    co_return http::text_response(200, metrics_.render(), "text/plain; version=0.0.4");
  }
  if (path == "/demo/voice" || path == "/demo/gather") {
    info.route = std::string(path);
    if (method != bhttp::verb::get && method != bhttp::verb::post) {
      co_return method_not_allowed("GET, POST");
    }
    auto params = request_params(req, query, ctx_.form_limits);
    if (!params) co_return http::error_response(params.error());
    co_return demo_response(path, *params);
  }
  if (path.substr(0, kAccountsV1Base.size()) == kAccountsV1Base) {
    std::string base = public_base(ctx_, req);
    co_return co_await handle_auth_tokens(ctx_, req, info, path, std::move(base));
  }
  if (path.substr(0, kAdminBase.size()) == kAdminBase) {
    co_return co_await handle_admin(ctx_, sip_bans_, req, info, path, query);
  }
  if (path.substr(0, 4) == "/v1/" && v1_) {
    co_return co_await v1_(req, info);
  }
  if ((path == "/console" || path.substr(0, 9) == "/console/") && console_) {
    co_return co_await console_(req, info);
  }
  if (auto media = message_media_target(path)) {
    info.route = "/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{Sid}";
    if (method != bhttp::verb::get && method != bhttp::verb::head) {
      co_return method_not_allowed("GET, HEAD");
    }
    if (auto refused = media_auth_refusal(ctx_, req, media->account_sid, path)) {
      co_return std::move(*refused);
    }
    co_return message_media_content(ctx_, media->account_sid, media->message_sid, media->sid, path);
  }
  if (auto media = media_target(path)) {
    info.route = "/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.wav";
    if (method != bhttp::verb::get && method != bhttp::verb::head) {
      co_return method_not_allowed("GET, HEAD");
    }
    if (auto refused = media_auth_refusal(ctx_, req, media->account_sid, path)) {
      co_return std::move(*refused);
    }
    co_return recording_media(ctx_, media->account_sid, media->sid, media->extension, path);
  }
  if (path.substr(0, kApiBase.size() + 1) == std::string(kApiBase) + "/") {
    co_return co_await handle_rest(req, info, path, query);
  }
  info.route = "unmatched";
  co_return http::error_response(not_found_error(path));
}

asio::awaitable<http::Response> Api::handle_rest(http::Request& req, http::RequestInfo& info,
                                                 std::string_view path, std::string_view query) {
  info.route = "/2010-04-01/unmatched";
  auto caller = authenticate(ctx_.store, req, ctx_.sessions);
  if (!caller) {
    co_return uses_session_cookie(req) ? http::error_response(caller.error())
                                       : http::auth_error_response(caller.error());
  }
  if (!caller->may(key_scope::kRest)) {
    co_return http::error_response(
        missing_scope_error(key_scope::kRest, "use the 2010-04-01 REST API"));
  }
  if (rate_limit_) {
    // A steady clock: a wall-clock step back must not hold an account's tokens back.
    const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
    if (const auto wait = rate_limit_->take(caller->account.sid, now); wait > 0) {
      auto res =
          http::error_response({codes::kTooManyRequests, 429,
                                "Too Many Requests: this account may make " +
                                    std::to_string(static_cast<std::int64_t>(rate_limit_->rate())) +
                                    " requests a second (api.account_rate); retry after " +
                                    std::to_string(wait) + " s"});
      res.set(bhttp::field::retry_after, std::to_string(wait));
      co_return res;
    }
  }

  auto parts = split_path<10>(path.substr(1));
  if (!parts) co_return http::error_response(not_found_error(path));
  const auto& [seg, n] = *parts;
  const auto method = req.method();
  const bool get = method == bhttp::verb::get;
  const bool post = method == bhttp::verb::post;
  const bool del = method == bhttp::verb::delete_;

  auto params = request_params(req, query, ctx_.form_limits);
  if (!params) co_return http::error_response(params.error());

  // Like Twilio's Standard keys, no API key may manage accounts (auth tokens, subaccounts)
  // or API keys: that takes the account's own credentials.
  const bool account_or_keys =
      (n == 2 && seg[1] == "Accounts.json") ||
      (n >= 3 && seg[1] == "Accounts" &&
       (n == 3 || (n == 4 && seg[3] == "Keys.json") || (n == 5 && seg[3] == "Keys")));
  if (caller->key && account_or_keys) {
    co_return http::error_response(authorization_error(
        "Authorization Failed - an API key cannot manage accounts or API keys; use the "
        "account's SID and auth token"));
  }
  const store::Account& caller_account = caller->account;

  if (n == 2 && seg[1] == "Accounts.json") {
    info.route = "/2010-04-01/Accounts.json";
    if (get) {
      co_return co_await list_accounts(ctx_, caller_account, *params);
    }
    if (post) {
      co_return co_await create_account(ctx_, caller_account, *params);
    }
    co_return method_not_allowed("GET, POST");
  }
  if (n < 3 || seg[1] != "Accounts") co_return http::error_response(not_found_error(path));

  // /2010-04-01/Accounts/{AccountSid}.json
  if (n == 3) {
    auto sid = strip_json(seg[2]);
    if (!sid) co_return http::error_response(not_found_error(path));
    info.route = "/2010-04-01/Accounts/{AccountSid}.json";
    auto target = resolve_scope(ctx_.store, *caller, *sid, path);
    if (!target) co_return http::error_response(target.error());
    const Scope scope{caller_account, *target, path};
    if (get) co_return http::json_response(200, account_json(*target));
    if (post) {
      co_return co_await update_account(ctx_, scope, *params);
    }
    co_return method_not_allowed("GET, POST");
  }

  auto target = resolve_scope(ctx_.store, *caller, seg[2], path);
  if (!target) co_return http::error_response(target.error());
  const Scope scope{caller_account, *target, path};

  if (n == 4 && seg[3] == "Keys.json") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/Keys.json";
    if (get) {
      co_return co_await list_keys(ctx_, scope, *params);
    }
    if (post) {
      co_return co_await create_key(ctx_, scope, *params);
    }
    co_return method_not_allowed("GET, POST");
  }
  if (n == 5 && seg[3] == "Keys") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/Keys/{Sid}.json";
    auto sid = strip_json(seg[4]);
    if (!sid || !is_sid(*sid, kApiKeySidPrefix)) {
      co_return http::error_response(not_found_error(path));
    }
    if (get) {
      co_return co_await fetch_key(ctx_, scope, *sid);
    }
    if (post) {
      co_return co_await update_key(ctx_, scope, *sid, *params);
    }
    if (del) {
      co_return co_await delete_key(ctx_, scope, *sid);
    }
    co_return method_not_allowed("GET, POST, DELETE");
  }
  if (n == 4 && seg[3] == "IncomingPhoneNumbers.json") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json";
    if (get) {
      co_return co_await list_numbers(ctx_, scope, *params);
    }
    if (post) {
      co_return co_await create_number(ctx_, scope, *params);
    }
    co_return method_not_allowed("GET, POST");
  }
  if (n == 4 && seg[3] == "Applications.json") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/Applications.json";
    if (get) {
      co_return co_await list_applications(ctx_, scope, *params);
    }
    if (post) {
      co_return co_await create_application(ctx_, scope, *params);
    }
    co_return method_not_allowed("GET, POST");
  }
  if (n == 5 && seg[3] == "SIP" && seg[4] == "Trunks.json") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/SIP/Trunks.json";
    if (get) {
      co_return co_await list_trunks(ctx_, scope, *params);
    }
    if (post) {
      co_return co_await create_trunk(ctx_, scope, *params);
    }
    co_return method_not_allowed("GET, POST");
  }
  if (n == 6 && seg[3] == "SIP" && seg[4] == "Trunks") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/SIP/Trunks/{Sid}.json";
    auto sid = strip_json(seg[5]);
    if (!sid || !is_sid(*sid, sid_prefix::kTrunk)) {
      co_return http::error_response(not_found_error(path));
    }
    if (get) {
      co_return co_await fetch_trunk(ctx_, scope, *sid);
    }
    if (post) {
      co_return co_await update_trunk(ctx_, scope, *sid, *params);
    }
    if (del) {
      co_return co_await delete_trunk(ctx_, scope, *sid);
    }
    co_return method_not_allowed("GET, POST, DELETE");
  }
  if (n >= 5 && seg[3] == "SIP" && seg[4] != "Trunks.json" && seg[4] != "Trunks") {
    co_return co_await handle_sip(ctx_, info, scope, seg, n, method, *params);
  }
  if (n == 4 && seg[3] == "OutgoingCallerIds.json") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/OutgoingCallerIds.json";
    if (get) {
      co_return co_await list_caller_ids(ctx_, scope, *params);
    }
    if (post) {
      co_return co_await create_validation_request(ctx_, scope, *params);
    }
    co_return method_not_allowed("GET, POST");
  }
  if (n == 5 && seg[3] == "OutgoingCallerIds") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/OutgoingCallerIds/{Sid}.json";
    auto sid = strip_json(seg[4]);
    if (!sid || !is_sid(*sid, sid_prefix::kIncomingNumber)) {
      co_return http::error_response(not_found_error(path));
    }
    if (get) {
      co_return co_await fetch_caller_id(ctx_, scope, *sid);
    }
    if (post) {
      co_return co_await update_caller_id(ctx_, scope, *sid, *params);
    }
    if (del) {
      co_return co_await delete_caller_id(ctx_, scope, *sid);
    }
    co_return method_not_allowed("GET, POST, DELETE");
  }
  if (n == 4 && seg[3] == "Calls.json") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/Calls.json";
    if (get) {
      co_return co_await list_calls(ctx_, scope, *params);
    }
    if (post) {
      co_return co_await create_call(ctx_, scope, *params);
    }
    co_return method_not_allowed("GET, POST");
  }
  if (n == 5 && seg[3] == "Calls") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json";
    auto sid = strip_json(seg[4]);
    if (!sid || !is_sid(*sid, sid_prefix::kCall)) {
      co_return http::error_response(not_found_error(path));
    }
    if (get) {
      co_return co_await fetch_call(ctx_, scope, *sid);
    }
    if (post) {
      co_return co_await update_call(ctx_, scope, *sid, *params);
    }
    co_return method_not_allowed("GET, POST");
  }
  if ((n == 6 || n == 7) && seg[3] == "Calls" && is_sid(seg[4], sid_prefix::kCall) &&
      (seg[5] == "Streams.json" || seg[5] == "Streams")) {
    if (n == 6 && seg[5] == "Streams.json") {
      info.route = "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Streams.json";
      if (post) {
        co_return co_await create_stream(ctx_, scope, seg[4], *params);
      }
      co_return method_not_allowed("POST");
    }
    if (n == 7 && seg[5] == "Streams") {
      info.route = "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Streams/{Sid}.json";
      auto stripped = strip_json(seg[6]);
      auto sid = stripped ? decode_segment(*stripped) : std::nullopt;
      if (!sid || sid->empty()) co_return http::error_response(not_found_error(path));
      if (post) {
        co_return co_await update_stream(ctx_, scope, seg[4], *sid, *params);
      }
      co_return method_not_allowed("POST");
    }
  }
  if (n == 4 && seg[3] == "Messages.json") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/Messages.json";
    if (get) {
      co_return co_await list_messages(ctx_, scope, *params);
    }
    if (post) {
      co_return co_await create_message(ctx_, scope, *params);
    }
    co_return method_not_allowed("GET, POST");
  }
  if (n == 5 && seg[3] == "Messages") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json";
    auto sid = strip_json(seg[4]);
    if (!sid || !is_sid(*sid, sid_prefix::kMessage)) {
      co_return http::error_response(not_found_error(path));
    }
    if (get) {
      co_return co_await fetch_message(ctx_, scope, *sid);
    }
    if (post) {
      co_return co_await update_message(ctx_, scope, *sid, *params);
    }
    if (del) {
      co_return co_await delete_message(ctx_, scope, *sid);
    }
    co_return method_not_allowed("GET, POST, DELETE");
  }
  if ((n == 6 || n == 7) && seg[3] == "Messages" && is_sid(seg[4], sid_prefix::kMessage)) {
    if (n == 6 && seg[5] == "Media.json") {
      info.route = "/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media.json";
      if (get) {
        co_return co_await list_message_media(ctx_, scope, seg[4], *params);
      }
      co_return method_not_allowed("GET");
    }
    if (n == 7 && seg[5] == "Media") {
      info.route = "/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{Sid}.json";
      auto sid = strip_json(seg[6]);
      if (!sid || !is_sid(*sid, sid_prefix::kMedia)) {
        co_return http::error_response(not_found_error(path));
      }
      if (get) {
        co_return co_await message_media_item(ctx_, scope, seg[4], *sid, false);
      }
      if (del) {
        co_return co_await message_media_item(ctx_, scope, seg[4], *sid, true);
      }
      co_return method_not_allowed("GET, DELETE");
    }
  }
  if (n == 4 && seg[3] == "Recordings.json") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/Recordings.json";
    const std::string base = public_base(ctx_, req);
    if (get) {
      co_return co_await list_recordings(ctx_, scope, *params, "", base);
    }
    co_return method_not_allowed("GET");
  }
  if (n == 5 && seg[3] == "Recordings") {
    // Only .json reaches here: the media paths are routed before authentication.
    info.route = "/2010-04-01/Accounts/{AccountSid}/Recordings/{Sid}.json";
    auto sid = strip_json(seg[4]);
    if (!sid || !is_sid(*sid, sid_prefix::kRecording)) {
      co_return http::error_response(not_found_error(path));
    }
    const std::string base = public_base(ctx_, req);
    if (get) {
      co_return co_await fetch_recording(ctx_, scope, *sid, "", base);
    }
    if (del) {
      co_return co_await delete_recording(ctx_, scope, *sid, "");
    }
    co_return method_not_allowed("GET, DELETE");
  }
  if (n == 6 && seg[3] == "Calls" && seg[5] == "Events.json") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Events.json";
    if (!is_sid(seg[4], sid_prefix::kCall)) co_return http::error_response(not_found_error(path));
    if (get) {
      co_return co_await list_call_events(ctx_, scope, *params, seg[4]);
    }
    co_return method_not_allowed("GET");
  }
  if (n >= 6 && seg[3] == "Calls" &&
      (seg[5] == "Notifications.json" || seg[5] == "Notifications")) {
    const std::string_view call_sid = seg[4];
    if (!is_sid(call_sid, sid_prefix::kCall)) {
      co_return http::error_response(not_found_error(path));
    }
    if (n == 6 && seg[5] == "Notifications.json") {
      info.route = "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Notifications.json";
      if (get) {
        co_return co_await list_notifications(ctx_, scope, *params, call_sid);
      }
      co_return method_not_allowed("GET");
    }
    if (n == 7 && seg[5] == "Notifications") {
      info.route = "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Notifications/{Sid}.json";
      auto sid = strip_json(seg[6]);
      if (!sid || !is_sid(*sid, sid_prefix::kNotification)) {
        co_return http::error_response(not_found_error(path));
      }
      if (get) {
        co_return co_await fetch_notification(ctx_, scope, *sid, call_sid);
      }
      co_return method_not_allowed("GET");
    }
    co_return http::error_response(not_found_error(path));
  }
  if (n >= 6 && seg[3] == "Calls" && (seg[5] == "Recordings.json" || seg[5] == "Recordings")) {
    const std::string_view call_sid = seg[4];
    if (!is_sid(call_sid, sid_prefix::kCall)) co_return http::error_response(not_found_error(path));
    const std::string base = public_base(ctx_, req);
    if (n == 6 && seg[5] == "Recordings.json") {
      info.route = "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Recordings.json";
      if (get) {
        co_return co_await list_recordings(ctx_, scope, *params, call_sid, base);
      }
      co_return method_not_allowed("GET");
    }
    if (n == 7 && seg[5] == "Recordings") {
      info.route = "/2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}/Recordings/{Sid}.json";
      auto sid = strip_json(seg[6]);
      if (!sid || !is_sid(*sid, sid_prefix::kRecording)) {
        co_return http::error_response(not_found_error(path));
      }
      if (get) {
        co_return co_await fetch_recording(ctx_, scope, *sid, call_sid, base);
      }
      if (del) {
        co_return co_await delete_recording(ctx_, scope, *sid, call_sid);
      }
      co_return method_not_allowed("GET, DELETE");
    }
  }
  if (seg[3] == "Conferences.json" || seg[3] == "Conferences") {
    co_return co_await handle_conferences(ctx_, info, scope, seg, n, method, *params);
  }
  if (seg[3] == "Queues.json" || seg[3] == "Queues") {
    co_return co_await handle_queues(ctx_, info, scope, seg, n, method, *params);
  }
  if (n == 4 && seg[3] == "Notifications.json") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/Notifications.json";
    if (get) {
      co_return co_await list_notifications(ctx_, scope, *params);
    }
    co_return method_not_allowed("GET");
  }
  if (n == 5 && seg[3] == "Notifications") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/Notifications/{Sid}.json";
    auto sid = strip_json(seg[4]);
    if (!sid || !is_sid(*sid, sid_prefix::kNotification)) {
      co_return http::error_response(not_found_error(path));
    }
    if (get) {
      co_return co_await fetch_notification(ctx_, scope, *sid);
    }
    co_return method_not_allowed("GET");
  }
  if (n == 5 && seg[3] == "IncomingPhoneNumbers") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json";
    auto sid = strip_json(seg[4]);
    if (!sid || !is_sid(*sid, sid_prefix::kIncomingNumber)) {
      co_return http::error_response(not_found_error(path));
    }
    if (get) {
      co_return co_await fetch_number(ctx_, scope, *sid);
    }
    if (post) {
      co_return co_await update_number(ctx_, scope, *sid, *params);
    }
    if (del) {
      co_return co_await delete_number(ctx_, scope, *sid);
    }
    co_return method_not_allowed("GET, POST, DELETE");
  }
  if (n == 5 && seg[3] == "Applications") {
    info.route = "/2010-04-01/Accounts/{AccountSid}/Applications/{Sid}.json";
    auto sid = strip_json(seg[4]);
    if (!sid || !is_sid(*sid, sid_prefix::kApplication)) {
      co_return http::error_response(not_found_error(path));
    }
    if (get) {
      co_return co_await fetch_application(ctx_, scope, *sid);
    }
    if (post) {
      co_return co_await update_application(ctx_, scope, *sid, *params);
    }
    if (del) {
      co_return co_await delete_application(ctx_, scope, *sid);
    }
    co_return method_not_allowed("GET, POST, DELETE");
  }
  co_return http::error_response(not_found_error(path));
}

// ---- context.hpp ----

Result<http::Form> request_params(const http::Request& req, std::string_view query,
                                  const http::FormLimits& limits) {
  if (req.method() != bhttp::verb::post) return http::parse_form(query, limits);
  const std::string_view type = req[bhttp::field::content_type];
  const std::string_view base = type.substr(0, type.find(';'));
  if (!req.body().empty() && !boost::beast::iequals(base, "application/x-www-form-urlencoded")) {
    return Error{codes::kInvalidParameter, 415,
                 "Content-Type must be application/x-www-form-urlencoded"};
  }
  auto form = http::parse_form(req.body(), limits);
  if (!form) return form;
  // Twilio reads query parameters on POST too; the body wins when both name a key.
  auto from_query = http::parse_form(query, limits);
  if (!from_query) return from_query;
  for (const auto& [k, v] : from_query->fields()) {
    if (!form->has(k)) form->add(k, v);
  }
  return form;
}

http::Response store_error(const Error& error) {
  spdlog::error("store: {}", error.message);
  if (error.status == 503) return http::error_response(error);
  return http::error_response(Error::internal("Internal storage error"));
}

}  // namespace sb::api
