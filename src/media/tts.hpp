// Text-to-speech for <Say>: the TtsEngine seam, flite built in (voices kal and slt, US
// English), espeak-ng as a separate process for other languages (a GPL program, so never
// linked), and the Synthesizer that picks an engine and caches audio by (engine, voice,
// language, text). Synthesis blocks: run it off the call workers (speak_async).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "media/audio_source.hpp"
#include "media/media_cache.hpp"

namespace sb::media {

namespace asio = boost::asio;

inline constexpr std::size_t kMaxSayText = 4096;  // Twilio's <Say> limit

struct SpeechRequest {
  std::string text;
  std::string voice;               // engine-specific ("kal", "slt"; Twilio's man/woman/alice map)
  std::string language = "en-US";  // BCP 47
};

class TtsEngine {
 public:
  virtual ~TtsEngine() = default;
  virtual std::string_view name() const = 0;
  virtual bool supports(const SpeechRequest& request) const = 0;
  // 8 kHz mono PCM, or 135xx.
  virtual Result<std::vector<std::int16_t>> synthesize(const SpeechRequest& request) = 0;
};

class FliteEngine final : public TtsEngine {
 public:
  FliteEngine();
  std::string_view name() const override { return "flite"; }
  // English (en, en-US, en-GB…) with voice "", kal, slt, man, woman, alice, default.
  bool supports(const SpeechRequest& request) const override;
  Result<std::vector<std::int16_t>> synthesize(const SpeechRequest& request) override;
  static std::vector<std::string> voices() { return {"kal", "slt"}; }

 private:
  std::mutex mu_;  // flite's voices are not safe to use from two threads at once
};

class EspeakEngine final : public TtsEngine {
 public:
  struct Options {
    std::string program = "espeak-ng";
    std::chrono::milliseconds timeout{10000};
    std::size_t max_output_bytes = std::size_t{32} << 20;
  };
  EspeakEngine() : EspeakEngine(Options{}) {}
  explicit EspeakEngine(Options options) : options_(std::move(options)) {}
  std::string_view name() const override { return "espeak-ng"; }
  bool supports(const SpeechRequest& request) const override;
  Result<std::vector<std::int16_t>> synthesize(const SpeechRequest& request) override;
  // espeak-ng's voice for a BCP 47 tag ("de-DE" -> "de", "en-GB" -> "en-gb"); "" if invalid.
  static std::string voice_for(std::string_view language);

 private:
  Options options_;
};

class Synthesizer {
 public:
  // Engines in order of preference; the first that supports a request speaks it.
  Synthesizer(std::vector<std::unique_ptr<TtsEngine>> engines, MediaCache& cache);

  Result<SharedPcm> speak(const SpeechRequest& request);
  // Runs speak() on `blocking` (a thread pool) and resumes on the caller's executor.
  asio::awaitable<Result<SharedPcm>> speak_async(asio::any_io_executor blocking,
                                                 SpeechRequest request);

  struct Stats {
    std::uint64_t hits = 0, synthesized = 0, failures = 0;
  };
  Stats stats() const;

 private:
  std::vector<std::unique_ptr<TtsEngine>> engines_;
  MediaCache& cache_;
  mutable std::mutex mu_;
  Stats stats_;
};

}  // namespace sb::media
