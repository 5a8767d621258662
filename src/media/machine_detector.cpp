#include "media/machine_detector.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace sb::media {
namespace {

constexpr std::uint32_t kFrameMs = 20;
constexpr double kMinSpeechDb = -45;     // quieter than this is never speech
constexpr double kSpeechOverFloor = 12;  // speech stands this far above the noise floor
constexpr double kFloorRisePerFrame = 0.05;
constexpr std::uint32_t kOnsetMs = 60;  // speech must hold this long to start an activity
// A tone: a pure-tone predictor leaves less than this of the frame's power (G.711's own noise
// leaves about -25 dB of a loud 1 kHz tone)...
constexpr double kToneResidualDb = -15;
// ...at a frequency that holds within this of the run's mean. Voiced speech can pass the
// residual test (a low-passed voice is mostly its fundamental), but its pitch wanders.
constexpr double kToneDriftHz = 10;
constexpr double kMinToneHz = 300;  // above voices' fundamentals
constexpr double kMaxToneHz = 3000;
constexpr std::uint32_t kMinBeepMs = 160;
constexpr std::uint32_t kMinFaxToneMs = 400;  // CNG bursts last 500 ms, CED 2.6-4 s
constexpr double kFaxToneToleranceHz = 60;

double db(double ratio) { return ratio > 0 ? 10 * std::log10(ratio) : -100; }

}  // namespace

std::string_view answered_by_name(AnsweredBy who) {
  switch (who) {
    case AnsweredBy::kHuman:
      return "human";
    case AnsweredBy::kMachineStart:
      return "machine_start";
    case AnsweredBy::kMachineEndBeep:
      return "machine_end_beep";
    case AnsweredBy::kMachineEndSilence:
      return "machine_end_silence";
    case AnsweredBy::kMachineEndOther:
      return "machine_end_other";
    case AnsweredBy::kFax:
      return "fax";
    case AnsweredBy::kUnknown:
      break;
  }
  return "unknown";
}

MachineDetector::MachineDetector(MachineDetectorOptions options) : options_(options) {}

MachineDetector::Frame MachineDetector::analyse(
    std::span<const std::int16_t, kFrameSamples> frame) {
  Frame out;
  double energy = 0;
  for (const std::int16_t s : frame) energy += double(s) * s;
  out.level_db = std::max(-100.0, db(energy / kFrameSamples / (32768.0 * 32768.0)));
  if (energy <= 0) return out;
  // A pure tone obeys x[n] + x[n-2] = c x[n-1] with c = 2 cos(w): fit c by least squares and
  // see how much of the frame the fit leaves unexplained. Speech and noise leave most of it.
  double num = 0;
  double den = 0;
  double tail = 0;
  for (std::size_t n = 2; n < kFrameSamples; ++n) {
    const double mid = frame[n - 1];
    num += mid * (double(frame[n]) + frame[n - 2]);
    den += mid * mid;
    tail += double(frame[n]) * frame[n];
  }
  if (den <= 0 || tail <= 0) return out;
  const double c = std::clamp(num / den, -2.0, 2.0);
  double residual = 0;
  for (std::size_t n = 2; n < kFrameSamples; ++n) {
    const double e = double(frame[n]) + frame[n - 2] - c * frame[n - 1];
    residual += e * e;
  }
  out.tonality_db = std::min(0.0, db(residual / tail));
  out.frequency_hz = std::acos(c / 2) * 8000 / (2 * std::numbers::pi);
  return out;
}

std::optional<MachineVerdict> MachineDetector::feed(std::span<const std::int16_t> pcm) {
  while (!pcm.empty() && !verdict_) {
    const std::size_t n = std::min(pcm.size(), kFrameSamples - fill_);
    std::copy_n(pcm.begin(), n, buffer_.begin() + static_cast<std::ptrdiff_t>(fill_));
    fill_ += n;
    pcm = pcm.subspan(n);
    if (fill_ == kFrameSamples) {
      fill_ = 0;
      heard_ms_ += kFrameMs;
      frame(analyse(buffer_));
    }
  }
  return verdict_;
}

bool MachineDetector::is_speech(const Frame& f) {
  const bool speech = f.level_db > std::max(kMinSpeechDb, noise_floor_db_ + kSpeechOverFloor);
  // The floor follows quiet frames down at once and creeps up (2.5 dB/s), so that a long
  // greeting does not lift it to the speech's own level.
  if (f.level_db < noise_floor_db_) {
    noise_floor_db_ = std::max(-90.0, f.level_db);
  } else {
    noise_floor_db_ += std::min(kFloorRisePerFrame, f.level_db - noise_floor_db_);
  }
  return speech;
}

bool MachineDetector::is_tone(const Frame& f) const {
  return f.level_db > std::max(kMinSpeechDb, noise_floor_db_ + kSpeechOverFloor) &&
         f.tonality_db < kToneResidualDb && f.frequency_hz >= kMinToneHz &&
         f.frequency_hz <= kMaxToneHz;
}

void MachineDetector::decide(AnsweredBy who) { verdict_ = MachineVerdict{who, heard_ms_}; }

void MachineDetector::frame(const Frame& f) {
  const bool tone = is_tone(f);
  const bool speech = is_speech(f);
  const std::uint32_t now = heard_ms_;

  // A steady tone's run, and the one that just ended.
  std::uint32_t ended_tone_ms = 0;
  if (tone && (tone_run_ms_ == 0 || std::abs(f.frequency_hz - tone_hz_) < kToneDriftHz)) {
    const double frames = double(tone_run_ms_) / kFrameMs;
    tone_hz_ = (tone_hz_ * frames + f.frequency_hz) / (frames + 1);  // the run's mean
    tone_run_ms_ += kFrameMs;
  } else {
    ended_tone_ms = tone_run_ms_;
    tone_run_ms_ = tone ? kFrameMs : 0;
    tone_hz_ = f.frequency_hz;
  }

  if (speech) {
    speech_run_ms_ += kFrameMs;
    silence_run_ms_ = 0;
  } else {
    silence_run_ms_ += kFrameMs;
    speech_run_ms_ = 0;
  }

  if (phase_ != Phase::kGreeting && tone_run_ms_ >= kMinFaxToneMs &&
      (std::abs(tone_hz_ - 2100) < kFaxToneToleranceHz ||
       std::abs(tone_hz_ - 1100) < kFaxToneToleranceHz)) {
    decide(AnsweredBy::kFax);
    return;
  }

  // A beep is a machine's, whenever it comes: a short greeting ("Leave a message") ends in one
  // before its speech could pass the threshold.
  if (ended_tone_ms >= kMinBeepMs) {
    decide(options_.detect_message_end ? AnsweredBy::kMachineEndBeep : AnsweredBy::kMachineStart);
    return;
  }

  switch (phase_) {
    case Phase::kWaiting:
      if (speech_run_ms_ >= kOnsetMs) {
        phase_ = Phase::kSpeech;
        activity_start_ms_ = now - speech_run_ms_;
      } else if (now >= options_.silence_timeout_ms) {
        decide(AnsweredBy::kUnknown);
        return;
      }
      break;
    case Phase::kSpeech:
      if (speech && now - activity_start_ms_ >= options_.speech_threshold_ms) {
        if (!options_.detect_message_end) {
          decide(AnsweredBy::kMachineStart);
          return;
        }
        phase_ = Phase::kGreeting;
      } else if (silence_run_ms_ >= options_.speech_end_threshold_ms) {
        decide(AnsweredBy::kHuman);  // the activity ended short of the speech threshold
        return;
      }
      break;
    case Phase::kGreeting:
      if (silence_run_ms_ >= options_.speech_end_threshold_ms) {
        decide(AnsweredBy::kMachineEndSilence);
        return;
      }
      break;
  }
  if (now >= options_.timeout_ms) {
    decide(phase_ == Phase::kGreeting ? AnsweredBy::kMachineEndOther : AnsweredBy::kUnknown);
  }
}

}  // namespace sb::media
