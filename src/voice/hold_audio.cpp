#include "voice/hold_audio.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "voice/application_source.hpp"
#include "voice/call_session.hpp"

namespace sb::voice {
namespace {

constexpr int kHoldDocuments = 1000;  // documents per wait, so a Redirect loop cannot spin
constexpr int kInvalidVerb = 12100;

}  // namespace

media::ToneSpec hold_music() {
  // A slow three-note chime (C5 E5 G5) with rests, quiet: unmistakably "please hold", and easy
  // to tell from speech and from the DTMF band.
  media::ToneSpec spec;
  spec.cadence = {{523.25, 0, -22, 400}, {0, 0, 0, 100},        {659.25, 0, -22, 400},
                  {0, 0, 0, 100},        {783.99, 0, -22, 600}, {0, 0, 0, 1400}};
  spec.repeats = 0;
  return spec;
}

asio::awaitable<HoldAudioEnd> run_hold_audio(CallSession& session, HoldAudio audio) {
  VoiceApplication app;
  app.url = audio.url;
  app.method = audio.method;
  ApplicationSource source(session.services().webhooks, session.info(), app,
                           session.route().account.auth_token);
  twiml::FetchRequest request;
  request.url = audio.url;
  request.method = audio.method;
  for (int documents = 0; documents < kHoldDocuments; ++documents) {
    if (audio.params) request.params = audio.params();
    twiml::FetchResult got = co_await source.fetch(request);
    if (!got.ok) {
      session.warn(got.error_code,
                   std::string(audio.what) + " " + audio.url + " failed: " + got.error_message);
      co_return HoldAudioEnd::kFailed;
    }
    bool redirected = false;
    bool heard = false;  // a document with nothing to hear, looped, must not spin
    for (const twiml::Verb& verb : got.document.verbs) {
      heard = heard || std::holds_alternative<twiml::Play>(verb) ||
              std::holds_alternative<twiml::Say>(verb) ||
              std::holds_alternative<twiml::Pause>(verb) ||
              std::holds_alternative<twiml::Gather>(verb);
      if (const auto* play = std::get_if<twiml::Play>(&verb)) {
        co_await session.leg().play(*play, false);
      } else if (const auto* say = std::get_if<twiml::Say>(&verb)) {
        co_await session.leg().say(*say, false);
      } else if (const auto* pause = std::get_if<twiml::Pause>(&verb)) {
        co_await session.leg().pause(pause->length, false);
      } else if (const auto* redirect = std::get_if<twiml::Redirect>(&verb)) {
        request = twiml::FetchRequest{};
        request.url = redirect->url;
        request.method = redirect->method;
        request.base = got.url;
        redirected = true;
        break;
      } else if (audio.queue_verbs && std::holds_alternative<twiml::Leave>(verb)) {
        co_return HoldAudioEnd::kLeave;
      } else if (audio.queue_verbs && std::holds_alternative<twiml::Hangup>(verb)) {
        co_return HoldAudioEnd::kHangup;
      } else if (const auto* gather = std::get_if<twiml::Gather>(&verb);
                 gather && audio.queue_verbs) {
        for (const twiml::Prompt& prompt : gather->prompts) {
          if (const auto* p = std::get_if<twiml::Play>(&prompt)) {
            co_await session.leg().play(*p, true);
          } else if (const auto* s = std::get_if<twiml::Say>(&prompt)) {
            co_await session.leg().say(*s, true);
          } else if (const auto* z = std::get_if<twiml::Pause>(&prompt)) {
            co_await session.leg().pause(z->length, true);
          }
        }
        twiml::DigitCollection spec;
        spec.timeout_s = gather->timeout;
        spec.finish_on_key = gather->finish_on_key;
        spec.num_digits = gather->num_digits;
        twiml::CollectedDigits digits = co_await session.leg().collect_digits(spec);
        if (!digits.digits.empty() || gather->action_on_empty_result) {
          request = twiml::FetchRequest{};
          request.url = gather->action.empty() ? got.url : gather->action;
          request.method = gather->method;
          request.base = got.url;
          redirected = true;
          auto extra = audio.params;
          audio.params = [extra, d = digits.digits] {
            twiml::Params p = extra ? extra() : twiml::Params{};
            p.emplace_back("Digits", d);
            return p;
          };
          break;
        }
      } else if (std::holds_alternative<twiml::Hangup>(verb)) {
        // Hangup in a conference's hold audio only ends the audio.
        break;
      } else {
        session.warn(kInvalidVerb, "<" + std::string(twiml::verb_name(verb)) +
                                       "> is not allowed in " + audio.what + " TwiML; skipped");
      }
    }
    if (redirected) continue;
    if (!audio.loop) co_return HoldAudioEnd::kDone;
    if (!heard) {
      co_await session.leg().pause(1, false);
    }
    request = twiml::FetchRequest{};
    request.url = audio.url;
    request.method = audio.method;
  }
  co_return HoldAudioEnd::kDone;
}

HoldAudioPlayer::HoldAudioPlayer(CallSession& session, boost::asio::any_io_executor ex)
    : session_(session), ex_(ex), done_(ex) {}

HoldAudioPlayer::~HoldAudioPlayer() {
  // The owner stops it before it goes (stop() is awaitable); this only keeps a forgotten run
  // from touching a dead player.
  if (running_) cancel_.emit(asio::cancellation_type::terminal);
}

void HoldAudioPlayer::start(HoldAudio audio, std::function<void()> wake) {
  running_ = true;
  ended_.reset();
  asio::co_spawn(ex_, run(std::move(audio), std::move(wake)),
                 asio::bind_cancellation_slot(cancel_.slot(), asio::detached));
}

asio::awaitable<void> HoldAudioPlayer::run(HoldAudio audio, std::function<void()> wake) {
  std::optional<HoldAudioEnd> end;
  try {
    end = co_await run_hold_audio(session_, std::move(audio));
  } catch (const std::exception&) {
    // stopped, or the call ended
  }
  running_ = false;
  ended_ = end;
  done_.notify();
  if (end && wake) wake();
}

asio::awaitable<void> HoldAudioPlayer::stop() {
  if (!running_) co_return;
  cancel_.emit(asio::cancellation_type::terminal);
  while (running_) {
    co_await done_.wait();
  }
}

asio::awaitable<std::shared_ptr<media::MixerPort>> make_port(
    std::shared_ptr<media::ConferenceMixer> mixer) {
  co_return mixer->add_port();
}

}  // namespace sb::voice
