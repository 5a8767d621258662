// Where an utterance starts and ends in 8 kHz telephone audio: energy-based voice activity
// detection against an adaptive noise floor, with an onset of a few frames (a click is not
// speech) and a hangover of speechTimeout (a pause between words does not end the utterance).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace sb::speech {

// speechTimeout="auto". Pauses between the words of a read digit string or a short command run
// 200-500 ms and a hesitation up to about 700 ms; 800 ms ends the utterance soon after its last
// word without cutting a caller off at an ordinary pause.
inline constexpr int kAutoSpeechTimeoutMs = 800;

// speechTimeout as Gather writes it: "auto" -> kAutoSpeechTimeoutMs, whole seconds (1-60) ->
// milliseconds, anything else -> -1 (the caller reports the attribute as invalid).
int speech_timeout_ms(std::string_view attribute);

struct EndpointOptions {
  int speech_timeout_ms = kAutoSpeechTimeoutMs;  // silence after speech that ends the utterance
  int max_speech_ms = 60000;                     // speech longer than this ends anyway
};

class Endpointer {
 public:
  enum class State { kWaiting, kSpeaking, kEnded };

  explicit Endpointer(EndpointOptions options) : options_(options) {}

  // One frame (normally 160 samples = 20 ms; any length counts for its duration). kEnded stays.
  State feed(std::span<const std::int16_t> frame);

  State state() const { return state_; }
  int speech_ms() const { return speech_ms_; }  // from the onset, hangover included
  double noise_floor_db() const { return floor_db_; }

  // Energy in dB above one LSB: 0 for digital silence, about 90 for a full-scale sine.
  static double energy_db(std::span<const std::int16_t> frame);

 private:
  // A frame is speech when it is this far above the noise floor (onset; speech goes on at a
  // lower margin, as its quiet consonants and tails sit closer to the floor)...
  static constexpr double kOnsetMarginDb = 12;
  static constexpr double kContinueMarginDb = 7;
  // ...and above this level (about -50 dBFS), far over μ-law's idle noise and comfort noise.
  static constexpr double kMinSpeechDb = 40;
  static constexpr int kOnsetFrames = 3;  // 60 ms of speech-level energy starts an utterance
  // The floor follows quieter frames at once and louder non-speech frames slowly (about 2 s to
  // settle on a new, louder background).
  static constexpr double kFloorRise = 0.01;

  EndpointOptions options_;
  State state_ = State::kWaiting;
  bool floor_set_ = false;
  double floor_db_ = 0;
  int onset_frames_ = 0;
  int speech_ms_ = 0;
  int silence_ms_ = 0;
};

}  // namespace sb::speech
