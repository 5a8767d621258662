#include "speech/endpointer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "speech/recognizer.hpp"

namespace sb::speech {

int speech_timeout_ms(std::string_view attribute) {
  if (attribute == "auto") return kAutoSpeechTimeoutMs;
  int seconds = 0;
  const auto [end, ec] =
      std::from_chars(attribute.data(), attribute.data() + attribute.size(), seconds);
  if (ec != std::errc{} || end != attribute.data() + attribute.size()) return -1;
  if (seconds < 1 || seconds > 60) return -1;
  return seconds * 1000;
}

double Endpointer::energy_db(std::span<const std::int16_t> frame) {
  if (frame.empty()) return 0;
  double sum = 0;
  for (std::int16_t s : frame) sum += static_cast<double>(s) * s;
  return 10 * std::log10(sum / static_cast<double>(frame.size()) + 1);
}

Endpointer::State Endpointer::feed(std::span<const std::int16_t> frame) {
  if (state_ == State::kEnded || frame.empty()) return state_;
  const int frame_ms = static_cast<int>(frame.size() * 1000 / kSampleRate);
  const double e = energy_db(frame);
  if (!floor_set_) {
    // The background as first heard. Were the caller already speaking, the floor comes down to
    // the first quieter frame at once (below), and the speech after it is found.
    floor_db_ = e;
    floor_set_ = true;
  }
  const double margin = state_ == State::kSpeaking ? kContinueMarginDb : kOnsetMarginDb;
  const bool voiced = e >= std::max(kMinSpeechDb - (kOnsetMarginDb - margin), floor_db_ + margin);
  if (!voiced) {
    floor_db_ = e < floor_db_ ? e : floor_db_ + (e - floor_db_) * kFloorRise;
  }

  if (state_ == State::kWaiting) {
    onset_frames_ = voiced ? onset_frames_ + 1 : 0;
    if (onset_frames_ >= kOnsetFrames) {
      state_ = State::kSpeaking;
      speech_ms_ = onset_frames_ * frame_ms;
      silence_ms_ = 0;
    }
    return state_;
  }

  speech_ms_ += frame_ms;
  silence_ms_ = voiced ? 0 : silence_ms_ + frame_ms;
  if (silence_ms_ >= options_.speech_timeout_ms || speech_ms_ >= options_.max_speech_ms) {
    state_ = State::kEnded;
  }
  return state_;
}

}  // namespace sb::speech
