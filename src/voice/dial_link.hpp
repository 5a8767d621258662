// What a <Dial> and each call it places (a child leg: direction outbound-dial) tell each other.
// Both run on the parent call's worker, so the link is plain shared state: the child's session
// moves `state` forward and wakes the Dial; the Dial ends a child through its session (as a
// live modification would) and joins the answered one's media to the caller's.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/wakeup.hpp"
#include "sip/user_agent.hpp"

namespace sb::voice {

class CallSession;
struct Destination;
struct OutboundRequest;

struct DialLink {
  enum class State {
    kStarting,  // its destination is being looked up
    kDialling,  // INVITE sent (its session runs)
    kRinging,   // 180/183
    kAnswered,  // 200 OK: its whisper (the noun's url) runs
    kReady,     // whisper done: waiting to be bridged
    kBridged,   // the Dial joined it to the caller
    kLeft,      // a live modification took it out of the Dial (it runs a document of its own)
    kEnded,     // its session is over (final status below)
  };
  explicit DialLink(std::shared_ptr<Wakeup> dial_wake) : wake(std::move(dial_wake)) {}

  void move_to(State s) {
    state = s;
    wake->notify();
  }
  bool over() const { return state == State::kLeft || state == State::kEnded; }

  std::shared_ptr<Wakeup> wake;  // the Dial's
  State state = State::kStarting;
  CallSession* session = nullptr;  // while the child's session exists
  std::string call_sid;
  std::string noun;  // Number, Sip or Client (what the action parameters depend on)
  std::chrono::steady_clock::time_point answered_at{};
  bool early_media = false;  // it sends audio before answering (183 with SDP)
  // Once over.
  std::string status;       // completed, busy, no-answer, failed, canceled
  int sip_status = 0;       // the final response to its INVITE
  std::string sip_call_id;  // its INVITE's Call-ID
  std::vector<std::pair<std::string, std::string>> sip_headers;  // X- of its final response
  // Set by the Dial when it no longer wants a child that has not started yet.
  bool abandoned = false;
};

// How a CallSession places a Dial's child calls: the worker running the parent runs them too.
class ChildCalls {
 public:
  virtual ~ChildCalls() = default;
  // Looks up `request.info.to` (a number through the account's trunks, a sip: URI, client:NAME
  // at its registrations), then starts the child's session on this worker, which reports
  // through `link` (kEnded with failed when the destination is unknown).
  virtual void start_child(OutboundRequest request, std::shared_ptr<DialLink> link) = 0;
};

}  // namespace sb::voice
