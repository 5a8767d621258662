#include "media/tts.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>

extern "C" {
#include <flite/flite.h>
cst_voice* register_cmu_us_kal(const char* voxdir);
cst_voice* register_cmu_us_slt(const char* voxdir);
}

#include "core/text.hpp"
#include "media/audio_file.hpp"
#include "media/media_errors.hpp"
#include "media/resampler.hpp"

namespace sb::media {
namespace {

Error say_error(int code, std::string message) {
  return Error{code, 400, "Say: " + std::move(message)};
}

struct FliteVoices {
  cst_voice* kal = nullptr;
  cst_voice* slt = nullptr;
};

FliteVoices& flite_voices() {
  static FliteVoices voices = [] {
    flite_init();
    return FliteVoices{register_cmu_us_kal(nullptr), register_cmu_us_slt(nullptr)};
  }();
  return voices;
}

cst_voice* flite_voice_for(const std::string& voice) {
  const std::string v = to_lower(voice);
  FliteVoices& voices = flite_voices();
  if (v.empty() || v == "kal" || v == "man" || v == "default") return voices.kal;
  if (v == "slt" || v == "woman" || v == "alice") return voices.slt;
  return nullptr;
}

Status check_text(const SpeechRequest& r) {
  if (r.text.empty() || r.text.size() > kMaxSayText) {
    return say_error(media_codes::kSayInvalidText, "text empty or longer than 4096 characters");
  }
  return Ok{};
}

}  // namespace

FliteEngine::FliteEngine() { flite_voices(); }

bool FliteEngine::supports(const SpeechRequest& r) const {
  const std::string lang = to_lower(r.language);
  const bool english = lang.empty() || lang == "en" || lang.rfind("en-", 0) == 0;
  return english && flite_voice_for(r.voice) != nullptr;
}

Result<std::vector<std::int16_t>> FliteEngine::synthesize(const SpeechRequest& r) {
  if (auto s = check_text(r); !s) return s.error();
  cst_voice* voice = flite_voice_for(r.voice);
  if (!voice) return say_error(media_codes::kSayInvalidVoice, "flite has no voice " + r.voice);
  std::lock_guard lock(mu_);
  cst_wave* wave = flite_text_to_wave(r.text.c_str(), voice);
  if (!wave || cst_wave_num_samples(wave) <= 0) {
    if (wave) delete_wave(wave);
    return say_error(media_codes::kSayInvalidText, "flite produced no audio");
  }
  const int rate = cst_wave_sample_rate(wave);
  std::vector<std::int16_t> pcm(wave->samples, wave->samples + cst_wave_num_samples(wave));
  delete_wave(wave);
  if (rate == 8000) return pcm;
  auto resampled = to_pcm8k(to_float(pcm), rate);
  if (!resampled) return resampled.error();
  return std::move(*resampled);
}

std::string EspeakEngine::voice_for(std::string_view language) {
  std::string lang = to_lower(language);
  if (lang.empty() || lang.size() > 16) return "";
  for (char c : lang) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return "";  // no options
  }
  static constexpr std::string_view kRegional[] = {"en-gb", "en-us",  "pt-br", "es-419",
                                                   "fr-be", "en-029", "fr-ch", "vi-vn"};
  for (auto r : kRegional) {
    if (lang == r) return lang;
  }
  return lang.substr(0, lang.find('-'));
}

bool EspeakEngine::supports(const SpeechRequest& r) const { return !voice_for(r.language).empty(); }

Result<std::vector<std::int16_t>> EspeakEngine::synthesize(const SpeechRequest& r) {
  if (auto s = check_text(r); !s) return s.error();
  const std::string voice = voice_for(r.language);
  if (voice.empty()) {
    return say_error(media_codes::kSayInvalidLanguage, "unsupported language " + r.language);
  }
  int in_pipe[2], out_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) return Error::internal("pipe failed");
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    close(in_pipe[0]);
    close(in_pipe[1]);
    return Error::internal("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  std::string program = options_.program;
  std::string v_flag = "-v", stdout_flag = "--stdout", stdin_flag = "--stdin";
  char* argv[] = {program.data(),     v_flag.data(),     const_cast<char*>(voice.c_str()),
                  stdout_flag.data(), stdin_flag.data(), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(in_pipe[0]);
  close(out_pipe[1]);
  if (rc != 0) {
    close(in_pipe[1]);
    close(out_pipe[0]);
    return say_error(media_codes::kSayInvalidLanguage,
                     "cannot run " + program + ": " + std::strerror(rc));
  }
  // Write the text, then read the WAV until EOF, the size limit or the deadline.
  std::string text = r.text + "\n";
  const auto deadline = std::chrono::steady_clock::now() + options_.timeout;
  std::string wav;
  std::size_t written = 0;
  bool failed = false;
  fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
  int in_fd = in_pipe[1];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      failed = true;
      break;
    }
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {in_fd, POLLOUT, 0}};
    const int n = poll(fds, in_fd >= 0 ? 2 : 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      failed = true;
      break;
    }
    if (in_fd >= 0 && (fds[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t w = write(in_fd, text.data() + written, text.size() - written);
      if (w > 0) written += static_cast<std::size_t>(w);
      if (w < 0 && errno != EAGAIN) written = text.size();
      if (written >= text.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[65536];
      const ssize_t got = read(out_pipe[0], buf, sizeof buf);
      if (got == 0) break;
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        failed = true;
        break;
      }
      wav.append(buf, static_cast<std::size_t>(got));
      if (wav.size() > options_.max_output_bytes) {
        failed = true;
        break;
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  close(out_pipe[0]);
  if (failed) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (failed || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return say_error(media_codes::kSayInvalidLanguage,
                     "espeak-ng failed for language " + r.language);
  }
  auto pcm = decode_audio({reinterpret_cast<const std::uint8_t*>(wav.data()), wav.size()});
  if (!pcm) {
    return say_error(media_codes::kSayInvalidText, "espeak-ng output: " + pcm.error().message);
  }
  return std::vector<std::int16_t>(**pcm);
}

Synthesizer::Synthesizer(std::vector<std::unique_ptr<TtsEngine>> engines, MediaCache& cache,
                         Options options)
    : engines_(std::move(engines)),
      cache_(cache),
      options_(options),
      pool_({.threads = options.threads, .max_queued = options.max_queued}) {}

Synthesizer::Stats Synthesizer::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

std::size_t Synthesizer::in_flight() const {
  std::lock_guard lock(mu_);
  return in_flight_.size();
}

Result<Synthesizer::Plan> Synthesizer::plan(const SpeechRequest& r) {
  if (auto s = check_text(r); !s) return s.error();
  for (auto& e : engines_) {
    if (e->supports(r)) {
      // Fields joined with a separator that cannot appear in voice or language.
      return Plan{e.get(), "tts\x1f" + std::string(e->name()) + "\x1f" + to_lower(r.voice) +
                               "\x1f" + to_lower(r.language) + "\x1f" + r.text};
    }
  }
  std::lock_guard lock(mu_);
  ++stats_.failures;
  return say_error(media_codes::kSayInvalidLanguage,
                   "no engine speaks " + r.language + " with voice '" + r.voice + "'");
}

Result<SharedPcm> Synthesizer::run(const Plan& plan, const SpeechRequest& r) {
  if (auto hit = cache_.lookup(plan.key)) {
    std::lock_guard lock(mu_);
    ++stats_.hits;
    return hit->pcm;
  }
  auto pcm = plan.engine->synthesize(r);
  if (!pcm) {
    std::lock_guard lock(mu_);
    ++stats_.failures;
    return pcm.error();
  }
  SharedPcm shared = std::make_shared<const std::vector<std::int16_t>>(std::move(*pcm));
  cache_.store(plan.key, shared, "", CachePolicy{.max_age_s = std::int64_t{10} * 365 * 86400});
  std::lock_guard lock(mu_);
  ++stats_.synthesized;
  return shared;
}

Result<SharedPcm> Synthesizer::speak(const SpeechRequest& r) {
  auto plan = this->plan(r);
  if (!plan) return plan.error();
  return run(*plan, r);
}

bool Synthesizer::enqueue(Plan plan, SpeechRequest request,
                          std::shared_ptr<Handoff<SharedPcm>> waiter) {
  std::lock_guard lock(mu_);
  auto [it, first] = in_flight_.try_emplace(plan.key);
  it->second.push_back(std::move(waiter));
  if (!first) {
    ++stats_.joined;
    return true;
  }
  const bool queued = pool_.try_post([this, plan = std::move(plan), request = std::move(request)] {
    finish(plan.key, run(plan, request));
  });
  if (!queued) {
    in_flight_.erase(it);
    ++stats_.overloaded;
  }
  return queued;
}

void Synthesizer::finish(const std::string& key, const Result<SharedPcm>& result) {
  std::vector<std::shared_ptr<Handoff<SharedPcm>>> waiters;
  {
    std::lock_guard lock(mu_);
    auto it = in_flight_.find(key);
    if (it == in_flight_.end()) return;
    waiters = std::move(it->second);
    in_flight_.erase(it);
  }
  for (auto& w : waiters) w->deliver(result);  // a waiter that left drops it
}

asio::awaitable<Result<SharedPcm>> Synthesizer::speak_async(SpeechRequest request) {
  auto plan = this->plan(request);
  if (!plan) co_return plan.error();
  auto waiter = std::make_shared<Handoff<SharedPcm>>();
  if (!enqueue(std::move(*plan), std::move(request), waiter)) {
    co_return Error{codes::kServiceUnavailable, 503,
                    "Say: speech synthesis overloaded (" + std::to_string(options_.max_queued) +
                        " requests queued)"};
  }
  // Coroutine arguments as named values: GCC 12 copies some temporaries into a coroutine's
  // frame byte for byte (a std::string's buffer pointer then points into the caller's frame).
  Error expired{codes::kServiceUnavailable, 503,
                "Say: no speech after " + std::to_string(options_.timeout.count()) + " ms"};
  auto wait = waiter->wait(options_.timeout, std::move(expired));
  auto result = co_await std::move(wait);
  if (waiter->expired()) {
    std::lock_guard lock(mu_);
    ++stats_.timed_out;
  }
  co_return result;
}

}  // namespace sb::media
