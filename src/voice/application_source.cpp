#include "voice/application_source.hpp"

#include <boost/algorithm/string/case_conv.hpp>
#include <boost/algorithm/string/trim.hpp>

#include "core/log.hpp"
#include "twiml/parser.hpp"
#include "voice/webhook.hpp"

namespace sb::voice {
namespace {

constexpr int kInvalidContentType = 12300;

std::string media_type(std::string_view content_type) {
  std::string base(content_type.substr(0, content_type.find(';')));
  boost::algorithm::trim(base);
  boost::algorithm::to_lower(base);
  return base;
}

}  // namespace

twiml::Document audio_document(const std::string& url) {
  twiml::Document d;
  twiml::Play play;
  play.url = url;
  d.verbs.emplace_back(play);
  d.verbs.emplace_back(twiml::Hangup{});
  return d;
}

twiml::Document text_document(const std::string& text) {
  twiml::Document d;
  twiml::Say say;
  say.text = text;
  d.verbs.emplace_back(say);
  d.verbs.emplace_back(twiml::Hangup{});
  return d;
}

ApplicationSource::ApplicationSource(WebhookServices services, const CallInfo& call,
                                     VoiceApplication app, std::string auth_token)
    : services_(services), call_(call), app_(std::move(app)), auth_token_(std::move(auth_token)) {}

void ApplicationSource::note(int log, int code, std::string message, const std::string& method,
                             const std::string& url, const twiml::Params& params,
                             const http::ClientResponse* res) {
  store::Notification n =
      webhook_notification(call_.account_sid, call_.call_sid, log, code, std::move(message), method,
                           url, params, res, services_.clock.now_unix());
  spdlog::log(log == 0 ? spdlog::level::warn : spdlog::level::info, "call {}: {} {} ({} {})",
              call_.call_sid, log == 0 ? "error" : "warning", code, method, url);
  services_.notifications.record(std::move(n));
}

asio::awaitable<twiml::FetchResult> ApplicationSource::fetch(twiml::FetchRequest request) {
  twiml::FetchResult result;
  std::string url = request.base.empty() ? request.url : resolve_url(request.base, request.url);
  std::string method = request.method.empty() ? "POST" : request.method;
  twiml::Params params = call_params(call_);
  params.insert(params.end(), request.params.begin(), request.params.end());

  Attempt primary =
      co_await attempt(url, method, params, request.base.empty() ? "webhook" : "action");
  if (primary.ok) {
    result.ok = primary.ok;
    result.document = std::move(primary.document);
    result.url = std::move(primary.url);
    result.error_code = primary.error_code;
    co_return result;
  }
  result.error_code = primary.error_code;
  result.error_message = primary.error_message;
  if (!app_.fallback_url.empty()) {
    twiml::Params with_error = params;
    with_error.emplace_back("ErrorCode", std::to_string(primary.error_code));
    with_error.emplace_back("ErrorUrl", url);
    Attempt fallback =
        co_await attempt(app_.fallback_url, app_.fallback_method, with_error, "fallback");
    if (fallback.ok) {
      result.ok = true;
      result.document = std::move(fallback.document);
      result.url = std::move(fallback.url);
      result.error_code = 0;
      result.error_message.clear();
      co_return result;
    }
    result.error_code = fallback.error_code;
    result.error_message = "fallback failed too: " + fallback.error_message;
  }
  co_return result;
}

void ApplicationSource::log_exchange(const char* kind, const std::string& method,
                                     const std::string& url, const twiml::Params& params,
                                     const http::ClientResponse* res, const Attempt& out,
                                     std::int64_t started_ms) {
  services_.notifications.exchange(exchange_event(Exchange{
      .account_sid = call_.account_sid,
      .call_sid = call_.call_sid,
      .type = kind,
      .method = method,
      .url = url,
      .params = params,
      .response = res,
      .error_code = out.error_code,
      .error_message = out.error_message,
      .started_ms = started_ms,
      .ended_ms = services_.clock.now_ms(),
  }));
}

asio::awaitable<ApplicationSource::Attempt> ApplicationSource::attempt(std::string url,
                                                                       std::string method,
                                                                       twiml::Params params,
                                                                       const char* kind) {
  Attempt out;
  out.url = url;
  if (url.empty() || url_host(url).empty()) {
    out.error_code = http::fetch_codes::kInvalidUrl;
    out.error_message = "Invalid URL '" + url + "'";
    note(0, out.error_code, out.error_message, method, url, params, nullptr);
    log_exchange(kind, method, url, params, nullptr, out, services_.clock.now_ms());
    co_return out;
  }

  WebhookRequest hook;
  hook.url = url;
  hook.method = method == "GET" ? "GET" : "POST";
  hook.params = params;
  hook.auth_token = auth_token_;
  http::ClientRequest req = build_webhook_request(hook, &cookies_);
  const std::string cache_key = hook.method == "GET" ? req.url : std::string();
  // Held by shared ownership: other calls on this worker may evict the entry during the fetch.
  const std::shared_ptr<const CachedDocument> cached =
      cache_key.empty() ? nullptr : services_.cache.find(cache_key);
  if (cached) {
    if (!cached->etag.empty()) req.headers.emplace_back("If-None-Match", cached->etag);
    if (!cached->last_modified.empty()) {
      req.headers.emplace_back("If-Modified-Since", cached->last_modified);
    }
  }

  ++requests_made_;
  const std::int64_t started_ms = services_.clock.now_ms();
  // A cancelled fetch (the caller hung up, a live modification) throws operation_aborted,
  // which ends the document like any other cancelled wait.
  Result<http::ClientResponse> got = co_await services_.client.fetch(std::move(req));
  if (!got) {
    out.error_code = got.error().code;
    out.error_message = got.error().message;
    note(0, out.error_code, out.error_message, hook.method, url, params, nullptr);
    log_exchange(kind, hook.method, url, params, nullptr, out, started_ms);
    co_return out;
  }
  http::ClientResponse& res = *got;
  const std::string host = url_host(res.effective_url.empty() ? url : res.effective_url);
  for (auto value : res.header_values("Set-Cookie")) cookies_.store(host, value);

  // A view of the body (the response's, or the cached document's on a 304): the response stays
  // whole for the exchange log, and nothing is copied on the call path.
  std::string_view body;
  std::string content_type;
  if (res.status == 304 && cached) {
    body = cached->body;
    content_type = cached->content_type;
  } else if (!res.ok()) {
    out.error_code = http::fetch_codes::kHttpErrorResponse;
    out.error_message = "HTTP " + std::to_string(res.status) + " from " + url;
    note(0, out.error_code, out.error_message, hook.method, url, params, &res);
    log_exchange(kind, hook.method, url, params, &res, out, started_ms);
    co_return out;
  } else {
    body = res.body;
    content_type = res.content_type;
    if (!cache_key.empty()) {
      CachedDocument doc;
      if (auto etag = res.header("ETag")) doc.etag = std::string(*etag);
      if (auto lm = res.header("Last-Modified")) doc.last_modified = std::string(*lm);
      doc.content_type = content_type;
      doc.body = std::string(body);
      services_.cache.put(cache_key, std::move(doc));
    }
  }

  const std::string type = media_type(content_type);
  out.url = res.effective_url.empty() ? url : std::string(http::strip_fragment(res.effective_url));
  if (type == "text/xml" || type == "application/xml" || type == "text/html") {
    out.document = twiml::parse(body);
    for (const auto& d : out.document.diagnostics) {
      const int log = d.level == twiml::Level::kError ? 0 : 1;
      note(log, d.code,
           d.message + " (line " + std::to_string(d.line) + ", column " + std::to_string(d.column) +
               ")",
           hook.method, url, params, &res);
    }
    if (!out.document.ok()) {
      for (const auto& d : out.document.diagnostics) {
        if (d.level == twiml::Level::kError) {
          out.error_code = d.code;
          out.error_message = d.message;
          break;
        }
      }
      log_exchange(kind, hook.method, url, params, &res, out, started_ms);
      co_return out;
    }
    out.ok = true;
  } else if (type.rfind("audio/", 0) == 0) {
    out.document = audio_document(out.url);
    out.ok = true;
  } else if (type == "text/plain") {
    out.document = text_document(std::string(body));
    out.ok = true;
  } else {
    out.error_code = kInvalidContentType;
    out.error_message = "Invalid Content-Type '" + content_type + "' from " + url;
    note(0, out.error_code, out.error_message, hook.method, url, params, &res);
  }
  log_exchange(kind, hook.method, url, params, &res, out, started_ms);
  co_return out;
}

}  // namespace sb::voice
