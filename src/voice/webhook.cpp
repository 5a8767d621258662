#include "voice/webhook.hpp"

#include <boost/url.hpp>

#include "core/sid.hpp"
#include "http/form.hpp"
#include "http/signature.hpp"
#include "http/url_overrides.hpp"

namespace sb::voice {

std::string encode_params(const twiml::Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += http::form_encode(k);
    out += '=';
    out += http::form_encode(v);
  }
  return out;
}

std::string resolve_url(std::string_view base, std::string_view ref) {
  if (ref.empty()) return std::string(base);
  auto r = boost::urls::parse_uri_reference(ref);
  if (!r) return "";
  if (r->has_scheme()) return std::string(ref);
  auto b = boost::urls::parse_uri(http::strip_fragment(base));
  if (!b) return "";
  boost::urls::url dest;
  if (!boost::urls::resolve(*b, *r, dest)) return "";
  return std::string(dest.buffer());
}

namespace {
std::string header_lines(const http::HeaderList& headers) {
  std::string out;
  for (const auto& [k, v] : headers) {
    out += k;
    out += ": ";
    out += v;
    out += "\n";
  }
  return out;
}
}  // namespace

store::Notification webhook_notification(std::string account_sid, std::string call_sid, int log,
                                         int code, std::string text, const std::string& method,
                                         const std::string& url, const twiml::Params& params,
                                         const http::ClientResponse* response, std::int64_t now) {
  constexpr std::size_t kResponseExcerpt = 4096;
  store::Notification n;
  n.sid = make_sid(sid_prefix::kNotification);
  n.account_sid = std::move(account_sid);
  n.call_sid = std::move(call_sid);
  n.log = log;
  n.error_code = code;
  n.message_text = std::move(text);
  n.request_method = method;
  n.request_url = url;
  n.request_variables = encode_params(params);
  if (response) {
    n.response_body = response->body.substr(0, kResponseExcerpt);
    n.response_headers = header_lines(response->headers);
  }
  n.date_created = now;
  return n;
}

store::CallEvent exchange_event(Exchange exchange) {
  constexpr std::size_t kBodyKept = std::size_t{64} * 1024;
  store::CallEvent e;
  e.account_sid = std::move(exchange.account_sid);
  e.call_sid = std::move(exchange.call_sid);
  e.type = std::move(exchange.type);
  e.request_method = exchange.method;
  e.request_url = std::string(http::strip_fragment(exchange.url));
  e.request_variables = encode_params(exchange.params);
  if (const http::ClientResponse* r = exchange.response) {
    e.response_code = r->status;
    e.content_type = r->content_type;
    e.response_headers = header_lines(r->headers);
    e.response_body = r->body.substr(0, kBodyKept);
  }
  e.error_code = exchange.error_code;
  e.error_message = std::move(exchange.error_message);
  e.date_created_ms = exchange.started_ms;
  e.duration_ms =
      static_cast<int>(std::max<std::int64_t>(0, exchange.ended_ms - exchange.started_ms));
  return e;
}

std::string url_host(std::string_view url) {
  auto u = boost::urls::parse_uri(http::strip_fragment(url));
  if (!u) return "";
  std::string host(u->encoded_host());
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return host;
}

http::ClientRequest build_webhook_request(const WebhookRequest& request, CookieJar* cookies) {
  http::ClientRequest out;
  const std::string_view bare = http::strip_fragment(request.url);
  const std::string_view fragment = std::string_view(request.url).substr(bare.size());
  const bool get = request.method == "GET";
  out.method = get ? "GET" : "POST";
  std::string signed_url(bare);
  if (get && !request.params.empty()) {
    signed_url += signed_url.find('?') == std::string::npos ? '?' : '&';
    signed_url += encode_params(request.params);
  }
  out.url = signed_url + std::string(fragment);
  const http::SignedParams post_params =
      get ? http::SignedParams{} : http::SignedParams(request.params.begin(), request.params.end());
  out.headers.emplace_back("X-Twilio-Signature",
                           http::twilio_signature(request.auth_token, signed_url, post_params));
  // The account the request is for: named explicitly, else by the AccountSid parameter every
  // voice and messaging webhook carries. Its own outbound policy applies, if it has one.
  out.account_sid = request.account_sid;
  if (out.account_sid.empty()) {
    for (const auto& [name, value] : request.params) {
      if (name == "AccountSid") {
        out.account_sid = value;
        break;
      }
    }
  }
  out.headers.emplace_back("Accept", request.accept);
  out.headers.emplace_back("User-Agent", "TwilioProxy/1.1 (Switchboard)");
  if (!get) {
    out.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    out.body = encode_params(request.params);
  }
  if (cookies) {
    const std::string cookie = cookies->header_for(url_host(bare));
    if (!cookie.empty()) out.headers.emplace_back("Cookie", cookie);
  }
  return out;
}

}  // namespace sb::voice
