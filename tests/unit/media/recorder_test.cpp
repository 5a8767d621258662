#include "media/recorder.hpp"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "media/audio_source.hpp"
#include "media/inband_dtmf.hpp"
#include "support/temp_dir.hpp"

namespace sb::media {
namespace {

std::vector<std::int16_t> tone_frame(int index, double freq = 440, double amp = 8000) {
  std::vector<std::int16_t> f(160);
  for (int i = 0; i < 160; ++i) {
    f[static_cast<std::size_t>(i)] =
        static_cast<std::int16_t>(amp * std::sin(2 * M_PI * freq * (index * 160 + i) / 8000.0));
  }
  return f;
}
const std::vector<std::int16_t> kSilence(160, 0);

struct Wav {
  int channels = 0, rate = 0;
  std::vector<std::int16_t> samples;  // interleaved
};
Wav read_wav(const std::string& path) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  Wav w;
  if (!f) return w;
  w.channels = info.channels;
  w.rate = info.samplerate;
  w.samples.resize(static_cast<std::size_t>(info.frames * info.channels));
  sf_readf_short(f, w.samples.data(), info.frames);
  sf_close(f);
  return w;
}

TEST(WavRecorder, TrimsLeadingAndTrailingSilence) {
  testing::TempDir dir;
  auto rec = WavRecorder::open({.path = dir.file("r.wav"), .silence_timeout_s = 0});
  ASSERT_TRUE(rec);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE((*rec)->write(kSilence, kSilence));
  for (int i = 0; i < 50; ++i) EXPECT_FALSE((*rec)->write(tone_frame(i), kSilence));
  for (int i = 0; i < 10; ++i) EXPECT_FALSE((*rec)->write(kSilence, kSilence));
  auto result = (*rec)->finish(RecordingEnd::kStopped);
  EXPECT_EQ(result.samples, 50u * 160);
  EXPECT_DOUBLE_EQ(result.duration_s(), 1.0);
  auto wav = read_wav(dir.file("r.wav"));
  EXPECT_EQ(wav.channels, 1);
  EXPECT_EQ(wav.rate, 8000);
  ASSERT_EQ(wav.samples.size(), 8000u);
  EXPECT_EQ(wav.samples[1], tone_frame(0)[1]);
}

TEST(WavRecorder, KeepsSilenceWhenNotTrimming) {
  testing::TempDir dir;
  auto rec =
      WavRecorder::open({.path = dir.file("r.wav"), .silence_timeout_s = 0, .trim_silence = false});
  ASSERT_TRUE(rec);
  for (int i = 0; i < 5; ++i) (*rec)->write(kSilence, kSilence);
  (*rec)->write(tone_frame(0), kSilence);
  EXPECT_EQ((*rec)->finish(RecordingEnd::kStopped).samples, 6u * 160);
}

TEST(WavRecorder, FileIsPlayableAtEveryMomentBeforeFinish) {
  testing::TempDir dir;
  auto rec = WavRecorder::open({.path = dir.file("r.wav"), .silence_timeout_s = 0});
  ASSERT_TRUE(rec);
  for (int i = 0; i < 25; ++i) (*rec)->write(tone_frame(i), kSilence);
  // The call "drops" here: the file as it is on disk must already be a valid WAV.
  std::filesystem::copy_file(dir.file("r.wav"), dir.file("copy.wav"));
  auto wav = read_wav(dir.file("copy.wav"));
  EXPECT_EQ(wav.samples.size(), 25u * 160);
  EXPECT_EQ(wav.samples[1000], tone_frame(6)[40]);
}

TEST(WavRecorder, BothChannelsInterleaved) {
  testing::TempDir dir;
  auto rec = WavRecorder::open(
      {.path = dir.file("r.wav"), .channels = RecordChannels::kBoth, .silence_timeout_s = 0});
  ASSERT_TRUE(rec);
  for (int i = 0; i < 5; ++i) (*rec)->write(tone_frame(i, 440), tone_frame(i, 1000, 3000));
  (*rec)->finish(RecordingEnd::kStopped);
  auto wav = read_wav(dir.file("r.wav"));
  ASSERT_EQ(wav.channels, 2);
  ASSERT_EQ(wav.samples.size(), 2u * 800);
  EXPECT_EQ(wav.samples[2 * 7], tone_frame(0, 440)[7]);
  EXPECT_EQ(wav.samples[2 * 7 + 1], tone_frame(0, 1000, 3000)[7]);
}

TEST(WavRecorder, MixedPutsBothPartiesInOneChannelWithoutWrapping) {
  testing::TempDir dir;
  auto rec = WavRecorder::open(
      {.path = dir.file("m.wav"), .channels = RecordChannels::kMixed, .silence_timeout_s = 0});
  ASSERT_TRUE(rec);
  for (int i = 0; i < 5; ++i) (*rec)->write(tone_frame(i, 440), tone_frame(i, 1000, 3000));
  const std::vector<std::int16_t> loud(160, 30000);
  (*rec)->write(loud, loud);  // 60000 clamps to 32767, not -5536
  (*rec)->finish(RecordingEnd::kStopped);
  auto wav = read_wav(dir.file("m.wav"));
  ASSERT_EQ(wav.channels, 1);
  ASSERT_EQ(wav.samples.size(), 960u);
  EXPECT_EQ(wav.samples[7], tone_frame(0, 440)[7] + tone_frame(0, 1000, 3000)[7]);
  EXPECT_EQ(wav.samples[800], 32767);
}

TEST(WavRecorder, EndsOnMaxLengthSilenceAndKey) {
  testing::TempDir dir;
  {
    auto rec =
        WavRecorder::open({.path = dir.file("a.wav"), .max_length_s = 1, .silence_timeout_s = 0});
    int ticks = 0;
    std::optional<RecordingEnd> end;
    while (!end && ticks < 1000) end = (*rec)->write(tone_frame(ticks++), kSilence);
    EXPECT_EQ(end, RecordingEnd::kMaxLength);
    EXPECT_EQ(ticks, 50);
  }
  {
    auto rec = WavRecorder::open({.path = dir.file("b.wav"), .silence_timeout_s = 2});
    for (int i = 0; i < 10; ++i) (*rec)->write(tone_frame(i), kSilence);
    int ticks = 0;
    std::optional<RecordingEnd> end;
    while (!end && ticks < 1000) {
      end = (*rec)->write(kSilence, tone_frame(ticks));  // our prompt is not the caller talking
      ++ticks;
    }
    EXPECT_EQ(end, RecordingEnd::kSilence);
    EXPECT_EQ(ticks, 100);
    EXPECT_EQ((*rec)->finish(*end).samples, 1600u);  // trailing silence trimmed
  }
  {
    auto rec = WavRecorder::open({.path = dir.file("c.wav"), .finish_on_key = "#"});
    EXPECT_FALSE((*rec)->digit('1'));
    EXPECT_EQ((*rec)->digit('#'), RecordingEnd::kKey);
    auto r = (*rec)->finish(RecordingEnd::kKey);
    EXPECT_EQ(r.key, '#');
    EXPECT_EQ((*rec)->finish(RecordingEnd::kStopped).reason, RecordingEnd::kKey);  // idempotent
  }
}

TEST(WavRecorder, OpenFailureIsAnError) {
  EXPECT_FALSE(WavRecorder::open({.path = "/nonexistent-dir/x.wav"}));
}

TEST(InbandDtmf, DetectsDigitsWithDurations) {
  InbandDtmfDetector det;
  std::string seen;
  std::vector<std::uint32_t> durations;
  for (char d : std::string("15#")) {
    ToneSource tone(ToneSpec::dtmf(d, 120, 80));
    std::vector<std::int16_t> frame(160);
    for (;;) {
      const std::size_t n = tone.read(frame);
      if (n == 0) break;
      for (const auto& u : det.process(std::span(frame).first(n))) {
        if (u.kind == DtmfUpdate::Kind::kEnd) {
          seen.push_back(u.digit);
          durations.push_back(u.duration_ms);
        }
      }
      if (n < frame.size()) break;
    }
  }
  std::vector<std::int16_t> silence(800);
  for (const auto& u : det.process(silence)) {
    if (u.kind == DtmfUpdate::Kind::kEnd) seen.push_back(u.digit);
  }
  EXPECT_EQ(seen, "15#");
  for (auto d : durations) EXPECT_NEAR(d, 120, 30);
}

TEST(InbandDtmf, SpeechLikeToneIsNotADigit) {
  InbandDtmfDetector det;
  ToneSource tone(ToneSpec{{{440, 0, -10, 1000}}, 1});
  std::vector<std::int16_t> frame(160);
  int updates = 0;
  while (tone.read(frame) == frame.size()) updates += static_cast<int>(det.process(frame).count);
  EXPECT_EQ(updates, 0);
}

}  // namespace
}  // namespace sb::media
