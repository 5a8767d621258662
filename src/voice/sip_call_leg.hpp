// The CallLeg of a real call: one SIP dialog (sip::UserAgent, as UAS or UAC) and its RTP session
// (media::RtpSession) on the same worker. Say is synthesized off the worker and played from
// the cache, Play fetches through the media cache, Gather reads RFC 4733 / in-band / SIP INFO
// digits, Record writes a WAV under the data directory. Every wait ends at once when the
// caller hangs up (the session's cancellation), and a recording cut short stays playable.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "media/rtp_session.hpp"
#include "media/srtp.hpp"
#include "media/tts.hpp"
#include "media/url_audio.hpp"
#include "sip/refusal.hpp"
#include "sip/sdp.hpp"
#include "sip/user_agent.hpp"
#include "voice/call_leg.hpp"
#include "voice/media_context.hpp"
#include "voice/outbound.hpp"
#include "voice/sip_dialogs.hpp"
#include "voice/sip_trace.hpp"

namespace sb::voice {

class SipCallLeg final : public CallLeg {
 public:
  SipCallLeg(asio::any_io_executor executor, SipDialogs& dialogs, sip::CallHandle handle,
             MediaContext& media, std::string account_sid, std::string call_sid);
  ~SipCallLeg() override;

  // Checks the caller's offer (or, for an INVITE without one, makes ours) and opens the RTP
  // session our SDP will point at. A refusal (488, or 503 with no RTP port free) when the call
  // cannot go on.
  std::optional<sip::Refusal> prepare(std::string_view sdp_offer);
  // The caller's answer (from the ACK) to the offer our 200 OK made. False when it is unusable:
  // the leg has then hung up (BYE) and is over.
  bool take_answer(std::string_view sdp);
  // 180 Ringing to the caller (the call is routed and its application is being asked).
  void ring();
  // Who sent the INVITE and how (for the signalling summary), before prepare().
  void set_origin(SipTrace::Origin origin) { trace_.set_origin(std::move(origin)); }
  // Why the dialog ended on the SIP side (BYE, CANCEL, no ACK, session timer), just before
  // remote_end().
  void note_end(sip::EndReason reason);
  void note_ack() { trace_.step(SipTrace::Way::kIn, "ACK"); }

  // --- outbound (a UAC dialog) ---
  // Makes our offer for a call to `destination` from `from_user` and opens the RTP session it
  // points at; a refusal (503) when no RTP port is free. place() then dials it.
  // A destination that did not resolve makes place() fail with its reason (Notification 13224).
  // `preferred_codec` ("PCMU", "PCMA") is offered first (a <Dial> child: the caller's, so
  // that the bridge relays instead of transcoding when the far end agrees).
  std::optional<sip::Refusal> prepare_outbound(Result<Destination> destination,
                                               std::string from_user,
                                               const std::string& preferred_codec = {});
  // Runs on the worker once the INVITE is out, with the dialog's handle (before any progress).
  std::function<void(sip::CallHandle)> on_dialed;
  // The far end's progress, forwarded by the router for the handle place() got.
  // A 183 (or 180) with SDP is the far end's early answer: its audio is received from then on.
  void on_progress(int status, std::string_view early_sdp = {});
  // Runs once when the far end starts sending early media.
  std::function<void()> on_early_media;
  void on_remote_answer(std::string_view sdp);
  void on_remote_failure(int status, std::string_view reason);
  sip::CallHandle handle() const { return handle_; }

  // --- from the SIP side (the router forwards UserAgent callbacks) ---
  void on_sip_dtmf(char digit);
  // A re-INVITE changed the stream (hold, new address, codec): the router answered it with
  // local_media() on the SIP worker; this applies the outcome to RTP.
  void remote_media(const sip::AudioSession& audio);
  // When the call's media is SRTP (before prepare; outbound legs take their trunk's).
  void set_srtp_policy(media::SrtpPolicy policy) { srtp_policy_ = policy; }
  const sip::LocalMedia& local_media() const { return local_; }

  // --- CallLeg ---
  bool answered() const override { return answered_; }
  bool hung_up() const override { return gone_; }
  asio::awaitable<void> answer() override;
  asio::awaitable<void> hangup() override;
  asio::awaitable<void> reject(const std::string& reason) override;
  asio::awaitable<void> cancel() override;
  void remote_end() override;
  asio::awaitable<PlaceOutcome> place(std::chrono::seconds timeout,
                                      std::function<void()> on_ringing) override;
  asio::awaitable<twiml::PromptEnd> say(const twiml::Say& say, bool interruptible) override;
  asio::awaitable<twiml::PromptEnd> play(const twiml::Play& play, bool interruptible) override;
  asio::awaitable<twiml::PromptEnd> pause(int seconds, bool interruptible) override;
  asio::awaitable<twiml::CollectedDigits> collect_digits(
      const twiml::DigitCollection& spec) override;
  Status start_call_recording(bool dual, bool trim) override;
  asio::awaitable<std::optional<CallRecording>> stop_call_recording(std::string source) override;
  std::shared_ptr<media::RtpSession> media_session() override { return gone_ ? nullptr : rtp_; }
  std::optional<MediaFigures> media_figures() const override;
  void start_early_media() override;
  std::string sip_call_id() const override { return sip_call_id_; }
  std::vector<std::pair<std::string, std::string>> sip_final_headers() const override {
    return final_headers_;
  }
  std::string sip_summary() const override { return trace_.json(); }
  void set_final_headers(std::vector<std::pair<std::string, std::string>> headers) {
    final_headers_ = std::move(headers);
  }
  void watch_keys(std::function<void(char)> watch) override;
  asio::awaitable<std::optional<media::MachineVerdict>> detect_machine(
      media::MachineDetectorOptions options) override;
  asio::awaitable<twiml::RecordingOutcome> record(const twiml::Record& record,
                                                  std::string document_url) override;
  asio::awaitable<twiml::DialOutcome> dial(const twiml::Dial& dial,
                                           std::string document_url) override;
  asio::awaitable<bool> other(const twiml::Verb& verb) override;

  // Closes the media (idempotent).
  void close();

  const media::RtpSession* rtp() const { return rtp_.get(); }

 private:
  struct Shared;    // what media callbacks may touch after the leg is gone
  struct Outbound;  // an outbound leg's destination and the far end's progress
  asio::awaitable<twiml::PromptEnd> play_source(std::unique_ptr<media::AudioSource> source,
                                                bool interruptible);
  asio::awaitable<void> send_digits(const std::string& digits);
  void refuse(sip::Refusal refusal);  // a final non-2xx before answer; the leg is over
  void warn(int code, const std::string& message);
  void digit(char d);
  static media::SessionParams params_of(const sip::AudioSession& audio);
  void note_media();  // the agreed codec and the far end's RTP address, into trace_
  // "caller" for an inbound leg, "callee" for an outbound one: the far end's role.
  const char* far_end() const { return outbound_ ? "callee" : "caller"; }

  asio::any_io_executor executor_;
  SipDialogs& dialogs_;
  sip::CallHandle handle_;
  MediaContext& media_;
  std::string account_sid_;
  std::optional<MediaFigures> final_figures_;  // kept as the RTP session closes
  std::string call_sid_;
  sip::AudioSession audio_;  // what offer/answer settled
  // SRTP: the policy, and the a=crypto pair the RTP session is keyed with ("": plain RTP).
  media::SrtpPolicy srtp_policy_ = media::kDefaultSrtpPolicy;
  std::string keyed_local_, keyed_remote_;
  // Keys (or rekeys, or unkeys) the RTP session for `audio`; false when its keys are unusable.
  bool key_media(const sip::AudioSession& audio);
  sip::LocalMedia local_;  // what our SDP says
  std::string sdp_;        // what our 200 OK carries: the answer, or our offer
  std::optional<sip::SessionDescription> offer_;  // ours, until the caller's ACK answers it
  sip::AudioCapabilities caps_;                   // what we offer and accept
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<Outbound> outbound_;  // set for an outbound leg
  std::shared_ptr<media::RtpSession> rtp_;
  bool gone_ = false;  // the dialog ended (remote or local)
  bool answered_ = false;
  bool early_ = false;
  std::string sip_call_id_;  // our INVITE's Call-ID (outbound)
  SipTrace trace_;
  std::vector<std::pair<std::string, std::string>>
      final_headers_;  // X- of its final response  // early media: received (outbound)
                       // or sent in a 183 (inbound)
  // The whole-call recording (Calls.json Record), while one is running.
  struct CallRecorderState {
    std::string sid;
    std::int64_t start_time = 0;
    int channels = 1;
  };
  asio::awaitable<void> store_recording(store::Recording row);
  std::optional<CallRecorderState> call_recording_;
  std::optional<media::RecordingResult> closed_call_recording_;  // ended by close()
};

}  // namespace sb::voice
