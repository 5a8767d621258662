#include "twiml/interpreter.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "support/fake_call_control.hpp"
#include "support/fake_document_source.hpp"

namespace sb::twiml {
namespace {

using ::testing::ElementsAre;
namespace asio = boost::asio;

Say say(std::string text) {
  Say s;
  s.text = std::move(text);
  return s;
}

Document doc(std::vector<Verb> verbs) {
  Document d;
  d.verbs = std::move(verbs);
  return d;
}

class InterpreterTest : public ::testing::Test {
 protected:
  void SetUp() override { source_.log = &call_.log; }

  InterpreterResult run(std::string url = "http://app.test/voice", InterpreterLimits limits = {}) {
    asio::io_context io;
    InterpreterResult result;
    FetchRequest first;
    first.url = std::move(url);
    Interpreter interpreter(call_, source_, limits);
    asio::co_spawn(io, interpreter.run(first), [&](std::exception_ptr e, InterpreterResult r) {
      if (e) std::rethrow_exception(e);
      result = std::move(r);
    });
    io.run();
    return result;
  }

  testing::FakeCallControl call_;
  testing::FakeDocumentSource source_;
};

TEST_F(InterpreterTest, SaysThenHangsUp) {
  source_.documents["http://app.test/voice"] = doc({say("Hello"), Hangup{}, say("never")});
  auto r = run();
  EXPECT_EQ(r.end, CallEnd::kCompleted);
  EXPECT_EQ(r.documents, 1);
  EXPECT_THAT(call_.log,
              ElementsAre("fetch:POST http://app.test/voice", "answer", "say:Hello", "hangup"));
}

TEST_F(InterpreterTest, RunningOutOfVerbsHangsUp) {
  Pause p;
  p.length = 2;
  source_.documents["http://app.test/voice"] = doc({p});
  auto r = run();
  EXPECT_EQ(r.end, CallEnd::kCompleted);
  EXPECT_THAT(call_.log,
              ElementsAre("fetch:POST http://app.test/voice", "answer", "pause:2", "hangup"));
}

TEST_F(InterpreterTest, GatherPostsDigitsToItsAction) {
  Gather g;
  g.action = "/menu";
  g.timeout = 3;
  g.prompts = {say("Press a key")};
  source_.documents["http://app.test/voice"] = doc({g, say("not reached")});
  source_.documents["http://app.test/menu"] = doc({say("Thanks"), Hangup{}});
  call_.digit_script = {"42#"};
  auto r = run();
  EXPECT_EQ(r.documents, 2);
  EXPECT_THAT(call_.log, ElementsAre("fetch:POST http://app.test/voice", "answer",
                                     "say:Press a key", "collect:timeout=3,finish=#",
                                     "fetch:POST http://app.test/menu", "say:Thanks", "hangup"));
  ASSERT_EQ(source_.requests.size(), 2u);
  EXPECT_EQ(source_.requests[1].base, "http://app.test/voice");
  EXPECT_THAT(source_.requests[1].params,
              ElementsAre(std::pair<std::string, std::string>{"Digits", "42"},
                          std::pair<std::string, std::string>{"FinishedOnKey", "#"}));
}

TEST_F(InterpreterTest, SpeechGatherPostsTheTranscriptAndConfidence) {
  Gather g;
  g.input = {"speech"};
  g.action = "/heard";
  g.hints = "sales, support";
  source_.documents["http://app.test/voice"] = doc({g, say("not reached")});
  source_.documents["http://app.test/heard"] = doc({Hangup{}});
  twiml::SpeechInput heard;
  heard.speech = "support";
  heard.confidence = 0.875;
  call_.speech_script = {heard};
  run();
  EXPECT_THAT(call_.log, ElementsAre("fetch:POST http://app.test/voice", "answer",
                                     "speech:timeout=5,hints=sales, support",
                                     "fetch:POST http://app.test/heard", "hangup"));
  ASSERT_EQ(source_.requests.size(), 2u);
  EXPECT_THAT(source_.requests[1].params,
              ElementsAre(std::pair<std::string, std::string>{"SpeechResult", "support"},
                          std::pair<std::string, std::string>{"Confidence", "0.87500000"}));
}

TEST_F(InterpreterTest, SpeechGatherWithKeysFirstPostsDigitsAndSilenceGoesOn) {
  Gather keys;
  keys.input = {"dtmf", "speech"};
  keys.action = "/keys";
  Gather quiet;
  quiet.input = {"speech"};
  quiet.action = "/never";
  source_.documents["http://app.test/voice"] = doc({keys});
  source_.documents["http://app.test/keys"] = doc({quiet, say("nothing heard"), Hangup{}});
  twiml::SpeechInput pressed;
  pressed.digits = "12";
  pressed.finished_on_key = "#";
  call_.speech_script = {pressed};
  run();
  ASSERT_EQ(source_.requests.size(), 2u);
  EXPECT_THAT(source_.requests[1].params,
              ElementsAre(std::pair<std::string, std::string>{"Digits", "12"},
                          std::pair<std::string, std::string>{"FinishedOnKey", "#"}));
  EXPECT_EQ(call_.log.back(), "hangup");
  EXPECT_EQ(call_.log[call_.log.size() - 2], "say:nothing heard");
}

TEST_F(InterpreterTest, GatherWithoutActionPostsToTheCurrentDocument) {
  Gather g;
  g.method = "GET";
  source_.documents["http://app.test/voice"] = doc({g});
  call_.digit_script = {"7", ""};
  auto r = run("http://app.test/voice", InterpreterLimits{2});
  // The second round gathers nothing, so it falls through and the call ends.
  EXPECT_EQ(r.end, CallEnd::kCompleted);
  EXPECT_EQ(source_.requests[1].method, "GET");
  EXPECT_EQ(call_.log[3], "fetch:GET http://app.test/voice");
}

TEST_F(InterpreterTest, GatherTimeoutFallsThroughToTheNextVerb) {
  Gather g;
  g.action = "/menu";
  source_.documents["http://app.test/voice"] = doc({g, say("No input")});
  call_.digit_script = {""};
  run();
  EXPECT_THAT(call_.log, ElementsAre("fetch:POST http://app.test/voice", "answer",
                                     "collect:timeout=5,finish=#", "say:No input", "hangup"));
}

TEST_F(InterpreterTest, ActionOnEmptyResultPostsEvenWithoutDigits) {
  Gather g;
  g.action = "/menu";
  g.action_on_empty_result = true;
  source_.documents["http://app.test/voice"] = doc({g});
  source_.documents["http://app.test/menu"] = doc({Hangup{}});
  call_.digit_script = {""};
  run();
  ASSERT_EQ(source_.requests.size(), 2u);
  EXPECT_EQ(source_.requests[1].params[0].second, "");
}

TEST_F(InterpreterTest, BargeInSkipsTheRemainingPrompts) {
  Gather g;
  g.prompts = {say("one"), say("two"), say("three")};
  g.action = "/menu";
  source_.documents["http://app.test/voice"] = doc({g});
  source_.documents["http://app.test/menu"] = doc({Hangup{}});
  call_.barge_in_at_prompt = 1;  // a key during "two"
  call_.digit_script = {"5"};
  run();
  EXPECT_THAT(call_.log, ElementsAre("fetch:POST http://app.test/voice", "answer", "say:one",
                                     "say:two", "collect:timeout=5,finish=#",
                                     "fetch:POST http://app.test/menu", "hangup"));
}

TEST_F(InterpreterTest, ARedirectLoopEndsWithAnErrorAndTheApology) {
  Redirect loop;
  loop.url = "/voice";
  source_.documents["http://app.test/voice"] = doc({loop});
  auto r = run("http://app.test/voice", InterpreterLimits{5});
  EXPECT_EQ(r.end, CallEnd::kError);
  EXPECT_EQ(r.error_code, 12400);
  EXPECT_EQ(r.documents, 5);
  ASSERT_GE(call_.log.size(), 3u);
  EXPECT_EQ(call_.log[call_.log.size() - 2], std::string("say:") + kApplicationErrorText);
  EXPECT_EQ(call_.log.back(), "hangup");
}

TEST_F(InterpreterTest, AFailedFetchSpeaksTheErrorAndHangsUp) {
  auto r = run("http://app.test/missing");
  EXPECT_EQ(r.end, CallEnd::kError);
  EXPECT_EQ(r.error_code, 11200);
  EXPECT_THAT(call_.log, ElementsAre("fetch:POST http://app.test/missing", "answer",
                                     std::string("say:") + kApplicationErrorText, "hangup"));
}

TEST_F(InterpreterTest, RejectBeforeAnswerDoesNotAnswer) {
  Reject busy;
  busy.reason = "busy";
  source_.documents["http://app.test/voice"] = doc({busy, say("never")});
  auto r = run();
  EXPECT_EQ(r.end, CallEnd::kRejected);
  EXPECT_THAT(call_.log, ElementsAre("fetch:POST http://app.test/voice", "reject:busy"));
}

TEST_F(InterpreterTest, RejectAfterAnswerHangsUp) {
  source_.documents["http://app.test/voice"] = doc({say("hi"), Reject{}});
  auto r = run();
  EXPECT_EQ(r.end, CallEnd::kCompleted);
  EXPECT_EQ(call_.log.back(), "hangup");
}

TEST_F(InterpreterTest, ACallerHangUpStopsTheDocument) {
  source_.documents["http://app.test/voice"] = doc({say("a"), say("b"), say("c")});
  call_.hang_up_after_actions = 3;  // fetch, answer, say:a
  auto r = run();
  EXPECT_EQ(r.end, CallEnd::kHungUp);
  EXPECT_THAT(call_.log, ElementsAre("fetch:POST http://app.test/voice", "answer", "say:a"));
}

TEST_F(InterpreterTest, RecordPostsTheRecordingToItsAction) {
  Record rec;
  rec.action = "/recorded";
  rec.max_length = 30;
  source_.documents["http://app.test/voice"] = doc({rec});
  source_.documents["http://app.test/recorded"] = doc({Hangup{}});
  run();
  ASSERT_EQ(source_.requests.size(), 2u);
  const auto& p = source_.requests[1].params;
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0].first, "RecordingUrl");
  EXPECT_EQ(p[1].second, "RE0123456789abcdef0123456789abcdef");
  EXPECT_EQ(p[2].second, "3");
}

TEST_F(InterpreterTest, RecordIsToldTheUrlOfTheDocumentHoldingIt) {
  Redirect to_menu;
  to_menu.url = "/ivr/menu";
  Record rec;
  rec.recording_status_callback = "recording-status";  // relative to /ivr/menu, not /voice
  rec.action = "/done";
  source_.documents["http://app.test/voice"] = doc({to_menu});
  source_.documents["http://app.test/ivr/menu"] = doc({rec});
  source_.documents["http://app.test/done"] = doc({Hangup{}});
  run();
  EXPECT_THAT(call_.record_documents, ElementsAre("http://app.test/ivr/menu"));
}

TEST_F(InterpreterTest, ARecordingCutByHangUpStillReachesTheAction) {
  Record rec;
  rec.action = "/recorded";
  source_.documents["http://app.test/voice"] = doc({rec});
  source_.documents["http://app.test/recorded"] = doc({say("never spoken")});
  call_.hang_up_after_actions = 3;  // fetch, answer, record
  auto r = run();
  EXPECT_EQ(r.end, CallEnd::kHungUp);
  ASSERT_EQ(source_.requests.size(), 2u);
  EXPECT_EQ(source_.requests[1].params[3].second, "hangup");
  EXPECT_EQ(call_.log.back(), "fetch:POST http://app.test/recorded");
}

TEST_F(InterpreterTest, AnEmptyRecordingMovesOn) {
  Record rec;
  rec.action = "/recorded";
  source_.documents["http://app.test/voice"] = doc({rec, say("nothing heard")});
  call_.recording_seconds = 0;  // silence: no recording is kept
  run();
  EXPECT_EQ(source_.requests.size(), 1u);
  EXPECT_NE(std::find(call_.log.begin(), call_.log.end(), "say:nothing heard"), call_.log.end());
}

TEST_F(InterpreterTest, DialActionGetsTheDialOutcome) {
  Dial d;
  d.action = "/after-dial";
  DialNumber n;
  n.number = "+14155550100";
  d.targets = {n};
  Dial plain = d;
  plain.action.clear();
  source_.documents["http://app.test/voice"] = doc({plain, d});
  source_.documents["http://app.test/after-dial"] = doc({Hangup{}});
  run();
  ASSERT_EQ(source_.requests.size(), 2u);
  const auto& p = source_.requests[1].params;
  EXPECT_EQ(p[0].second, "completed");
  EXPECT_EQ(p[2].second, "12");
  EXPECT_EQ(p[3].second, "true");
  EXPECT_EQ(std::count(call_.log.begin(), call_.log.end(), "dial:1"), 2);
}

TEST_F(InterpreterTest, OtherVerbsGoToCallControl) {
  source_.documents["http://app.test/voice"] = doc({Leave{}, Refer{}});
  call_.other_continues = false;
  run();
  EXPECT_THAT(call_.log, ElementsAre("fetch:POST http://app.test/voice", "other:10"));
}

TEST_F(InterpreterTest, EnqueueActionGetsTheQueueResult) {
  Enqueue e;
  e.queue_name = "support";
  e.action = "/after-queue";
  Enqueue silent = e;
  silent.action.clear();  // no action: the next verb
  source_.documents["http://app.test/voice"] = doc({silent, e, Say{}});
  source_.documents["http://app.test/after-queue"] = doc({Hangup{}});
  call_.enqueue_outcome.result = "bridged";
  call_.enqueue_outcome.queue_sid = "QU1";
  call_.enqueue_outcome.queue_time_s = 42;
  run();
  EXPECT_EQ(std::count(call_.log.begin(), call_.log.end(), "enqueue:support"), 2);
  ASSERT_EQ(source_.requests.size(), 2u);
  EXPECT_EQ(source_.requests[1].url, "/after-queue");
  EXPECT_EQ(source_.requests[1].base, "http://app.test/voice");
  EXPECT_THAT(source_.requests[1].params,
              ElementsAre(std::pair<std::string, std::string>{"QueueResult", "bridged"},
                          std::pair<std::string, std::string>{"QueueSid", "QU1"},
                          std::pair<std::string, std::string>{"QueueTime", "42"}));
}

TEST_F(InterpreterTest, AnEnqueueDequeuedThroughTheApiRunsTheGivenUrl) {
  Enqueue e;
  e.queue_name = "support";
  e.action = "/after-queue";
  source_.documents["http://app.test/voice"] = doc({e});
  source_.documents["http://app.test/next"] = doc({Hangup{}});
  call_.enqueue_outcome.result = "redirected";
  call_.enqueue_outcome.redirect_url = "http://app.test/next";
  call_.enqueue_outcome.redirect_method = "GET";
  run();
  ASSERT_EQ(source_.requests.size(), 2u);
  EXPECT_EQ(source_.requests[1].url, "http://app.test/next") << "not the action";
  EXPECT_EQ(source_.requests[1].method, "GET");
  EXPECT_EQ(source_.requests[1].params[0].second, "redirected");
}

}  // namespace
}  // namespace sb::twiml
