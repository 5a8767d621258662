#include "media/audio_source.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace sb::media {
namespace {

// Goertzel power of `freq` in `x` (8 kHz), normalised by length.
double tone_power(std::span<const std::int16_t> x, double freq) {
  const double w = 2 * M_PI * freq / 8000.0, coeff = 2 * std::cos(w);
  double s1 = 0, s2 = 0;
  for (auto v : x) {
    const double s = v + coeff * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (double(x.size()) * x.size());
}

std::vector<std::int16_t> drain(AudioSource& s, std::size_t max = 1'000'000) {
  std::vector<std::int16_t> out;
  std::vector<std::int16_t> frame(160);
  while (out.size() < max) {
    const std::size_t n = s.read(frame);
    out.insert(out.end(), frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(n));
    if (n < frame.size()) break;
  }
  return out;
}

SharedPcm ramp(std::size_t n) {
  auto v = std::make_shared<std::vector<std::int16_t>>(n);
  for (std::size_t i = 0; i < n; ++i) (*v)[i] = static_cast<std::int16_t>(i + 1);
  return v;
}

TEST(AudioSource, SilenceHasItsLength) {
  SilenceSource s(1000);
  auto out = drain(s);
  EXPECT_EQ(out.size(), 1000u);
  for (auto v : out) ASSERT_EQ(v, 0);
  s.rewind();
  EXPECT_EQ(drain(s).size(), 1000u);
}

TEST(AudioSource, BeepIsOneKilohertzForHalfASecond) {
  ToneSource beep(ToneSpec::beep());
  auto out = drain(beep);
  ASSERT_EQ(out.size(), 4000u);
  EXPECT_GT(tone_power(out, 1000), 100 * tone_power(out, 1400));
  EXPECT_GT(tone_power(out, 1000), 1e6);
}

TEST(AudioSource, RingbackCadenceTwoOnFourOffForever) {
  ToneSource ring(ToneSpec::ringback());
  auto out = drain(ring, 8000 * 13);
  ASSERT_EQ(out.size(), 8000u * 13);  // does not end by itself
  std::span<const std::int16_t> all(out);
  auto on = all.subspan(0, 16000);
  auto off = all.subspan(16000, 32000);
  auto on_again = all.subspan(48000, 16000);
  EXPECT_GT(tone_power(on, 440), 1e4);
  EXPECT_GT(tone_power(on, 480), 1e4);
  EXPECT_EQ(tone_power(off, 440), 0.0);
  EXPECT_GT(tone_power(on_again, 480), 1e4);
}

TEST(AudioSource, DtmfToneHasRowAndColumn) {
  ToneSource five(ToneSpec::dtmf('5'));
  auto out = drain(five);
  ASSERT_EQ(out.size(), 1600u);
  auto tone = std::span<const std::int16_t>(out).first(800);
  EXPECT_GT(tone_power(tone, 770), 50 * tone_power(tone, 697));
  EXPECT_GT(tone_power(tone, 1336), 50 * tone_power(tone, 1209));
}

TEST(AudioSource, PcmAndLoops) {
  PcmSource once(ramp(250));
  auto one = drain(once);
  ASSERT_EQ(one.size(), 250u);
  EXPECT_EQ(one[249], 250);

  LoopSource thrice(std::make_unique<PcmSource>(ramp(250)), 3);
  auto three = drain(thrice);
  ASSERT_EQ(three.size(), 750u);
  EXPECT_EQ(three[250], 1);  // restarted
  EXPECT_EQ(three[749], 250);

  LoopSource forever(std::make_unique<PcmSource>(ramp(100)), 0);
  EXPECT_EQ(drain(forever, 100'000).size(), 100'000u);

  LoopSource empty(std::make_unique<PcmSource>(ramp(0)), 0);
  EXPECT_EQ(drain(empty).size(), 0u);  // ends instead of spinning
}

TEST(Player, PlaysQueueBackToBackThenSilence) {
  Player player;
  std::vector<std::string> ends;
  player.enqueue(std::make_unique<PcmSource>(ramp(100)), {}, [&](PlaybackEnd e) {
    ends.push_back(e == PlaybackEnd::kCompleted ? "a done" : "a?");
  });
  player.enqueue(std::make_unique<PcmSource>(ramp(100)), {}, [&](PlaybackEnd e) {
    ends.push_back(e == PlaybackEnd::kCompleted ? "b done" : "b?");
  });
  std::vector<std::int16_t> frame(160);
  EXPECT_TRUE(player.fill(frame));
  EXPECT_EQ(frame[99], 100);
  EXPECT_EQ(frame[100], 1);  // b continues in the same frame
  EXPECT_EQ(ends, (std::vector<std::string>{"a done"}));
  EXPECT_TRUE(player.fill(frame));
  EXPECT_EQ(frame[39], 100);
  EXPECT_EQ(frame[40], 0);
  EXPECT_EQ(ends.size(), 2u);
  EXPECT_FALSE(player.fill(frame));
  EXPECT_FALSE(player.playing());
}

TEST(Player, BargeInStopsInterruptiblePromptsOnly) {
  Player player;
  std::vector<PlaybackEnd> ends;
  auto record = [&](PlaybackEnd e) { ends.push_back(e); };
  player.enqueue(std::make_unique<SilenceSource>(8000), {.barge_in = true}, record);
  player.enqueue(std::make_unique<SilenceSource>(8000), {.barge_in = true}, record);
  player.enqueue(std::make_unique<SilenceSource>(8000), {.barge_in = false}, record);
  std::vector<std::int16_t> frame(160);
  player.fill(frame);
  EXPECT_TRUE(player.barge_in());
  EXPECT_EQ(ends, (std::vector<PlaybackEnd>{PlaybackEnd::kInterrupted, PlaybackEnd::kInterrupted}));
  EXPECT_FALSE(player.barge_in());  // the third does not allow it
  EXPECT_EQ(player.queued(), 1u);
  player.stop();
  EXPECT_EQ(ends.back(), PlaybackEnd::kStopped);
  EXPECT_FALSE(player.playing());
}

TEST(Player, CallbackMayEnqueueTheNextPrompt) {
  Player player;
  int plays = 0;
  std::function<void(PlaybackEnd)> again = [&](PlaybackEnd) {
    if (++plays < 3) player.enqueue(std::make_unique<PcmSource>(ramp(80)), {}, again);
  };
  player.enqueue(std::make_unique<PcmSource>(ramp(80)), {}, again);
  std::vector<std::int16_t> frame(160);
  player.fill(frame);
  player.fill(frame);
  EXPECT_EQ(plays, 3);
}

}  // namespace
}  // namespace sb::media
