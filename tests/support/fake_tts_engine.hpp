// FakeTtsEngine: the media::TtsEngine a test controls: speech of a known shape for any text,
// syntheses held until the test releases their text (a slow synthesis without a sleep), a
// count of syntheses per text, and a hook on the synthesis thread. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "media/tts.hpp"

namespace sb::testing {

class FakeTtsEngine final : public media::TtsEngine {
 public:
  // Each synthesis is `samples` samples, every one equal to the text's length.
  explicit FakeTtsEngine(std::size_t samples = 800) : samples_(samples) {}

  // Runs on the synthesis thread before each answer (a benchmark's real delay).
  std::function<void(const media::SpeechRequest&)> before_answer;

  // From now on a synthesis waits until its text is released, or all are.
  void hold() {
    std::lock_guard lock(mu_);
    holding_ = true;
  }
  void release(const std::string& text) {
    std::lock_guard lock(mu_);
    released_.insert(text);
    cv_.notify_all();
  }
  // Lets every synthesis go and ends the hold.
  void release_all() {
    std::lock_guard lock(mu_);
    holding_ = false;
    cv_.notify_all();
  }
  // Syntheses started for `text`.
  int calls(const std::string& text) const {
    std::lock_guard lock(mu_);
    auto it = started_.find(text);
    return it == started_.end() ? 0 : it->second;
  }
  int calls() const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& [_, count] : started_) n += count;
    return n;
  }

  std::string_view name() const override { return "fake"; }
  bool supports(const media::SpeechRequest&) const override { return true; }
  Result<std::vector<std::int16_t>> synthesize(const media::SpeechRequest& request) override {
    {
      std::unique_lock lock(mu_);
      ++started_[request.text];
      cv_.wait(lock, [&] { return !holding_ || released_.contains(request.text); });
    }
    if (before_answer) before_answer(request);
    return std::vector<std::int16_t>(samples_, static_cast<std::int16_t>(request.text.size()));
  }

 private:
  const std::size_t samples_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> started_;
  std::set<std::string> released_;
  bool holding_ = false;
};

}  // namespace sb::testing
