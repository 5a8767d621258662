#include "media/loss_concealer.hpp"

#include <algorithm>
#include <cmath>

namespace sb::media {

void LossConcealer::append_history(std::span<const std::int16_t> samples) {
  if (samples.size() >= kHistory) {
    std::copy(samples.end() - kHistory, samples.end(), history_.begin());
  } else {
    std::move(history_.begin() + static_cast<std::ptrdiff_t>(samples.size()), history_.end(),
              history_.begin());
    std::copy(samples.begin(), samples.end(),
              history_.end() - static_cast<std::ptrdiff_t>(samples.size()));
  }
  filled_ = std::min(kHistory, filled_ + samples.size());
}

std::size_t LossConcealer::find_pitch() const {
  // Best normalised correlation between the last window and the window `lag` earlier.
  const std::size_t end = kHistory;
  double best = -1;
  std::size_t best_lag = kMinPitch;
  for (std::size_t lag = kMinPitch; lag <= kMaxPitch; ++lag) {
    double xy = 0, yy = 0;
    for (std::size_t i = 0; i < kCorrelationWindow; ++i) {
      const double x = history_[end - kCorrelationWindow + i];
      const double y = history_[end - kCorrelationWindow + i - lag];
      xy += x * y;
      yy += y * y;
    }
    const double score = yy > 0 ? xy / std::sqrt(yy) : 0;
    if (score > best) {
      best = score;
      best_lag = lag;
    }
  }
  return best_lag;
}

float LossConcealer::next_synthetic() {
  const float s = history_[kHistory - pitch_ + phase_];
  phase_ = (phase_ + 1) % pitch_;
  return s;
}

void LossConcealer::conceal(std::span<std::int16_t> out) {
  if (filled_ < kHistory) {  // not enough history to repeat: silence
    std::fill(out.begin(), out.end(), std::int16_t{0});
    lost_samples_ += out.size();
    return;
  }
  if (lost_samples_ == 0) {
    pitch_ = find_pitch();
    phase_ = 0;
  }
  for (auto& sample : out) {
    // Full level for 10 ms, then down 20% per 10 ms: silent after 60 ms.
    const float t = static_cast<float>(lost_samples_) / 80.0f;
    const float gain = t < 1 ? 1.0f : std::max(0.0f, 1.0f - 0.2f * (t - 1));
    sample = static_cast<std::int16_t>(next_synthetic() * gain);
    ++lost_samples_;
  }
}

void LossConcealer::received(std::span<std::int16_t> frame) {
  if (lost_samples_ > 0 && filled_ == kHistory && pitch_ > 0) {
    const float t = static_cast<float>(lost_samples_) / 80.0f;
    const float gain = t < 1 ? 1.0f : std::max(0.0f, 1.0f - 0.2f * (t - 1));
    const std::size_t n = std::min(kBlend, frame.size());
    for (std::size_t i = 0; i < n; ++i) {
      const float w = static_cast<float>(i + 1) / static_cast<float>(n + 1);
      const float v = next_synthetic() * gain * (1 - w) + static_cast<float>(frame[i]) * w;
      frame[i] = static_cast<std::int16_t>(std::clamp(v, -32768.0f, 32767.0f));
    }
  }
  lost_samples_ = 0;
  append_history(frame);
}

}  // namespace sb::media
