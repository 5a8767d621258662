// The CallLeg of a real call: one SIP dialog (sip::UserAgent, as UAS) and its RTP session
// (media::RtpSession) on the same worker. Say is synthesized off the worker and played from
// the cache, Play fetches through the media cache, Gather reads RFC 4733 / in-band / SIP INFO
// digits, Record writes a WAV under the data directory. Every wait ends at once when the
// caller hangs up (the session's cancellation), and a recording cut short stays playable.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "media/rtp_session.hpp"
#include "media/tts.hpp"
#include "media/url_audio.hpp"
#include "sip/sdp.hpp"
#include "sip/user_agent.hpp"
#include "voice/call_session.hpp"
#include "voice/notifications.hpp"

namespace sb::voice {

// What a worker gives its calls' media (one per worker; everything outlives the calls).
struct MediaContext {
  media::MediaWorker& worker;
  media::PortPool& ports;
  media::Synthesizer& tts;
  media::UrlAudioLoader& audio;
  std::string rtp_address;  // where we receive RTP (an address of this host)
  std::filesystem::path recordings_dir;
  std::string public_url;                     // RecordingUrl's base
  NotificationSink* notifications = nullptr;  // Play/Say failures (warnings, as Twilio)
  store::Store* store = nullptr;              // where recordings are listed
  const Clock* clock = nullptr;
};

// The SIP dialog operations a leg needs, wherever the SIP stack runs: the router posts them
// to the SIP worker when the call lives on another one. Fire-and-forget: a dialog that is gone
// by then reports its end through the router (BYE/CANCEL), never through these.
class SipDialogs {
 public:
  virtual ~SipDialogs() = default;
  virtual void ringing(sip::CallHandle call) = 0;
  virtual void answer(sip::CallHandle call, std::string sdp) = 0;
  virtual void reject(sip::CallHandle call, int status, std::string reason) = 0;
  virtual void hangup(sip::CallHandle call) = 0;
};

// An edge-triggered wake-up for one coroutine: notify() ends the current (or next) wait.
class Wakeup {
 public:
  explicit Wakeup(asio::any_io_executor executor);
  void notify();
  // True when notified, false on timeout; throws operation_aborted when the coroutine is
  // cancelled (the caller hung up).
  asio::awaitable<bool> wait(std::optional<std::chrono::milliseconds> timeout = std::nullopt);

 private:
  asio::steady_timer timer_;
  bool fired_ = false;
};

class SipCallLeg final : public CallLeg {
 public:
  SipCallLeg(asio::any_io_executor executor, SipDialogs& dialogs, sip::CallHandle handle,
             MediaContext& media, std::string account_sid, std::string call_sid);
  ~SipCallLeg() override;

  // Checks the caller's offer and opens the RTP session our answer will point at. An error
  // (to be sent as 488 or 503) when no audio stream is acceptable or no port is free.
  Status prepare(std::string_view sdp_offer);

  // --- from the SIP side (the router forwards UserAgent callbacks) ---
  void on_remote_end();  // BYE/CANCEL/timeout: the dialog is gone
  void on_sip_dtmf(char digit);
  // A re-INVITE changed the stream (hold, new address, codec): the router answered it with
  // local_media() on the SIP worker; this applies the outcome to RTP.
  void remote_media(const sip::AudioSession& audio);
  const sip::LocalMedia& local_media() const { return local_; }

  // --- CallLeg ---
  asio::awaitable<bool> answer() override;
  asio::awaitable<void> reject(int sip_status) override;
  asio::awaitable<void> hangup() override;
  asio::awaitable<twiml::PromptEnd> say(const twiml::Say& say, bool interruptible) override;
  asio::awaitable<twiml::PromptEnd> play(const twiml::Play& play, bool interruptible) override;
  asio::awaitable<twiml::PromptEnd> pause(int seconds, bool interruptible) override;
  asio::awaitable<twiml::CollectedDigits> collect_digits(
      const twiml::DigitCollection& spec) override;
  asio::awaitable<twiml::RecordingOutcome> record(const twiml::Record& record) override;
  asio::awaitable<twiml::DialOutcome> dial(const twiml::Dial& dial) override;
  asio::awaitable<bool> other(const twiml::Verb& verb) override;

  // Closes the media (idempotent).
  void close();

  const media::RtpSession* rtp() const { return rtp_.get(); }

 private:
  struct Shared;  // what media callbacks may touch after the leg is gone
  asio::awaitable<twiml::PromptEnd> play_source(std::unique_ptr<media::AudioSource> source,
                                                bool interruptible);
  asio::awaitable<void> send_digits(const std::string& digits);
  void warn(int code, const std::string& message);
  void digit(char d);
  static media::SessionParams params_of(const sip::AudioSession& audio);

  asio::any_io_executor executor_;
  SipDialogs& dialogs_;
  sip::CallHandle handle_;
  MediaContext& media_;
  std::string account_sid_;
  std::string call_sid_;
  sip::AudioSession audio_;  // what offer/answer settled
  sip::LocalMedia local_;    // what our answers say
  std::string answer_sdp_;
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<media::RtpSession> rtp_;
  bool gone_ = false;  // the dialog ended (remote or local)
  bool answered_ = false;
};

}  // namespace sb::voice
