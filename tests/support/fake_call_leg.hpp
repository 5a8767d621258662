// FakeCallLeg: a voice::CallLeg that logs what the session asks of it ("200", "486", "603",
// "487", "BYE", "say:Hi", "play:url", "pause:2") and keeps the leg's state as a real one does.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/fake_clock.hpp"
#include "voice/call_leg.hpp"

namespace sb::testing {

class FakeCallLeg final : public voice::CallLeg {
 public:
  std::vector<std::string> log;
  bool block_say = false;      // say waits until cancelled (the caller hangs up meanwhile)
  bool refuse_answer = false;  // the UA refuses our 200: the caller is gone (a CANCEL won)
  FakeClock* clock = nullptr;
  int say_seconds = 0;  // how long each Say lasts on `clock`
  // What record() gives back; it lasts its duration on `clock`, from its start_time.
  std::optional<twiml::RecordingOutcome> recording;
  // What place() gives (an outbound leg): answered by default, after one ringing.
  voice::PlaceOutcome placed{true, 200, "", ""};

  bool answered() const override { return answered_; }
  bool hung_up() const override { return hung_up_; }
  boost::asio::awaitable<void> answer() override {
    if (answered_ || hung_up_) co_return;
    if (refuse_answer) {
      log.push_back("200 refused");
      hung_up_ = true;
      co_return;
    }
    log.push_back("200");
    answered_ = true;
  }
  boost::asio::awaitable<void> hangup() override {
    if (hung_up_) co_return;
    log.push_back(answered_ ? "BYE" : "603");
    hung_up_ = true;
  }
  boost::asio::awaitable<void> reject(const std::string& reason) override {
    if (hung_up_ || answered_) co_return;
    log.push_back(reason == "busy" ? "486" : "603");
    hung_up_ = true;
  }
  boost::asio::awaitable<void> cancel() override {
    if (hung_up_ || answered_) co_return;
    log.push_back("487");
    hung_up_ = true;
  }
  void remote_end() override { hung_up_ = true; }
  boost::asio::awaitable<voice::PlaceOutcome> place(std::chrono::seconds timeout,
                                                    std::function<void()> on_ringing) override {
    log.push_back("INVITE timeout=" + std::to_string(timeout.count()));
    on_ringing();
    answered_ = placed.answered;
    hung_up_ = !placed.answered;
    co_return placed;
  }

  boost::asio::awaitable<twiml::PromptEnd> say(const twiml::Say& s, bool) override {
    if (hung_up_) co_return twiml::PromptEnd::kHungUp;
    log.push_back("say:" + s.text);
    if (clock) clock->advance(say_seconds);
    if (block_say) {
      boost::asio::steady_timer forever(co_await boost::asio::this_coro::executor,
                                        boost::asio::steady_timer::time_point::max());
      co_await forever.async_wait(boost::asio::use_awaitable);  // throws when cancelled
    }
    co_return twiml::PromptEnd::kCompleted;
  }
  boost::asio::awaitable<twiml::PromptEnd> play(const twiml::Play& p, bool) override {
    if (hung_up_) co_return twiml::PromptEnd::kHungUp;
    log.push_back("play:" + p.url);
    co_return twiml::PromptEnd::kCompleted;
  }
  boost::asio::awaitable<twiml::PromptEnd> pause(int s, bool) override {
    if (hung_up_) co_return twiml::PromptEnd::kHungUp;
    log.push_back("pause:" + std::to_string(s));
    co_return twiml::PromptEnd::kCompleted;
  }
  boost::asio::awaitable<twiml::CollectedDigits> collect_digits(
      const twiml::DigitCollection&) override {
    twiml::CollectedDigits out;
    out.hung_up = hung_up_;
    co_return out;
  }
  boost::asio::awaitable<twiml::RecordingOutcome> record(const twiml::Record&,
                                                         std::string) override {
    if (!hung_up_) log.push_back("record");
    twiml::RecordingOutcome out = recording.value_or(twiml::RecordingOutcome{});
    out.hung_up = hung_up_;
    if (clock) {
      out.start_time = clock->now_unix();
      clock->advance(out.duration_s);
    }
    co_return out;
  }
  boost::asio::awaitable<twiml::DialOutcome> dial(const twiml::Dial&, std::string) override {
    twiml::DialOutcome out;
    out.hung_up = hung_up_;
    co_return out;
  }
  boost::asio::awaitable<bool> other(const twiml::Verb&) override { co_return true; }

 private:
  bool answered_ = false;
  bool hung_up_ = false;
};

}  // namespace sb::testing
