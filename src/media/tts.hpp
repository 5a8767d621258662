// Text-to-speech for <Say>: the TtsEngine seam, flite built in (voices kal and slt, US
// English), espeak-ng as a separate process for other languages (a GPL program, so never
// linked), and the Synthesizer that picks an engine, caches audio by (engine, voice, language,
// text) and runs synthesis off the call workers: a few threads of its own, a bounded queue,
// one synthesis for identical requests made at the same time, and a deadline per request.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "media/audio_source.hpp"
#include "media/media_cache.hpp"
#include "media/offload.hpp"

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
  struct Options {
    unsigned threads = default_blocking_threads();
    // Distinct requests waiting for a thread. Beyond it a request fails at once (20503): at
    // about 0.1-0.2 s a sentence, 4 threads get through some 200 in the 10 s a caller waits.
    std::size_t max_queued = 256;
    // How long speak_async waits (20503 after it). A synthesis that takes longer still ends
    // (espeak-ng is killed at its own timeout) and fills the cache for the next request.
    std::chrono::milliseconds timeout{10000};
  };

  // Engines in order of preference; the first that supports a request speaks it.
  Synthesizer(std::vector<std::unique_ptr<TtsEngine>> engines, MediaCache& cache)
      : Synthesizer(std::move(engines), cache, Options{}) {}
  Synthesizer(std::vector<std::unique_ptr<TtsEngine>> engines, MediaCache& cache, Options options);
  // Waits for the syntheses under way (their waiters are resumed on their executors).
  ~Synthesizer() = default;

  // On the calling thread (cache lookup, synthesis, cache store): for tools and tests.
  Result<SharedPcm> speak(const SpeechRequest& request);
  // On the pool; resumes on the caller's executor. Identical requests (engine, voice,
  // language, text) in flight at once share one synthesis. Throws operation_aborted when the
  // caller is cancelled (hangs up); the synthesis carries on and is cached.
  asio::awaitable<Result<SharedPcm>> speak_async(SpeechRequest request);

  struct Stats {
    std::uint64_t hits = 0, synthesized = 0, failures = 0;
    std::uint64_t joined = 0;      // requests that shared a synthesis already in flight
    std::uint64_t overloaded = 0;  // refused: the queue was full
    std::uint64_t timed_out = 0;   // the caller stopped waiting
  };
  Stats stats() const;
  std::size_t in_flight() const;

 private:
  struct Plan {
    TtsEngine* engine = nullptr;
    std::string key;
  };
  Result<Plan> plan(const SpeechRequest& request);
  Result<SharedPcm> run(const Plan& plan, const SpeechRequest& request);
  // Adds `waiter` to the synthesis of plan.key, queueing one when none is in flight; false
  // when the queue is full.
  bool enqueue(Plan plan, SpeechRequest request, std::shared_ptr<Handoff<SharedPcm>> waiter);
  void finish(const std::string& key, const Result<SharedPcm>& result);

  std::vector<std::unique_ptr<TtsEngine>> engines_;
  MediaCache& cache_;
  Options options_;
  mutable std::mutex mu_;
  Stats stats_;
  // The waiters of each synthesis in flight, by cache key.
  std::map<std::string, std::vector<std::shared_ptr<Handoff<SharedPcm>>>> in_flight_;
  BlockingPool pool_;  // last: joined before anything its tasks use is destroyed
};

}  // namespace sb::media
