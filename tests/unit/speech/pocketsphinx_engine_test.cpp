#include "speech/pocketsphinx_engine.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <optional>
#include <string>
#include <vector>

#include "speech/transcript.hpp"
#include "support/run_until.hpp"
#include "unit/speech/utterances.hpp"

namespace sb::speech {
namespace {

using sb::testing::run_until;
using test::kFrame;

// A call's audio for `text`: synthesized, 8 kHz μ-law, 300 ms of silence either side.
std::vector<std::int16_t> call_audio(const test::Voice& voice, const std::string& text) {
  auto pcm = test::synthesize(voice, text);
  if (!pcm) return {};
  return test::telephone(test::padded(*pcm, 300, 300));
}

struct Outcome {
  std::optional<Result<Transcript>> final;
  std::vector<Partial> partials;
};

// Feeds `pcm` in 20 ms frames on the io_context's thread, finishes and waits for the final.
Outcome recognize(SpeechRecognizer& engine, const std::vector<std::int16_t>& pcm,
                  RecognitionOptions options = {}) {
  boost::asio::io_context io;
  Outcome out;
  RecognitionCallbacks callbacks;
  callbacks.on_final = [&](Result<Transcript> r) { out.final.emplace(std::move(r)); };
  if (options.partial_results) {
    callbacks.on_partial = [&](const Partial& p) { out.partials.push_back(p); };
  }
  auto r = engine.start(std::move(options), io.get_executor(), std::move(callbacks));
  for (std::size_t i = 0; i < pcm.size(); i += kFrame) {
    r->feed(std::span(pcm).subspan(i, std::min(kFrame, pcm.size() - i)));
    io.poll();  // a streaming decode answers as it goes
  }
  r->finish();
  EXPECT_TRUE(run_until(io, [&] { return out.final.has_value(); }));
  return out;
}

std::string text_of(const Outcome& o) {
  if (!o.final) return "(no final)";
  if (!o.final->ok()) return "(error " + o.final->error().message + ")";
  return o.final->value().text;
}

class PocketSphinxTest : public ::testing::Test {
 protected:
  // One engine for the suite: loading the model takes a while.
  static void SetUpTestSuite() { engine_ = new PocketSphinxEngine(); }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }
  static PocketSphinxEngine* engine_;
};
PocketSphinxEngine* PocketSphinxTest::engine_ = nullptr;

TEST_F(PocketSphinxTest, RecognizesDigitsAsWords) {
  ASSERT_TRUE(engine_->available());
  const auto audio = call_audio({"flite", "slt"}, "one two three");
  ASSERT_FALSE(audio.empty());
  const auto out = recognize(*engine_, audio);
  ASSERT_TRUE(out.final && out.final->ok()) << text_of(out);
  EXPECT_EQ(out.final->value().text, "one two three");
  EXPECT_GT(out.final->value().confidence, 0.0);
  EXPECT_LE(out.final->value().confidence, 1.0);
}

TEST_F(PocketSphinxTest, YesAndNoWithHints) {
  RecognitionOptions options;
  options.hints = parse_hints("yes, no");
  for (const std::string word : {"yes", "no"}) {
    const auto audio = call_audio({"flite", "kal"}, word);
    ASSERT_FALSE(audio.empty());
    const auto out = recognize(*engine_, audio, options);
    EXPECT_EQ(text_of(out), word);
  }
}

TEST_F(PocketSphinxTest, HintsMakeACommandRecognizable) {
  // The open language model hears flite's kal "billing" as another word; with the hints the
  // grammar of the commands wins.
  const auto audio = call_audio({"flite", "kal"}, "billing");
  ASSERT_FALSE(audio.empty());
  const auto without = recognize(*engine_, audio);
  EXPECT_NE(text_of(without), "billing");
  RecognitionOptions options;
  options.hints = parse_hints("sales, support, operator, billing");
  EXPECT_EQ(text_of(recognize(*engine_, audio, options)), "billing");
}

TEST_F(PocketSphinxTest, DigitsSurviveThreePercentLoss) {
  auto pcm = test::synthesize({"flite", "rms"}, "one two three");
  ASSERT_TRUE(pcm);
  const auto audio = test::with_loss(test::telephone(test::padded(*pcm, 300, 300)), 33);
  const auto out = recognize(*engine_, audio);
  EXPECT_EQ(text_of(out), "one two three");
}

TEST_F(PocketSphinxTest, PartialResultsWhileStreaming) {
  const auto audio = call_audio({"flite", "rms"}, "four five six seven eight nine");
  ASSERT_FALSE(audio.empty());
  boost::asio::io_context io;
  std::vector<Partial> partials;
  std::optional<Result<Transcript>> final;
  RecognitionCallbacks callbacks;
  callbacks.on_partial = [&](const Partial& p) { partials.push_back(p); };
  callbacks.on_final = [&](Result<Transcript> r) { final.emplace(std::move(r)); };
  RecognitionOptions options;
  options.partial_results = true;
  auto r = engine_->start(options, io.get_executor(), std::move(callbacks));
  for (std::size_t i = 0; i < audio.size(); i += kFrame) {
    r->feed(std::span(audio).subspan(i, std::min(kFrame, audio.size() - i)));
  }
  // Decoded as it comes, before finish(): something is heard while the caller still speaks.
  ASSERT_TRUE(run_until(io, [&] { return !partials.empty(); }));
  EXPECT_FALSE(partials.front().unstable.empty());
  r->finish();
  ASSERT_TRUE(run_until(io, [&] { return final.has_value(); }));
  ASSERT_TRUE(final->ok());
  EXPECT_NE(final->value().text.find("nine"), std::string::npos)
      << final->value().text << " after partial " << partials.back().unstable;
}

TEST_F(PocketSphinxTest, SilenceGivesAnEmptyTranscript) {
  const std::vector<std::int16_t> silence(8000, 0);
  const auto out = recognize(*engine_, silence);
  EXPECT_EQ(text_of(out), "");
}

TEST(PocketSphinx, CancelledRecognitionsNeverCallBack) {
  // One decoder: the second and third recognitions wait for the first.
  PocketSphinxOptions o;
  o.threads = 1;
  o.max_decoders = 1;
  PocketSphinxEngine engine(o);
  const auto audio = call_audio({"flite", "slt"}, "seven eight nine zero one two three four");
  ASSERT_FALSE(audio.empty());
  boost::asio::io_context io;
  int called[3] = {0, 0, 0};
  std::shared_ptr<Recognition> r[3];
  for (int i = 0; i < 3; ++i) {
    RecognitionCallbacks cb;
    cb.on_final = [&called, i](Result<Transcript>) { ++called[i]; };
    cb.on_partial = [&called, i](const Partial&) { ++called[i]; };
    RecognitionOptions options;
    options.partial_results = i == 0;  // holds the decoder while it streams
    r[i] = engine.start(options, io.get_executor(), std::move(cb));
    r[i]->feed(audio);
    r[i]->finish();
  }
  r[0]->cancel();  // running or bound: its decode stops
  r[1]->cancel();  // queued: leaves the queue
  r[1]->cancel();  // twice is harmless
  ASSERT_TRUE(run_until(io, [&] { return called[2] == 1; }));
  // Recognitions are served in order: whatever the first two had left was done before the
  // third's final arrived, and every callback of theirs would have been posted before it.
  io.restart();
  io.poll();
  EXPECT_EQ(called[0], 0);
  EXPECT_EQ(called[1], 0);
  r[2]->cancel();  // after its final: harmless
  EXPECT_EQ(called[2], 1);
}

TEST(PocketSphinx, EngineGoneBeforeTheRecognition) {
  boost::asio::io_context io;
  std::shared_ptr<Recognition> r;
  {
    PocketSphinxEngine engine;
    r = engine.start({}, io.get_executor(), {});
    r->feed(std::vector<std::int16_t>(1600, 0));
  }
  r->feed(std::vector<std::int16_t>(160, 0));
  r->finish();
  io.poll();
  r->cancel();
}

TEST(PocketSphinx, MissingModelIsAnError) {
  PocketSphinxOptions o;
  o.model_dir = "/nonexistent/model";
  PocketSphinxEngine engine(o);
  EXPECT_FALSE(engine.available());
  const auto out = recognize(engine, std::vector<std::int16_t>(1600, 0));
  ASSERT_TRUE(out.final);
  ASSERT_FALSE(out.final->ok());
  EXPECT_EQ(out.final->error().code, codes::kServiceUnavailable);
}

TEST(PocketSphinx, OtherLanguagesAreRefused) {
  PocketSphinxEngine engine;
  RecognitionOptions options;
  options.language = "de-DE";
  const auto out = recognize(engine, std::vector<std::int16_t>(1600, 0), options);
  ASSERT_TRUE(out.final);
  EXPECT_FALSE(out.final->ok());
}

TEST(PocketSphinx, KeepsAtMostSixtySecondsAndCountsTheRest) {
  PocketSphinxEngine engine;
  boost::asio::io_context io;
  auto r = engine.start({}, io.get_executor(), {});
  const std::vector<std::int16_t> second(kSampleRate, 0);
  for (int i = 0; i < 61; ++i) r->feed(second);
  EXPECT_EQ(r->dropped_samples(), std::size_t{kSampleRate});
  r->cancel();
}

TEST(PocketSphinx, WarmUpLoadsOneDecoder) {
  PocketSphinxEngine engine;
  engine.warm_up();
  boost::asio::io_context io;
  // Loaded on the engine's thread; wait for it without a fixed sleep.
  ASSERT_TRUE(run_until(io, [&] { return engine.stats().decoders == 1; }));
  EXPECT_EQ(engine.stats().busy, 0u);
}

}  // namespace
}  // namespace sb::speech
