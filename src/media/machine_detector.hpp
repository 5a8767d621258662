// Answering-machine detection (Calls.json MachineDetection): who picked up, judged from the
// first seconds of what the far end sends. Energy and cadence, as Twilio describes its own
// detector: a short burst of speech followed by silence is a person ("Hello?"), speech that
// runs on past the speech threshold is a recorded greeting; DetectMessageEnd then waits for the
// greeting's end (a beep, or silence); a fax answers with its 2100 Hz (CED) or 1100 Hz (CNG)
// tone. Pure signal processing on 8 kHz PCM, fed in any slice length, no allocation after
// construction; the RTP session feeds it each tick (AudioTap).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace sb::media {

// Twilio's AnsweredBy values.
enum class AnsweredBy {
  kHuman,
  kMachineStart,
  kMachineEndBeep,
  kMachineEndSilence,
  kMachineEndOther,
  kFax,
  kUnknown,
};
std::string_view answered_by_name(AnsweredBy who);

// Twilio's parameters, with its defaults (ranges are the REST API's to check).
struct MachineDetectorOptions {
  bool detect_message_end = false;           // DetectMessageEnd (else Enable)
  std::uint32_t timeout_ms = 30000;          // MachineDetectionTimeout: then unknown (or end_other)
  std::uint32_t speech_threshold_ms = 2400;  // longer speech: a machine
  std::uint32_t speech_end_threshold_ms = 1200;  // this much silence ends a speech activity
  std::uint32_t silence_timeout_ms = 5000;       // initial silence: unknown
};

struct MachineVerdict {
  AnsweredBy answered_by = AnsweredBy::kUnknown;
  std::uint32_t after_ms = 0;  // MachineDetectionDuration: audio heard until the verdict
};

class MachineDetector {
 public:
  static constexpr std::size_t kFrameSamples = 160;  // analysed in 20 ms frames

  explicit MachineDetector(MachineDetectorOptions options);

  // Adds audio (8 kHz); the verdict once it is reached (and every call after that returns it
  // again without looking at the audio).
  std::optional<MachineVerdict> feed(std::span<const std::int16_t> pcm);
  std::optional<MachineVerdict> verdict() const { return verdict_; }
  std::uint32_t heard_ms() const { return heard_ms_; }

  // One frame's analysis (exposed for tests and tuning).
  struct Frame {
    double level_db = -100;   // mean power, dB below full scale
    double tonality_db = 0;   // residual of a pure-tone predictor, dB below the frame (<= 0)
    double frequency_hz = 0;  // the tone's frequency when tonal
  };
  static Frame analyse(std::span<const std::int16_t, kFrameSamples> frame);

 private:
  enum class Phase { kWaiting, kSpeech, kGreeting };
  void frame(const Frame& f);
  void decide(AnsweredBy who);
  bool is_speech(const Frame& f);
  bool is_tone(const Frame& f) const;

  MachineDetectorOptions options_;
  std::array<std::int16_t, kFrameSamples> buffer_{};
  std::size_t fill_ = 0;
  std::uint32_t heard_ms_ = 0;
  std::optional<MachineVerdict> verdict_;

  Phase phase_ = Phase::kWaiting;
  double noise_floor_db_ = -70;
  std::uint32_t speech_run_ms_ = 0;   // consecutive speech frames
  std::uint32_t silence_run_ms_ = 0;  // consecutive non-speech frames
  std::uint32_t activity_start_ms_ = 0;
  // A steady tone: how long it has held, at which frequency.
  std::uint32_t tone_run_ms_ = 0;
  double tone_hz_ = 0;
};

}  // namespace sb::media
