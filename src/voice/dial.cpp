#include "voice/dial.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>
#include <cmath>

#include "core/log.hpp"
#include "core/sid.hpp"
#include "core/time.hpp"
#include "voice/webhook.hpp"

namespace sb::voice {
namespace {

constexpr int kDialInvalidCallerId = 13214;
constexpr int kDialInvalidNestedElement = 13215;
constexpr int kInvalidPhoneNumber = 13224;

using State = DialLink::State;

std::set<std::string> events_of(const std::vector<std::string>& listed) {
  if (listed.empty()) return {"completed"};  // Twilio's default once a statusCallback is set
  return {listed.begin(), listed.end()};
}

template <typename Noun>
VoiceApplication application_of(const Noun& noun, const std::string& document_url) {
  VoiceApplication app;
  if (!noun.url.empty()) app.url = resolve_url(document_url, noun.url);
  app.method = noun.method;
  if (!noun.status_callback.empty()) {
    app.status_callback = resolve_url(document_url, noun.status_callback);
  }
  app.status_callback_method = noun.status_callback_method;
  app.status_callback_events = events_of(noun.status_callback_event);
  return app;
}

// What the Dial reports when nobody answered: the most telling of the children's endings.
std::string unanswered_status(const std::vector<std::shared_ptr<DialLink>>& links) {
  for (const char* s : {"busy", "no-answer", "canceled"}) {
    for (const auto& l : links) {
      if (l->status == s) return s;
    }
  }
  return "failed";
}

int seconds_since(std::chrono::steady_clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t)
          .count();
  return static_cast<int>(std::lround(static_cast<double>(ms) / 1000.0));
}

}  // namespace

DialVerb::DialVerb(CallSession& parent)
    : parent_(parent), wake_(std::make_shared<Wakeup>(parent.executor())) {}

DialVerb::~DialVerb() { unbridge(nullptr); }

std::vector<DialVerb::Party> DialVerb::parties(const twiml::Dial& dial,
                                               const std::string& document_url) {
  std::vector<Party> out;
  for (const twiml::DialTarget& target : dial.targets) {
    Party p;
    if (const auto* n = std::get_if<twiml::DialNumber>(&target)) {
      p.kind = "Number";
      p.to = n->number;
      p.application = application_of(*n, document_url);
      p.send_digits = n->send_digits;
    } else if (const auto* s = std::get_if<twiml::DialSip>(&target)) {
      p.kind = "Sip";
      p.to = s->uri;
      p.application = application_of(*s, document_url);
      if (!s->username.empty()) p.credentials = sip::Credentials{s->username, s->password};
    } else if (const auto* c = std::get_if<twiml::DialClient>(&target)) {
      p.kind = "Client";
      p.to = "client:" + c->identity;
      p.application = application_of(*c, document_url);
      // As headers on the INVITE, at most kMaxParameterBytes of them (Twilio: under 1024).
      std::size_t bytes = 0;
      for (const auto& [name, value] : c->parameters) {
        const bool x = name.size() > 2 && (name[0] == 'x' || name[0] == 'X') && name[1] == '-';
        std::string header = x ? name : "X-" + name;
        bytes += header.size() + value.size() + 4;
        if (bytes > kMaxParameterBytes) {
          parent_.warn(kDialInvalidNestedElement,
                       "Dial->Client: <Parameter>s beyond 1024 bytes of headers are not sent "
                       "(from " +
                           header.substr(0, 64) + ")");
          break;
        }
        p.headers.emplace_back(std::move(header), value);
      }
    } else {
      const bool conference = std::holds_alternative<twiml::DialConference>(target);
      parent_.warn(kDialInvalidNestedElement,
                   std::string("Dial: <") + (conference ? "Conference" : "Queue") +
                       "> is dialled on its own, not beside other nouns; "
                       "skipped");
      continue;
    }
    if (out.size() == kMaxNouns) {
      parent_.warn(kDialInvalidNestedElement,
                   "Dial: more than 10 numbers, SIP URIs or clients; the extra ones (from " + p.to +
                       ") are not dialled");
      break;
    }
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::string> DialVerb::caller_id(const twiml::Dial& dial, const Party& party) {
  const CallInfo& caller = parent_.info();
  if (dial.caller_id.empty()) return caller.from;
  const std::string& id = dial.caller_id;
  // Towards a SIP URI anything goes; towards a client, a client identifier or a number.
  if (party.kind != "Number") return id;
  // Towards a number: the caller's own From or To (not for calls that came in through a SIP
  // domain: that would let a SIP user spoof), one of the account's numbers, or a verified
  // caller ID.
  const bool from_sip = !caller.sip_params.empty();
  if (!from_sip && (id == caller.from || id == caller.to)) return id;
  store::Store& store = parent_.services().store;
  if (auto owned = store.find_number_by_phone(id);
      owned && owned->has_value() && (*owned)->account_sid == caller.account_sid) {
    return id;
  }
  if (auto verified = store.find_caller_id_by_phone(caller.account_sid, id);
      verified && verified->has_value()) {
    return id;
  }
  return Error::bad_request(kDialInvalidCallerId,
                            "Dial: Invalid callerId value '" + id +
                                "': not one of the account's numbers or verified caller IDs");
}

std::shared_ptr<DialLink> DialVerb::start(const twiml::Dial& dial, const Party& party) {
  auto link = std::make_shared<DialLink>(wake_);
  link->noun = party.kind;
  auto from = caller_id(dial, party);
  ChildCalls* children = parent_.services().children;
  if (!from || !children) {
    if (!from) {
      parent_.warn(from.error().code, from.error().message, true);
    } else {
      parent_.warn(kInvalidPhoneNumber, "Dial: this call cannot place calls", true);
    }
    link->status = "failed";
    link->state = State::kEnded;
    return link;
  }
  const CallInfo& caller = parent_.info();
  OutboundRequest r;
  r.account = parent_.route().account;
  r.info.account_sid = caller.account_sid;
  r.info.call_sid = make_sid(sid_prefix::kCall);
  r.info.from = *from;
  r.info.to = party.to;
  r.info.direction = "outbound-dial";
  r.info.parent_call_sid = caller.call_sid;
  r.info.status = "queued";
  r.application = party.application;
  r.timeout_s = std::clamp(dial.timeout, 5, 600);
  r.time_limit_s = 0;  // the Dial's timeLimit ends the bridge
  r.send_digits = party.send_digits;
  r.sip_auth = party.credentials;
  r.sip_headers = party.headers;
  if (auto rtp = parent_.leg().media_session()) {
    r.preferred_codec = rtp->params().codec == media::Codec::kPcma ? "PCMA" : "PCMU";
  }
  link->call_sid = r.info.call_sid;
  children->start_child(std::move(r), link);
  return link;
}

void DialVerb::end_child(DialLink& link) {
  if (link.over()) return;
  if (!link.session) {
    link.abandoned = true;  // still being looked up: it will not be dialled
    return;
  }
  Modification m;
  m.status = link.answered_at != std::chrono::steady_clock::time_point{} ? "completed" : "canceled";
  link.session->modify(std::move(m));
}

void DialVerb::start_ringback(const std::string& country) {
  if (ringback_) return;
  auto rtp = parent_.leg().media_session();
  // Unanswered without early media: the caller's phone rings by itself on our 180.
  if (!rtp || (!parent_.leg().answered() && !caller_early_)) return;
  auto tone = media::ToneSpec::ringback(country.empty() ? "us" : country);
  rtp->play(std::make_unique<media::ToneSource>(tone.value_or(media::ToneSpec::ringback())));
  ringback_ = true;
}

void DialVerb::start_early_media(DialLink& from) {
  auto b = from.session ? from.session->leg().media_session() : nullptr;
  if (!b) return;
  stop_ringback();
  CallLeg& leg = parent_.leg();
  if (!leg.answered()) {
    leg.start_early_media();
    caller_early_ = true;
  }
  auto a = leg.media_session();
  if (!a) return;
  early_ = std::make_unique<media::RtpBridge>(a, b);
  early_from_ = &from;
}

void DialVerb::stop_ringback() {
  if (!ringback_) return;
  ringback_ = false;
  if (auto rtp = parent_.leg().media_session()) rtp->stop_playback();
}

void DialVerb::start_recording(const twiml::Dial& dial) {
  if (recording_) return;
  const bool dual = dial.record.ends_with("-dual");
  if (auto s = parent_.leg().start_call_recording(dual, dial.trim == "trim-silence"); !s) {
    parent_.warn(13217, "Dial: not recorded: " + s.error().message);
    return;
  }
  recording_ = true;
}

asio::awaitable<void> DialVerb::finish_recording(const twiml::Dial& dial,
                                                 const std::string& document_url,
                                                 twiml::DialOutcome& out) {
  if (!recording_) co_return;
  recording_ = false;
  auto done = co_await parent_.leg().stop_call_recording("DialVerb");
  if (!done) co_return;
  out.params.emplace_back("RecordingUrl", done->url);
  out.params.emplace_back("RecordingSid", done->sid);
  out.params.emplace_back("RecordingDuration", std::to_string(done->duration_s));
  const std::string url = dial.recording_status_callback.empty()
                              ? std::string()
                              : resolve_url(document_url, dial.recording_status_callback);
  parent_.announce_call_recording(*done, "DialVerb", url, dial.recording_status_callback_method,
                                  dial.recording_status_callback_event);
}

void DialVerb::bridge(DialLink& winner, bool hangup_on_star) {
  early_.reset();
  early_from_ = nullptr;
  auto a = parent_.leg().media_session();
  auto b = winner.session ? winner.session->leg().media_session() : nullptr;
  if (a && b) bridge_ = std::make_unique<media::RtpBridge>(a, b, recording_);
  const bool pass_digits = bridge_ && !bridge_->relaying();  // relayed events need no help
  std::weak_ptr<media::RtpSession> to_callee = b;
  std::weak_ptr<media::RtpSession> to_caller = a;
  parent_.leg().watch_keys(
      [wake = wake_, star = star_, hangup_on_star, pass_digits, to_callee](char key) {
        if (hangup_on_star && key == '*') {
          *star = true;
          wake->notify();
          return;
        }
        if (auto s = to_callee.lock(); s && pass_digits) s->send_digits(std::string(1, key));
      });
  if (winner.session) {
    winner.session->leg().watch_keys([pass_digits, to_caller](char key) {
      if (auto s = to_caller.lock(); s && pass_digits) s->send_digits(std::string(1, key));
    });
  }
  winner.state = State::kBridged;
}

void DialVerb::unbridge(DialLink* winner) {
  early_.reset();
  early_from_ = nullptr;
  bridge_.reset();
  parent_.leg().watch_keys(nullptr);
  if (winner && winner->session) winner->session->leg().watch_keys(nullptr);
}

asio::awaitable<twiml::DialOutcome> DialVerb::run(const twiml::Dial& dial,
                                                  const std::string& document_url) {
  twiml::DialOutcome out;
  const std::vector<Party> all = parties(dial, document_url);
  if (all.empty()) co_return out;  // failed: the parser said why
  CallLeg& leg = parent_.leg();
  const bool from_ringing = dial.record.starts_with("record-from-ringing");
  const bool record = dial.record != "do-not-record";

  std::vector<std::shared_ptr<DialLink>> links;
  std::shared_ptr<DialLink> winner;
  bool cancelled = false;
  try {
    // The caller is answered now and hears ringback, unless it waits for the bridge.
    if (!dial.answer_on_bridge) {
      co_await parent_.answer();
    }
    if (record && from_ringing && leg.answered()) start_recording(dial);
    std::vector<std::vector<std::size_t>> groups;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (dial.sequential || groups.empty()) groups.emplace_back();
      groups.back().push_back(i);
    }
    for (const auto& group : groups) {
      if (leg.hung_up()) break;
      std::vector<std::shared_ptr<DialLink>> ringing;
      for (std::size_t i : group) {
        ringing.push_back(start(dial, all[i]));
        links.push_back(ringing.back());
      }
      for (;;) {
        if (!winner) {
          for (const auto& l : ringing) {
            if (l->answered_at == std::chrono::steady_clock::time_point{}) continue;
            if (!winner || l->answered_at < winner->answered_at) winner = l;
          }
          if (winner) {
            for (const auto& l : ringing) {
              if (l != winner) end_child(*l);  // CANCEL the others
            }
            early_.reset();  // its whisper is for the called party alone
            early_from_ = nullptr;
          }
        }
        if (!winner) {
          if (early_from_ && early_from_->over()) {
            early_.reset();
            early_from_ = nullptr;
          }
          for (const auto& l : ringing) {
            if (early_from_) break;
            if (l->early_media && !l->over()) start_early_media(*l);
          }
        }
        const bool rings = winner ? winner->state == State::kAnswered
                                  : std::any_of(ringing.begin(), ringing.end(), [](const auto& l) {
                                      return l->state == State::kRinging;
                                    });
        if (rings && !early_from_) start_ringback(dial.ring_tone);
        if (winner && (winner->state == State::kReady || winner->over())) break;
        if (!winner &&
            std::all_of(ringing.begin(), ringing.end(), [](const auto& l) { return l->over(); })) {
          break;
        }
        co_await wake_->wait();
      }
      if (winner) break;
    }

    stop_ringback();
    if (winner && winner->state == State::kReady) {
      // The called party is there (and heard its whisper): the caller is answered if it was
      // waiting for this (answerOnBridge), then the two are joined.
      if (!leg.answered()) {
        co_await parent_.answer();
      }
      if (leg.answered() && !leg.hung_up()) {
        if (record && !recording_) start_recording(dial);
        bridge(*winner, dial.hangup_on_star);
        out.bridged = true;
        const auto deadline =
            std::chrono::steady_clock::now() + std::chrono::seconds(std::max(1, dial.time_limit));
        while (!winner->over() && !*star_) {
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
              deadline - std::chrono::steady_clock::now());
          if (left.count() <= 0) break;  // timeLimit: the called party is hung up
          co_await wake_->wait(left);
        }
      }
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != boost::asio::error::operation_aborted) throw;
    cancelled = true;  // the caller hung up, or its call was modified
  }
  if (cancelled) {
    co_await asio::this_coro::reset_cancellation_state();
  }

  stop_ringback();
  unbridge(winner.get());
  for (const auto& l : links) end_child(*l);
  co_await finish_recording(dial, document_url, out);

  if (winner) {
    out.status = "completed";
    out.call_sid = winner->call_sid;
    out.duration_s = seconds_since(winner->answered_at);
    out.redirected = winner->state == State::kLeft;
  } else {
    out.status = cancelled ? "canceled" : unanswered_status(links);
    if (!links.empty()) out.call_sid = links.back()->call_sid;
  }
  if (const DialLink* last = winner ? winner.get() : (links.empty() ? nullptr : links.back().get());
      last && last->noun == "Sip" && (winner || last->sip_status > 0)) {
    out.params.emplace_back("DialSipResponseCode", std::to_string(winner ? 200 : last->sip_status));
    const std::string call_id =
        last->session ? last->session->leg().sip_call_id() : last->sip_call_id;
    if (!call_id.empty()) out.params.emplace_back("DialSipCallId", call_id);
    const auto headers =
        last->session ? last->session->leg().sip_final_headers() : last->sip_headers;
    for (const auto& [name, value] : headers) {
      out.params.emplace_back("DialSipHeader_" + name, value);
    }
  }
  out.hung_up = leg.hung_up();
  if (cancelled && !leg.hung_up()) {
    // A live modification of the caller's call: its new document runs, no action.
    throw boost::system::system_error(boost::asio::error::operation_aborted);
  }
  co_return out;
}

}  // namespace sb::voice
