// The calls alive in this process, by CallSid, so the REST API can modify a running call
// (Calls/{Sid}.json update: new Url or Twiml, Status=completed or canceled) from any thread.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sb::voice {

class CallSession;
struct CallInfo;

// A live call as a console shows it, kept by the call's worker, read from any thread.
struct LiveCall {
  std::string call_sid, account_sid, from, to, direction, status, parent_call_sid;
  std::string verb;            // the verb running now ("Say", "Dial", …), "" before the first
  std::int64_t start_ms = 0;   // Unix milliseconds
  std::int64_t answer_ms = 0;  // 0 until answered
};

// What a live modification asks: run a new document (from Url, or inline Twiml), or end the call.
struct Modification {
  std::string url;
  std::string method = "POST";
  std::string twiml;   // an inline document; wins over url when both are given
  std::string status;  // completed (hang up, answered or not) | canceled (only if unanswered)
};

class CallRegistry {
 public:
  // Called on the session's executor when it starts and ends.
  void add(const std::string& call_sid, const std::string& account_sid,
           boost::asio::any_io_executor executor, CallSession* session);
  void remove(const std::string& call_sid);

  // Posts `m` to the live call on its own worker; false when the account has no such live call.
  bool modify(const std::string& account_sid, const std::string& call_sid, Modification m);
  // Runs `fn` on the live call's worker with its session (if it is still alive there); false
  // when the account has no such live call.
  bool post(const std::string& account_sid, const std::string& call_sid,
            std::function<void(CallSession&)> fn);
  std::size_t size() const;
  // Calls added since start (inbound, outbound and child calls alike).
  std::uint64_t started() const { return started_.load(std::memory_order_relaxed); }

  // The call's from/to/direction/status as `call` has them now (the first update stamps the
  // start, the first in-progress the answer), and the verb it runs: for live views.
  void update(const std::string& call_sid, const CallInfo& call, std::int64_t now_ms);
  void set_verb(const std::string& call_sid, std::string_view verb);
  // The account's live calls, oldest first, at most `limit`.
  std::vector<LiveCall> snapshot(const std::string& account_sid, std::size_t limit) const;

  // The call's Media Streams as the REST API sees them (Streams/{Sid|Name}.json), kept by the
  // call's worker as they start and stop, read from any thread.
  struct StreamEntry {
    std::string sid, name;
    std::string status = "in-progress";  // in-progress | stopped
    bool bidirectional = false;
    std::int64_t date_updated = 0;  // Unix seconds
  };
  void put_stream(const std::string& call_sid, StreamEntry entry);
  // By SID or by name; a name finds the live stream that has it (or the last one).
  std::optional<StreamEntry> find_stream(const std::string& account_sid,
                                         const std::string& call_sid,
                                         const std::string& sid_or_name) const;

 private:
  struct Entry {
    std::string account_sid;
    boost::asio::any_io_executor executor;
    CallSession* session;
    std::vector<StreamEntry> streams;
    LiveCall live;
  };
  CallSession* find_on_executor(const std::string& call_sid);

  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> calls_;
  std::atomic<std::uint64_t> started_{0};
};

}  // namespace sb::voice
