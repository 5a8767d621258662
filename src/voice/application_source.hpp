// Where a call's TwiML comes from: the application's URLs, fetched as Twilio fetches them, with
// the fallback URL on failure. Implements twiml::DocumentSource for the interpreter.
//
// A fetch fails on a transport error (refused 11205, DNS 11210, timeouts 112xx, redirects
// 11215, TLS 112xx), an HTTP 4xx/5xx (11217), a Content-Type that is none of TwiML, audio or
// text (12300), or a document with errors (12100, 12102, …). The fallback URL then gets the same
// parameters plus ErrorCode and ErrorUrl. Every failure and every TwiML warning is recorded as
// a notification.
#pragma once

#include "core/time.hpp"
#include "http/client.hpp"
#include "twiml/call_control.hpp"
#include "voice/call_info.hpp"
#include "voice/cookie_jar.hpp"
#include "voice/document_cache.hpp"
#include "voice/notifications.hpp"

namespace sb::voice {

// What the calls on one worker share.
struct WebhookServices {
  http::HttpClient& client;
  NotificationSink& notifications;
  DocumentCache& cache;
  const Clock& clock;
};

class ApplicationSource final : public twiml::DocumentSource {
 public:
  // `call` is read at each fetch (its status changes during the call).
  ApplicationSource(WebhookServices services, const CallInfo& call, VoiceApplication app,
                    std::string auth_token);

  asio::awaitable<twiml::FetchResult> fetch(twiml::FetchRequest request) override;

  const CookieJar& cookies() const { return cookies_; }
  std::size_t requests_made() const { return requests_made_; }

 private:
  struct Attempt {
    bool ok = false;
    twiml::Document document;
    std::string url;
    int error_code = 0;
    std::string error_message;
  };

  asio::awaitable<Attempt> attempt(std::string url, std::string method, twiml::Params params,
                                   const char* kind);
  void log_exchange(const char* kind, const std::string& method, const std::string& url,
                    const twiml::Params& params, const http::ClientResponse* res,
                    const Attempt& out, std::int64_t started_ms);
  void note(int log, int code, std::string message, const std::string& method,
            const std::string& url, const twiml::Params& params, const http::ClientResponse* res);

  WebhookServices services_;
  const CallInfo& call_;
  VoiceApplication app_;
  std::string auth_token_;
  CookieJar cookies_;
  std::size_t requests_made_ = 0;
};

// The document Twilio makes of a non-TwiML answer: an audio body is played, then the call ends;
// a text/plain body is spoken, then the call ends.
twiml::Document audio_document(const std::string& url);
twiml::Document text_document(const std::string& text);

}  // namespace sb::voice
