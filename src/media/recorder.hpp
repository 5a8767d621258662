// Recording a call's audio to a 16-bit 8 kHz WAV: inbound, outbound, or both as two channels
// (left inbound, right outbound). Ends on maximum length, a silence timeout, a finish-on-key
// digit or stop; leading and trailing silence can be trimmed. The header is rewritten with the
// current sizes after every write, so a file cut off at any moment (call dropped, process
// killed) is a complete, playable WAV; finish() trims and fixes it up for the last time.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "core/error.hpp"

namespace sb::media {

// kBoth: two channels (left inbound, right outbound); kMixed: both parties in one channel.
enum class RecordChannels { kInbound, kOutbound, kBoth, kMixed };

struct RecordingOptions {
  std::string path;
  RecordChannels channels = RecordChannels::kInbound;
  std::uint32_t max_length_s = 3600;    // Twilio's default maxLength; 0: no limit
  std::uint32_t silence_timeout_s = 5;  // Twilio's timeout; 0: none
  std::string finish_on_key = "1234567890*#";
  bool trim_silence = true;     // trimSilence (leading and trailing)
  int silence_threshold = 200;  // frame RMS below this is silence (about -44 dBFS)
};

enum class RecordingEnd { kMaxLength, kSilence, kKey, kStopped };

struct RecordingResult {
  RecordingEnd reason = RecordingEnd::kStopped;
  std::string path;
  std::uint64_t samples = 0;  // per channel, after trimming
  double duration_s() const { return static_cast<double>(samples) / 8000.0; }
  char key = 0;  // for kKey
};

class WavRecorder {
 public:
  static Result<std::unique_ptr<WavRecorder>> open(RecordingOptions options);
  ~WavRecorder();
  WavRecorder(const WavRecorder&) = delete;
  WavRecorder& operator=(const WavRecorder&) = delete;

  // One tick of audio in each direction (same length). Returns why the recording should end,
  // or nullopt to continue. Does not allocate.
  std::optional<RecordingEnd> write(std::span<const std::int16_t> inbound,
                                    std::span<const std::int16_t> outbound);
  // A DTMF digit: kKey when it is a finish key (the result then carries it).
  std::optional<RecordingEnd> digit(char key);
  // Trims, fixes the header, closes. Idempotent: later calls return the same result.
  RecordingResult finish(RecordingEnd reason);

  const RecordingOptions& options() const { return options_; }

 private:
  explicit WavRecorder(RecordingOptions options, int fd);
  bool is_silent(std::span<const std::int16_t> frame) const;
  void write_header(std::uint64_t frames);

  RecordingOptions options_;
  int fd_ = -1;
  int channels_ = 1;
  std::uint64_t elapsed_samples_ = 0;    // all audio seen, trimmed or not
  std::uint64_t written_frames_ = 0;     // sample frames in the file
  std::uint64_t last_voice_frames_ = 0;  // file length up to the end of the last non-silent tick
  bool voice_started_ = false;
  std::uint64_t silent_run_ = 0;
  char key_ = 0;
  std::optional<RecordingResult> result_;
  std::array<std::int16_t, 2 * 1920> interleave_{};  // up to 120 ms per tick, two channels
};

}  // namespace sb::media
