#include "voice/call_registry.hpp"

#include <boost/asio/post.hpp>

#include "voice/call_session.hpp"

namespace sb::voice {

void CallRegistry::add(const std::string& call_sid, const std::string& account_sid,
                       boost::asio::any_io_executor executor, CallSession* session) {
  std::lock_guard lock(mu_);
  calls_[call_sid] = Entry{account_sid, std::move(executor), session};
}

void CallRegistry::remove(const std::string& call_sid) {
  std::lock_guard lock(mu_);
  calls_.erase(call_sid);
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
