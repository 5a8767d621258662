// Speech recognition for <Gather input="speech">: the SpeechRecognizer seam that engines
// (embedded PocketSphinx, a Vosk server over WebSocket) implement, and one Recognition per
// utterance, fed with the caller's 8 kHz audio on the call's worker and answering there.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace sb::speech {

namespace asio = boost::asio;

inline constexpr int kSampleRate = 8000;
// What a Recognition keeps of one utterance (Twilio cuts speech at 60 s as well).
inline constexpr std::size_t kMaxUtteranceSamples = std::size_t{60} * kSampleRate;

struct RecognitionOptions {
  std::string language = "en-US";
  std::vector<std::string> hints;  // phrases (Gather hints split on commas, trimmed)
  std::string model;               // <Gather speechModel> as written ("" = default)
  bool profanity_filter = true;    // mask profanities as Twilio does: first letter then asterisks
  bool partial_results = false;    // the caller wants on_partial
};

struct Transcript {
  std::string text;  // empty: nothing recognized
  double confidence = 0;
};

struct Partial {
  std::string unstable, stable;
};

// One utterance. Every call is made on the executor given to start() (the call's worker thread).
class Recognition {
 public:
  virtual ~Recognition() = default;
  // 8 kHz mono linear PCM, any length (normally 160 samples = 20 ms). Never blocks the caller and
  // never decodes on its thread: copies into a bounded buffer (at most 60 s kept; beyond,
  // dropped and counted).
  virtual void feed(std::span<const std::int16_t> pcm) = 0;
  // No more audio: on_final is called exactly once afterwards (unless cancel()ed first).
  virtual void finish() = 0;
  // Stops; no callback runs after cancel() returns. Safe to call twice / after finish.
  virtual void cancel() = 0;
  // Samples fed beyond kMaxUtteranceSamples (or the engine's send queue) and dropped.
  virtual std::size_t dropped_samples() const { return 0; }
};

struct RecognitionCallbacks {
  std::function<void(const Partial&)> on_partial;  // may be empty
  // An error when the engine failed (server refused, model missing): 20503.
  std::function<void(Result<Transcript>)> on_final;
};

class SpeechRecognizer {
 public:
  virtual ~SpeechRecognizer() = default;
  virtual std::string_view name() const = 0;
  // Callbacks are posted to `executor`; the engine holds the Recognition alive until it has
  // called back.
  virtual std::shared_ptr<Recognition> start(RecognitionOptions options,
                                             asio::any_io_executor executor,
                                             RecognitionCallbacks callbacks) = 0;
};

// The error an engine reports when it cannot recognize at all (20503, like an unreachable
// service elsewhere in the API).
inline Error engine_error(std::string message) {
  return {codes::kServiceUnavailable, 503, std::move(message)};
}

}  // namespace sb::speech
