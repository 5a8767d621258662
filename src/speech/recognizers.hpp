// The recognizers the daemon has ([speech] in its configuration) and which one serves a
// <Gather input="speech">: by the speechModel the document asks for, else by the account, else
// the default.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "speech/recognizer.hpp"

namespace sb::speech {

struct SpeechConfig {
  std::string default_engine = "pocketsphinx";
  std::string model_dir;  // PocketSphinx model folder ("" = the Debian package's)
  int threads = 2;        // PocketSphinx decoding threads
  int max_decoders = 2;   // PocketSphinx decoders (each holds the model: about 40 MB)
  std::string vosk_url;   // ws://host:port of a Vosk server; "" = no Vosk engine
  std::map<std::string, std::string> by_model;    // speechModel -> engine name
  std::map<std::string, std::string> by_account;  // account SID -> engine name
};

class Recognizers {
 public:
  // The engines the configuration names: PocketSphinx always (its decoders load on first use,
  // or at warm_up()), Vosk when vosk_url is set. Refuses unknown engine names, a bad vosk_url
  // and thread counts out of range (20001 with the reason).
  static Result<std::unique_ptr<Recognizers>> create(const SpeechConfig& config);

  // With engines of one's own (tests, other deployments); the maps name them by name().
  Recognizers(SpeechConfig config, std::vector<std::unique_ptr<SpeechRecognizer>> engines);

  // by_model[speech_model], else by_account[account_sid], else default_engine: the first of
  // these that names an engine that can recognize; nullptr when none can.
  SpeechRecognizer* pick(std::string_view account_sid, std::string_view speech_model);
  SpeechRecognizer* find(std::string_view name) const;

  // Loads a PocketSphinx decoder now, off the caller's thread (daemon start-up).
  void warm_up();

 private:
  bool usable(const SpeechRecognizer* engine) const;

  SpeechConfig config_;
  std::vector<std::unique_ptr<SpeechRecognizer>> engines_;
};

}  // namespace sb::speech
