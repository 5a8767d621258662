// The calls alive in this process, by CallSid, so the REST API can modify a running call
// (Calls/{Sid}.json update: new Url or Twiml, Status=completed or canceled) from any thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace sb::voice {

class CallSession;

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
  };
  CallSession* find_on_executor(const std::string& call_sid);

  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> calls_;
};

}  // namespace sb::voice
