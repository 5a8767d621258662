#include "media/tts.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cmath>
#include <optional>
#include <thread>

#include "support/fake_clock.hpp"
#include "support/fake_tts_engine.hpp"
#include "support/run_on.hpp"
#include "support/run_until.hpp"
#include "support/temp_dir.hpp"

namespace sb::media {
namespace {

using sb::testing::run_on;

double rms(const std::vector<std::int16_t>& v) {
  double s = 0;
  for (auto x : v) s += double(x) * x;
  return v.empty() ? 0 : std::sqrt(s / double(v.size()));
}

TEST(Flite, BothVoicesSpeakAndDiffer) {
  FliteEngine flite;
  auto kal = flite.synthesize({"Hello from Switchboard", "kal", "en-US"});
  auto slt = flite.synthesize({"Hello from Switchboard", "woman", "en-US"});
  ASSERT_TRUE(kal) << kal.error().message;
  ASSERT_TRUE(slt) << slt.error().message;
  // About a second of speech at 8 kHz, not silence.
  EXPECT_GT(kal->size(), 6000u);
  EXPECT_LT(kal->size(), 40000u);
  EXPECT_GT(rms(*kal), 300);
  EXPECT_GT(rms(*slt), 300);
  EXPECT_NE(*kal, *slt);
  EXPECT_TRUE(flite.supports({"x", "alice", "en-GB"}));
  EXPECT_FALSE(flite.supports({"x", "kal", "de-DE"}));
  EXPECT_FALSE(flite.supports({"x", "Polly.Hans", "en-US"}));
  auto bad = flite.synthesize({"", "kal", "en-US"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, 13520);
}

TEST(Espeak, SpeaksGermanThroughTheSubprocess) {
  EspeakEngine espeak;
  EXPECT_EQ(EspeakEngine::voice_for("de-DE"), "de");
  EXPECT_EQ(EspeakEngine::voice_for("en-GB"), "en-gb");
  EXPECT_EQ(EspeakEngine::voice_for("--help"), "");  // never an option
  EXPECT_EQ(EspeakEngine::voice_for("de;rm -rf"), "");
  auto de = espeak.synthesize({"Guten Tag, willkommen", "", "de-DE"});
  ASSERT_TRUE(de) << de.error().message;
  EXPECT_GT(de->size(), 4000u);
  EXPECT_GT(rms(*de), 300);
}

TEST(Espeak, MissingProgramOrUnknownLanguageIsAnError) {
  EspeakEngine missing({.program = "/nonexistent/espeak-ng"});
  auto r = missing.synthesize({"hallo", "", "de"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, 13512);
  EspeakEngine espeak;
  EXPECT_FALSE(espeak.synthesize({"hallo", "", "xx-notalanguage"}));
}

TEST(Synthesizer, PicksEngineAndCachesByEngineVoiceLanguageText) {
  testing::TempDir dir;
  testing::FakeClock clock;
  MediaCache cache(dir.path(), clock);
  std::vector<std::unique_ptr<TtsEngine>> engines;
  engines.push_back(std::make_unique<FliteEngine>());
  engines.push_back(std::make_unique<EspeakEngine>());
  Synthesizer synth(std::move(engines), cache);
  auto a = synth.speak({"Press one", "kal", "en-US"});
  ASSERT_TRUE(a);
  auto b = synth.speak({"Press one", "kal", "en-US"});
  ASSERT_TRUE(b);
  EXPECT_EQ(**a, **b);
  EXPECT_EQ(synth.stats().synthesized, 1u);
  EXPECT_EQ(synth.stats().hits, 1u);
  ASSERT_TRUE(synth.speak({"Press one", "slt", "en-US"}));      // other voice: other entry
  ASSERT_TRUE(synth.speak({"Drücken Sie eins", "", "de-DE"}));  // flite lacks German: espeak
  EXPECT_EQ(synth.stats().synthesized, 3u);
  auto none = synth.speak({"x", "kal", "!!"});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code, 13512);
}

TEST(Synthesizer, SpeakAsyncRunsOnThePoolAndResumesHome) {
  testing::TempDir dir;
  testing::FakeClock clock;
  MediaCache cache(dir.path(), clock);
  std::vector<std::unique_ptr<TtsEngine>> engines;
  engines.push_back(std::make_unique<FliteEngine>());
  Synthesizer synth(std::move(engines), cache);
  boost::asio::io_context io;
  const auto home = std::this_thread::get_id();
  auto check = [](Synthesizer& s,
                  std::thread::id home) -> boost::asio::awaitable<Result<SharedPcm>> {
    SpeechRequest request{"Goodbye", "slt", "en"};  // named: see Synthesizer::speak_async
    auto speak = s.speak_async(std::move(request));
    auto r = co_await std::move(speak);
    EXPECT_EQ(std::this_thread::get_id(), home);
    co_return r;
  };
  auto r = run_on(io, check(synth, home));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GT((*r)->size(), 2000u);
}

// ---- bounded, parallel, deduplicated, cancellable synthesis (fake engine) ----

// One caller's <Say> as its call's coroutine runs it; `hangup` is the call's cancellation.
struct SayCall {
  std::optional<Result<SharedPcm>> result;
  bool aborted = false;
  boost::asio::cancellation_signal hangup;
};

boost::asio::awaitable<void> say_into(Synthesizer& synth, SpeechRequest request, SayCall* call) {
  auto speak = synth.speak_async(std::move(request));
  call->result.emplace(co_await std::move(speak));
}

class SynthesizerPool : public ::testing::Test {
 protected:
  ~SynthesizerPool() override {
    if (gate) gate->release_all();  // the pool joins when the synthesizer goes
  }
  Synthesizer& make(Synthesizer::Options options) {
    auto engine = std::make_unique<testing::FakeTtsEngine>();
    engine->hold();  // every synthesis waits for the test: a slow one without a sleep
    gate = engine.get();
    std::vector<std::unique_ptr<TtsEngine>> engines;
    engines.push_back(std::move(engine));
    synth.emplace(std::move(engines), cache, options);
    return *synth;
  }
  void say(const std::string& text, SayCall& call) {
    boost::asio::co_spawn(io, say_into(*synth, {text, "", "en-US"}, &call),
                          boost::asio::bind_cancellation_slot(call.hangup.slot(),
                                                              [&call](const std::exception_ptr& e) {
                                                                if (e) call.aborted = true;
                                                              }));
  }
  // Runs the call worker's loop until `done`.
  template <typename Pred>
  bool run_until(Pred done) {
    return sb::testing::run_until(io, done);
  }

  testing::TempDir dir;
  testing::FakeClock clock;
  MediaCache cache{dir.path(), clock};
  boost::asio::io_context io;
  testing::FakeTtsEngine* gate = nullptr;
  std::optional<Synthesizer> synth;
};

// The defect: one thread for the whole process, so one slow Say held up every call's Say.
TEST_F(SynthesizerPool, ASlowSayDoesNotHoldUpAnotherCallsSay) {
  make({.threads = 2});
  SayCall slow, quick;
  gate->release("Your order has shipped");
  say("Please hold while we look that up", slow);
  ASSERT_TRUE(run_until([&] { return gate->calls("Please hold while we look that up") >= 1; }));
  say("Your order has shipped", quick);
  ASSERT_TRUE(run_until([&] { return quick.result.has_value(); }));
  ASSERT_TRUE(*quick.result);
  EXPECT_FALSE(slow.result);  // still synthesizing
  gate->release_all();
  ASSERT_TRUE(run_until([&] { return slow.result.has_value(); }));
  EXPECT_TRUE(*slow.result);
}

TEST_F(SynthesizerPool, IdenticalRequestsInFlightShareOneSynthesis) {
  make({.threads = 2});
  SayCall a, b, other;
  say("Welcome to Switchboard", a);
  ASSERT_TRUE(run_until([&] { return gate->calls("Welcome to Switchboard") >= 1; }));
  say("Welcome to Switchboard", b);
  say("Goodbye", other);
  ASSERT_TRUE(run_until([&] { return gate->calls("Goodbye") >= 1; }));
  ASSERT_TRUE(run_until([&] { return synth->stats().joined == 1; }));
  gate->release_all();
  ASSERT_TRUE(run_until([&] { return a.result && b.result && other.result; }));
  ASSERT_TRUE(*a.result);
  ASSERT_TRUE(*b.result);
  EXPECT_EQ(**a.result, **b.result);  // the same audio, not a copy
  EXPECT_EQ(gate->calls("Welcome to Switchboard"), 1);
  EXPECT_EQ(synth->stats().synthesized, 2u);
  EXPECT_EQ(synth->in_flight(), 0u);
}

TEST_F(SynthesizerPool, AFullQueueIsAnErrorForThatCallAtOnce) {
  make({.threads = 1, .max_queued = 1});
  SayCall running, queued, refused;
  say("one", running);
  ASSERT_TRUE(run_until([&] { return gate->calls("one") >= 1; }));
  say("two", queued);  // waits for the thread
  say("three", refused);
  ASSERT_TRUE(run_until([&] { return refused.result.has_value(); }));
  ASSERT_FALSE(*refused.result);
  EXPECT_EQ(refused.result->error().code, 20503);
  EXPECT_NE(refused.result->error().message.find("overloaded"), std::string::npos);
  EXPECT_EQ(synth->stats().overloaded, 1u);
  EXPECT_FALSE(running.result);
  EXPECT_FALSE(queued.result);
  gate->release_all();
  ASSERT_TRUE(run_until([&] { return running.result && queued.result; }));
  EXPECT_TRUE(*running.result);
  EXPECT_TRUE(*queued.result);
}

TEST_F(SynthesizerPool, ACallerStopsWaitingAtItsDeadlineAndTheSpeechIsCachedForLater) {
  make({.threads = 1, .timeout = std::chrono::milliseconds(100)});
  SayCall late;
  say("This takes a while", late);
  // The engine is held until after the deadline has ended the wait: no race with the clock.
  ASSERT_TRUE(run_until([&] { return late.result.has_value(); }));
  ASSERT_FALSE(*late.result);
  EXPECT_EQ(late.result->error().code, 20503);
  EXPECT_EQ(synth->stats().timed_out, 1u);
  gate->release_all();
  // Counted as synthesized once cached, but in flight until its waiters are handed the result:
  // a Say before then would join it instead of hitting the cache.
  ASSERT_TRUE(
      run_until([&] { return synth->stats().synthesized == 1 && synth->in_flight() == 0; }));
  SayCall again;
  say("This takes a while", again);
  ASSERT_TRUE(run_until([&] { return again.result.has_value(); }));
  EXPECT_TRUE(*again.result);
  EXPECT_EQ(synth->stats().hits, 1u);
  EXPECT_EQ(gate->calls("This takes a while"), 1);
}

// The caller hangs up mid-synthesis: its wait ends at once, and the synthesis that finishes
// later touches nothing of the call (freed here; AddressSanitizer would see a use).
TEST_F(SynthesizerPool, HangingUpEndsTheWaitAtOnceAndTheLateResultTouchesNothing) {
  make({.threads = 1});
  auto call = std::make_unique<SayCall>();
  say("Thanks for calling", *call);
  ASSERT_TRUE(run_until([&] { return gate->calls("Thanks for calling") >= 1; }));
  boost::asio::post(io, [&call] { call->hangup.emit(boost::asio::cancellation_type::terminal); });
  ASSERT_TRUE(run_until([&] { return call->aborted; }));
  EXPECT_FALSE(call->result);
  call.reset();
  gate->release_all();
  ASSERT_TRUE(run_until([&] { return synth->stats().synthesized == 1; }));
  ASSERT_TRUE(run_until([&] { return synth->in_flight() == 0; }));
  io.restart();
  io.poll();
}

}  // namespace
}  // namespace sb::media
