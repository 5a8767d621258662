#include "voice/conference_call.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "core/log.hpp"
#include "voice/call_session.hpp"
#include "voice/conference.hpp"
#include "voice/hold_audio.hpp"
#include "voice/media_context.hpp"
#include "voice/webhook.hpp"

namespace sb::voice {

asio::awaitable<twiml::DialOutcome> run_conference(CallSession& session, const twiml::Dial& dial,
                                                   const twiml::DialConference& noun,
                                                   const std::string& document_url) {
  twiml::DialOutcome out;
  out.status = "failed";
  const SessionServices& services = session.services();
  if (!services.conferences || !services.media) {
    session.warn(13215, "Dial: <Conference> is not available here");
    co_return out;
  }
  co_await session.answer();
  auto rtp = session.leg().media_session();
  if (session.hung_up() || !rtp) {
    out.hung_up = session.hung_up();
    co_return out;
  }
  const asio::any_io_executor ex = co_await asio::this_coro::executor;
  auto inbox = std::make_shared<ParticipantInbox>(ex);
  JoinRequest request;
  request.account_sid = session.info().account_sid;
  request.auth_token = session.route().account.auth_token;
  request.call_sid = session.info().call_sid;
  request.noun = noun;
  request.document_url = document_url;
  request.executor = ex;
  request.worker = &services.media->worker;
  request.recordings_dir = services.media->recordings_dir.string();
  request.public_url = services.media->public_url;
  WebhookServices webhooks = services.webhooks;
  request.webhooks = &webhooks;
  request.inbox = inbox;
  Result<std::shared_ptr<Conference>> joined = services.conferences->join(std::move(request));
  if (!joined) {
    session.warn(joined.error().code, joined.error().message);
    co_return out;
  }
  std::shared_ptr<Conference> room = *joined;
  ConferenceRegistry& registry = *services.conferences;
  const std::string call_sid = session.info().call_sid;
  spdlog::info("call {} joined conference {} ({})", call_sid, room->sid, room->friendly_name);

  // The port is the mixer's, made on the room's worker.
  std::shared_ptr<media::MixerPort> port =
      co_await asio::co_spawn(room->home, make_port(room->mixer), asio::use_awaitable);
  rtp->stop_playback();
  const std::shared_ptr<media::AudioTap> tap = port->tap();
  rtp->add_tap(tap);
  registry.attach_port(room, call_sid, port);

  bool star = false;
  if (dial.hangup_on_star) {
    session.leg().watch_keys([&star, inbox](char key) {
      if (key != '*') return;
      star = true;
      inbox->wake.notify();
    });
  }
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(std::max(1, dial.time_limit));
  bool time_up = false;
  HoldAudioPlayer audio(session, ex);
  std::uint64_t seen = 0;
  ParticipantMode playing = ParticipantMode::kLeft;  // what the call hears now (none yet)
  std::string playing_url;
  bool cancelled = false;
  try {
    for (;;) {
      if (inbox->version != seen || playing == ParticipantMode::kLeft) {
        seen = inbox->version;
        const ParticipantMode mode = inbox->mode;
        if (mode == ParticipantMode::kLeft) break;
        if (!inbox->announcements.empty()) {
          // An announcement to this participant: it is heard instead of the room until done.
          auto [url, method] = inbox->announcements.front();
          inbox->announcements.erase(inbox->announcements.begin());
          co_await audio.stop();
          rtp->stop_playback();
          HoldAudio a;
          a.url = url;
          a.method = method;
          a.what = "AnnounceUrl";
          audio.start(std::move(a), [inbox] {
            ++inbox->version;
            inbox->wake.notify();
          });
          playing = ParticipantMode::kLeft;  // re-applied once the announcement is over
          seen = inbox->version;
          playing_url = "announce";
        } else if (!(audio.running() && playing_url == "announce") &&
                   (mode != playing || inbox->audio_url != playing_url)) {
          co_await audio.stop();
          rtp->stop_playback();
          playing = mode;
          playing_url = inbox->audio_url;
          if (mode == ParticipantMode::kListening) {
            rtp->play(port->source());
          } else if (inbox->audio_url.empty()) {
            rtp->play(std::make_unique<media::ToneSource>(hold_music()));
          } else if (inbox->audio_url != "-") {
            HoldAudio a;
            a.url = inbox->audio_url;
            a.method = inbox->audio_method;
            a.what = mode == ParticipantMode::kHeld ? "holdUrl" : "waitUrl";
            a.params = [sid = room->sid, name = room->friendly_name] {
              return twiml::Params{{"ConferenceSid", sid}, {"FriendlyName", name}};
            };
            audio.start(std::move(a));
          }
        }
      }
      if (star || session.hung_up()) break;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        time_up = true;
        break;
      }
      co_await inbox->wake.wait(left);
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != boost::asio::error::operation_aborted) throw;
    cancelled = true;  // the caller hung up, or its call was modified
  }
  if (cancelled) {
    co_await asio::this_coro::reset_cancellation_state();
  }

  if (dial.hangup_on_star) session.leg().watch_keys(nullptr);
  co_await audio.stop();
  rtp->remove_tap(tap.get());
  rtp->stop_playback();
  const bool kicked = inbox->mode == ParticipantMode::kLeft;
  if (!kicked) {
    // Hung up, *, timeLimit: the participant left; a live modification moved it out.
    const bool moved = cancelled && !session.hung_up();
    registry.leave(room, call_sid, moved ? "participant_updated_via_api" : "participant_hung_up");
  }
  spdlog::info(
      "call {} left conference {}: {}", call_sid, room->sid,
      kicked ? inbox->left_reason : (star ? "hangupOnStar" : (time_up ? "timeLimit" : "hung up")));
  out.status = "answered";
  out.hung_up = session.hung_up();
  if (cancelled && !session.hung_up()) {
    throw boost::system::system_error(boost::asio::error::operation_aborted);
  }
  co_return out;
}

}  // namespace sb::voice
