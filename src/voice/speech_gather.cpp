#include "voice/speech_gather.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <memory>
#include <optional>

#include "core/log.hpp"
#include "core/wakeup.hpp"
#include "speech/endpointer.hpp"
#include "speech/recognizers.hpp"
#include "speech/transcript.hpp"
#include "voice/call_session.hpp"
#include "voice/webhook.hpp"

namespace sb::voice {

namespace {

// What the listening coroutine waits for, shared with the tap and the engine's callbacks (all on
// the call's worker).
struct Listening {
  explicit Listening(asio::any_io_executor ex) : wake(std::move(ex)) {}
  Wakeup wake;
  bool spoke = false;      // the endpointer heard speech begin
  bool ended = false;      // ... and end: the recognition was asked for its transcript
  bool timed_out = false;  // no speech within `timeout`
  bool key = false;        // a key came first (input="dtmf speech")
  std::string keys;        // the keys pressed while listening (not buffered by the leg then)
  std::optional<Result<speech::Transcript>> final;
};

// Feeds the caller's audio to the endpointer and the recognition, 20 ms per tick.
class SpeechTap final : public media::AudioTap {
 public:
  SpeechTap(std::shared_ptr<Listening> state, std::shared_ptr<speech::Recognition> recognition,
            speech::EndpointOptions endpoint, int no_input_ms)
      : state_(std::move(state)),
        recognition_(std::move(recognition)),
        endpointer_(endpoint),
        no_input_ms_(no_input_ms) {}

  void on_audio(std::span<const std::int16_t> inbound,
                std::span<const std::int16_t> /*outbound*/) override {
    if (done_ || state_->key) return;
    heard_ms_ += static_cast<int>(inbound.size() / 8);
    // The recognizer hears everything from the start (a little silence before the words helps
    // it); the endpointer says when to stop.
    recognition_->feed(inbound);
    const auto st = endpointer_.feed(inbound);
    if (st != speech::Endpointer::State::kWaiting) state_->spoke = true;
    if (st == speech::Endpointer::State::kEnded) {
      done_ = true;
      state_->ended = true;
      recognition_->finish();
      state_->wake.notify();
    } else if (!state_->spoke && heard_ms_ >= no_input_ms_) {
      done_ = true;
      state_->timed_out = true;
      state_->wake.notify();
    }
  }

 private:
  std::shared_ptr<Listening> state_;
  std::shared_ptr<speech::Recognition> recognition_;
  speech::Endpointer endpointer_;
  int no_input_ms_;
  int heard_ms_ = 0;
  bool done_ = false;
};

}  // namespace

asio::awaitable<twiml::SpeechInput> run_speech_gather(CallSession& session,
                                                      const twiml::Gather& gather,
                                                      std::string document_url) {
  twiml::SpeechInput out;
  auto rtp = session.leg().media_session();
  if (session.hung_up() || !rtp) {
    out.hung_up = session.hung_up();
    co_return out;
  }
  const bool dtmf =
      std::find(gather.input.begin(), gather.input.end(), "dtmf") != gather.input.end();
  twiml::DigitCollection keys;
  keys.timeout_s = gather.timeout;
  keys.finish_on_key = gather.finish_on_key;
  keys.num_digits = gather.num_digits;

  speech::SpeechRecognizer* engine =
      session.services().speech
          ? session.services().speech->pick(session.info().account_sid, gather.speech_model)
          : nullptr;
  if (!engine) {
    session.warn(codes::kServiceUnavailable,
                 "Gather: speech recognition is not available on this server ([speech] in the "
                 "configuration); listening for keys only");
    if (!dtmf) co_return out;
    auto got = co_await session.leg().collect_digits(keys);
    out.digits = std::move(got.digits);
    out.finished_on_key = std::move(got.finished_on_key);
    out.hung_up = got.hung_up;
    co_return out;
  }

  const asio::any_io_executor ex = co_await asio::this_coro::executor;
  auto state = std::make_shared<Listening>(ex);
  speech::RecognitionOptions options;
  options.language = gather.language;
  options.hints = speech::parse_hints(gather.hints);
  options.model = gather.speech_model;
  options.profanity_filter = gather.profanity_filter;
  speech::RecognitionCallbacks callbacks;
  callbacks.on_final = [state](Result<speech::Transcript> result) {
    state->final = std::move(result);
    state->wake.notify();
  };
  if (!gather.partial_result_callback.empty()) {
    options.partial_results = true;
    const std::string url = resolve_url(document_url, gather.partial_result_callback);
    auto sequence = std::make_shared<int>(0);
    callbacks.on_partial = [&session, url, method = gather.partial_result_callback_method,
                            sequence](const speech::Partial& p) {
      session.send_callback("partialResultCallback", url, method,
                            {{"AccountSid", session.info().account_sid},
                             {"CallSid", session.info().call_sid},
                             {"UnstableSpeechResult", p.unstable},
                             {"StableSpeechResult", p.stable},
                             {"SequenceNumber", std::to_string((*sequence)++)}});
    };
  }
  std::shared_ptr<speech::Recognition> recognition =
      engine->start(std::move(options), ex, std::move(callbacks));

  speech::EndpointOptions endpoint;
  const int timeout_ms = speech::speech_timeout_ms(
      gather.speech_timeout.empty() ? std::to_string(gather.timeout) : gather.speech_timeout);
  endpoint.speech_timeout_ms = timeout_ms > 0 ? timeout_ms : speech::kAutoSpeechTimeoutMs;
  endpoint.max_speech_ms = std::clamp(gather.max_speech_time, 1, 60) * 1000;
  auto tap = std::make_shared<SpeechTap>(state, recognition, endpoint, gather.timeout * 1000);
  rtp->add_tap(tap);
  if (dtmf) {
    session.leg().watch_keys([state](char key) {
      if (state->spoke) return;  // speech came first: keys no longer count (Twilio)
      state->key = true;
      state->keys += key;
      state->wake.notify();
    });
  }

  // Safety net beyond the tap's own clock (which counts the audio it hears).
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::seconds(gather.timeout + gather.max_speech_time + 30);
  bool cancelled = false;
  try {
    while (!state->final && !state->timed_out && !state->key) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      co_await state->wake.wait(left);
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != boost::asio::error::operation_aborted) throw;
    cancelled = true;
  }
  if (dtmf) session.leg().watch_keys(nullptr);
  rtp->remove_tap(tap.get());
  if (!state->final) recognition->cancel();
  if (cancelled) throw boost::system::system_error(boost::asio::error::operation_aborted);

  if (state->key) {
    // The keys so far, then the rest as a DTMF Gather collects them.
    for (char k : state->keys) {
      if (!keys.finish_on_key.empty() && keys.finish_on_key.front() == k) {
        out.finished_on_key = std::string(1, k);
        co_return out;
      }
      out.digits += k;
      if (keys.num_digits && static_cast<int>(out.digits.size()) >= *keys.num_digits) {
        co_return out;
      }
    }
    if (keys.num_digits) *keys.num_digits -= static_cast<int>(out.digits.size());
    auto got = co_await session.leg().collect_digits(keys);
    out.digits += got.digits;
    out.finished_on_key = std::move(got.finished_on_key);
    out.hung_up = got.hung_up;
    co_return out;
  }
  out.hung_up = session.hung_up();
  if (state->final) {
    if (!*state->final) {
      session.warn(state->final->error().code,
                   "Gather: speech recognition failed: " + state->final->error().message);
    } else {
      out.speech = (*state->final)->text;
      if (!out.speech.empty()) out.confidence = (*state->final)->confidence;
    }
  }
  spdlog::debug("call {}: Gather heard {}", session.info().call_sid,
                state->timed_out ? std::string("nothing")
                                 : "\"" + out.speech + "\" (" + std::string(engine->name()) + ")");
  co_return out;
}

}  // namespace sb::voice
