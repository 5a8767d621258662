#include "voice/sip_call_leg.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <cmath>

#include "core/log.hpp"
#include "core/random.hpp"
#include "core/sid.hpp"
#include "core/text.hpp"
#include "core/wakeup.hpp"

namespace sb::voice {
namespace {

// Twilio's debugger codes for what a SIP far end did to an outbound call.
constexpr int kSipEndpointError = 32011;   // an error response, no response, no address
constexpr int kSipBadSdp = 32102;          // the answer's SDP is missing or not usable
constexpr int kSipRedirectFailed = 32219;  // a 3xx (not followed)

[[noreturn]] void throw_cancelled() {
  throw boost::system::system_error(asio::error::operation_aborted);
}

// Twilio's voice names onto the built-in engines: man → kal, woman/alice/Polly/Google → slt
// for English; other languages go to whichever engine speaks them with its default voice.
std::string engine_voice(const std::string& voice, const std::string& language) {
  const bool english = language.empty() || language.rfind("en", 0) == 0;
  if (!english) return "";
  if (voice == "man" || voice == "kal") return "kal";
  if (voice == "slt") return "slt";
  return "slt";
}

// Audio played `loop` times (TwiML's loop: 0 repeats until interrupted).
std::unique_ptr<media::AudioSource> looped(const media::SharedPcm& pcm, int loop) {
  std::unique_ptr<media::AudioSource> source = std::make_unique<media::PcmSource>(pcm);
  if (loop == 1) return source;
  return std::make_unique<media::LoopSource>(std::move(source),
                                             static_cast<std::uint32_t>(std::max(0, loop)));
}

}  // namespace

// ---- the leg ----

struct SipCallLeg::Shared {
  explicit Shared(const asio::any_io_executor& ex)
      : digit_wake(ex), record_wake(ex), machine_wake(ex) {}
  std::string digits;  // buffered for collect_digits
  std::function<void(char)> key_watch;
  bool accepting = false;  // inside a Gather (interruptible prompts or collection)
  Wakeup digit_wake;
  Wakeup record_wake;
  std::optional<media::RecordingResult> recording;
  Wakeup machine_wake;  // a verdict, or the media's end
  std::optional<media::MachineVerdict> machine;
};

namespace {
// The answering-machine detector on the RTP session's tick: hands its verdict over once.
class MachineTap final : public media::AudioTap {
 public:
  using Done = std::function<void(const media::MachineVerdict&)>;
  MachineTap(media::MachineDetectorOptions options, Done done)
      : detector_(options), done_(std::move(done)) {}
  void on_audio(std::span<const std::int16_t> inbound, std::span<const std::int16_t>) override {
    if (!done_) return;
    if (auto v = detector_.feed(inbound)) std::exchange(done_, nullptr)(*v);
  }

 private:
  media::MachineDetector detector_;
  Done done_;
};
}  // namespace

struct SipCallLeg::Outbound {
  explicit Outbound(const asio::any_io_executor& ex) : wake(ex) {}
  Destination destination;
  std::string unroutable;  // why there is no destination
  std::string from_user;
  Wakeup wake;
  std::optional<Result<sip::CallHandle>> dialed;
  bool ringing = false;
  std::optional<std::string> answer;  // the 200 OK's SDP
  std::optional<std::pair<int, std::string>> failure;
};

SipCallLeg::SipCallLeg(asio::any_io_executor executor, SipDialogs& dialogs, sip::CallHandle handle,
                       MediaContext& media, std::string account_sid, std::string call_sid)
    : executor_(std::move(executor)),
      dialogs_(dialogs),
      handle_(handle),
      media_(media),
      account_sid_(std::move(account_sid)),
      call_sid_(std::move(call_sid)),
      shared_(std::make_shared<Shared>(executor_)) {
  srtp_policy_ = media.srtp;
}

SipCallLeg::~SipCallLeg() { close(); }

media::SessionParams SipCallLeg::params_of(const sip::AudioSession& audio) {
  media::SessionParams p;
  p.remote_address = audio.remote_address;
  p.remote_port = audio.remote_port;
  p.codec = media::codec_from_name(audio.codec.name).value_or(media::Codec::kPcmu);
  p.payload_type = audio.codec.payload_type;
  p.telephone_event_pt = audio.telephone_event_pt;
  p.ptime = audio.ptime;
  p.send = !audio.remote_hold && (audio.direction == sip::Direction::kSendRecv ||
                                  audio.direction == sip::Direction::kSendOnly);
  p.receive =
      audio.direction == sip::Direction::kSendRecv || audio.direction == sip::Direction::kRecvOnly;
  return p;
}

std::optional<sip::Refusal> SipCallLeg::prepare(std::string_view sdp_offer) {
  sip::LocalMedia local;
  local.address = media_.rtp_address;
  local.port = 9;  // until the RTP port is known (written into our SDP below)
  local.session_id = handle_ * 7919 + 1 + std::hash<std::string>{}(call_sid_) % 1000000007;
  local.session_version = 1;
  if (srtp_policy_ != media::SrtpPolicy::kOff) {
    // Fresh keys for each suite we take; the answer (ours or theirs) settles on one.
    local.crypto = {media::format_crypto_attribute(
                        media::make_crypto_attribute(1, media::SrtpSuite::kAesCm128HmacSha1_80)),
                    media::format_crypto_attribute(
                        media::make_crypto_attribute(2, media::SrtpSuite::kAesCm128HmacSha1_32))};
    local.require_srtp = srtp_policy_ == media::SrtpPolicy::kRequired;
  }
  const sip::AudioCapabilities& caps = caps_;
  sip::SessionDescription ours;
  if (!outbound_) {
    trace_.step(SipTrace::Way::kIn, "INVITE", sdp_offer.empty() ? "no SDP offer" : "SDP offer");
  }
  if (sdp_offer.empty()) {
    // No offer (RFC 3261 §13.2.1): our 200 OK offers and the caller answers in the ACK
    // (take_answer). Until then nothing is sent: there is no address to send to.
    ours = sip::make_offer(local, caps);
    offer_ = ours;
    audio_ = sip::AudioSession{};
    audio_.codec = caps.codecs.front();
    audio_.telephone_event_pt = caps.telephone_event_pt;
  } else {
    auto offer = sip::parse_sdp(sdp_offer);
    if (!offer) return sip::Refusal::not_acceptable("bad SDP offer: " + offer.error().message);
    auto answer = sip::make_answer(*offer, local, caps);
    if (!answer) return sip::Refusal::not_acceptable(answer.error().message);
    ours = std::move(answer->sdp);
    audio_ = answer->audio;
    note_media();
  }

  media::SessionParams params = params_of(audio_);
  params.send = false;  // no media before the 200 OK
  std::weak_ptr<Shared> weak = shared_;
  media::RtpSession::Callbacks callbacks;
  callbacks.on_dtmf = [weak, this](const media::DtmfEvent& e) {
    if (e.end) return;  // the digit counts when it begins (barge-in is immediate)
    if (weak.lock()) digit(e.digit);
  };
  callbacks.on_recording = [weak](const media::RecordingResult& r) {
    if (auto s = weak.lock()) {
      s->recording = r;
      s->record_wake.notify();
    }
  };
  auto opened = media::RtpSession::open(media_.worker, media_.ports, media_.rtp_address, params,
                                        std::move(callbacks));
  if (!opened) return sip::Refusal::overloaded("no RTP port: " + opened.error().message);
  rtp_ = std::move(*opened);
  rtp_->set_log_name(call_sid_);
  if (!key_media(audio_)) {
    close();
    return sip::Refusal::not_acceptable("the offer's SRTP key (a=crypto) is not usable");
  }
  local.port = rtp_->local_port();
  ours.media[audio_.media_index].port = local.port;
  if (offer_) offer_ = ours;
  sdp_ = sip::to_string(ours);
  // Once SRTP, always SRTP: a re-INVITE may not take the call back to plain RTP (a downgrade
  // that anyone able to forge signalling would want), and our own re-offers stay RTP/SAVP.
  if (audio_.secure) local.require_srtp = true;
  local_ = local;
  return std::nullopt;
}

bool SipCallLeg::take_answer(std::string_view sdp) {
  if (!offer_) return !gone_;
  auto answer = sip::parse_sdp(sdp);
  auto audio =
      answer ? sip::apply_answer(*offer_, *answer) : Result<sip::AudioSession>(answer.error());
  offer_.reset();
  if (!audio) {
    // An answer we cannot use ends the session (RFC 3261 §13.2.1 leaves only BYE).
    spdlog::info("call {}: the caller's answer is not usable ({}): hanging up", call_sid_,
                 audio.error().message);
    if (!gone_) {
      dialogs_.hangup(handle_);
      if (outbound_) trace_.step(SipTrace::Way::kOut, "ACK");
      trace_.step(SipTrace::Way::kOut, "BYE", "the SDP answer is not usable");
      trace_.set_ended("switchboard", "unusable SDP answer: " + audio.error().message);
    }
    gone_ = true;
    close();
    return false;
  }
  if (!outbound_) trace_.step(SipTrace::Way::kIn, "ACK", "SDP answer");
  remote_media(*audio);
  return true;
}

bool SipCallLeg::key_media(const sip::AudioSession& audio) {
  if (!rtp_) return true;
  if (!audio.secure) {
    if (rtp_->secure()) rtp_->set_srtp(nullptr);  // a re-INVITE went back to plain RTP
    keyed_local_.clear();
    keyed_remote_.clear();
    trace_.set_srtp({});
    return true;
  }
  if (audio.local_crypto == keyed_local_ && audio.remote_crypto == keyed_remote_) return true;
  const auto local = media::parse_crypto_attribute(audio.local_crypto);
  const auto remote = media::parse_crypto_attribute(audio.remote_crypto);
  if (!local || !remote || local->suite != remote->suite) return false;
  auto session = media::SrtpSession::create(*local, *remote);
  if (!session) {
    spdlog::warn("call {}: {}", call_sid_, session.error().message);
    return false;
  }
  rtp_->set_srtp(std::move(*session));
  keyed_local_ = audio.local_crypto;
  keyed_remote_ = audio.remote_crypto;
  trace_.set_srtp(std::string(media::to_string(local->suite)));
  return true;
}

void SipCallLeg::note_media() {
  trace_.set_media(audio_.codec.name.empty() ? std::string() : audio_.codec.name + "/8000",
                   audio_.remote_address.empty()
                       ? std::string()
                       : audio_.remote_address + ":" + std::to_string(audio_.remote_port));
}

void SipCallLeg::ring() {
  if (gone_ || answered_ || outbound_) return;
  dialogs_.ringing(handle_);
  trace_.step(SipTrace::Way::kOut, "180 Ringing");
}

void SipCallLeg::note_end(sip::EndReason reason) {
  if (gone_) return;  // we ended it (BYE, CANCEL or a refusal are in the trace already)
  switch (reason) {
    case sip::EndReason::kRemoteHangup:
      trace_.step(SipTrace::Way::kIn, "BYE");
      trace_.set_ended(far_end(), "BYE");
      break;
    case sip::EndReason::kCancelled:
      trace_.step(SipTrace::Way::kIn, "CANCEL");
      trace_.step(SipTrace::Way::kOut, "487 Request Terminated");
      trace_.set_final_status(487);
      trace_.set_ended(far_end(), "CANCEL before answer");
      break;
    case sip::EndReason::kNoAck:
      trace_.step(SipTrace::Way::kOut, "BYE", "no ACK for the 200 OK");
      trace_.set_ended("switchboard", "the ACK for our 200 OK never arrived");
      break;
    case sip::EndReason::kTimeout:
      trace_.step(SipTrace::Way::kOut, "BYE", "session timer expired");
      trace_.set_ended("switchboard", "no session refresh before the session timer expired");
      break;
    case sip::EndReason::kNoAnswer:
      trace_.step(SipTrace::Way::kOut, "BYE", "the ACK brought no SDP answer");
      trace_.set_ended("switchboard", "the ACK brought no answer to our offer");
      break;
    case sip::EndReason::kLocalHangup:
      trace_.set_ended("switchboard", "hung up");
      break;
  }
}

namespace {
CallLeg::MediaFigures figures_of(const media::RtpSession& rtp) {
  const auto& st = rtp.stats();
  CallLeg::MediaFigures f;
  f.packets_received = st.received;
  f.packets_sent = st.sent;
  f.bytes_received = st.received_bytes;
  f.bytes_sent = st.sent_bytes;
  f.packets_lost = rtp.packets_lost();
  f.packets_late = st.late;
  return f;
}
}  // namespace

std::optional<CallLeg::MediaFigures> SipCallLeg::media_figures() const {
  if (rtp_) return figures_of(*rtp_);
  return final_figures_;
}

void SipCallLeg::close() {
  if (!rtp_) return;
  auto rtp = std::move(rtp_);
  rtp->close();  // ends playback and recording; their callbacks see the end
  final_figures_ = figures_of(*rtp);
  shared_->machine_wake.notify();  // no more audio: a detection waiting for it ends
  // The whole-call recording's file is complete: kept for stop_call_recording.
  if (call_recording_) closed_call_recording_ = rtp->stop_call_recording();
}

void SipCallLeg::remote_end() {
  gone_ = true;
  close();
  if (outbound_) outbound_->wake.notify();
}

// ---- outbound ----

std::optional<sip::Refusal> SipCallLeg::prepare_outbound(Result<Destination> destination,
                                                         std::string from_user,
                                                         const std::string& preferred_codec) {
  outbound_ = std::make_shared<Outbound>(executor_);
  if (destination && destination->srtp) srtp_policy_ = *destination->srtp;
  std::stable_partition(caps_.codecs.begin(), caps_.codecs.end(),
                        [&](const sip::Codec& c) { return c.name == preferred_codec; });
  if (destination) {
    outbound_->destination = std::move(*destination);
  } else {
    outbound_->unroutable = destination.error().message;
    return std::nullopt;
  }
  outbound_->from_user = std::move(from_user);
  return prepare({});  // no offer to answer: ours goes in the INVITE
}

void SipCallLeg::on_progress(int status, std::string_view early_sdp) {
  if (!outbound_) return;
  trace_.step(SipTrace::Way::kIn,
              std::to_string(status) + (status == 180 ? " Ringing" : " Session Progress"),
              early_sdp.empty() ? "" : "early media");
  if (!early_sdp.empty() && !early_ && offer_ && rtp_ && !gone_) {
    // Early media: listen to it (our offer stays open: the 200 OK answers it again).
    auto answer = sip::parse_sdp(early_sdp);
    auto audio =
        answer ? sip::apply_answer(*offer_, *answer) : Result<sip::AudioSession>(answer.error());
    if (audio && key_media(*audio)) {
      early_ = true;
      audio_ = *audio;
      media::SessionParams params = params_of(audio_);
      params.send = false;
      (void)rtp_->update(params);
      if (on_early_media) on_early_media();
    }
  }
  outbound_->ringing = true;
  outbound_->wake.notify();
}

void SipCallLeg::on_remote_answer(std::string_view sdp) {
  if (!outbound_) return;
  trace_.step(SipTrace::Way::kIn, "200 OK");
  trace_.set_final_status(200);
  outbound_->answer = std::string(sdp);
  outbound_->wake.notify();
}

void SipCallLeg::on_remote_failure(int status, std::string_view reason) {
  if (!outbound_) return;
  trace_.step(SipTrace::Way::kIn, std::to_string(status) + " " + std::string(reason));
  trace_.set_final_status(status);
  trace_.set_ended("callee", "refused the call");
  outbound_->failure = std::make_pair(status, std::string(reason));
  outbound_->wake.notify();
}

asio::awaitable<PlaceOutcome> SipCallLeg::place(std::chrono::seconds timeout,
                                                std::function<void()> on_ringing) {
  PlaceOutcome out;
  auto failed = [&](int sip_status, std::string status, std::string reason) {
    out.sip_status = sip_status;
    out.status = std::move(status);
    out.reason = std::move(reason);
    gone_ = true;
    close();
    return out;
  };
  if (outbound_ && !outbound_->unroutable.empty()) {
    warn(13224, outbound_->unroutable);
    co_return failed(0, "failed", outbound_->unroutable);
  }
  if (!outbound_ || !rtp_ || gone_) {
    spdlog::warn("call {}: not placed: no RTP port is free", call_sid_);
    co_return failed(0, "failed", "no RTP port is free");
  }
  auto o = outbound_;
  const Destination& d = o->destination;

  // The next hop's address (a trunk may be named).
  std::string address = d.host;
  boost::system::error_code bad;
  (void)asio::ip::make_address(address, bad);
  if (bad) {
    asio::ip::udp::resolver resolver(executor_);
    auto [error, found] = co_await resolver.async_resolve(address, std::to_string(d.port),
                                                          asio::as_tuple(asio::use_awaitable));
    if (error || found.empty()) {
      warn(kSipEndpointError, "cannot resolve " + d.host + ": " + error.message());
      co_return failed(0, "failed", "cannot resolve " + d.host);
    }
    address = found.begin()->endpoint().address().to_string();
  }
  sip::OutboundCall call;
  call.target = d.target;
  call.from =
      "sip:" + o->from_user + "@" + (d.from_domain.empty() ? media_.rtp_address : d.from_domain);
  call.next_hop = sip::Endpoint{address, d.port, d.transport, d.connection};
  call.next_hop.tls_name = d.host;  // the certificate must name the host we were given
  call.next_hop.tls_verify = d.tls_verify;
  call.forks = d.forks;
  call.sdp_offer = sdp_;
  call.credentials = d.credentials;
  call.headers = d.headers;
  // As Twilio's SIP does: the far end can tie the INVITE to the call's REST resource.
  call.headers.emplace_back("X-Twilio-AccountSid", account_sid_);
  call.headers.emplace_back("X-Twilio-CallSid", call_sid_);
  if (d.forks.empty()) {
    call.call_id = random_hex(16) + "@" + media_.rtp_address;
    sip_call_id_ = call.call_id;
  }
  trace_.set_origin(SipTrace::Origin{
      sip_call_id_,
      address + ":" + std::to_string(d.port) + "/" + to_lower(to_string(d.transport)),
      {},
      call.target});
  trace_.step(
      SipTrace::Way::kOut, "INVITE",
      d.forks.empty() ? "SDP offer" : std::to_string(d.forks.size() + 1) + " branches forked");
  // The reply registers the handle at once, in this handler: the far end's progress is posted
  // right behind it and must find the call (not wait for this coroutine to resume).
  dialogs_.dial(std::move(call), executor_, [this, o](Result<sip::CallHandle> handle) {
    if (handle) {
      handle_ = *handle;
      if (on_dialed) on_dialed(handle_);
    }
    o->dialed = std::move(handle);
    o->wake.notify();
  });

  // Every wait below ends at a notify, the deadline or a cancellation. The dial's reply always
  // comes (the SIP worker answers at once); a cancellation before it is acted on after it.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool cancelled = false;
  bool rang = false;
  for (;;) {
    if (o->dialed) {
      if (!*o->dialed) {
        warn(kSipEndpointError, "the INVITE could not be sent: " + o->dialed->error().message);
        co_return failed(0, "failed", o->dialed->error().message);
      }
      if (cancelled) {
        dialogs_.hangup(handle_);  // CANCEL (or BYE if the 200 crossed it)
        trace_.step(SipTrace::Way::kOut, "CANCEL", "the call was canceled");
        trace_.set_ended("switchboard", "canceled while ringing");
        gone_ = true;
        close();
        throw_cancelled();
      }
      if (o->failure) {
        auto [code, reason] = *o->failure;
        const std::string said = std::to_string(code) + " " + reason;
        const std::string status = status_of_sip_failure(code);
        if (code >= 300 && code < 400) {
          warn(kSipRedirectFailed,
               "the far end redirected the call (" + said + "): redirects are not followed");
        } else if (status == "failed") {
          warn(kSipEndpointError, "the far end refused the call: " + said);
        }
        co_return failed(code, status, said);
      }
      if (o->answer) {
        const std::string sdp = std::move(*o->answer);
        o->answer.reset();
        if (!take_answer(sdp)) {  // it has sent BYE
          warn(kSipBadSdp, "the far end answered without a usable SDP answer");
          co_return failed(488, "failed", "no usable SDP in the 200 OK");
        }
        answered_ = true;
        note_media();
        trace_.step(SipTrace::Way::kOut, "ACK");
        if (rtp_) (void)rtp_->update(params_of(audio_));  // media flows from now on
        out.answered = true;
        out.sip_status = 200;
        co_return out;
      }
      if (gone_) co_return failed(0, "failed", "the dialog ended before an answer");
      if (o->ringing && !rang) {
        rang = true;
        if (on_ringing) on_ringing();
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        dialogs_.hangup(handle_);  // CANCEL: the far end rang for the whole Timeout
        trace_.step(SipTrace::Way::kOut, "CANCEL",
                    "no answer in " + std::to_string(timeout.count()) + " s");
        trace_.set_ended("switchboard", "no answer within the timeout");
        co_return failed(487, "no-answer",
                         "no answer within " + std::to_string(timeout.count()) + " s");
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    try {
      co_await o->wake.wait(std::max(left, std::chrono::milliseconds(0)));
    } catch (const boost::system::system_error&) {
      cancelled = true;
    }
    if (cancelled) {
      co_await asio::this_coro::reset_cancellation_state();
    }
  }
}

void SipCallLeg::on_sip_dtmf(char d) {
  digit(d);
  // INFO digits do not pass through the RTP session's barge-in: stop an interruptible prompt.
  if (shared_->accepting && rtp_ && rtp_->playing()) rtp_->stop_playback();
}

void SipCallLeg::start_early_media() {
  if (early_ || answered_ || gone_ || outbound_ || !rtp_ || offer_) return;
  early_ = true;
  dialogs_.early_media(handle_, sdp_);
  trace_.step(SipTrace::Way::kOut, "183 Session Progress", "early media");
  (void)rtp_->update(params_of(audio_));  // media flows to the caller from the 183 on
}

void SipCallLeg::watch_keys(std::function<void(char)> watch) {
  shared_->key_watch = std::move(watch);
}

void SipCallLeg::digit(char d) {
  if (shared_->key_watch) shared_->key_watch(d);
  if (!shared_->accepting) return;  // outside a Gather, Twilio ignores keys
  if (shared_->digits.size() < 64) shared_->digits.push_back(d);
  shared_->digit_wake.notify();
}

void SipCallLeg::remote_media(const sip::AudioSession& audio) {
  if (!rtp_) return;
  // The first answer (from an ACK) completes the offer/answer; later ones are re-INVITEs.
  if (answered_) {
    trace_.step(SipTrace::Way::kIn, "re-INVITE", audio.remote_hold ? "hold" : "media update");
  }
  if (!key_media(audio)) {
    spdlog::warn("call {}: the SRTP keys of the new answer are not usable: media unchanged",
                 call_sid_);
    return;
  }
  audio_ = audio;
  note_media();
  media::SessionParams params = params_of(audio_);
  if (!answered_) params.send = false;
  if (auto s = rtp_->update(params); !s) {
    spdlog::warn("call {}: re-INVITE not applied: {}", call_sid_, s.error().message);
  }
}

asio::awaitable<void> SipCallLeg::answer() {
  if (gone_ || answered_ || !rtp_) co_return;
  struct Reply {
    explicit Reply(asio::any_io_executor ex) : wake(std::move(ex)) {}
    Wakeup wake;
    std::optional<Status> verdict;
  };
  auto reply = std::make_shared<Reply>(executor_);
  dialogs_.answer(handle_, sdp_, executor_, [reply](Status verdict) {
    reply->verdict = std::move(verdict);
    reply->wake.notify();
  });
  // The UA's verdict always comes (the SIP worker decides at once), and the leg's state must
  // say what it did: a hang-up or live modification meanwhile is raised again after it.
  bool cancelled = false;
  while (!reply->verdict) {
    try {
      co_await reply->wake.wait();
    } catch (const boost::system::system_error&) {
      cancelled = true;
    }
    if (cancelled) {
      co_await asio::this_coro::reset_cancellation_state();
    }
  }
  if (*reply->verdict) {
    answered_ = true;
    trace_.step(SipTrace::Way::kOut, "200 OK", audio_.codec.name);
    trace_.set_final_status(200);
    // Media flows from the 200 OK on (in the direction the offer allowed).
    if (rtp_) (void)rtp_->update(params_of(audio_));
  } else {
    // The caller's CANCEL won: it got 487, and the router hears of the end.
    trace_.step(SipTrace::Way::kIn, "CANCEL", "before our 200 OK");
    trace_.step(SipTrace::Way::kOut, "487 Request Terminated");
    trace_.set_final_status(487);
    trace_.set_ended("caller", "CANCEL before answer");
    gone_ = true;
    close();
  }
  if (cancelled) throw_cancelled();
}

void SipCallLeg::refuse(sip::Refusal refusal) {
  if (!gone_ && !answered_) {
    if (outbound_) {
      if (handle_ != 0) {
        dialogs_.hangup(handle_);  // ours is the INVITE: CANCEL it
        trace_.step(SipTrace::Way::kOut, "CANCEL");
      }
    } else {
      trace_.step(SipTrace::Way::kOut,
                  std::to_string(refusal.status) +
                      (refusal.reason.empty() ? std::string() : " " + refusal.reason),
                  refusal.detail);
      trace_.set_final_status(refusal.status);
      dialogs_.reject(handle_, std::move(refusal));
    }
    trace_.set_ended("switchboard", "refused before answer");
    gone_ = true;
  }
  close();
}

asio::awaitable<void> SipCallLeg::reject(const std::string& reason) {
  refuse(reason == "busy" ? sip::Refusal::busy() : sip::Refusal::decline());
  co_return;
}

asio::awaitable<void> SipCallLeg::cancel() {
  refuse(sip::Refusal::request_terminated());
  co_return;
}

asio::awaitable<void> SipCallLeg::hangup() {
  if (!answered_) {
    refuse(sip::Refusal::decline());  // never picked up: a decline, not a BYE
    co_return;
  }
  if (!gone_) {
    dialogs_.hangup(handle_);
    trace_.step(SipTrace::Way::kOut, "BYE");
    trace_.set_ended("switchboard", "hung up");
    gone_ = true;
  }
  close();
  co_return;
}

void SipCallLeg::warn(int code, const std::string& message) {
  spdlog::warn("call {}: {} ({})", call_sid_, message, code);
  if (!media_.notifications) return;
  store::Notification n;
  n.sid = make_sid(sid_prefix::kNotification);
  n.account_sid = account_sid_;
  n.call_sid = call_sid_;
  n.log = 1;
  n.error_code = code;
  n.message_text = message;
  n.date_created = media_.clock ? media_.clock->now_unix() : 0;
  media_.notifications->record(std::move(n));
}

asio::awaitable<twiml::PromptEnd> SipCallLeg::play_source(
    std::unique_ptr<media::AudioSource> source, bool interruptible) {
  if (gone_ || !rtp_) co_return twiml::PromptEnd::kHungUp;
  if (interruptible) {
    shared_->accepting = true;
    if (!shared_->digits.empty()) co_return twiml::PromptEnd::kInterrupted;
  } else {
    shared_->accepting = false;
  }
  auto wake = std::make_shared<Wakeup>(executor_);
  auto how = std::make_shared<std::optional<media::PlaybackEnd>>();
  media::PlayOptions options;
  options.barge_in = interruptible;
  rtp_->play(std::move(source), options, [wake, how](media::PlaybackEnd e) {
    *how = e;
    wake->notify();
  });
  bool cancelled = false;
  try {
    co_await wake->wait();
  } catch (const boost::system::system_error&) {
    cancelled = true;
  }
  if (cancelled) {
    if (rtp_) rtp_->stop_playback();  // a live modification: the new document speaks now
    throw_cancelled();
  }
  if (gone_) co_return twiml::PromptEnd::kHungUp;
  switch (how->value_or(media::PlaybackEnd::kStopped)) {
    case media::PlaybackEnd::kCompleted:
      co_return twiml::PromptEnd::kCompleted;
    case media::PlaybackEnd::kInterrupted:
      co_return twiml::PromptEnd::kInterrupted;
    case media::PlaybackEnd::kStopped:
      co_return interruptible ? twiml::PromptEnd::kInterrupted : twiml::PromptEnd::kCompleted;
  }
  co_return twiml::PromptEnd::kCompleted;
}

asio::awaitable<twiml::PromptEnd> SipCallLeg::say(const twiml::Say& say, bool interruptible) {
  if (gone_) co_return twiml::PromptEnd::kHungUp;
  if (say.text.empty()) co_return twiml::PromptEnd::kCompleted;
  // Keys count from here on inside a Gather, even while the speech is still being made.
  shared_->accepting = interruptible;
  if (interruptible && !shared_->digits.empty()) co_return twiml::PromptEnd::kInterrupted;
  media::SpeechRequest request;
  request.text = say.text;
  request.language = say.language;
  request.voice = engine_voice(say.voice, say.language);
  auto speech = co_await media_.tts.speak_async(std::move(request));
  if (gone_) co_return twiml::PromptEnd::kHungUp;
  if (!speech) {
    warn(speech.error().code, speech.error().message);
    co_return twiml::PromptEnd::kCompleted;
  }
  auto source = looped(*speech, say.loop);
  co_return co_await play_source(std::move(source), interruptible);
}

asio::awaitable<void> SipCallLeg::send_digits(const std::string& digits) {
  // 'w' waits half a second, 'W' a second; runs of keys go out as RFC 4733 events (100 ms on, 100
  // ms off).
  std::string run;
  auto flush = [&]() -> asio::awaitable<void> {
    if (run.empty() || !rtp_) co_return;
    const auto ms = std::chrono::milliseconds(200 * static_cast<int>(run.size()));
    rtp_->send_digits(run);
    run.clear();
    Wakeup pause(executor_);
    co_await pause.wait(ms);
  };
  for (char c : digits) {
    if (c == 'w' || c == 'W') {
      co_await flush();
      Wakeup pause(executor_);
      co_await pause.wait(std::chrono::milliseconds(c == 'w' ? 500 : 1000));
    } else {
      run.push_back(c);
    }
  }
  co_await flush();
}

asio::awaitable<twiml::PromptEnd> SipCallLeg::play(const twiml::Play& play, bool interruptible) {
  if (gone_) co_return twiml::PromptEnd::kHungUp;
  if (!play.digits.empty()) {
    co_await send_digits(play.digits);
    if (gone_) co_return twiml::PromptEnd::kHungUp;
    if (play.url.empty()) co_return twiml::PromptEnd::kCompleted;
  }
  shared_->accepting = interruptible;
  if (interruptible && !shared_->digits.empty()) co_return twiml::PromptEnd::kInterrupted;
  auto pcm = co_await media_.audio.load(play.url, account_sid_);
  if (gone_) co_return twiml::PromptEnd::kHungUp;
  if (!pcm) {
    warn(pcm.error().code, pcm.error().message + " (" + play.url + ")");
    co_return twiml::PromptEnd::kCompleted;
  }
  auto source = looped(*pcm, play.loop);
  co_return co_await play_source(std::move(source), interruptible);
}

asio::awaitable<twiml::PromptEnd> SipCallLeg::pause(int seconds, bool interruptible) {
  if (gone_) co_return twiml::PromptEnd::kHungUp;
  const auto length = std::chrono::milliseconds(std::max(0, seconds) * 1000);
  if (!interruptible) {
    shared_->accepting = false;
    Wakeup quiet(executor_);
    co_await quiet.wait(length);
    co_return gone_ ? twiml::PromptEnd::kHungUp : twiml::PromptEnd::kCompleted;
  }
  shared_->accepting = true;
  if (!shared_->digits.empty()) co_return twiml::PromptEnd::kInterrupted;
  const auto until = std::chrono::steady_clock::now() + length;
  while (shared_->digits.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const bool woke = co_await shared_->digit_wake.wait(left);
    if (!woke) break;
  }
  if (gone_) co_return twiml::PromptEnd::kHungUp;
  co_return shared_->digits.empty() ? twiml::PromptEnd::kCompleted : twiml::PromptEnd::kInterrupted;
}

asio::awaitable<twiml::CollectedDigits> SipCallLeg::collect_digits(
    const twiml::DigitCollection& spec) {
  twiml::CollectedDigits out;
  shared_->accepting = true;
  const auto timeout = std::chrono::milliseconds(std::max(1, spec.timeout_s) * 1000);
  for (;;) {
    while (!shared_->digits.empty()) {
      const char d = shared_->digits.front();
      shared_->digits.erase(0, 1);
      if (!spec.finish_on_key.empty() && spec.finish_on_key.find(d) != std::string::npos) {
        out.finished_on_key = std::string(1, d);
        shared_->accepting = false;
        shared_->digits.clear();
        co_return out;
      }
      out.digits.push_back(d);
      if (spec.num_digits && static_cast<int>(out.digits.size()) >= *spec.num_digits) {
        shared_->accepting = false;
        shared_->digits.clear();
        co_return out;
      }
    }
    if (gone_) {
      out.hung_up = true;
      co_return out;
    }
    // The timeout runs from the last key (or from the end of the prompts).
    const bool woke = co_await shared_->digit_wake.wait(timeout);
    if (!woke) break;
  }
  shared_->accepting = false;
  out.hung_up = gone_;
  co_return out;
}

// Stores a finished recording's row (completed, its WAV named after its SID) and waits, at most
// 10 s, for the commit. A cancellation meanwhile (the caller hung up) does not stop it: the
// recording still reaches whoever is told of it next.
asio::awaitable<void> SipCallLeg::store_recording(store::Recording row) {
  if (!media_.store) co_return;
  row.account_sid = account_sid_;
  row.status = "completed";
  row.date_created = media_.clock ? media_.clock->now_unix() : row.start_time;
  row.date_updated = row.date_created;
  row.media_path = row.sid + ".wav";
  auto written = std::make_shared<Wakeup>(executor_);
  media_.store->write(
      store::InsertRecording{row},
      [written, ex = asio::prefer(executor_, asio::execution::outstanding_work.tracked),
       sid = row.sid](Status s) {
        if (!s) spdlog::error("recording {} not stored: {}", sid, s.error().message);
        asio::post(ex, [written] { written->notify(); });
      });
  bool interrupted = false;
  try {
    co_await written->wait(std::chrono::seconds(10));
  } catch (const boost::system::system_error&) {
    interrupted = true;
  }
  if (interrupted) {
    co_await asio::this_coro::reset_cancellation_state();
  }
}

Status SipCallLeg::start_call_recording(bool dual, bool trim) {
  if (gone_ || !rtp_) return Error::internal("the call is over");
  if (call_recording_) return Error::internal("the call is already being recorded");
  CallRecorderState state;
  state.sid = make_sid(sid_prefix::kRecording);
  state.channels = dual ? 2 : 1;
  state.start_time = media_.clock ? media_.clock->now_unix() : 0;
  media::RecordingOptions options;
  options.path = (media_.recordings_dir / (state.sid + ".wav")).string();
  options.channels = dual ? media::RecordChannels::kBoth : media::RecordChannels::kMixed;
  options.max_length_s = 0;  // the call's length
  options.silence_timeout_s = 0;
  options.finish_on_key.clear();
  options.trim_silence = trim;
  if (auto s = rtp_->start_call_recording(std::move(options)); !s) return s;
  call_recording_ = std::move(state);
  return Ok{};
}

asio::awaitable<std::optional<CallLeg::CallRecording>> SipCallLeg::stop_call_recording(
    std::string source) {
  if (!call_recording_) co_return std::nullopt;
  const CallRecorderState state = std::move(*call_recording_);
  call_recording_.reset();
  std::optional<media::RecordingResult> result;
  if (rtp_) result = rtp_->stop_call_recording();
  if (!result) result = closed_call_recording_;
  CallRecording out;
  out.sid = state.sid;
  out.channels = state.channels;
  out.start_time = state.start_time;
  out.url = media_.public_url + "/2010-04-01/Accounts/" + account_sid_ + "/Recordings/" + state.sid;
  out.duration_s = result ? static_cast<int>(std::lround(result->duration_s())) : 0;
  store::Recording row;
  row.sid = state.sid;
  row.call_sid = call_sid_;
  row.source = std::move(source);
  row.channels = state.channels;
  row.duration = out.duration_s;
  row.start_time = state.start_time;
  co_await store_recording(std::move(row));  // listed before the callback says so
  co_return out;
}

asio::awaitable<twiml::RecordingOutcome> SipCallLeg::record(const twiml::Record& r,
                                                            std::string /*document_url*/) {
  twiml::RecordingOutcome out;
  if (gone_ || !rtp_) {
    out.hung_up = true;
    co_return out;
  }
  shared_->accepting = false;
  shared_->digits.clear();
  if (r.play_beep) {
    auto beep = std::make_unique<media::ToneSource>(media::ToneSpec::beep());
    co_await play_source(std::move(beep), false);
    if (gone_ || !rtp_) {
      out.hung_up = true;
      co_return out;
    }
  }
  const std::string sid = make_sid(sid_prefix::kRecording);  // the directory exists (SipFront)
  media::RecordingOptions options;
  options.path = (media_.recordings_dir / (sid + ".wav")).string();
  options.channels = media::RecordChannels::kInbound;
  options.max_length_s = static_cast<std::uint32_t>(std::max(0, r.max_length));
  options.silence_timeout_s = static_cast<std::uint32_t>(std::max(0, r.timeout));
  options.finish_on_key = r.finish_on_key;
  options.trim_silence = r.trim != "do-not-trim";
  shared_->recording.reset();
  const std::int64_t started = media_.clock ? media_.clock->now_unix() : 0;
  if (auto s = rtp_->start_recording(options); !s) {
    warn(s.error().code ? s.error().code : 13610, "Record: " + s.error().message);
    co_return out;
  }
  bool cancelled = false;
  try {
    while (!shared_->recording) {
      co_await shared_->record_wake.wait();
    }
  } catch (const boost::system::system_error&) {
    cancelled = true;
  }
  if (cancelled) {
    if (rtp_) rtp_->stop_recording();
    if (!gone_) throw_cancelled();  // a live modification: no action, the new document runs
    // The caller hung up: the recording (complete and playable) still reaches the action URL.
    co_await asio::this_coro::reset_cancellation_state();
  }
  const media::RecordingResult result = shared_->recording.value_or(
      media::RecordingResult{media::RecordingEnd::kStopped, options.path, 0, 0});
  out.recording_sid = sid;
  out.start_time = started;
  out.recording_url =
      media_.public_url + "/2010-04-01/Accounts/" + account_sid_ + "/Recordings/" + sid;
  out.duration_s = static_cast<int>(std::lround(result.duration_s()));
  out.hung_up = gone_;
  if (result.reason == media::RecordingEnd::kKey && result.key) {
    out.digits = std::string(1, result.key);
  } else if (gone_) {
    out.digits = "hangup";
  }
  // Listed (and downloadable) before the action URL hears of it.
  store::Recording row;
  row.sid = sid;
  row.call_sid = call_sid_;
  row.source = "RecordVerb";
  row.channels = 1;
  row.duration = out.duration_s;
  row.start_time = started;
  co_await store_recording(std::move(row));
  co_return out;
}

asio::awaitable<std::optional<media::MachineVerdict>> SipCallLeg::detect_machine(
    media::MachineDetectorOptions options) {
  if (gone_ || !rtp_) co_return std::nullopt;
  shared_->machine.reset();
  auto tap = std::make_shared<MachineTap>(
      options, [weak = std::weak_ptr<Shared>(shared_)](const media::MachineVerdict& v) {
        if (auto s = weak.lock()) {
          s->machine = v;
          s->machine_wake.notify();
        }
      });
  rtp_->add_tap(tap);
  try {
    while (!shared_->machine && rtp_) {
      co_await shared_->machine_wake.wait();
    }
  } catch (const boost::system::system_error&) {
    if (rtp_) rtp_->remove_tap(tap.get());
    throw;
  }
  if (rtp_) rtp_->remove_tap(tap.get());
  co_return std::exchange(shared_->machine, std::nullopt);
}

asio::awaitable<twiml::DialOutcome> SipCallLeg::dial(const twiml::Dial&, std::string) {
  // A leg alone cannot dial: its CallSession places the other party (voice/dial.hpp).
  warn(13223, "Dial: this call cannot dial");
  twiml::DialOutcome out;
  out.status = "failed";
  out.hung_up = gone_;
  co_return out;
}

asio::awaitable<bool> SipCallLeg::other(const twiml::Verb& verb) {
  warn(12100, std::string("verb <") + std::string(twiml::verb_name(verb)) +
                  "> is not supported on this platform yet; skipped");
  co_return true;
}

}  // namespace sb::voice
