#include "media/jitter_buffer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace sb::media {
namespace {

std::vector<std::int16_t> frame(std::int16_t value) {
  return std::vector<std::int16_t>(160, value);
}

std::vector<std::int16_t> sine_frame(int index) {
  std::vector<std::int16_t> f(160);
  for (int i = 0; i < 160; ++i) {
    f[static_cast<std::size_t>(i)] =
        static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 400 * (index * 160 + i) / 8000.0));
  }
  return f;
}

TEST(JitterBuffer, DelaysByDepthThenPlaysInOrder) {
  JitterBuffer jb({.frame_samples = 160, .depth_frames = 2});
  std::vector<std::int16_t> out(160);
  EXPECT_EQ(jb.pop(out), JitterBuffer::FrameKind::kSilence);  // nothing yet
  jb.push(1600, frame(1));
  jb.push(1920, frame(3));  // arrives before frame 2
  jb.push(1760, frame(2));
  // Two frames of delay (silence: nothing to conceal from yet), then 1, 2, 3.
  EXPECT_EQ(jb.pop(out), JitterBuffer::FrameKind::kSilence);
  EXPECT_EQ(jb.pop(out), JitterBuffer::FrameKind::kSilence);
  for (std::int16_t v : {1, 2, 3}) {
    ASSERT_EQ(jb.pop(out), JitterBuffer::FrameKind::kAudio);
    EXPECT_EQ(out[0], v);
    EXPECT_EQ(out[159], v);
  }
  EXPECT_EQ(jb.stats().played, 3u);
}

TEST(JitterBuffer, ConcealsALostFrameWithSimilarAudio) {
  JitterBuffer jb({.frame_samples = 160, .depth_frames = 1});
  std::vector<std::int16_t> out(160);
  for (int i = 0; i < 6; ++i) {
    if (i != 4) jb.push(static_cast<std::uint32_t>(i * 160), sine_frame(i));
  }
  jb.pop(out);  // the delay frame
  for (int i = 0; i < 4; ++i) ASSERT_EQ(jb.pop(out), JitterBuffer::FrameKind::kAudio);
  ASSERT_EQ(jb.pop(out), JitterBuffer::FrameKind::kConcealed);
  double energy = 0;
  for (auto s : out) energy += double(s) * s;
  EXPECT_GT(std::sqrt(energy / 160), 1000.0);  // not silence: the PLC continued the tone
  EXPECT_EQ(jb.pop(out), JitterBuffer::FrameKind::kAudio);
  EXPECT_EQ(jb.stats().concealed, 1u);  // the lost one (the delay frame was silence)
}

TEST(JitterBuffer, DropsLateDuplicateAndBadSize) {
  JitterBuffer jb({.frame_samples = 160, .depth_frames = 1});
  std::vector<std::int16_t> out(160);
  jb.push(160, frame(1));
  jb.push(160, frame(9));
  EXPECT_EQ(jb.stats().duplicate, 1u);
  jb.pop(out);
  jb.pop(out);
  EXPECT_EQ(out[0], 1);
  jb.push(160, frame(1));  // already played
  EXPECT_EQ(jb.stats().late, 1u);
  jb.push(320, std::vector<std::int16_t>(80));
  EXPECT_EQ(jb.stats().bad_size, 1u);
}

TEST(JitterBuffer, SilenceAfterTheSourceStops) {
  JitterBuffer jb({.frame_samples = 160, .depth_frames = 0, .max_concealed_frames = 3});
  std::vector<std::int16_t> out(160);
  jb.push(0, frame(100));
  EXPECT_EQ(jb.pop(out), JitterBuffer::FrameKind::kAudio);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(jb.pop(out), JitterBuffer::FrameKind::kConcealed);
  EXPECT_EQ(jb.pop(out), JitterBuffer::FrameKind::kSilence);
  EXPECT_EQ(out[0], 0);
}

TEST(JitterBuffer, ResyncsOnATimestampJumpAndAcrossWrap) {
  JitterBuffer jb({.frame_samples = 160, .depth_frames = 1, .capacity_frames = 10});
  std::vector<std::int16_t> out(160);
  const std::uint32_t near_wrap = 0xFFFFFFFFu - 319;
  jb.push(0, frame(1));
  jb.pop(out);
  ASSERT_EQ(jb.pop(out), JitterBuffer::FrameKind::kAudio);
  jb.push(near_wrap, frame(5));  // "before" head in serial arithmetic: late
  EXPECT_EQ(jb.stats().late, 1u);
  jb.push(1000 * 160, frame(7));  // far ahead: resync
  EXPECT_EQ(jb.stats().resyncs, 1u);
  EXPECT_EQ(jb.pop(out), JitterBuffer::FrameKind::kConcealed);
  EXPECT_EQ(jb.pop(out), JitterBuffer::FrameKind::kAudio);
  EXPECT_EQ(out[159], 7);  // the start blends out of the concealment
}

TEST(JitterBuffer, StartsOverAroundASenderThatStalledAndWentOn) {
  // The sender stops for a second (a stalled process) and goes on with its timestamps where it
  // left them: one late frame is dropped as reordering, a run of them means start over.
  JitterBuffer jb({.frame_samples = 160, .depth_frames = 2, .capacity_frames = 50});
  std::vector<std::int16_t> out(160);
  std::uint32_t ts = 0;
  for (int i = 0; i < 5; ++i) {
    jb.push(ts, frame(1));
    ts += 160;
    jb.pop(out);
  }
  for (int i = 0; i < 50; ++i) jb.pop(out);  // a second of nothing: concealment, then silence
  EXPECT_EQ(jb.pop(out), JitterBuffer::FrameKind::kSilence);
  for (int i = 0; i < 2; ++i) {
    jb.push(ts, frame(2));
    ts += 160;
    EXPECT_EQ(jb.stats().resyncs, 0u) << "within the depth: still taken as reordering";
  }
  jb.push(ts, frame(3));
  ts += 160;
  EXPECT_EQ(jb.stats().late, 3u);
  EXPECT_EQ(jb.stats().resyncs, 1u);
  for (int i = 0; i < 20; ++i) {
    jb.pop(out);
    jb.push(ts, frame(4));
    ts += 160;
  }
  EXPECT_EQ(jb.pop(out), JitterBuffer::FrameKind::kAudio) << "heard again";
  EXPECT_EQ(out[0], 4);
  EXPECT_EQ(jb.stats().late, 3u) << "nothing late once it started over";
}

TEST(JitterBuffer, PlaysContinuouslyAcrossTheTimestampWrap) {
  JitterBuffer jb({.frame_samples = 160, .depth_frames = 1});
  std::vector<std::int16_t> out(160);
  const std::uint32_t start = 0xFFFFFFFFu - 160 * 3 + 1;
  for (int i = 0; i < 8; ++i)
    jb.push(start + static_cast<std::uint32_t>(i * 160), frame(static_cast<std::int16_t>(i + 1)));
  jb.pop(out);
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(jb.pop(out), JitterBuffer::FrameKind::kAudio) << i;
    EXPECT_EQ(out[0], i + 1);
  }
}

}  // namespace
}  // namespace sb::media
