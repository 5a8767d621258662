#include "media/resampler.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace sb::media {
namespace {

std::vector<float> sine(int rate, double freq, double seconds, float amp = 0.5f) {
  std::vector<float> v(static_cast<std::size_t>(rate * seconds));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = amp * std::sin(2 * M_PI * freq * i / rate);
  return v;
}

int zero_crossings(const std::vector<std::int16_t>& v) {
  int n = 0;
  for (std::size_t i = 1; i < v.size(); ++i) n += (v[i - 1] < 0) != (v[i] < 0);
  return n;
}

TEST(Resampler, DownsamplesKeepingFrequencyAndLevel) {
  for (int rate : {44100, 48000, 16000, 22050}) {
    auto in = sine(rate, 1000, 1.0);
    auto out = to_pcm8k(in, rate);
    ASSERT_TRUE(out) << rate;
    EXPECT_NEAR(static_cast<double>(out->size()), 8000, 40) << rate;
    EXPECT_NEAR(zero_crossings(*out), 2000, 10) << rate;
    double sum = 0;
    for (std::size_t i = 400; i + 400 < out->size(); ++i) sum += double((*out)[i]) * (*out)[i];
    const double rms = std::sqrt(sum / double(out->size() - 800));
    EXPECT_NEAR(rms, 0.5 * 32767 / std::sqrt(2.0), 300) << rate;
  }
}

TEST(Resampler, RemovesWhatAbove4kHzCannotSurvive) {
  auto in = sine(48000, 6000, 0.5);  // above the 8 kHz Nyquist limit
  auto out = to_pcm8k(in, 48000);
  ASSERT_TRUE(out);
  double sum = 0;
  for (std::size_t i = 200; i + 200 < out->size(); ++i) sum += double((*out)[i]) * (*out)[i];
  EXPECT_LT(std::sqrt(sum / double(out->size())), 300.0);  // no aliasing at 2 kHz
}

TEST(Resampler, SameRateIsIdentityAndBadRateIsAnError) {
  auto in = sine(8000, 440, 0.1);
  auto same = resample(in, 8000, 8000);
  ASSERT_TRUE(same);
  EXPECT_EQ(*same, in);
  EXPECT_FALSE(resample(in, 0, 8000));
  EXPECT_FALSE(resample(in, 1000000, 8000));
}

TEST(Resampler, Int16ConversionsClip) {
  std::vector<float> f = {0.0f, 1.5f, -1.5f, 0.5f};
  auto s = to_int16(f);
  EXPECT_EQ(s[0], 0);
  EXPECT_EQ(s[1], 32767);
  EXPECT_EQ(s[2], -32767);
  EXPECT_NEAR(s[3], 16384, 1);
  auto back = to_float(s);
  EXPECT_NEAR(back[3], 0.5f, 0.001f);
}

}  // namespace
}  // namespace sb::media
