// Packet-loss concealment for 8 kHz speech in the manner of G.711 Appendix I: a lost frame
// repeats the last pitch period of the history (found by autocorrelation), fading out over
// 60 ms, and the first good frame after a loss cross-fades out of the synthetic signal.
// (spandsp's plc_fillin overlaps memcpy ranges, which AddressSanitizer rightly rejects.)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace sb::media {

class LossConcealer {
 public:
  // A good frame: kept as history; after a loss, its start is blended in place.
  void received(std::span<std::int16_t> frame);
  // Fills `out` with the concealment for one lost frame.
  void conceal(std::span<std::int16_t> out);

 private:
  static constexpr std::size_t kHistory = 390;   // 48.75 ms: two periods of the lowest pitch
  static constexpr std::size_t kMinPitch = 40;   // 200 Hz
  static constexpr std::size_t kMaxPitch = 120;  // 66 Hz
  static constexpr std::size_t kCorrelationWindow = 80;
  static constexpr std::size_t kBlend = 40;  // 5 ms cross-fade

  void append_history(std::span<const std::int16_t> samples);
  std::size_t find_pitch() const;
  float next_synthetic();

  std::array<std::int16_t, kHistory> history_{};
  std::size_t filled_ = 0;        // valid samples at the end of history_
  std::size_t lost_samples_ = 0;  // in the current loss run
  std::size_t pitch_ = 0;
  std::size_t phase_ = 0;  // position within the repeated period
};

}  // namespace sb::media
