// A fixed-delay jitter buffer for decoded audio frames (what is recorded and mixed): frames are
// placed by RTP timestamp, played out one per tick after `depth` frames of delay, and missing
// frames are concealed (LossConcealer). Storage is allocated once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "media/loss_concealer.hpp"

namespace sb::media {

class JitterBuffer {
 public:
  struct Options {
    std::size_t frame_samples = 160;   // ptime * 8
    std::size_t depth_frames = 3;      // playout delay
    std::size_t capacity_frames = 50;  // a frame further ahead than this resynchronises
    // After this many consecutive concealed frames the buffer plays silence (the peer stopped).
    std::size_t max_concealed_frames = 10;
  };
  enum class FrameKind { kAudio, kConcealed, kSilence };
  struct Stats {
    std::uint64_t pushed = 0;
    std::uint64_t played = 0;
    std::uint64_t concealed = 0;
    std::uint64_t late = 0;       // arrived after their playout time: dropped
    std::uint64_t duplicate = 0;  // slot already filled: dropped
    std::uint64_t resyncs = 0;    // timestamp jump beyond capacity, or a run of late frames
    std::uint64_t bad_size = 0;   // frame of the wrong length: dropped
  };

  JitterBuffer() : JitterBuffer(Options{}) {}
  explicit JitterBuffer(Options options);
  JitterBuffer(const JitterBuffer&) = delete;
  JitterBuffer& operator=(const JitterBuffer&) = delete;

  // `pcm` must hold exactly frame_samples samples.
  void push(std::uint32_t rtp_timestamp, std::span<const std::int16_t> pcm);
  // One frame of playout into `out` (frame_samples long).
  FrameKind pop(std::span<std::int16_t> out);

  const Stats& stats() const { return stats_; }
  std::size_t buffered() const;

 private:
  struct Slot {
    bool filled = false;
    std::uint64_t frame = 0;  // playout frame number
  };
  std::size_t index_of(std::uint64_t frame) const { return frame % options_.capacity_frames; }

  Options options_;
  std::vector<Slot> slots_;
  std::vector<std::int16_t> samples_;  // capacity_frames * frame_samples
  bool started_ = false;
  std::size_t late_run_ = 0;  // consecutive late frames (a stalled sender once beyond depth)
  // The next frame to play: its RTP timestamp (serial arithmetic, so the 32-bit wrap is
  // harmless) and its frame number (indexes the ring).
  std::uint32_t head_ts_ = 0;
  std::uint64_t head_frame_ = 0;
  std::size_t concealed_run_ = 0;
  LossConcealer plc_;
  Stats stats_;
};

}  // namespace sb::media
