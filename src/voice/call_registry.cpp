#include "voice/call_registry.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "voice/call_info.hpp"
#include "voice/call_session.hpp"

namespace sb::voice {

void CallRegistry::add(const std::string& call_sid, const std::string& account_sid,
                       boost::asio::any_io_executor executor, CallSession* session) {
  std::lock_guard lock(mu_);
  auto [it, added] =
      calls_.insert_or_assign(call_sid, Entry{account_sid, std::move(executor), session, {}, {}});
  if (added) started_.fetch_add(1, std::memory_order_relaxed);
}

void CallRegistry::remove(const std::string& call_sid) {
  std::lock_guard lock(mu_);
  calls_.erase(call_sid);
}

void CallRegistry::update(const std::string& call_sid, const CallInfo& call, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto it = calls_.find(call_sid);
  if (it == calls_.end()) return;
  LiveCall& live = it->second.live;
  if (live.start_ms == 0) {
    live.call_sid = call_sid;
    live.start_ms = now_ms;
  }
  live.account_sid = call.account_sid;
  live.from = call.from;
  live.to = call.to;
  live.direction = call.direction;
  live.parent_call_sid = call.parent_call_sid;
  live.status = call.status;
  if (live.answer_ms == 0 && call.status == "in-progress") live.answer_ms = now_ms;
}

void CallRegistry::set_verb(const std::string& call_sid, std::string_view verb) {
  std::lock_guard lock(mu_);
  auto it = calls_.find(call_sid);
  if (it != calls_.end()) it->second.live.verb = verb;
}

std::vector<LiveCall> CallRegistry::snapshot(const std::string& account_sid,
                                             std::size_t limit) const {
  std::vector<LiveCall> out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [sid, entry] : calls_) {
      if (entry.account_sid == account_sid && entry.live.start_ms != 0) out.push_back(entry.live);
    }
  }
  std::sort(out.begin(), out.end(), [](const LiveCall& a, const LiveCall& b) {
    return a.start_ms != b.start_ms ? a.start_ms < b.start_ms : a.call_sid < b.call_sid;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

std::size_t CallRegistry::size() const {
  std::lock_guard lock(mu_);
  return calls_.size();
}

CallSession* CallRegistry::find_on_executor(const std::string& call_sid) {
  std::lock_guard lock(mu_);
  auto it = calls_.find(call_sid);
  return it == calls_.end() ? nullptr : it->second.session;
}

bool CallRegistry::modify(const std::string& account_sid, const std::string& call_sid,
                          Modification m) {
  boost::asio::any_io_executor executor;
  {
    std::lock_guard lock(mu_);
    auto it = calls_.find(call_sid);
    if (it == calls_.end() || it->second.account_sid != account_sid) return false;
    executor = it->second.executor;
  }
  // Looked up again on the call's own thread: a session removes itself there before it goes
  // away, so finding it there means it is alive.
  boost::asio::post(executor, [this, call_sid, m = std::move(m)]() mutable {
    if (CallSession* session = find_on_executor(call_sid)) session->modify(std::move(m));
  });
  return true;
}

bool CallRegistry::post(const std::string& account_sid, const std::string& call_sid,
                        std::function<void(CallSession&)> fn) {
  boost::asio::any_io_executor executor;
  {
    std::lock_guard lock(mu_);
    auto it = calls_.find(call_sid);
    if (it == calls_.end() || it->second.account_sid != account_sid) return false;
    executor = it->second.executor;
  }
  boost::asio::post(executor, [this, call_sid, fn = std::move(fn)] {
    if (CallSession* session = find_on_executor(call_sid)) fn(*session);
  });
  return true;
}

void CallRegistry::put_stream(const std::string& call_sid, StreamEntry entry) {
  std::lock_guard lock(mu_);
  auto it = calls_.find(call_sid);
  if (it == calls_.end()) return;
  for (StreamEntry& e : it->second.streams) {
    if (e.sid == entry.sid) {
      e = std::move(entry);
      return;
    }
  }
  it->second.streams.push_back(std::move(entry));
}

std::optional<CallRegistry::StreamEntry> CallRegistry::find_stream(
    const std::string& account_sid, const std::string& call_sid,
    const std::string& sid_or_name) const {
  std::lock_guard lock(mu_);
  auto it = calls_.find(call_sid);
  if (it == calls_.end() || it->second.account_sid != account_sid) return std::nullopt;
  std::optional<StreamEntry> by_name;
  for (const StreamEntry& e : it->second.streams) {
    if (e.sid == sid_or_name) return e;
    if (e.name == sid_or_name && (!by_name || e.status == "in-progress")) by_name = e;
  }
  return by_name;
}

}  // namespace sb::voice
