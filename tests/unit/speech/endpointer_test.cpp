#include "speech/endpointer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "unit/speech/utterances.hpp"

namespace sb::speech {
namespace {

using test::kFrame;

struct Trace {
  int onset_ms = -1;  // when kSpeaking was first returned
  int end_ms = -1;    // when kEnded was first returned
};

Trace run(Endpointer& e, const std::vector<std::int16_t>& pcm) {
  Trace t;
  for (std::size_t i = 0; i + kFrame <= pcm.size(); i += kFrame) {
    const auto s = e.feed(std::span(pcm).subspan(i, kFrame));
    const int ms = static_cast<int>((i + kFrame) / 8);
    if (s == Endpointer::State::kSpeaking && t.onset_ms < 0) t.onset_ms = ms;
    if (s == Endpointer::State::kEnded && t.end_ms < 0) t.end_ms = ms;
  }
  return t;
}

// Where the synthesized speech really is (first and last sample louder than -40 dBFS).
std::pair<int, int> speech_bounds_ms(const std::vector<std::int16_t>& pcm) {
  std::size_t first = pcm.size(), last = 0;
  for (std::size_t i = 0; i < pcm.size(); ++i) {
    if (std::abs(pcm[i]) > 330) {
      first = std::min(first, i);
      last = i;
    }
  }
  return {static_cast<int>(first / 8), static_cast<int>(last / 8)};
}

class EndpointerOnSpeech : public ::testing::TestWithParam<double> {};

TEST_P(EndpointerOnSpeech, FindsTheUtteranceInSilenceOrComfortNoise) {
  auto speech = test::synthesize({"flite", "kal"}, "one two three");
  ASSERT_TRUE(speech);
  const double noise = GetParam();  // rms of the background
  const auto call = test::telephone(test::padded(*speech, 1000, 2000, noise));
  const auto [start, end] = speech_bounds_ms(test::padded(*speech, 1000, 2000));
  Endpointer e({.speech_timeout_ms = 800});
  const Trace t = run(e, call);
  ASSERT_GE(t.onset_ms, 0) << "no speech found";
  EXPECT_GE(t.onset_ms, start);
  EXPECT_LE(t.onset_ms, start + 150);
  ASSERT_GE(t.end_ms, 0) << "never ended";
  // Ended by the timeout after the last word (its quiet tail may count as speech a little).
  EXPECT_GE(t.end_ms, end + 800 - 200);
  EXPECT_LE(t.end_ms, end + 800 + 200);
}

// Digital silence, μ-law idle noise level, comfort noise at about -60 and -50 dBFS.
INSTANTIATE_TEST_SUITE_P(Backgrounds, EndpointerOnSpeech, ::testing::Values(0.0, 3.0, 33.0, 100.0));

TEST(Endpointer, PauseShorterThanTheTimeoutDoesNotEnd) {
  auto word = test::synthesize({"flite", "slt"}, "four");
  ASSERT_TRUE(word);
  std::vector<std::int16_t> pcm = test::padded(*word, 500, 500);  // 1 s of silence between
  const auto second = test::padded(*word, 0, 3000);
  pcm.insert(pcm.end(), second.begin(), second.end());
  Endpointer e({.speech_timeout_ms = 2000});
  const Trace t = run(e, test::telephone(pcm));
  const int second_word_ms = static_cast<int>((test::padded(*word, 500, 500).size()) / 8);
  ASSERT_GE(t.end_ms, 0);
  EXPECT_GT(t.end_ms, second_word_ms + 2000 - 200);
}

TEST(Endpointer, SteadyNoiseIsNotSpeech) {
  // -40 dBFS of steady noise: loud, but the floor follows it.
  const auto noise = test::telephone(test::comfort_noise(8000 * 5, 330));
  Endpointer e({});
  const Trace t = run(e, noise);
  EXPECT_EQ(t.onset_ms, -1);
  EXPECT_GT(e.noise_floor_db(), 40);
}

TEST(Endpointer, ClicksAreNotSpeech) {
  std::vector<std::int16_t> pcm(8000, 0);
  for (std::size_t i = 20 * kFrame; i < 22 * kFrame; ++i) pcm[i] = 8000;  // 40 ms burst
  Endpointer e({});
  EXPECT_EQ(run(e, pcm).onset_ms, -1);
}

TEST(Endpointer, LongSpeechEndsAtTheLimit) {
  std::vector<std::int16_t> tone(8000 * 3, 0);  // 200 ms of silence, then a tone
  for (std::size_t i = 1600; i < tone.size(); ++i) {
    tone[i] =
        static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 440 * static_cast<double>(i) / 8000));
  }
  Endpointer e({.speech_timeout_ms = 800, .max_speech_ms = 1000});
  const Trace t = run(e, tone);
  EXPECT_EQ(t.onset_ms, 200 + 60);
  EXPECT_EQ(t.end_ms, 200 + 1000);  // the onset frames count as speech
  EXPECT_EQ(e.feed(std::span(tone).subspan(0, kFrame)), Endpointer::State::kEnded);
}

TEST(Endpointer, SpeechFromTheFirstFrameIsFoundAfterAPause) {
  // The floor starts at the first frame's level; the pause brings it down.
  std::vector<std::int16_t> pcm(8000 * 2, 0);
  for (std::size_t i = 0; i < pcm.size(); ++i) {
    const bool pause = i >= 2400 && i < 4000;  // 300-500 ms
    if (!pause)
      pcm[i] = static_cast<std::int16_t>(8000 *
                                         std::sin(2 * M_PI * 440 * static_cast<double>(i) / 8000));
  }
  Endpointer e({});
  EXPECT_EQ(run(e, pcm).onset_ms, 500 + 60);
}

TEST(Endpointer, EnergyScale) {
  EXPECT_EQ(Endpointer::energy_db(std::vector<std::int16_t>(160, 0)), 0);
  std::vector<std::int16_t> full(160);
  for (std::size_t i = 0; i < full.size(); ++i) {
    full[i] = static_cast<std::int16_t>(32767 *
                                        std::sin(2 * M_PI * 1000 * static_cast<double>(i) / 8000));
  }
  EXPECT_NEAR(Endpointer::energy_db(full), 87.3, 0.5);
}

}  // namespace
}  // namespace sb::speech
