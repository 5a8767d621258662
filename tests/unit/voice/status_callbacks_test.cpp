// StatusCallbacks on a fake HTTP client that holds or fails requests as each test says: what
// each callback carries, which events are sent, in what order, and that the call never waits.
#include "voice/status_callbacks.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>

#include "http/form.hpp"
#include "http/signature.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_http_client.hpp"
#include "support/fake_notification_sink.hpp"

namespace sb::voice {
namespace {

namespace asio = boost::asio;
using ::testing::ElementsAre;

constexpr const char* kToken = "0123456789abcdef0123456789abcdef";
constexpr const char* kUrl = "http://app.test/status";

// The request's parameters: the form body of a POST, the query of a GET.
std::map<std::string, std::string> params_of(const http::ClientRequest& r) {
  std::string_view text = r.body;
  if (r.method == "GET") {
    const std::size_t q = r.url.find('?');
    text = q == std::string::npos ? std::string_view() : std::string_view(r.url).substr(q + 1);
  }
  std::map<std::string, std::string> out;
  auto form = http::parse_form(text);
  EXPECT_TRUE(form.ok());
  if (form) {
    for (const auto& [k, v] : form->fields()) out[k] = v;
  }
  return out;
}

std::string header_of(const http::ClientRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

class StatusCallbacksTest : public ::testing::Test {
 protected:
  StatusCallbacksTest() {
    call_.account_sid = "AC0123456789abcdef0123456789abcdef";
    call_.call_sid = "CA0123456789abcdef0123456789abcdef";
    call_.from = "+14155550100";
    call_.to = "+14155550199";
    call_.status = "ringing";
    client_.reply_by_default({.status = 204});
  }

  std::shared_ptr<StatusCallbacks> callbacks(std::set<std::string> events = {"initiated", "ringing",
                                                                             "answered",
                                                                             "completed"},
                                             std::string method = "POST", std::string url = kUrl) {
    return StatusCallbacks::create(io_.get_executor(), services_, kToken, std::move(url),
                                   std::move(method), std::move(events));
  }

  // The statuses a call goes through, as CallSession reports them.
  void whole_call(StatusCallbacks& cb, const std::string& end = "completed") {
    cb.notify("initiated", call_);
    cb.notify("ringing", call_);
    call_.status = "in-progress";
    cb.notify("answered", call_);
    call_.status = end;
    cb.notify("completed", call_, 61);
  }

  // The one request a completed callback to kUrl?tenant=7 makes by `method`.
  http::ClientRequest completed_by(const std::string& method) {
    auto cb = callbacks({"completed"}, method, std::string(kUrl) + "?tenant=7");
    call_.status = "completed";
    cb->notify("completed", call_, 3);
    io_.run();
    EXPECT_EQ(client_.count(), 1u);
    return client_.count() == 0 ? http::ClientRequest{} : client_.request(0);
  }

  std::vector<std::string> sent(const std::string& param) const {
    std::vector<std::string> out;
    for (const auto& r : client_.requests()) out.push_back(params_of(r)[param]);
    return out;
  }

  asio::io_context io_;
  sb::testing::FakeHttpClient client_;
  sb::testing::FakeNotificationSink sink_;
  DocumentCache cache_;
  sb::testing::FakeClock clock_;
  WebhookServices services_{client_, sink_, cache_, clock_};
  CallInfo call_;
};

TEST_F(StatusCallbacksTest, EachEventCarriesItsOwnCallStatusInOrder) {
  auto cb = callbacks();
  whole_call(*cb);
  io_.run();
  EXPECT_THAT(sent("CallStatus"), ElementsAre("initiated", "ringing", "in-progress", "completed"));
  EXPECT_THAT(sent("SequenceNumber"), ElementsAre("0", "1", "2", "3"));
  EXPECT_THAT(sent("CallbackSource"), ElementsAre("call-progress-events", "call-progress-events",
                                                  "call-progress-events", "call-progress-events"));
  EXPECT_EQ(cb->sequence(), 4);
}

TEST_F(StatusCallbacksTest, InitiatedSaysInitiatedWhateverTheCallsStatusIs) {
  auto cb = callbacks({"initiated"});
  ASSERT_EQ(call_.status, "ringing");  // what an inbound call's own webhooks say meanwhile
  cb->notify("initiated", call_);
  io_.run();
  ASSERT_EQ(client_.count(), 1u);
  EXPECT_EQ(params_of(client_.request(0))["CallStatus"], "initiated");
  EXPECT_EQ(call_.status, "ringing");  // the call itself is unchanged
}

TEST_F(StatusCallbacksTest, CompletedCarriesHowTheCallEndedAndItsDuration) {
  auto cb = callbacks();
  whole_call(*cb, "busy");
  io_.run();
  ASSERT_EQ(client_.count(), 4u);
  auto last = params_of(client_.request(3));
  EXPECT_EQ(last["CallStatus"], "busy");
  EXPECT_EQ(last["CallDuration"], "61");
  EXPECT_EQ(last["Duration"], "2");  // billed minutes, rounded up
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(params_of(client_.request(i)).count("CallDuration"), 0u) << i;
  }
}

TEST_F(StatusCallbacksTest, TheCallsParametersAndTheClocksTimestampAreSent) {
  auto cb = callbacks({"completed"});
  call_.status = "completed";
  cb->notify("completed", call_, 5);
  io_.run();
  ASSERT_EQ(client_.count(), 1u);
  auto p = params_of(client_.request(0));
  EXPECT_EQ(p["CallSid"], call_.call_sid);
  EXPECT_EQ(p["AccountSid"], call_.account_sid);
  EXPECT_EQ(p["From"], call_.from);
  EXPECT_EQ(p["To"], call_.to);
  EXPECT_EQ(p["Direction"], "inbound");
  EXPECT_EQ(p["ApiVersion"], "2010-04-01");
  EXPECT_EQ(p["Timestamp"], "Tue, 01 Dec 2026 17:00:00 +0000");
}

TEST_F(StatusCallbacksTest, ByDefaultOnlyCompletedIsSent) {
  auto cb = callbacks(VoiceApplication{}.status_callback_events);
  whole_call(*cb);
  io_.run();
  ASSERT_EQ(client_.count(), 1u);
  auto p = params_of(client_.request(0));
  EXPECT_EQ(p["CallStatus"], "completed");
  EXPECT_EQ(p["SequenceNumber"], "0");  // numbers count the callbacks sent, from 0
}

TEST_F(StatusCallbacksTest, OnlyTheSelectedEventsAreSentAndNumberedFromZero) {
  auto cb = callbacks({"ringing", "completed"});
  whole_call(*cb);
  io_.run();
  EXPECT_THAT(sent("CallStatus"), ElementsAre("ringing", "completed"));
  EXPECT_THAT(sent("SequenceNumber"), ElementsAre("0", "1"));
}

TEST_F(StatusCallbacksTest, WithoutAUrlNothingIsSent) {
  auto cb = callbacks({"initiated", "completed"}, "POST", "");
  whole_call(*cb);
  io_.run();
  EXPECT_EQ(client_.count(), 0u);
  EXPECT_EQ(cb->pending(), 0u);
}

TEST_F(StatusCallbacksTest, PostSendsASignedForm) {
  const http::ClientRequest r = completed_by("POST");
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, std::string(kUrl) + "?tenant=7");
  EXPECT_EQ(header_of(r, "Content-Type"), "application/x-www-form-urlencoded");
  auto form = http::parse_form(r.body);
  ASSERT_TRUE(form.ok());
  EXPECT_EQ(form->get("CallStatus"), "completed");
  http::SignedParams signed_params(form->fields().begin(), form->fields().end());
  const std::string signature = header_of(r, "X-Twilio-Signature");
  ASSERT_FALSE(signature.empty());
  EXPECT_TRUE(http::validate_twilio_signature(kToken, r.url, signed_params, signature));
}

TEST_F(StatusCallbacksTest, GetPutsTheParametersInTheSignedQuery) {
  const http::ClientRequest r = completed_by("GET");
  EXPECT_EQ(r.method, "GET");
  EXPECT_TRUE(r.body.empty());
  auto p = params_of(r);
  EXPECT_EQ(p["tenant"], "7");
  EXPECT_EQ(p["CallStatus"], "completed");
  EXPECT_EQ(p["SequenceNumber"], "0");
  const std::string signature = header_of(r, "X-Twilio-Signature");
  ASSERT_FALSE(signature.empty());
  EXPECT_TRUE(http::validate_twilio_signature(kToken, r.url, {}, signature));
}

asio::awaitable<void> call_goes_on(StatusCallbacks& cb, CallInfo& call, bool& finished) {
  cb.notify("initiated", call);
  cb.notify("ringing", call);
  call.status = "in-progress";
  cb.notify("answered", call);
  co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  call.status = "completed";
  cb.notify("completed", call, 9);
  finished = true;
}

TEST_F(StatusCallbacksTest, ASlowCallbackNeverHoldsUpTheCallAndTheOthersWaitTheirTurn) {
  client_.hold();  // the application takes its time with the first callback
  auto cb = callbacks();
  bool finished = false;
  asio::co_spawn(io_, call_goes_on(*cb, call_, finished), asio::detached);
  while (io_.poll() > 0) {
  }
  EXPECT_TRUE(finished);           // the call ran to its end meanwhile
  EXPECT_EQ(client_.count(), 1u);  // one callback at a time
  EXPECT_EQ(cb->pending(), 4u);    // the held one and three queued
  client_.release();
  io_.run();
  EXPECT_THAT(sent("CallStatus"), ElementsAre("initiated", "ringing", "in-progress", "completed"));
  EXPECT_THAT(sent("SequenceNumber"), ElementsAre("0", "1", "2", "3"));
  EXPECT_EQ(cb->pending(), 0u);
}

TEST_F(StatusCallbacksTest, FailuresAreNotedAsWarningsAndTheNextCallbacksStillGoOut) {
  client_.next({.status = 500, .body = "boom"});
  client_.next(sb::testing::FakeReply::transport_failure(http::fetch_codes::kConnectionFailure,
                                                         "connection refused"));
  client_.reply_by_default({.status = 200});
  auto cb = callbacks();
  whole_call(*cb);
  io_.run();
  EXPECT_THAT(sent("CallStatus"), ElementsAre("initiated", "ringing", "in-progress", "completed"));
  ASSERT_EQ(sink_.notes().size(), 2u);
  for (const auto& n : sink_.notes()) {
    EXPECT_EQ(n.error_code, StatusCallbacks::kStatusCallbackWarning);
    EXPECT_EQ(n.log, 1);  // a warning: the call is not affected
    EXPECT_EQ(n.call_sid, call_.call_sid);
    EXPECT_EQ(n.account_sid, call_.account_sid);
    EXPECT_EQ(n.request_url, kUrl);
    EXPECT_EQ(n.request_method, "POST");
  }
  EXPECT_THAT(sink_.notes()[0].message_text, ::testing::HasSubstr("HTTP 500"));
  EXPECT_EQ(sink_.notes()[0].response_body, "boom");
  EXPECT_THAT(sink_.notes()[1].message_text, ::testing::HasSubstr("connection refused"));
}

TEST_F(StatusCallbacksTest, QueuedCallbacksOutliveTheirOwner) {
  auto cb = callbacks();
  whole_call(*cb);
  cb.reset();  // the session ended; its callbacks are still owed to the application
  io_.run();
  EXPECT_EQ(client_.count(), 4u);
}

}  // namespace
}  // namespace sb::voice
