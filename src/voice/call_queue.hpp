// Call queues (TWILIO-VOICE-2.md §4): the callers waiting in each queue of this process, in
// order, and the agents waiting for one. <Enqueue> puts a call at the back and plays its
// waitUrl in a loop until the call is taken; <Dial><Queue> takes the front caller (or waits for
// one, up to the Dial's timeout) and bridges the two; REST dequeues a member to a URL. Queue
// rows (FriendlyName, MaxSize) live in the store; membership is live state under one mutex,
// and what a waiting call must do is posted to its own worker.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "core/time.hpp"
#include "core/wakeup.hpp"
#include "media/conference_mixer.hpp"
#include "media/media_worker.hpp"
#include "store/store.hpp"
#include "voice/call_events.hpp"

namespace sb::voice {

struct QueueMemberView {
  std::string call_sid, queue_sid;
  int position = 1;  // counted from 1 (the front)
  std::int64_t date_enqueued = 0;
  int wait_time = 0;  // seconds
};

struct QueueFigures {
  int current_size = 0;
  int average_wait_time = 0;  // seconds, over the callers who left the queue so far
  int max_size = 1000;
};

// Two calls on (possibly) different workers joined through a two-port mixer on the agent's
// worker: what <Dial><Queue> makes of an agent and the caller it took.
struct AgentInbox;
struct MemberInbox;
struct QueueBridge {
  std::shared_ptr<media::ConferenceMixer> mixer;  // ticks on the agent's worker (home)
  boost::asio::any_io_executor home;
  media::MediaWorker* worker = nullptr;
  std::string queue_sid, agent_call_sid;
  // Each side tells the other through its inbox on its own worker. The member's are set by
  // QueueRegistry::take (under its lock) before the member hears of the bridge.
  boost::asio::any_io_executor agent_executor;
  std::weak_ptr<AgentInbox> agent;
  boost::asio::any_io_executor member_executor;
  std::weak_ptr<MemberInbox> member;
};

// What a waiting member's worker hears from the registry (posted to it).
struct MemberInbox {
  explicit MemberInbox(boost::asio::any_io_executor ex) : wake(ex) {}
  enum class State { kWaiting, kRedirected, kTaken, kBridged, kBridgeOver };
  State state = State::kWaiting;
  std::string url, method;              // kRedirected: the REST dequeue's; kTaken: the <Queue url>
  std::shared_ptr<QueueBridge> bridge;  // kTaken
  Wakeup wake;
};

// What an agent's worker hears (posted to it).
struct AgentInbox {
  explicit AgentInbox(boost::asio::any_io_executor ex) : wake(ex) {}
  bool member_arrived = false;  // look at the queue again
  bool member_ready = false;    // the taken caller has heard its <Queue url> and is bridged
  bool member_gone = false;     // the taken caller hung up (before or during the bridge)
  Wakeup wake;
};

class QueueRegistry {
 public:
  QueueRegistry(store::Store& store, const Clock& clock, CallEventSink* events);

  // <Enqueue>: the queue by name (created on demand), the call at its back. Errors: the queue
  // is full (queue-full), the store failed (system-error).
  struct Entered {
    store::Queue queue;
    int position = 1;
  };
  Result<Entered> enter(const std::string& account_sid, const std::string& name,
                        const std::string& call_sid, boost::asio::any_io_executor executor,
                        std::weak_ptr<MemberInbox> inbox);
  // The call left the queue on its own (hung up, <Leave>, a failure, a live modification):
  // `reason` for queues.leave. No effect if it was already taken or dequeued.
  void leave(const std::string& queue_sid, const std::string& call_sid, const std::string& reason);
  // Position and figures for a waiting call's waitUrl parameters; nullopt once it left.
  std::optional<QueueMemberView> position_of(const std::string& queue_sid,
                                             const std::string& call_sid);

  // <Dial><Queue>: takes the front caller for `agent_call_sid`, or registers the agent to be
  // told (AgentInbox::member_arrived) when one arrives; nullopt when the queue is empty.
  std::optional<QueueMemberView> take(const std::string& queue_sid,
                                      std::shared_ptr<QueueBridge> bridge, const std::string& url,
                                      const std::string& method, boost::asio::any_io_executor agent,
                                      std::weak_ptr<AgentInbox> inbox);
  void stop_waiting(const std::string& queue_sid, const std::shared_ptr<AgentInbox>& inbox);

  // REST (any thread). `who` is a CallSid or "Front". `max_size` is the stored one, for a queue
  // nobody has entered since the start.
  QueueFigures figures(const std::string& queue_sid, int max_size);
  std::vector<QueueMemberView> members(const std::string& queue_sid);
  std::optional<QueueMemberView> member(const std::string& queue_sid, const std::string& who);
  // Members/{CallSid|Front}.json POST: the member leaves the queue and its call runs `url`
  // (QueueResult=redirected). nullopt when there is no such member.
  std::optional<QueueMemberView> dequeue(const std::string& queue_sid, const std::string& who,
                                         const std::string& url, const std::string& method);
  // FriendlyName or MaxSize changed through the API.
  void set_max_size(const std::string& queue_sid, int max_size);
  void rename(const std::string& queue_sid, const std::string& name);
  // The queue was deleted (empty): <Enqueue> of its name makes a new one.
  void forget(const std::string& queue_sid);
  std::size_t waiting_total() const;

 private:
  struct Member {
    std::string call_sid;
    std::int64_t enqueued_ms = 0;
    std::int64_t date_enqueued = 0;
    boost::asio::any_io_executor executor;
    std::weak_ptr<MemberInbox> inbox;
  };
  struct Agent {
    boost::asio::any_io_executor executor;
    std::weak_ptr<AgentInbox> inbox;
  };
  struct Live {
    std::string account_sid, sid, name;
    int max_size = 1000;
    std::deque<Member> members;
    std::vector<Agent> agents;
    std::int64_t waited_ms_total = 0;
    std::int64_t left_count = 0;
  };
  QueueMemberView view(const Live& q, std::size_t index) const;
  void note_left(Live& q, const Member& m, const std::string& reason);
  std::deque<Member>::iterator find(Live& q, const std::string& who);

  store::Store& store_;
  const Clock& clock_;
  CallEventSink* events_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Live> by_sid_;
  std::unordered_map<std::string, std::string> by_name_;  // account + '\n' + name -> sid
};

}  // namespace sb::voice
