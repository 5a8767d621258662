// A call from arrival to end through CallSession: a fake leg, a real application server, the
// real libcurl client and the real SQLite store.
#include "voice/call_session.hpp"

#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/sid.hpp"
#include "http/form.hpp"
#include "support/fake_call_event_sink.hpp"
#include "support/fake_call_leg.hpp"
#include "support/session_world.hpp"

namespace sb::voice {
namespace {

namespace asio = boost::asio;
using testing::Reply;

using FakeLeg = sb::testing::FakeCallLeg;

class CallSessionTest : public ::testing::Test {
 protected:
  // Starts `session`; `out` receives its outcome when it ends.
  void spawn(CallSession& session, std::optional<SessionOutcome>& out) {
    asio::co_spawn(io_, session.run(), [&out](std::exception_ptr e, SessionOutcome o) {
      if (e) std::rethrow_exception(e);
      out = o;
    });
  }

  // Runs the loop until `done()` holds, for at most 5 s.
  void pump_until(const std::function<bool()>& done) {
    for (int i = 0; i < 500 && !done(); ++i) io_.run_one_for(std::chrono::milliseconds(10));
  }

  SessionOutcome run_call(FakeLeg& leg) { return run_call(leg, services()); }
  // With `plan`, an outbound call (Calls.json) that the session places first.
  SessionOutcome run_call(FakeLeg& leg, const SessionServices& svc,
                          std::optional<OutboundPlan> plan = std::nullopt) {
    CallSession session(io_.get_executor(), svc, leg, route_, call_, std::move(plan));
    std::optional<SessionOutcome> out;
    spawn(session, out);
    io_.run();
    io_.restart();
    EXPECT_TRUE(out.has_value());
    return out.value_or(SessionOutcome{});
  }

  SessionServices services() { return world_.services(); }
  store::Call stored() { return world_.stored(); }
  std::vector<std::string> callback_statuses() { return world_.callback_statuses(); }

  asio::io_context io_;
  sb::testing::SessionWorld world_{io_};
  sb::testing::AppServer& server_ = world_.server;
  sb::testing::FakeClock& clock_ = world_.clock;
  Route& route_ = world_.route;
  CallInfo& call_ = world_.call;
};

TEST_F(CallSessionTest, AnswersRunsTheDocumentAndRecordsTheCall) {
  server_.reply(
      "/voice",
      Reply{200, "text/xml", "<Response><Say>Hi</Say><Hangup/></Response>", {}, 0, false});
  server_.reply("/status", Reply{200, "text/plain", "", {}, 0, false});
  FakeLeg leg;
  leg.clock = &clock_;
  leg.say_seconds = 7;
  auto out = run_call(leg);
  EXPECT_THAT(leg.log, ::testing::ElementsAre("200", "say:Hi", "BYE"));
  EXPECT_EQ(out.status, "completed");
  auto c = stored();
  EXPECT_EQ(c.status, "completed");
  EXPECT_EQ(c.to, "1000");
  EXPECT_EQ(c.phone_number_sid, route_.number.sid);
  EXPECT_GT(c.start_time, 0);
  EXPECT_EQ(c.duration, 7);
  EXPECT_EQ(c.end_time, c.start_time + 7);
  EXPECT_THAT(callback_statuses(),
              ::testing::ElementsAre("initiated", "ringing", "in-progress", "completed"));
  auto last = http::parse_form(server_.requests_to("/status").back().body);
  EXPECT_EQ(last->get("CallDuration"), std::to_string(c.duration));
}

TEST_F(CallSessionTest, StatusChangesArePublishedAsCallEvents) {
  server_.reply(
      "/voice",
      Reply{200, "text/xml", "<Response><Say>Hi</Say><Hangup/></Response>", {}, 0, false});
  FakeLeg leg;
  sb::testing::FakeCallEventSink events;
  auto svc = services();
  svc.events = &events;
  CallSession session(io_.get_executor(), svc, leg, route_, call_);
  asio::co_spawn(io_, session.run(), asio::detached);
  io_.run();
  EXPECT_THAT(events.seen(), ::testing::ElementsAre("calls.initiated call.initiated initiated",
                                                    "calls.ringing call.ringing ringing",
                                                    "calls.answered call.answered in-progress",
                                                    "calls.completed call.completed completed"));
}

TEST_F(CallSessionTest, RejectBusyAnswers486AndEndsBusy) {
  server_.reply(
      "/voice",
      Reply{200, "text/xml", "<Response><Reject reason=\"busy\"/></Response>", {}, 0, false});
  server_.reply("/status", Reply{200, "text/plain", "", {}, 0, false});
  FakeLeg leg;
  auto out = run_call(leg);
  EXPECT_THAT(leg.log, ::testing::ElementsAre("486"));
  EXPECT_EQ(out.status, "busy");
  EXPECT_EQ(stored().status, "busy");
  EXPECT_EQ(stored().duration, 0);
  EXPECT_EQ(callback_statuses().back(), "busy");
}

// Reject, and Hangup before anything answered: declined (603), never a BYE.
TEST_F(CallSessionTest, RejectedOrHungUpUnansweredIsDeclinedWith603AsNoAnswer) {
  for (const char* document :
       {"<Response><Reject/></Response>", "<Response><Hangup/></Response>"}) {
    server_.reply("/voice", Reply{200, "text/xml", document, {}, 0, false});
    FakeLeg leg;
    call_.call_sid = make_sid("CA");
    auto out = run_call(leg);
    EXPECT_THAT(leg.log, ::testing::ElementsAre("603")) << document;
    EXPECT_EQ(out.status, "no-answer") << document;
  }
}

// The UA refused our 200 OK (the caller's CANCEL won): no answered record, callback or event.
TEST_F(CallSessionTest, AnAnswerTheUaRefusesEndsCanceledWithoutAnswered) {
  server_.reply(
      "/voice",
      Reply{200, "text/xml", "<Response><Say>Hi</Say><Say>Bye</Say></Response>", {}, 0, false});
  server_.reply("/status", Reply{200, "text/plain", "", {}, 0, false});
  FakeLeg leg;
  leg.refuse_answer = true;
  sb::testing::FakeCallEventSink events;
  auto svc = services();
  svc.events = &events;
  auto out = run_call(leg, svc);
  EXPECT_THAT(leg.log, ::testing::ElementsAre("200 refused"));  // nothing played, no BYE
  EXPECT_EQ(out.status, "canceled");
  EXPECT_EQ(out.duration_s, 0);
  EXPECT_EQ(stored().status, "canceled");
  EXPECT_EQ(stored().start_time, 0);
  EXPECT_THAT(callback_statuses(), ::testing::ElementsAre("initiated", "ringing", "canceled"));
  EXPECT_THAT(events.seen(), ::testing::ElementsAre("calls.initiated call.initiated initiated",
                                                    "calls.ringing call.ringing ringing",
                                                    "calls.completed call.completed canceled"));
}

TEST_F(CallSessionTest, StatusCanceledEndsAnUnansweredCallWith487) {
  server_.reply("/voice", Reply{200,
                                "text/xml",
                                "<Response><Say>late</Say></Response>",
                                {},
                                0,
                                /*hold=*/true});
  FakeLeg leg;
  CallRegistry registry;
  auto svc = services();
  svc.registry = &registry;
  CallSession session(io_.get_executor(), svc, leg, route_, call_);
  std::optional<SessionOutcome> out;
  spawn(session, out);
  pump_until([&] { return !server_.requests_to("/voice").empty(); });
  Modification cancel_it;
  cancel_it.status = "canceled";
  ASSERT_TRUE(registry.modify(route_.account.sid, call_.call_sid, cancel_it));
  pump_until([&] { return out.has_value(); });
  ASSERT_TRUE(out.has_value());
  EXPECT_THAT(leg.log, ::testing::ElementsAre("487"));
  EXPECT_EQ(out->status, "canceled");
  EXPECT_EQ(stored().status, "canceled");
  server_.release();
  io_.run_for(std::chrono::milliseconds(500));
}

TEST_F(CallSessionTest, CancelWhileTheFirstWebhookIsPendingEndsCanceled) {
  server_.reply("/voice", Reply{200,
                                "text/xml",
                                "<Response><Say>late</Say></Response>",
                                {},
                                0,
                                /*hold=*/true});
  server_.reply("/status", Reply{200, "text/plain", "", {}, 0, false});
  FakeLeg leg;
  CallSession session(io_.get_executor(), services(), leg, route_, call_);
  std::optional<SessionOutcome> out;
  spawn(session, out);
  pump_until([&] { return !server_.requests_to("/voice").empty(); });
  session.remote_hangup();  // CANCEL
  pump_until([&] { return out.has_value(); });
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status, "canceled");
  EXPECT_EQ(out->interpreter.end, twiml::CallEnd::kHungUp);
  EXPECT_TRUE(leg.log.empty());  // nothing answered, nothing played
  EXPECT_EQ(stored().status, "canceled");
  server_.release();
  io_.run_for(std::chrono::milliseconds(500));
}

TEST_F(CallSessionTest, ACallerHangUpDuringSayEndsCompletedWithoutOurBye) {
  server_.reply("/voice", Reply{200,
                                "text/xml",
                                "<Response><Say>long story</Say><Say>never</Say></Response>",
                                {},
                                0,
                                false});
  FakeLeg leg;
  leg.block_say = true;
  CallSession session(io_.get_executor(), services(), leg, route_, call_);
  std::optional<SessionOutcome> out;
  spawn(session, out);
  pump_until([&] { return leg.log.size() >= 2; });
  ASSERT_THAT(leg.log, ::testing::ElementsAre("200", "say:long story"));
  session.remote_hangup();  // BYE from the caller
  pump_until([&] { return out.has_value(); });
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->status, "completed");
  EXPECT_THAT(leg.log, ::testing::ElementsAre("200", "say:long story"));  // no BYE of ours
  EXPECT_EQ(stored().status, "completed");
}

TEST_F(CallSessionTest, LiveModificationReplacesTheRunningDocument) {
  server_.reply("/voice",
                Reply{200, "text/xml", "<Response><Say>hold music</Say></Response>", {}, 0, false});
  FakeLeg leg;
  leg.block_say = true;
  CallRegistry registry;
  auto svc = services();
  svc.registry = &registry;
  CallSession session(io_.get_executor(), svc, leg, route_, call_);
  std::optional<SessionOutcome> out;
  spawn(session, out);
  pump_until([&] { return leg.log.size() >= 2; });
  ASSERT_THAT(leg.log, ::testing::ElementsAre("200", "say:hold music"));
  EXPECT_EQ(registry.size(), 1u);
  EXPECT_FALSE(registry.modify("AC00000000000000000000000000000000", call_.call_sid, {}));
  leg.block_say = false;
  Modification m;
  m.twiml = "<Response><Say>an agent is free</Say><Hangup/></Response>";
  ASSERT_TRUE(registry.modify(route_.account.sid, call_.call_sid, m));
  pump_until([&] { return out.has_value(); });
  ASSERT_TRUE(out.has_value());
  EXPECT_THAT(leg.log,
              ::testing::ElementsAre("200", "say:hold music", "say:an agent is free", "BYE"));
  EXPECT_EQ(out->status, "completed");
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_FALSE(registry.modify(route_.account.sid, call_.call_sid, m));
}

TEST_F(CallSessionTest, StatusCompletedHangsUpALiveCall) {
  server_.reply("/voice",
                Reply{200, "text/xml", "<Response><Say>forever</Say></Response>", {}, 0, false});
  FakeLeg leg;
  leg.block_say = true;
  CallRegistry registry;
  auto svc = services();
  svc.registry = &registry;
  CallSession session(io_.get_executor(), svc, leg, route_, call_);
  std::optional<SessionOutcome> out;
  spawn(session, out);
  pump_until([&] { return leg.log.size() >= 2; });
  Modification cancel_it;
  cancel_it.status = "canceled";  // answered already: no effect
  ASSERT_TRUE(registry.modify(route_.account.sid, call_.call_sid, cancel_it));
  for (int i = 0; i < 5; ++i) io_.run_one_for(std::chrono::milliseconds(10));
  EXPECT_FALSE(out.has_value());
  Modification end;
  end.status = "completed";
  ASSERT_TRUE(registry.modify(route_.account.sid, call_.call_sid, end));
  pump_until([&] { return out.has_value(); });
  ASSERT_TRUE(out.has_value());
  EXPECT_THAT(leg.log, ::testing::ElementsAre("200", "say:forever", "BYE"));
  EXPECT_EQ(out->status, "completed");
  EXPECT_EQ(stored().status, "completed");
}

TEST_F(CallSessionTest, RecordingStatusCallbackResolvesAgainstItsDocumentAndSaysWhenItStarted) {
  server_.reply("/voice",
                Reply{200,
                      "text/xml",
                      "<Response><Redirect method=\"GET\">/ivr/message</Redirect></Response>",
                      {},
                      0,
                      false});
  server_.reply("/ivr/message", Reply{200,
                                      "text/xml",
                                      "<Response><Record action=\"/done\" "
                                      "recordingStatusCallback=\"recording-status\"/></Response>",
                                      {},
                                      0,
                                      false});
  server_.reply("/done", Reply{200, "text/xml", "<Response><Hangup/></Response>", {}, 0, false});
  server_.reply("/ivr/recording-status", Reply{204, "text/plain", "", {}, 0, false});
  FakeLeg leg;
  leg.clock = &clock_;
  leg.recording = twiml::RecordingOutcome{};
  leg.recording->recording_sid = "RE0123456789abcdef0123456789abcdef";
  leg.recording->recording_url = "http://sb.test/Recordings/RE0123456789abcdef0123456789abcdef";
  leg.recording->duration_s = 42;
  const std::int64_t started = clock_.now_unix();  // the leg starts recording at once
  run_call(leg);
  EXPECT_THAT(leg.log, ::testing::ElementsAre("200", "record", "BYE"));
  // Relative to the document holding the <Record> (/ivr/message), not the application's URL.
  EXPECT_TRUE(server_.requests_to("/recording-status").empty());
  auto reqs = server_.requests_to("/ivr/recording-status");
  ASSERT_EQ(reqs.size(), 1u);
  auto p = http::parse_form(reqs[0].body);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->get("RecordingSid"), "RE0123456789abcdef0123456789abcdef");
  EXPECT_EQ(p->get("RecordingDuration"), "42");
  EXPECT_EQ(p->get("RecordingStartTime"), rfc2822(started));  // not when it ended (+42 s)
  EXPECT_EQ(p->get("CallSid"), call_.call_sid);
}

}  // namespace
}  // namespace sb::voice

namespace sb::voice {
namespace {

// Outbound calls (Calls.json): the record exists (queued), the session places the call.
class OutboundSessionTest : public CallSessionTest {
 protected:
  OutboundSessionTest() {
    call_.direction = "outbound-api";
    call_.status = "queued";
    call_.from = "+15005550006";
    call_.to = "+14155550100";
    store::Call record;
    record.sid = call_.call_sid;
    record.account_sid = route_.account.sid;
    record.to = call_.to;
    record.from = call_.from;
    record.direction = "outbound-api";
    record.status = "queued";
    record.date_created = 1'700'000'000;
    world_.store->write(store::InsertCall{record}, [](Status s) { ASSERT_TRUE(s.ok()); });
    world_.store->flush();
  }
  SessionOutcome place(FakeLeg& leg, OutboundPlan plan = {}) {
    plan.date_created = 1'700'000'000;
    return run_call(leg, services(), plan);
  }
  // The value of `key` in each status callback, in order.
  std::vector<std::string> callback_values(const std::string& key) {
    std::vector<std::string> out;
    for (const auto& r : server_.requests_to("/status")) {
      auto form = http::parse_form(r.body);
      out.push_back(std::string(form->get(key).value_or("-")));
    }
    return out;
  }
};

TEST_F(OutboundSessionTest, AnsweredItRunsTheDocumentAndReportsEveryStep) {
  server_.reply(
      "/voice",
      Reply{200, "text/xml", "<Response><Say>Hi</Say><Hangup/></Response>", {}, 0, false});
  server_.reply("/status", Reply{200, "text/plain", "", {}, 0, false});
  FakeLeg leg;
  leg.clock = &clock_;
  leg.say_seconds = 4;
  auto out = place(leg, OutboundPlan{30, 14400, "", "", 0});
  EXPECT_THAT(leg.log, ::testing::ElementsAre("INVITE timeout=30", "say:Hi", "BYE"));
  EXPECT_EQ(out.status, "completed");
  auto c = stored();
  EXPECT_EQ(c.status, "completed");
  EXPECT_EQ(c.direction, "outbound-api");
  EXPECT_EQ(c.duration, 4);
  EXPECT_EQ(c.date_created, 1'700'000'000);
  EXPECT_THAT(callback_statuses(),
              ::testing::ElementsAre("initiated", "ringing", "in-progress", "completed"));
  EXPECT_THAT(callback_values("SequenceNumber"), ::testing::ElementsAre("0", "1", "2", "3"));
  EXPECT_THAT(callback_values("Direction"), ::testing::Each("outbound-api"));
  EXPECT_THAT(callback_values("SipResponseCode"), ::testing::ElementsAre("-", "-", "-", "200"));
  EXPECT_THAT(callback_values("CallDuration"), ::testing::ElementsAre("-", "-", "-", "4"));
  // The document's request says the call is up, outbound.
  auto voice = server_.requests_to("/voice");
  ASSERT_EQ(voice.size(), 1u);
  auto form = http::parse_form(voice[0].body);
  EXPECT_EQ(form->get("CallStatus"), "in-progress");
  EXPECT_EQ(form->get("Direction"), "outbound-api");
  EXPECT_EQ(form->get("To"), "+14155550100");
}

TEST_F(OutboundSessionTest, BusyEndsItWithoutFetchingTheDocument) {
  server_.reply("/status", Reply{200, "text/plain", "", {}, 0, false});
  FakeLeg leg;
  leg.placed = PlaceOutcome{false, 486, "busy", "486 Busy Here"};
  auto out = place(leg);
  EXPECT_EQ(out.status, "busy");
  EXPECT_EQ(stored().status, "busy");
  EXPECT_EQ(stored().duration, 0);
  EXPECT_GT(stored().end_time, 0);
  EXPECT_TRUE(server_.requests_to("/voice").empty());
  EXPECT_THAT(callback_statuses(), ::testing::ElementsAre("initiated", "ringing", "busy"));
  EXPECT_THAT(callback_values("SipResponseCode"), ::testing::ElementsAre("-", "-", "486"));
}

TEST_F(OutboundSessionTest, NoAnswerAndFailedAreTheirOwnStatuses) {
  server_.reply("/status", Reply{200, "text/plain", "", {}, 0, false});
  FakeLeg leg;
  leg.placed = PlaceOutcome{false, 487, "no-answer", "no answer within 60 s"};
  EXPECT_EQ(place(leg).status, "no-answer");
  EXPECT_EQ(stored().status, "no-answer");
  EXPECT_THAT(callback_values("SipResponseCode").back(), "487");
}

TEST_F(OutboundSessionTest, InlineTwimlRunsInsteadOfAUrl) {
  server_.reply("/status", Reply{200, "text/plain", "", {}, 0, false});
  route_.application.url.clear();
  FakeLeg leg;
  OutboundPlan plan;
  plan.twiml = "<Response><Say>Inline</Say></Response>";
  plan.send_digits = "1w2";
  auto out = place(leg, plan);
  EXPECT_EQ(out.status, "completed");
  EXPECT_THAT(leg.log, ::testing::ElementsAre("INVITE timeout=60", "play:", "say:Inline", "BYE"));
  EXPECT_TRUE(server_.requests_to("/voice").empty());
}

}  // namespace
}  // namespace sb::voice
