// The embedded recognizer: CMU PocketSphinx (Debian's 5prealpha) with its US English model.
// Decoding runs on a few threads of the engine's own, with a bounded set of decoders (each holds
// the loaded model, so they are made once and reused); a recognition holds a decoder only while
// it is decoded, and recognitions beyond the decoders wait in a bounded queue.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "speech/recognizer.hpp"

namespace sb::speech {

struct PocketSphinxOptions {
  // The model folder: <dir>/en-us (acoustic model), <dir>/en-us.lm.bin, <dir>/cmudict-en-us.dict.
  std::string model_dir = "/usr/share/pocketsphinx/model/en-us";
  unsigned threads = 2;
  unsigned max_decoders = 2;
  std::size_t max_queued = 256;  // recognitions waiting for a decoder; beyond, 20503 at once
  // The model is trained on 16 kHz speech: upsampling the 8 kHz call to it recognizes far better
  // than running its front end at 8 kHz (docs/speech.md has the figures). false is kept to
  // measure that.
  bool upsample = true;
  // With hints, a grammar of the hint phrases, digits, yes and no is decoded beside the open
  // language model; its words win when its path score is at most this fraction of the language
  // model's (both are negative log scores; a forced, wrong grammar match scores close to the
  // open model, a right one far better). Measured in bench/speech; 0 turns the grammar off.
  double grammar_accept_ratio = 0.85;
  // How often a streaming recognition (partial_results) reports what it has heard so far.
  int partial_interval_ms = 300;
};

class PocketSphinxEngine final : public SpeechRecognizer {
 public:
  explicit PocketSphinxEngine(PocketSphinxOptions options = {});
  // Waits for the decodes under way; recognitions still held elsewhere answer nothing after.
  ~PocketSphinxEngine() override;
  PocketSphinxEngine(const PocketSphinxEngine&) = delete;
  PocketSphinxEngine& operator=(const PocketSphinxEngine&) = delete;

  std::string_view name() const override { return "pocketsphinx"; }
  std::shared_ptr<Recognition> start(RecognitionOptions options, asio::any_io_executor executor,
                                     RecognitionCallbacks callbacks) override;

  // The model's files are where the options say (checked at construction, without loading).
  bool available() const;
  // Loads one decoder on the engine's threads now, so that the first caller does not wait for
  // the model (about 0.3 s); a no-op when one is loaded.
  void warm_up();

  struct Stats {
    std::size_t decoders = 0;        // loaded
    std::size_t busy = 0;            // held by a recognition
    std::size_t waiting = 0;         // recognitions queued for a decoder
    std::uint64_t recognitions = 0;  // finals delivered
    std::uint64_t grammar_wins = 0;  // finals taken from the hints grammar
    std::uint64_t overloaded = 0;    // refused: the queue was full
  };
  Stats stats() const;

  class Core;  // shared with the recognitions, which may outlive the engine

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace sb::speech
