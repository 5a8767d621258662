#include "voice/call_queue.hpp"

#include <boost/asio/post.hpp>

#include "core/log.hpp"
#include "core/sid.hpp"

namespace sb::voice {
namespace {

constexpr int kQueueFull = 1;

std::string name_key(const std::string& account_sid, const std::string& name) {
  return account_sid + '\n' + name;
}

}  // namespace

QueueRegistry::QueueRegistry(store::Store& store, const Clock& clock, CallEventSink* events)
    : store_(store), clock_(clock), events_(events) {}

Result<QueueRegistry::Entered> QueueRegistry::enter(const std::string& account_sid,
                                                    const std::string& name,
                                                    const std::string& call_sid,
                                                    boost::asio::any_io_executor executor,
                                                    std::weak_ptr<MemberInbox> inbox) {
  const std::string key = name_key(account_sid, name);
  bool known = false;
  {
    std::lock_guard lock(mu_);
    known = by_name_.contains(key);
  }
  std::optional<store::Queue> stored;
  if (!known) {
    // A short indexed read, outside the lock every worker's queue operations take.
    auto found = store_.find_queue_by_name(account_sid, name);
    if (!found) return Error::internal("queue lookup failed: " + found.error().message);
    stored = std::move(*found);
  }
  std::lock_guard lock(mu_);
  Live* live = nullptr;
  store::Queue row;
  if (auto it = by_name_.find(key); it != by_name_.end()) {
    live = &by_sid_[it->second];
    row.sid = live->sid;
  } else {
    if (stored) {
      row = *stored;
    } else {
      // Created on demand, as Twilio does; the row is written behind us (a crash before it
      // lands loses only an empty queue's name).
      row.sid = make_sid(sid_prefix::kQueue);
      row.account_sid = account_sid;
      row.friendly_name = name;
      row.date_created = row.date_updated = clock_.now_unix();
      store_.write(store::InsertQueue{row}, [name](Status s) {
        if (!s) spdlog::warn("queue {}: not saved: {}", name, s.error().message);
      });
    }
    Live& q = by_sid_[row.sid];
    q.account_sid = account_sid;
    q.sid = row.sid;
    q.name = name;
    q.max_size = row.max_size;
    by_name_[key] = row.sid;
    live = &q;
  }
  row.account_sid = account_sid;
  row.friendly_name = name;
  row.max_size = live->max_size;
  if (static_cast<int>(live->members.size()) >= live->max_size) {
    return Error::bad_request(
        kQueueFull, "queue " + name + " is full (" + std::to_string(live->max_size) + ")");
  }
  Member m;
  m.call_sid = call_sid;
  m.enqueued_ms = clock_.now_ms();
  m.date_enqueued = clock_.now_unix();
  m.executor = std::move(executor);
  m.inbox = std::move(inbox);
  live->members.push_back(std::move(m));
  const int position = static_cast<int>(live->members.size());
  if (events_) {
    events_->publish(account_sid, "queues.join", "queue.join",
                     boost::json::object{{"queue_sid", live->sid},
                                         {"friendly_name", name},
                                         {"call_sid", call_sid},
                                         {"position", position},
                                         {"current_size", position}});
  }
  // Every agent waiting on this queue looks again.
  for (const Agent& a : live->agents) {
    boost::asio::post(a.executor, [inbox = a.inbox] {
      if (auto in = inbox.lock()) {
        in->member_arrived = true;
        in->wake.notify();
      }
    });
  }
  return Entered{row, position};
}

void QueueRegistry::note_left(Live& q, const Member& m, const std::string& reason) {
  q.waited_ms_total += clock_.now_ms() - m.enqueued_ms;
  ++q.left_count;
  if (events_) {
    events_->publish(q.account_sid, "queues.leave", "queue.leave",
                     boost::json::object{{"queue_sid", q.sid},
                                         {"friendly_name", q.name},
                                         {"call_sid", m.call_sid},
                                         {"reason", reason},
                                         {"wait_time", (clock_.now_ms() - m.enqueued_ms) / 1000},
                                         {"current_size", q.members.size()}});
  }
}

std::deque<QueueRegistry::Member>::iterator QueueRegistry::find(Live& q, const std::string& who) {
  if (who == "Front") return q.members.begin();
  return std::find_if(q.members.begin(), q.members.end(),
                      [&](const Member& m) { return m.call_sid == who; });
}

void QueueRegistry::leave(const std::string& queue_sid, const std::string& call_sid,
                          const std::string& reason) {
  std::lock_guard lock(mu_);
  auto it = by_sid_.find(queue_sid);
  if (it == by_sid_.end()) return;
  Live& q = it->second;
  auto m = std::find_if(q.members.begin(), q.members.end(),
                        [&](const Member& x) { return x.call_sid == call_sid; });
  if (m == q.members.end()) return;
  Member gone = std::move(*m);
  q.members.erase(m);
  note_left(q, gone, reason);
}

QueueMemberView QueueRegistry::view(const Live& q, std::size_t index) const {
  const Member& m = q.members[index];
  QueueMemberView v;
  v.call_sid = m.call_sid;
  v.queue_sid = q.sid;
  v.position = static_cast<int>(index) + 1;
  v.date_enqueued = m.date_enqueued;
  v.wait_time = static_cast<int>((clock_.now_ms() - m.enqueued_ms) / 1000);
  return v;
}

std::optional<QueueMemberView> QueueRegistry::position_of(const std::string& queue_sid,
                                                          const std::string& call_sid) {
  std::lock_guard lock(mu_);
  auto it = by_sid_.find(queue_sid);
  if (it == by_sid_.end()) return std::nullopt;
  const auto& members = it->second.members;
  for (std::size_t i = 0; i < members.size(); ++i) {
    if (members[i].call_sid == call_sid) return view(it->second, i);
  }
  return std::nullopt;
}

std::optional<QueueMemberView> QueueRegistry::take(const std::string& queue_sid,
                                                   std::shared_ptr<QueueBridge> bridge,
                                                   const std::string& url,
                                                   const std::string& method,
                                                   boost::asio::any_io_executor agent,
                                                   std::weak_ptr<AgentInbox> inbox) {
  std::lock_guard lock(mu_);
  Live& q = by_sid_[queue_sid];
  if (q.sid.empty()) {
    // An agent on a queue nobody has entered yet (it exists in the store).
    q.sid = queue_sid;
  }
  // Callers whose worker is gone (hung up without leaving yet) are skipped.
  while (!q.members.empty()) {
    Member m = std::move(q.members.front());
    q.members.pop_front();
    if (m.inbox.expired()) continue;
    QueueMemberView v;
    v.call_sid = m.call_sid;
    v.queue_sid = q.sid;
    v.position = 1;
    v.date_enqueued = m.date_enqueued;
    v.wait_time = static_cast<int>((clock_.now_ms() - m.enqueued_ms) / 1000);
    note_left(q, m, "bridged");
    q.agents.erase(std::remove_if(q.agents.begin(), q.agents.end(),
                                  [&](const Agent& a) {
                                    return !a.inbox.owner_before(inbox) &&
                                           !inbox.owner_before(a.inbox);
                                  }),
                   q.agents.end());
    bridge->member_executor = m.executor;
    bridge->member = m.inbox;
    boost::asio::post(m.executor, [in = m.inbox, bridge, url, method] {
      if (auto member = in.lock()) {
        member->state = MemberInbox::State::kTaken;
        member->bridge = bridge;
        member->url = url;
        member->method = method;
        member->wake.notify();
        return;
      }
      // The caller's wait ended meanwhile (it hung up): the agent must not wait for it.
      boost::asio::post(bridge->agent_executor, [agent = bridge->agent] {
        if (auto a = agent.lock()) {
          a->member_gone = true;
          a->wake.notify();
        }
      });
    });
    return v;
  }
  const bool known = std::any_of(q.agents.begin(), q.agents.end(), [&](const Agent& a) {
    return !a.inbox.owner_before(inbox) && !inbox.owner_before(a.inbox);
  });
  if (!known) q.agents.push_back(Agent{std::move(agent), std::move(inbox)});
  return std::nullopt;
}

void QueueRegistry::stop_waiting(const std::string& queue_sid,
                                 const std::shared_ptr<AgentInbox>& inbox) {
  std::lock_guard lock(mu_);
  auto it = by_sid_.find(queue_sid);
  if (it == by_sid_.end()) return;
  auto& agents = it->second.agents;
  agents.erase(std::remove_if(agents.begin(), agents.end(),
                              [&](const Agent& a) {
                                auto held = a.inbox.lock();
                                return !held || held == inbox;
                              }),
               agents.end());
}

QueueFigures QueueRegistry::figures(const std::string& queue_sid, int max_size) {
  std::lock_guard lock(mu_);
  QueueFigures f;
  f.max_size = max_size;
  auto it = by_sid_.find(queue_sid);
  if (it == by_sid_.end()) return f;
  const Live& q = it->second;
  if (!q.account_sid.empty()) f.max_size = q.max_size;
  f.current_size = static_cast<int>(q.members.size());
  // Twilio computes it at request time: over the callers waiting now and those who left.
  std::int64_t total = q.waited_ms_total;
  const std::int64_t now = clock_.now_ms();
  for (const Member& m : q.members) total += now - m.enqueued_ms;
  const std::int64_t count = q.left_count + static_cast<std::int64_t>(q.members.size());
  f.average_wait_time = count ? static_cast<int>(total / count / 1000) : 0;
  return f;
}

std::vector<QueueMemberView> QueueRegistry::members(const std::string& queue_sid) {
  std::lock_guard lock(mu_);
  std::vector<QueueMemberView> out;
  auto it = by_sid_.find(queue_sid);
  if (it == by_sid_.end()) return out;
  for (std::size_t i = 0; i < it->second.members.size(); ++i) out.push_back(view(it->second, i));
  return out;
}

std::optional<QueueMemberView> QueueRegistry::member(const std::string& queue_sid,
                                                     const std::string& who) {
  std::lock_guard lock(mu_);
  auto it = by_sid_.find(queue_sid);
  if (it == by_sid_.end()) return std::nullopt;
  auto m = find(it->second, who);
  if (m == it->second.members.end()) return std::nullopt;
  return view(it->second, static_cast<std::size_t>(m - it->second.members.begin()));
}

std::optional<QueueMemberView> QueueRegistry::dequeue(const std::string& queue_sid,
                                                      const std::string& who,
                                                      const std::string& url,
                                                      const std::string& method) {
  std::lock_guard lock(mu_);
  auto it = by_sid_.find(queue_sid);
  if (it == by_sid_.end()) return std::nullopt;
  Live& q = it->second;
  auto m = find(q, who);
  if (m == q.members.end()) return std::nullopt;
  QueueMemberView v = view(q, static_cast<std::size_t>(m - q.members.begin()));
  Member gone = std::move(*m);
  q.members.erase(m);
  note_left(q, gone, "redirected");
  boost::asio::post(gone.executor, [in = gone.inbox, url, method] {
    if (auto member = in.lock()) {
      member->state = MemberInbox::State::kRedirected;
      member->url = url;
      member->method = method;
      member->wake.notify();
    }
  });
  return v;
}

void QueueRegistry::set_max_size(const std::string& queue_sid, int max_size) {
  std::lock_guard lock(mu_);
  auto it = by_sid_.find(queue_sid);
  if (it != by_sid_.end()) it->second.max_size = max_size;
}

void QueueRegistry::rename(const std::string& queue_sid, const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = by_sid_.find(queue_sid);
  if (it == by_sid_.end() || it->second.account_sid.empty()) return;
  by_name_.erase(name_key(it->second.account_sid, it->second.name));
  it->second.name = name;
  by_name_[name_key(it->second.account_sid, name)] = queue_sid;
}

void QueueRegistry::forget(const std::string& queue_sid) {
  std::lock_guard lock(mu_);
  auto it = by_sid_.find(queue_sid);
  // Agents still waiting on it look again, and find nobody ever arrives there.
  if (it == by_sid_.end() || !it->second.members.empty()) return;
  by_name_.erase(name_key(it->second.account_sid, it->second.name));
  by_sid_.erase(it);
}

std::size_t QueueRegistry::waiting_total() const {
  std::lock_guard lock(mu_);
  std::size_t n = 0;
  for (const auto& [sid, q] : by_sid_) n += q.members.size();
  return n;
}

}  // namespace sb::voice
