// FakeCallControl: the twiml::CallControl the interpreter runs on in tests: every action is logged
// as a line ("answer", "say:Hello", "collect:timeout=5,finish=#"), digits, barge-in and hang-ups
// come from a script.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "twiml/call_control.hpp"

namespace sb::testing {

class FakeCallControl final : public twiml::CallControl {
 public:
  std::vector<std::string> log;
  // Each collect_digits takes the next entry: "12#" = digits 12 ended by '#', "" = timeout.
  std::deque<std::string> digit_script;
  // The interruptible prompt (0-based, counted across the call) during which a key is pressed.
  int barge_in_at_prompt = -1;
  // The call hangs up when this many actions have been logged.
  int hang_up_after_actions = -1;
  bool other_continues = true;
  // Each collect_speech takes the next entry (none: nothing was said).
  std::deque<twiml::SpeechInput> speech_script;
  // Runs as each action happens, before it is logged (a benchmark stamps the first one).
  std::function<void(std::string_view)> on_action;

  // The caller goes away now (the session would also cancel the interpreter).
  void hang_up_now() { hung_up_ = true; }

  bool answered() const override { return answered_; }
  bool hung_up() const override { return hung_up_; }

  boost::asio::awaitable<void> answer() override {
    if (!answered_) {
      answered_ = true;
      note("answer");
    }
    co_return;
  }
  boost::asio::awaitable<twiml::PromptEnd> say(const twiml::Say& s, bool interruptible) override {
    co_return prompt("say:" + s.text, interruptible);
  }
  boost::asio::awaitable<twiml::PromptEnd> play(const twiml::Play& p, bool interruptible) override {
    co_return prompt("play:" + p.url, interruptible);
  }
  boost::asio::awaitable<twiml::PromptEnd> pause(int seconds, bool interruptible) override {
    co_return prompt("pause:" + std::to_string(seconds), interruptible);
  }
  boost::asio::awaitable<twiml::CollectedDigits> collect_digits(
      const twiml::DigitCollection& spec) override {
    note("collect:timeout=" + std::to_string(spec.timeout_s) + ",finish=" + spec.finish_on_key);
    twiml::CollectedDigits got;
    got.hung_up = hung_up_;
    if (!digit_script.empty()) {
      std::string keys = digit_script.front();
      digit_script.pop_front();
      if (!keys.empty() && !spec.finish_on_key.empty() &&
          spec.finish_on_key.find(keys.back()) != std::string::npos) {
        got.finished_on_key = std::string(1, keys.back());
        keys.pop_back();
      }
      got.digits = keys;
    }
    co_return got;
  }
  boost::asio::awaitable<twiml::SpeechInput> collect_speech(const twiml::Gather& g,
                                                            std::string /*document_url*/) override {
    note("speech:timeout=" + std::to_string(g.timeout) + ",hints=" + g.hints);
    twiml::SpeechInput got;
    if (!speech_script.empty()) {
      got = speech_script.front();
      speech_script.pop_front();
    }
    got.hung_up = got.hung_up || hung_up_;
    co_return got;
  }
  boost::asio::awaitable<twiml::RecordingOutcome> record(const twiml::Record& r,
                                                         std::string document_url) override {
    note("record:max=" + std::to_string(r.max_length));
    record_documents.push_back(std::move(document_url));
    twiml::RecordingOutcome out;
    out.recording_sid = "RE0123456789abcdef0123456789abcdef";
    if (recording_seconds > 0) out.recording_url = "http://sb.test/Recordings/" + out.recording_sid;
    out.duration_s = recording_seconds;
    out.digits = "#";
    out.hung_up = hung_up_;
    if (hung_up_) out.digits = "hangup";
    co_return out;
  }
  boost::asio::awaitable<twiml::DialOutcome> dial(const twiml::Dial& d,
                                                  std::string /*document_url*/) override {
    note("dial:" + std::to_string(d.targets.size()));
    twiml::DialOutcome out;
    out.status = "completed";
    out.call_sid = "CA0123456789abcdef0123456789abcdef";
    out.duration_s = 12;
    out.bridged = true;
    co_return out;
  }
  boost::asio::awaitable<void> hangup() override {
    note("hangup");
    hung_up_ = true;
    co_return;
  }
  boost::asio::awaitable<void> reject(const std::string& reason) override {
    note("reject:" + reason);
    hung_up_ = true;
    co_return;
  }
  boost::asio::awaitable<twiml::EnqueueOutcome> enqueue(const twiml::Enqueue& e,
                                                        std::string /*document_url*/) override {
    note("enqueue:" + e.queue_name);
    co_return enqueue_outcome;
  }
  boost::asio::awaitable<bool> other(const twiml::Verb& verb) override {
    note("other:" + std::to_string(verb.index()));
    co_return other_continues;
  }

  twiml::EnqueueOutcome enqueue_outcome;  // what every <Enqueue> ends with
  int recording_seconds = 3;
  std::vector<std::string> record_documents;  // the document URL of each record()

 private:
  void note(std::string line) {
    if (on_action) on_action(line);
    log.push_back(std::move(line));
    if (hang_up_after_actions >= 0 && static_cast<int>(log.size()) >= hang_up_after_actions) {
      hung_up_ = true;
    }
  }
  twiml::PromptEnd prompt(std::string line, bool interruptible) {
    note(std::move(line));
    if (hung_up_) return twiml::PromptEnd::kHungUp;
    if (interruptible && prompts_++ == barge_in_at_prompt) return twiml::PromptEnd::kInterrupted;
    return twiml::PromptEnd::kCompleted;
  }

  bool answered_ = false;
  bool hung_up_ = false;
  int prompts_ = 0;
};

}  // namespace sb::testing
