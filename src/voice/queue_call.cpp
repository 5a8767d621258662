#include "voice/queue_call.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "core/log.hpp"
#include "voice/call_queue.hpp"
#include "voice/call_session.hpp"
#include "voice/hold_audio.hpp"
#include "voice/media_context.hpp"
#include "voice/webhook.hpp"

namespace sb::voice {
namespace {

using State = MemberInbox::State;

int seconds_between(std::int64_t from_ms, std::int64_t to_ms) {
  return static_cast<int>((to_ms - from_ms + 500) / 1000);
}

bool is_aborted(const boost::system::system_error& e) {
  return e.code() == boost::asio::error::operation_aborted;
}

}  // namespace

asio::awaitable<twiml::EnqueueOutcome> run_enqueue(CallSession& session, const twiml::Enqueue& e,
                                                   const std::string& document_url) {
  twiml::EnqueueOutcome out;
  const SessionServices& services = session.services();
  auto rtp = session.leg().media_session();
  if (session.hung_up()) {
    out.result = "system-error";  // gone before it was enqueued
    co_return out;
  }
  if (!services.queues || !rtp) {
    session.warn(12100, "<Enqueue> is not available on this call");
    co_return out;
  }
  const asio::any_io_executor ex = co_await asio::this_coro::executor;
  auto inbox = std::make_shared<MemberInbox>(ex);
  QueueRegistry& queues = *services.queues;
  const std::string call_sid = session.info().call_sid;
  auto entered = queues.enter(session.info().account_sid, e.queue_name, call_sid, ex, inbox);
  if (!entered) {
    out.result = entered.error().status == 400 ? "queue-full" : "system-error";
    session.warn(entered.error().status == 400 ? 30001 : 12100, entered.error().message);
    co_return out;
  }
  const std::string queue_sid = entered->queue.sid;
  const int entered_max = entered->queue.max_size;
  out.queue_sid = queue_sid;
  const Clock& clock = services.webhooks.clock;
  const std::int64_t start_ms = clock.now_ms();
  spdlog::info("call {} entered queue {} ({}) at position {}", call_sid, queue_sid, e.queue_name,
               entered->position);

  HoldAudioPlayer audio(session, ex);
  rtp->stop_playback();
  if (!e.wait_url_set) {
    rtp->play(std::make_unique<media::ToneSource>(hold_music()));
  } else if (!e.wait_url.empty()) {
    HoldAudio a;
    a.url = resolve_url(document_url, e.wait_url);
    a.method = e.wait_url_method;
    a.loop = true;
    a.queue_verbs = true;
    a.params = [&queues, queue_sid, call_sid, &clock, start_ms, entered_max] {
      twiml::Params p = {{"QueueSid", queue_sid},
                         {"QueueTime", std::to_string(seconds_between(start_ms, clock.now_ms()))}};
      if (auto pos = queues.position_of(queue_sid, call_sid)) {
        const QueueFigures f = queues.figures(queue_sid, entered_max);
        p.emplace_back("QueuePosition", std::to_string(pos->position));
        p.emplace_back("AvgQueueTime", std::to_string(f.average_wait_time));
        p.emplace_back("CurrentQueueSize", std::to_string(f.current_size));
        p.emplace_back("MaxQueueSize", std::to_string(f.max_size));
      }
      return p;
    };
    audio.start(std::move(a), [inbox] { inbox->wake.notify(); });
  }

  bool cancelled = false;
  std::shared_ptr<media::MixerPort> port;
  std::shared_ptr<media::AudioTap> tap;
  std::shared_ptr<QueueBridge> bridge;
  try {
    for (;;) {
      if (inbox->state == State::kRedirected) {
        out.result = "redirected";
        out.redirect_url = inbox->url;
        out.redirect_method = inbox->method;
        break;
      }
      if (inbox->state == State::kTaken) break;
      if (auto end = audio.ended(); end && !audio.running()) {
        const char* reason = *end == HoldAudioEnd::kLeave    ? "leave"
                             : *end == HoldAudioEnd::kHangup ? "hangup"
                                                             : "error";
        queues.leave(queue_sid, call_sid, reason);
        out.result = reason;
        if (*end == HoldAudioEnd::kHangup) {
          co_await session.hangup();
        }
        break;
      }
      co_await inbox->wake.wait();
    }
    co_await audio.stop();
    if (inbox->state == State::kTaken) {
      // An agent took the call: the <Queue url> for this caller first, then the bridge.
      bridge = inbox->bridge;
      out.result = "bridged";
      rtp->stop_playback();
      if (!inbox->url.empty()) {
        HoldAudio a;
        a.url = inbox->url;
        a.method = inbox->method;
        a.what = "Queue url";
        a.params = [queue_sid, call_sid, agent = bridge->agent_call_sid, &clock, start_ms] {
          return twiml::Params{
              {"QueueSid", queue_sid},
              {"QueueTime", std::to_string(seconds_between(start_ms, clock.now_ms()))},
              {"DequeingCallSid", agent}};
        };
        co_await run_hold_audio(session, std::move(a));
      }
      port = co_await asio::co_spawn(bridge->home, make_port(bridge->mixer), asio::use_awaitable);
      tap = port->tap();
      rtp->add_tap(tap);
      rtp->play(port->source());
      inbox->state = State::kBridged;
      boost::asio::post(bridge->agent_executor, [agent = bridge->agent] {
        if (auto a = agent.lock()) {
          a->member_ready = true;
          a->wake.notify();
        }
      });
      while (inbox->state != State::kBridgeOver && !session.hung_up()) {
        co_await inbox->wake.wait();
      }
    }
  } catch (const boost::system::system_error& err) {
    if (!is_aborted(err)) throw;
    cancelled = true;
  }
  if (cancelled) {
    co_await asio::this_coro::reset_cancellation_state();
  }
  if (!bridge && inbox->bridge) {
    bridge = inbox->bridge;  // taken, but the call ended before the bridge began
    out.result = "hangup";
  }
  co_await audio.stop();
  if (tap) rtp->remove_tap(tap.get());
  rtp->stop_playback();
  if (bridge) {
    if (port) {
      boost::asio::post(bridge->home,
                        [mixer = bridge->mixer, id = port->id()] { mixer->remove_port(id); });
    }
    boost::asio::post(bridge->agent_executor, [agent = bridge->agent] {
      if (auto a = agent.lock()) {
        a->member_gone = true;
        a->wake.notify();
      }
    });
  } else if (out.result == "system-error" || cancelled) {
    const bool hung_up = session.hung_up();
    queues.leave(queue_sid, call_sid, hung_up ? "hangup" : "redirected");
    if (hung_up) out.result = "hangup";
  }
  out.queue_time_s = seconds_between(start_ms, clock.now_ms());
  if (cancelled && !session.hung_up()) {
    // A live modification (Calls API): the new document runs, no action.
    throw boost::system::system_error(boost::asio::error::operation_aborted);
  }
  co_return out;
}

asio::awaitable<twiml::DialOutcome> run_dial_queue(CallSession& session, const twiml::Dial& dial,
                                                   const twiml::DialQueue& noun,
                                                   const std::string& document_url) {
  twiml::DialOutcome out;
  out.status = "failed";
  const SessionServices& services = session.services();
  co_await session.answer();
  auto rtp = session.leg().media_session();
  if (session.hung_up() || !rtp || !services.queues || !services.media) {
    out.hung_up = session.hung_up();
    co_return out;
  }
  auto row = services.store.find_queue_by_name(session.info().account_sid, noun.name);
  if (!row || !row->has_value()) {
    session.warn(13215, "Dial: queue " + noun.name + " does not exist");
    co_return out;
  }
  const std::string queue_sid = (*row)->sid;
  const asio::any_io_executor ex = co_await asio::this_coro::executor;
  auto inbox = std::make_shared<AgentInbox>(ex);
  auto bridge = std::make_shared<QueueBridge>();
  bridge->mixer = std::make_shared<media::ConferenceMixer>();
  bridge->mixer->set_active(true);
  bridge->home = ex;
  bridge->worker = &services.media->worker;
  bridge->queue_sid = queue_sid;
  bridge->agent_call_sid = session.info().call_sid;
  bridge->agent = inbox;
  bridge->agent_executor = ex;
  services.media->worker.add(bridge->mixer.get());
  const std::string url = noun.url.empty() ? "" : resolve_url(document_url, noun.url);
  QueueRegistry& queues = *services.queues;

  std::optional<QueueMemberView> taken;
  bool cancelled = false;
  std::shared_ptr<media::MixerPort> port;
  std::shared_ptr<media::AudioTap> tap;
  std::chrono::steady_clock::time_point bridged_at{};
  bool star = false;
  try {
    // Waits for a caller up to the Dial's timeout (the queue may be empty).
    const auto ring_deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(std::max(1, dial.timeout));
    for (;;) {
      inbox->member_arrived = false;
      taken = queues.take(queue_sid, bridge, url, noun.method, ex, inbox);
      if (taken) break;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          ring_deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      co_await inbox->wake.wait(left);
    }
    queues.stop_waiting(queue_sid, inbox);
    if (taken) {
      // The caller hears its <Queue url> first; then both are joined.
      while (!inbox->member_ready && !inbox->member_gone) {
        co_await inbox->wake.wait();
      }
      if (inbox->member_ready && !inbox->member_gone) {
        port = bridge->mixer->add_port();
        tap = port->tap();
        rtp->stop_playback();
        rtp->add_tap(tap);
        rtp->play(port->source());
        bridged_at = std::chrono::steady_clock::now();
        out.bridged = true;
        if (dial.hangup_on_star) {
          session.leg().watch_keys([&star, inbox](char key) {
            if (key != '*') return;
            star = true;
            inbox->wake.notify();
          });
        }
        const auto deadline = bridged_at + std::chrono::seconds(std::max(1, dial.time_limit));
        while (!inbox->member_gone && !star) {
          const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
              deadline - std::chrono::steady_clock::now());
          if (left.count() <= 0) break;
          co_await inbox->wake.wait(left);
        }
      }
    }
  } catch (const boost::system::system_error& err) {
    if (!is_aborted(err)) throw;
    cancelled = true;
  }
  if (cancelled) {
    co_await asio::this_coro::reset_cancellation_state();
  }
  queues.stop_waiting(queue_sid, inbox);
  if (dial.hangup_on_star) session.leg().watch_keys(nullptr);
  if (tap) rtp->remove_tap(tap.get());
  rtp->stop_playback();
  services.media->worker.remove(bridge->mixer.get());
  if (port) bridge->mixer->remove_port(port->id());
  if (taken && !inbox->member_gone) {
    // The bridge is over for the caller too: its document goes on after its <Enqueue>.
    boost::asio::post(bridge->member_executor, [member = bridge->member] {
      if (auto m = member.lock()) {
        m->state = State::kBridgeOver;
        m->wake.notify();
      }
    });
  }
  if (taken) {
    out.status = "completed";
    out.call_sid = taken->call_sid;
    out.duration_s = out.bridged
                         ? static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(
                                                std::chrono::steady_clock::now() - bridged_at)
                                                .count())
                         : 0;
    out.params.emplace_back("QueueSid", queue_sid);
    out.params.emplace_back("QueueTime", std::to_string(taken->wait_time));
  } else {
    out.status = cancelled ? "canceled" : "no-answer";
  }
  out.hung_up = session.hung_up();
  if (cancelled && !session.hung_up()) {
    throw boost::system::system_error(boost::asio::error::operation_aborted);
  }
  co_return out;
}

}  // namespace sb::voice
