#include "speech/recognizers.hpp"

#include <algorithm>

#include "speech/pocketsphinx_engine.hpp"
#include "speech/vosk_engine.hpp"

namespace sb::speech {
namespace {

constexpr int kMaxThreads = 64;

Error config_error(std::string message) {
  return Error::bad_request(codes::kInvalidParameter, "[speech] " + std::move(message));
}

bool known_engine(std::string_view name) { return name == "pocketsphinx" || name == "vosk"; }

}  // namespace

Result<std::unique_ptr<Recognizers>> Recognizers::create(const SpeechConfig& config) {
  if (config.threads < 1 || config.threads > kMaxThreads) {
    return config_error("threads must be 1-64, not " + std::to_string(config.threads));
  }
  if (config.max_decoders < 1 || config.max_decoders > kMaxThreads) {
    return config_error("max_decoders must be 1-64, not " + std::to_string(config.max_decoders));
  }
  auto check = [&](const std::string& name, const std::string& where) -> Status {
    if (!known_engine(name)) return config_error(where + ": unknown engine \"" + name + "\"");
    if (name == "vosk" && config.vosk_url.empty()) {
      return config_error(where + ": engine vosk needs vosk_url");
    }
    return Ok{};
  };
  if (auto s = check(config.default_engine, "engine"); !s) return s.error();
  for (const auto& [model, engine] : config.by_model) {
    if (auto s = check(engine, "models." + model); !s) return s.error();
  }
  for (const auto& [account, engine] : config.by_account) {
    if (auto s = check(engine, "accounts." + account); !s) return s.error();
  }

  std::vector<std::unique_ptr<SpeechRecognizer>> engines;
  PocketSphinxOptions ps;
  if (!config.model_dir.empty()) ps.model_dir = config.model_dir;
  ps.threads = static_cast<unsigned>(config.threads);
  ps.max_decoders = static_cast<unsigned>(config.max_decoders);
  engines.push_back(std::make_unique<PocketSphinxEngine>(std::move(ps)));
  if (!config.vosk_url.empty()) {
    auto vosk = VoskEngine::create({.url = config.vosk_url});
    if (!vosk) return config_error("vosk_url: " + vosk.error().message);
    engines.push_back(std::move(*vosk));
  }
  return std::make_unique<Recognizers>(config, std::move(engines));
}

Recognizers::Recognizers(SpeechConfig config,
                         std::vector<std::unique_ptr<SpeechRecognizer>> engines)
    : config_(std::move(config)), engines_(std::move(engines)) {}

SpeechRecognizer* Recognizers::find(std::string_view name) const {
  for (const auto& e : engines_) {
    if (e->name() == name) return e.get();
  }
  return nullptr;
}

bool Recognizers::usable(const SpeechRecognizer* engine) const {
  if (engine == nullptr) return false;
  // The embedded engine without its model would fail every recognition: fall through instead.
  if (const auto* ps = dynamic_cast<const PocketSphinxEngine*>(engine)) return ps->available();
  return true;
}

SpeechRecognizer* Recognizers::pick(std::string_view account_sid, std::string_view speech_model) {
  auto named = [&](const std::map<std::string, std::string>& map,
                   std::string_view key) -> SpeechRecognizer* {
    if (key.empty()) return nullptr;
    const auto it = map.find(std::string(key));
    return it == map.end() ? nullptr : find(it->second);
  };
  for (SpeechRecognizer* e :
       {named(config_.by_model, speech_model), named(config_.by_account, account_sid),
        find(config_.default_engine)}) {
    if (usable(e)) return e;
  }
  return nullptr;
}

void Recognizers::warm_up() {
  for (const auto& e : engines_) {
    if (auto* ps = dynamic_cast<PocketSphinxEngine*>(e.get()); ps != nullptr && ps->available()) {
      ps->warm_up();
    }
  }
}

}  // namespace sb::speech
