// The application's URLs fetched for real: a loopback app server, the real libcurl client, the
// real TwiML parser, the interpreter on a scripted fake call.
#include "voice/application_source.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "http/form.hpp"
#include "http/signature.hpp"
#include "support/app_server.hpp"
#include "support/fake_call_control.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_http_client.hpp"
#include "support/fake_notification_sink.hpp"
#include "twiml/interpreter.hpp"
#include "voice/status_callbacks.hpp"
#include "voice/webhook.hpp"

namespace sb::voice {
namespace {

namespace asio = boost::asio;
using testing::AppServer;
using testing::RecordedRequest;
using testing::Reply;

constexpr const char* kToken = "0123456789abcdef0123456789abcdef";

Reply twiml(std::string body) { return Reply{200, "text/xml", std::move(body), {}, 0, false}; }

std::map<std::string, std::string> form_of(const RecordedRequest& r) {
  std::map<std::string, std::string> out;
  const std::string q = r.method == "GET" ? r.target.substr(r.target.find('?') + 1) : r.body;
  auto form = http::parse_form(q);
  for (const auto& [k, v] : form->fields()) out[k] = v;
  return out;
}

// The ringing inbound call the tests fetch documents for.
CallInfo ringing_call() {
  CallInfo call;
  call.account_sid = "AC0123456789abcdef0123456789abcdef";
  call.call_sid = "CA0123456789abcdef0123456789abcdef";
  call.from = "+14155550100";
  call.to = "+14155550199";
  call.status = "ringing";
  return call;
}

class ApplicationSourceTest : public ::testing::Test {
 protected:
  twiml::InterpreterResult run(VoiceApplication app) {
    services_.emplace(WebhookServices{client_, sink_, cache_, clock_});
    ApplicationSource source(*services_, call_, app, kToken);
    twiml::Interpreter interpreter(fake_, source);
    twiml::FetchRequest first;
    first.url = app.url;
    first.method = app.method;
    twiml::InterpreterResult result;
    asio::co_spawn(io_, interpreter.run(first),
                   [&](std::exception_ptr e, twiml::InterpreterResult r) {
                     if (e) std::rethrow_exception(e);
                     result = std::move(r);
                   });
    io_.run();
    io_.restart();
    requests_made_ = source.requests_made();
    return result;
  }

  VoiceApplication app(const std::string& path, const std::string& fallback = "") {
    VoiceApplication a;
    a.url = server_.url(path);
    if (!fallback.empty()) a.fallback_url = server_.url(fallback);
    return a;
  }

  // Checks a request's X-Twilio-Signature the way the official validator does.
  static bool signed_correctly(const RecordedRequest& r, const std::string& url) {
    http::SignedParams params;
    if (r.method == "POST") {
      auto form = http::parse_form(r.body);
      for (const auto& [k, v] : form->fields()) params.emplace_back(k, v);
    }
    auto it = r.headers.find("x-twilio-signature");
    return it != r.headers.end() &&
           http::validate_twilio_signature(kToken, url, params, it->second);
  }

  AppServer server_;
  asio::io_context io_;
  http::CurlClient client_{io_.get_executor()};
  sb::testing::FakeNotificationSink sink_;
  DocumentCache cache_;
  sb::testing::FakeClock clock_;
  std::optional<WebhookServices> services_;
  CallInfo call_ = ringing_call();
  sb::testing::FakeCallControl fake_;
  std::size_t requests_made_ = 0;
};

TEST_F(ApplicationSourceTest, PostsSignedCallStateAndRunsTheDocument) {
  server_.reply("/voice", twiml("<Response><Say>Hello there</Say><Hangup/></Response>"));
  auto r = run(app("/voice"));
  EXPECT_EQ(r.end, twiml::CallEnd::kCompleted);
  EXPECT_THAT(fake_.log, ::testing::ElementsAre("answer", "say:Hello there", "hangup"));
  auto reqs = server_.requests_to("/voice");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].headers["content-type"], "application/x-www-form-urlencoded");
  auto p = form_of(reqs[0]);
  EXPECT_EQ(p["CallSid"], call_.call_sid);
  EXPECT_EQ(p["AccountSid"], call_.account_sid);
  EXPECT_EQ(p["From"], "+14155550100");
  EXPECT_EQ(p["Caller"], "+14155550100");
  EXPECT_EQ(p["To"], "+14155550199");
  EXPECT_EQ(p["Called"], "+14155550199");
  EXPECT_EQ(p["CallStatus"], "ringing");
  EXPECT_EQ(p["Direction"], "inbound");
  EXPECT_EQ(p["ApiVersion"], "2010-04-01");
  EXPECT_TRUE(signed_correctly(reqs[0], server_.url("/voice")));
  EXPECT_TRUE(sink_.notes().empty());
}

TEST_F(ApplicationSourceTest, GetPutsTheStateInTheQueryAndSignsTheWholeUrl) {
  server_.reply("/voice", twiml("<Response><Hangup/></Response>"));
  auto a = app("/voice?tenant=7");
  a.method = "GET";
  run(a);
  auto reqs = server_.requests_to("/voice");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "GET");
  EXPECT_TRUE(reqs[0].body.empty());
  auto p = form_of(reqs[0]);
  EXPECT_EQ(p["tenant"], "7");
  EXPECT_EQ(p["CallSid"], call_.call_sid);
  EXPECT_TRUE(signed_correctly(reqs[0], server_.url(reqs[0].target)));
}

TEST_F(ApplicationSourceTest, OverridesFragmentIsNeverSent) {
  server_.reply("/voice", twiml("<Response><Hangup/></Response>"));
  auto a = app("/voice");
  a.url += "#ct=1000&rc=0";
  run(a);
  auto reqs = server_.requests_to("/voice");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/voice");
  EXPECT_TRUE(signed_correctly(reqs[0], server_.url("/voice")));
}

struct Fault {
  const char* name;
  Reply reply;
  int code;
};

class FallbackTest : public ApplicationSourceTest, public ::testing::WithParamInterface<Fault> {};

TEST_P(FallbackTest, EachFaultReachesTheFallbackWithItsErrorCode) {
  const Fault& f = GetParam();
  server_.reply("/voice", f.reply);
  server_.reply("/fallback", twiml("<Response><Say>Fallback</Say></Response>"));
  auto a = app("/voice", "/fallback");
  a.url += "#tt=400&rc=0";
  auto r = run(a);
  EXPECT_EQ(r.end, twiml::CallEnd::kCompleted);
  auto fb = server_.requests_to("/fallback");
  ASSERT_EQ(fb.size(), 1u) << f.name;
  auto p = form_of(fb[0]);
  EXPECT_EQ(p["ErrorCode"], std::to_string(f.code)) << f.name;
  EXPECT_EQ(p["ErrorUrl"], a.url) << f.name;
  EXPECT_EQ(p["CallSid"], call_.call_sid);
  EXPECT_TRUE(signed_correctly(fb[0], server_.url("/fallback")));
  EXPECT_THAT(fake_.log, ::testing::ElementsAre("answer", "say:Fallback", "hangup"));
  ASSERT_FALSE(sink_.notes().empty());
  EXPECT_EQ(sink_.notes()[0].error_code, f.code);
  EXPECT_EQ(sink_.notes()[0].log, 0);
  EXPECT_EQ(sink_.notes()[0].call_sid, call_.call_sid);
  EXPECT_EQ(sink_.notes()[0].request_url, a.url);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, FallbackTest,
    ::testing::Values(
        Fault{"http500", Reply{500, "text/plain", "boom", {}, 0, false}, 11217},
        Fault{"http404", Reply{404, "text/html", "nope", {}, 0, false}, 11217},
        Fault{"slow", Reply{200, "text/xml", "<Response/>", {}, 3000, false},
              http::fetch_codes::kTotalTimeout},
        Fault{"bad_xml", Reply{200, "text/xml", "<Response><Say>unclosed", {}, 0, false}, 12100},
        // Not well-formed, though pugixml alone would run it.
        Fault{"bare_ampersand",
              Reply{200, "text/xml", "<Response><Say>Tom & Jerry</Say></Response>", {}, 0, false},
              12100},
        Fault{"duplicate_attribute",
              Reply{200,
                    "text/xml",
                    "<Response><Say voice=\"man\" voice=\"alice\">hi</Say></Response>",
                    {},
                    0,
                    false},
              12100},
        Fault{"not_response", Reply{200, "application/xml", "<Foo/>", {}, 0, false}, 12102},
        Fault{"json", Reply{200, "application/json", "{\"a\":1}", {}, 0, false}, 12300}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(ApplicationSourceTest, ConnectionRefusedReachesTheFallback) {
  server_.reply("/fallback", twiml("<Response><Hangup/></Response>"));
  VoiceApplication a;
  {
    // A port that was just free: nothing listens there.
    asio::io_context tmp;
    asio::ip::tcp::acceptor probe(tmp, {asio::ip::make_address("127.0.0.1"), 0});
    a.url = "http://127.0.0.1:" + std::to_string(probe.local_endpoint().port()) + "/voice#rc=0";
  }
  a.fallback_url = server_.url("/fallback");
  run(a);
  auto fb = server_.requests_to("/fallback");
  ASSERT_EQ(fb.size(), 1u);
  EXPECT_EQ(form_of(fb[0])["ErrorCode"], "11205");
}

TEST_F(ApplicationSourceTest, AFailingFallbackEndsInTheErrorMessageAndHangUp) {
  server_.reply("/voice", Reply{503, "text/plain", "down", {}, 0, false});
  server_.reply("/fallback", Reply{200, "text/xml", "<Response><Say>", {}, 0, false});
  auto r = run(app("/voice", "/fallback"));
  EXPECT_EQ(r.end, twiml::CallEnd::kError);
  EXPECT_EQ(r.error_code, 12100);
  EXPECT_THAT(fake_.log,
              ::testing::ElementsAre("answer", std::string("say:") + twiml::kApplicationErrorText,
                                     "hangup"));
  ASSERT_EQ(sink_.notes().size(), 2u);
  EXPECT_EQ(sink_.notes()[0].error_code, 11217);
  EXPECT_EQ(sink_.notes()[1].error_code, 12100);
}

TEST_F(ApplicationSourceTest, NoFallbackMeansTheErrorMessage) {
  server_.reply("/voice", Reply{500, "text/plain", "boom", {}, 0, false});
  auto r = run(app("/voice"));
  EXPECT_EQ(r.end, twiml::CallEnd::kError);
  EXPECT_EQ(r.error_code, 11217);
  EXPECT_EQ(fake_.log.back(), "hangup");
}

TEST_F(ApplicationSourceTest, PlainTextIsSpokenAndAudioIsPlayedWithoutFallback) {
  server_.reply(
      "/text",
      Reply{200, "text/plain; charset=utf-8", "Your balance is ten dollars", {}, 0, false});
  server_.reply("/fallback", twiml("<Response><Say>wrong</Say></Response>"));
  run(app("/text", "/fallback"));
  EXPECT_THAT(fake_.log,
              ::testing::ElementsAre("answer", "say:Your balance is ten dollars", "hangup"));

  fake_ = {};
  server_.reply("/audio", Reply{200, "audio/wav", std::string(44, '\0'), {}, 0, false});
  run(app("/audio", "/fallback"));
  EXPECT_THAT(fake_.log,
              ::testing::ElementsAre("answer", "play:" + server_.url("/audio"), "hangup"));
  EXPECT_TRUE(server_.requests_to("/fallback").empty());
}

TEST_F(ApplicationSourceTest, GatherActionIsResolvedAgainstTheDocumentAndGetsDigits) {
  server_.reply("/ivr/menu", twiml("<Response><Gather action=\"choice\" numDigits=\"1\">"
                                   "<Say>Press one</Say></Gather></Response>"));
  server_.reply("/ivr/choice", twiml("<Response><Say>Chosen</Say><Hangup/></Response>"));
  fake_.digit_script = {"1"};
  run(app("/ivr/menu"));
  auto choice = server_.requests_to("/ivr/choice");
  ASSERT_EQ(choice.size(), 1u);
  auto p = form_of(choice[0]);
  EXPECT_EQ(p["Digits"], "1");
  EXPECT_EQ(p["CallSid"], call_.call_sid);
  EXPECT_EQ(fake_.log.back(), "hangup");
}

TEST_F(ApplicationSourceTest, CookiesComeBackOnTheCallsLaterRequests) {
  server_.reply("/voice",
                Reply{200,
                      "text/xml",
                      "<Response><Redirect>/second</Redirect></Response>",
                      {{"Set-Cookie", "session=abc123; Path=/"}, {"Set-Cookie", "lang=fr"}},
                      0,
                      false});
  server_.reply("/second", twiml("<Response><Hangup/></Response>"));
  run(app("/voice"));
  auto second = server_.requests_to("/second");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].headers["cookie"], "lang=fr; session=abc123");
  EXPECT_EQ(server_.requests_to("/voice")[0].headers.count("cookie"), 0u);
}

TEST_F(ApplicationSourceTest, GetResponsesWithAnETagAreRevalidated) {
  int served = 0;
  server_.route("/cached", [&](const RecordedRequest& r) {
    ++served;
    if (r.headers.count("if-none-match") && r.headers.at("if-none-match") == "\"v1\"") {
      return Reply{304, "", "", {{"ETag", "\"v1\""}}, 0, false};
    }
    return Reply{200, "text/xml", "<Response><Say>Cached</Say></Response>", {{"ETag", "\"v1\""}},
                 0,   false};
  });
  auto a = app("/cached");
  a.method = "GET";
  call_.call_sid = "CA00000000000000000000000000000001";
  run(a);
  // A second call with the same URL and state hits the cache (the URL carries the state).
  fake_ = {};
  run(a);
  EXPECT_EQ(served, 2);
  EXPECT_THAT(fake_.log, ::testing::ElementsAre("answer", "say:Cached", "hangup"));
  auto reqs = server_.requests_to("/cached");
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].headers["if-none-match"], "\"v1\"");
}

TEST_F(ApplicationSourceTest, SchemaWarningsAreNotedAndTheCallGoesOn) {
  server_.reply("/voice", twiml("<Response><Say colour=\"red\">Hi</Say></Response>"));
  auto r = run(app("/voice"));
  EXPECT_EQ(r.end, twiml::CallEnd::kCompleted);
  ASSERT_EQ(sink_.notes().size(), 1u);
  EXPECT_EQ(sink_.notes()[0].error_code, 12200);
  EXPECT_EQ(sink_.notes()[0].log, 1);
}

TEST_F(ApplicationSourceTest, RedirectsAreFollowed) {
  server_.reply("/old", Reply{302, "", "", {{"Location", "/new"}}, 0, false});
  server_.reply("/new", twiml("<Response><Say>Moved</Say></Response>"));
  run(app("/old"));
  EXPECT_EQ(fake_.log[1], "say:Moved");
}

TEST_F(ApplicationSourceTest, StatusCallbacksAreOrderedAndNeverDelayTheCall) {
  server_.reply("/voice", twiml("<Response><Say>Hi</Say><Hangup/></Response>"));
  server_.reply("/status", Reply{200, "text/plain", "", {}, 0, /*hold=*/true});
  services_.emplace(WebhookServices{client_, sink_, cache_, clock_});
  auto callbacks =
      StatusCallbacks::create(io_.get_executor(), *services_, kToken, server_.url("/status"),
                              "POST", {"initiated", "ringing", "answered", "completed"});
  ApplicationSource source(*services_, call_, app("/voice"), kToken);
  twiml::Interpreter interpreter(fake_, source);
  bool finished = false;
  auto run_call = [&]() -> asio::awaitable<void> {
    callbacks->notify("initiated", call_);
    callbacks->notify("ringing", call_);
    twiml::FetchRequest first;
    first.url = server_.url("/voice");
    call_.status = "in-progress";
    callbacks->notify("answered", call_);
    co_await interpreter.run(first);
    call_.status = "completed";
    callbacks->notify("completed", call_, 17);
    finished = true;
  };
  asio::co_spawn(io_, run_call(), asio::detached);
  // The call runs to its end while the first callback is still held by the server.
  while (!finished) io_.run_one();
  EXPECT_TRUE(server_.requests_to("/status").size() <= 1u);
  EXPECT_EQ(callbacks->pending(), 4u);
  server_.release();
  io_.run();
  auto reqs = server_.requests_to("/status");
  ASSERT_EQ(reqs.size(), 4u);
  const char* statuses[] = {"initiated", "ringing", "in-progress", "completed"};
  for (int i = 0; i < 4; ++i) {
    auto p = form_of(reqs[i]);
    EXPECT_EQ(p["SequenceNumber"], std::to_string(i));
    EXPECT_EQ(p["CallStatus"], statuses[i]);
    EXPECT_EQ(p["CallbackSource"], "call-progress-events");
    EXPECT_FALSE(p["Timestamp"].empty());
    EXPECT_TRUE(signed_correctly(reqs[i], server_.url("/status")));
  }
  EXPECT_EQ(form_of(reqs[3])["CallDuration"], "17");
  EXPECT_EQ(callbacks->pending(), 0u);
}

TEST_F(ApplicationSourceTest, StatusCallbacksSendOnlySelectedEventsAndNoteFailures) {
  server_.reply("/status", Reply{500, "text/plain", "", {}, 0, false});
  services_.emplace(WebhookServices{client_, sink_, cache_, clock_});
  auto callbacks = StatusCallbacks::create(io_.get_executor(), *services_, kToken,
                                           server_.url("/status#rc=0"), "POST", {"completed"});
  callbacks->notify("ringing", call_);
  callbacks->notify("completed", call_, 3);
  io_.run();
  auto reqs = server_.requests_to("/status");
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(form_of(reqs[0])["SequenceNumber"], "0");
  ASSERT_EQ(sink_.notes().size(), 1u);
  EXPECT_EQ(sink_.notes()[0].error_code, 15003);
  EXPECT_EQ(sink_.notes()[0].log, 1);
}

TEST_F(ApplicationSourceTest, AHangUpCancelsThePendingWebhookAndEndsTheCall) {
  server_.reply("/voice", Reply{200, "text/xml", "<Response/>", {}, 0, /*hold=*/true});
  services_.emplace(WebhookServices{client_, sink_, cache_, clock_});
  ApplicationSource source(*services_, call_, app("/voice"), kToken);
  twiml::Interpreter interpreter(fake_, source);
  twiml::FetchRequest first;
  first.url = server_.url("/voice");
  asio::cancellation_signal hang_up;
  std::optional<twiml::InterpreterResult> result;
  asio::co_spawn(io_, interpreter.run(first),
                 asio::bind_cancellation_slot(
                     hang_up.slot(), [&](std::exception_ptr e, twiml::InterpreterResult r) {
                       if (e) std::rethrow_exception(e);
                       result = r;
                     }));
  for (int i = 0; i < 500 && server_.requests_to("/voice").empty(); ++i) {
    io_.run_one_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(server_.requests_to("/voice").size(), 1u);
  EXPECT_EQ(client_.pending(), 1u);
  fake_.hang_up_now();
  hang_up.emit(asio::cancellation_type::terminal);
  for (int i = 0; i < 500 && !result; ++i) io_.run_one_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->end, twiml::CallEnd::kHungUp);
  EXPECT_EQ(client_.pending(), 0u);
  EXPECT_TRUE(fake_.log.empty());      // nothing was played to a caller who is gone
  EXPECT_TRUE(sink_.notes().empty());  // a hang-up is not an application error
}

asio::awaitable<void> fetch_into(ApplicationSource& source, twiml::FetchRequest request,
                                 twiml::FetchResult& out) {
  out = co_await source.fetch(std::move(request));
}

// One application URL fetched by GET through a scripted client and a one-entry cache.
class CachedFetchTest : public ::testing::Test {
 protected:
  CachedFetchTest() {
    app_.url = "http://app.test/voice";
    app_.method = "GET";
  }

  twiml::FetchResult fetch() {
    twiml::FetchRequest request;
    request.url = app_.url;
    request.method = app_.method;
    twiml::FetchResult out;
    asio::co_spawn(io_, fetch_into(source_, request, out), asio::detached);
    io_.run();
    io_.restart();
    return out;
  }

  // A first fetch answered 200 with ETag "v1": the document is cached.
  void cache_v1() {
    client_.next({.status = 200,
                  .body = "<Response><Say>Kept</Say></Response>",
                  .content_type = "text/xml",
                  .headers = {{"ETag", "\"v1\""}}});
    ASSERT_TRUE(fetch().ok);
    ASSERT_NE(cache_.find(url()), nullptr);
  }

  // The revalidation is answered 304 after `meanwhile` ran while it was in flight.
  twiml::FetchResult revalidate(std::function<void()> meanwhile) {
    client_.respond_with([meanwhile](const http::ClientRequest& r) -> Result<http::ClientResponse> {
      EXPECT_NE(std::find(r.headers.begin(), r.headers.end(),
                          std::pair<std::string, std::string>("If-None-Match", "\"v1\"")),
                r.headers.end());
      meanwhile();
      http::ClientResponse r304;
      r304.status = 304;
      return r304;
    });
    return fetch();
  }

  static std::string said(const twiml::FetchResult& r) {
    if (r.document.verbs.size() != 1 || !std::holds_alternative<twiml::Say>(r.document.verbs[0])) {
      return "(not one Say)";
    }
    return std::get<twiml::Say>(r.document.verbs[0]).text;
  }

  std::string url() const { return client_.request(0).url; }

  asio::io_context io_;
  sb::testing::FakeHttpClient client_;
  sb::testing::FakeNotificationSink sink_;
  DocumentCache cache_{1};  // one entry: any other document evicts it
  sb::testing::FakeClock clock_;
  CallInfo call_ = ringing_call();
  VoiceApplication app_;
  ApplicationSource source_{WebhookServices{client_, sink_, cache_, clock_}, call_, app_, kToken};
};

TEST_F(CachedFetchTest, A304UsesTheKeptBodyEvenWhenAnotherCallEvictedItMeanwhile) {
  cache_v1();
  const twiml::FetchResult r = revalidate([this] {
    cache_.put("http://app.test/other",
               CachedDocument{"\"o\"", "", "text/xml", std::string(4096, 'o')});
  });
  ASSERT_TRUE(r.ok) << r.error_message;
  EXPECT_EQ(said(r), "Kept");
  EXPECT_EQ(cache_.find(url()), nullptr);  // it was evicted indeed
  EXPECT_EQ(client_.count(), 2u);
}

TEST_F(CachedFetchTest, A304UsesTheBodyItsValidatorNamedEvenWhenAnotherCallReplacedIt) {
  cache_v1();
  const twiml::FetchResult r = revalidate([this] {
    cache_.put(url(),
               CachedDocument{"\"v2\"", "", "text/xml", "<Response><Say>Newer</Say></Response>"});
  });
  ASSERT_TRUE(r.ok) << r.error_message;
  EXPECT_EQ(said(r), "Kept");  // the 304 answered If-None-Match "v1"
  ASSERT_NE(cache_.find(url()), nullptr);
  EXPECT_EQ(cache_.find(url())->etag, "\"v2\"");
}

TEST(Webhook, ResolvesRelativeUrls) {
  EXPECT_EQ(resolve_url("https://a.example/ivr/menu?x=1", "choice"),
            "https://a.example/ivr/choice");
  EXPECT_EQ(resolve_url("https://a.example/ivr/menu", "/top"), "https://a.example/top");
  EXPECT_EQ(resolve_url("https://a.example/ivr/menu#tt=100", "next#rc=2"),
            "https://a.example/ivr/next#rc=2");
  EXPECT_EQ(resolve_url("https://a.example/ivr/menu", "https://b.example/x"),
            "https://b.example/x");
  EXPECT_EQ(resolve_url("https://a.example/ivr/menu", ""), "https://a.example/ivr/menu");
  EXPECT_EQ(url_host("HTTPS://App.Example:8443/x"), "app.example");
}

TEST(CookieJar, StoresReplacesAndExpires) {
  CookieJar jar;
  jar.store("a.example", "sid=1; Path=/; HttpOnly");
  jar.store("a.example", "sid=2");
  jar.store("b.example", "other=x");
  EXPECT_EQ(jar.header_for("a.example"), "sid=2");
  jar.store("a.example", "sid=gone; Max-Age=0");
  EXPECT_EQ(jar.header_for("a.example"), "");
  EXPECT_EQ(jar.header_for("b.example"), "other=x");
  jar.store("a.example", "=novalue");
  jar.store("a.example", "garbage");
  EXPECT_EQ(jar.size(), 1u);
}

TEST(DocumentCache, KeepsOnlyValidatedDocumentsAndEvictsTheOldest) {
  DocumentCache cache(2);
  cache.put("u0", CachedDocument{"", "", "text/xml", "no validator"});
  EXPECT_EQ(cache.find("u0"), nullptr);
  cache.put("u1", CachedDocument{"e1", "", "text/xml", "1"});
  cache.put("u2", CachedDocument{"e2", "", "text/xml", "2"});
  ASSERT_NE(cache.find("u1"), nullptr);  // u1 is now the most recent
  cache.put("u3", CachedDocument{"e3", "", "text/xml", "3"});
  EXPECT_EQ(cache.find("u2"), nullptr);
  EXPECT_NE(cache.find("u1"), nullptr);
  EXPECT_NE(cache.find("u3"), nullptr);
}

}  // namespace
}  // namespace sb::voice
