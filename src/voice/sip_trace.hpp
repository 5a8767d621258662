// SipTrace: a call's SIP signalling in brief, kept by its SIP leg and written with the call's
// record as it ends (Call.sip_summary; the console's call page and Calls/{Sid}.json's `sip`).
// Who the peer is (Call-ID, address, User-Agent, Request-URI), what media was agreed, the
// dialog's messages in order with their time from the first, the final response and who hung up.
// Bounded: a call that re-INVITEs forever keeps its first kMaxSteps messages and a count.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sb::voice {

class SipTrace {
 public:
  static constexpr std::size_t kMaxSteps = 32;
  enum class Way { kIn, kOut };

  struct Origin {
    std::string call_id;
    std::string peer;  // "address:port/transport" the INVITE came from or went to
    std::string user_agent;
    std::string request_uri;
  };

  void set_origin(Origin origin) { origin_ = std::move(origin); }
  void set_call_id(std::string call_id) { origin_.call_id = std::move(call_id); }
  // One message of the dialog: "INVITE sip:+1…", "180 Ringing", "BYE". `detail` is said after
  // it ("early media", "PCMU", "no answer in 30 s").
  void step(Way way, std::string message, std::string detail = {});
  void set_media(std::string codec, std::string remote) {
    codec_ = std::move(codec);
    remote_media_ = std::move(remote);
  }
  // The SRTP suite the media is protected with ("": plain RTP).
  void set_srtp(std::string suite) { srtp_ = std::move(suite); }
  void set_final_status(int status) { final_status_ = status; }
  // Who ended the dialog ("caller", "callee", "switchboard") and why, in a few words.
  void set_ended(std::string by, std::string why) {
    ended_by_ = std::move(by);
    end_reason_ = std::move(why);
  }
  bool empty() const { return steps_.empty(); }
  std::size_t steps() const { return steps_.size(); }
  // The JSON object the store keeps: {"call_id", "peer", "user_agent", "request_uri", "codec",
  // "remote_media", "srtp" (the suite, or null), "final_status", "ended_by", "end_reason", "steps":
  // [{"ms", "dir", "message", "detail"}], "steps_dropped"}; "" before the first step.
  std::string json() const;

 private:
  struct Step {
    std::int64_t ms = 0;
    Way way = Way::kIn;
    std::string message;
    std::string detail;
  };
  Origin origin_;
  std::string codec_, remote_media_, srtp_;
  int final_status_ = 0;
  std::string ended_by_, end_reason_;
  std::chrono::steady_clock::time_point first_{};
  std::vector<Step> steps_;
  std::size_t dropped_ = 0;
};

}  // namespace sb::voice
