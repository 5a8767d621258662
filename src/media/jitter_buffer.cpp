#include "media/jitter_buffer.hpp"

#include <algorithm>
#include <cassert>

namespace sb::media {

JitterBuffer::JitterBuffer(Options options)
    : options_(options),
      slots_(std::max<std::size_t>(options.capacity_frames, options.depth_frames + 2)),
      samples_(slots_.size() * options.frame_samples) {
  options_.capacity_frames = slots_.size();
}

std::size_t JitterBuffer::buffered() const {
  return static_cast<std::size_t>(
      std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.filled; }));
}

void JitterBuffer::push(std::uint32_t ts, std::span<const std::int16_t> pcm) {
  if (pcm.size() != options_.frame_samples) {
    ++stats_.bad_size;
    return;
  }
  const auto frame = static_cast<std::int64_t>(options_.frame_samples);
  const auto depth = static_cast<std::uint32_t>(options_.depth_frames * options_.frame_samples);
  if (!started_) {
    started_ = true;
    head_ts_ = ts - depth;
    head_frame_ = 0;
  }
  std::int64_t delta = static_cast<std::int32_t>(ts - head_ts_);
  if (delta < 0) {
    ++stats_.late;
    // One late packet is reordering; a run of them is a sender that stalled and went on with
    // its timestamps where it left them (playout moved on meanwhile): without starting over
    // around its time, everything it sends from now on would be late.
    if (++late_run_ <= options_.depth_frames) return;
  }
  if (delta < 0 || delta >= static_cast<std::int64_t>(options_.capacity_frames) * frame) {
    // The sender jumped (restart, long silence suppression): start over around the new time.
    ++stats_.resyncs;
    for (auto& s : slots_) s.filled = false;
    head_ts_ = ts - depth;
    delta = depth;
  }
  late_run_ = 0;
  const std::uint64_t number =
      head_frame_ + static_cast<std::uint64_t>((delta + frame / 2) / frame);
  const std::size_t i = index_of(number);
  Slot& slot = slots_[i];
  if (slot.filled && slot.frame == number) {
    ++stats_.duplicate;
    return;
  }
  slot.filled = true;
  slot.frame = number;
  std::copy(pcm.begin(), pcm.end(),
            samples_.begin() + static_cast<std::ptrdiff_t>(i * options_.frame_samples));
  ++stats_.pushed;
}

JitterBuffer::FrameKind JitterBuffer::pop(std::span<std::int16_t> out) {
  assert(out.size() >= options_.frame_samples);
  const auto n = static_cast<int>(options_.frame_samples);
  if (!started_) {
    std::fill_n(out.begin(), n, std::int16_t{0});
    return FrameKind::kSilence;
  }
  const std::size_t i = index_of(head_frame_);
  Slot& slot = slots_[i];
  FrameKind kind;
  if (slot.filled && slot.frame == head_frame_) {
    std::copy_n(samples_.begin() + static_cast<std::ptrdiff_t>(i * options_.frame_samples), n,
                out.begin());
    plc_.received(out.first(options_.frame_samples));
    concealed_run_ = 0;
    ++stats_.played;
    kind = FrameKind::kAudio;
  } else if (stats_.played > 0 && concealed_run_ < options_.max_concealed_frames) {
    plc_.conceal(out.first(options_.frame_samples));
    ++concealed_run_;
    ++stats_.concealed;
    kind = FrameKind::kConcealed;
  } else {
    std::fill_n(out.begin(), n, std::int16_t{0});
    kind = FrameKind::kSilence;
  }
  slot.filled = false;  // played, or stale from an earlier lap
  head_ts_ += static_cast<std::uint32_t>(options_.frame_samples);
  ++head_frame_;
  return kind;
}

}  // namespace sb::media
