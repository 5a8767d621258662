#include "media/tts.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_future.hpp>
#include <cmath>
#include <optional>

#include "support/fake_clock.hpp"
#include "support/run_on.hpp"
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
  boost::asio::thread_pool pool(1);
  boost::asio::io_context io;
  auto r = run_on(io, synth.speak_async(pool.get_executor(), {"Goodbye", "slt", "en"}));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GT((*r)->size(), 2000u);
  pool.join();
}

}  // namespace
}  // namespace sb::media
