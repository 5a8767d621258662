// What a caller hears while it waits somewhere (a conference that has not started, a hold, a
// queue): the TwiML of a waitUrl/holdUrl/announceUrl, restricted to the verbs Twilio allows
// there, run on the caller's leg; or the built-in hold music when no URL is given.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <functional>
#include <optional>
#include <string>

#include "core/wakeup.hpp"

#include "media/audio_source.hpp"
#include "media/conference_mixer.hpp"
#include "twiml/call_control.hpp"

namespace sb::voice {

class CallSession;

struct HoldAudio {
  std::string url;  // absolute
  std::string method = "POST";
  // Asked before each request (QueuePosition, QueueTime… change while waiting).
  std::function<twiml::Params()> params;
  // Enqueue's waitUrl is requested again when its TwiML runs out (Twilio loops it); a
  // conference's waitUrl and holdUrl fall silent instead.
  bool loop = false;
  // Enqueue's waitUrl also allows Gather, Hangup and Leave.
  bool queue_verbs = false;
  const char* what = "waitUrl";  // for warnings
};

enum class HoldAudioEnd {
  kDone,    // ran out (not looping): silence from now on
  kFailed,  // the URL failed (warning recorded)
  kLeave,   // <Leave>
  kHangup,  // <Hangup>
};

// Runs until the audio ends as above, or until the coroutine is cancelled (operation_aborted).
boost::asio::awaitable<HoldAudioEnd> run_hold_audio(CallSession& session, HoldAudio audio);

// Hold audio beside a waiting loop (conference wait/hold, queue waitUrl): one run at a time,
// stopped (cancelled and waited for) before the next starts or the wait ends. Lives on the
// call's worker; `session` outlives it.
class HoldAudioPlayer {
 public:
  HoldAudioPlayer(CallSession& session, boost::asio::any_io_executor ex);
  ~HoldAudioPlayer();
  // Starts `audio`; `wake` runs on the worker when it ends by itself (see ended()).
  void start(HoldAudio audio, std::function<void()> wake = {});
  boost::asio::awaitable<void> stop();
  bool running() const { return running_; }
  // How the last run ended by itself (nullopt: still running, stopped, or never started).
  std::optional<HoldAudioEnd> ended() const { return ended_; }

 private:
  boost::asio::awaitable<void> run(HoldAudio audio, std::function<void()> wake);

  CallSession& session_;
  boost::asio::any_io_executor ex_;
  boost::asio::cancellation_signal cancel_;
  Wakeup done_;
  bool running_ = false;
  std::optional<HoldAudioEnd> ended_;
};

// A port of `mixer`, made on the mixer's worker: co_spawn it there and await it. (A function,
// not a capturing lambda: a lambda coroutine's captures die with the lambda object.)
boost::asio::awaitable<std::shared_ptr<media::MixerPort>> make_port(
    std::shared_ptr<media::ConferenceMixer> mixer);

// The hold music played when no URL is given (Twilio's default playlist is on the internet):
// a soft repeating chime, until stopped.
media::ToneSpec hold_music();

}  // namespace sb::voice
