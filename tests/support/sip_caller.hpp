// SipCaller: the SIP messages of one caller's dialog as bytes (INVITE with or without SDP,
// CANCEL, ACK with or without an answer, re-INVITE, BYE), to drive a real sip::UserAgent without
// sockets (its Sender: FakeSender, fake_sender.hpp).
#pragma once

#include <string>
#include <string_view>

#include "sip/message.hpp"
#include "sip/transport.hpp"

namespace sb::testing {

// An audio offer or answer from 127.0.0.1:`rtp_port` (PCMU and telephone-event).
inline std::string caller_sdp(std::uint16_t rtp_port, std::string_view version = "1") {
  return "v=0\r\no=- 1 " + std::string(version) +
         " IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
         std::to_string(rtp_port) +
         " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
}

class SipCaller {
 public:
  static constexpr std::uint16_t kPort = 5099;
  static sip::Endpoint endpoint() { return {"127.0.0.1", kPort, sip::Transport::kUdp, 0}; }

  SipCaller(std::string call_id, std::string to_user)
      : call_id_(std::move(call_id)), to_user_(std::move(to_user)) {}

  std::string invite(std::string_view sdp = {}) const { return request("INVITE", 1, false, sdp); }
  std::string cancel() const { return request("CANCEL", 1, false, {}); }
  // Learns our To tag from the UA's 200 OK to the INVITE (`ok` as sent).
  void answered_by(const std::string& ok) {
    auto m = sip::Message::parse(ok);
    if (m) to_tag_ = std::string(m->to().tag());
  }
  std::string ack(std::string_view sdp = {}) const { return request("ACK", cseq_, true, sdp); }
  std::string reinvite(std::string_view sdp = {}) { return request("INVITE", ++cseq_, true, sdp); }
  std::string bye() { return request("BYE", ++cseq_, true, {}); }
  const std::string& to_tag() const { return to_tag_; }

 private:
  std::string request(std::string_view method, int cseq, bool in_dialog,
                      std::string_view sdp) const {
    // A branch per dialog and CSeq: CANCEL shares the INVITE's; a 2xx ACK has its own.
    const std::string branch = "z9hG4bK" + call_id_ + "-" + std::to_string(cseq);
    std::string m = std::string(method) + " sip:" + to_user_ + "@127.0.0.1 SIP/2.0\r\n" +
                    "Via: SIP/2.0/UDP 127.0.0.1:" + std::to_string(kPort) + ";branch=" + branch +
                    (method == "ACK" ? "ack" : "") + "\r\n" +
                    "From: <sip:+14155550100@127.0.0.1>;tag=caller1\r\n" + "To: <sip:" + to_user_ +
                    "@127.0.0.1>" + (in_dialog ? ";tag=" + to_tag_ : "") + "\r\n" +
                    "Call-ID: " + call_id_ + "\r\nCSeq: " + std::to_string(cseq) + " " +
                    std::string(method) + "\r\nMax-Forwards: 70\r\n" +
                    "Contact: <sip:caller@127.0.0.1:" + std::to_string(kPort) + ">\r\n";
    if (sdp.empty()) return m + "Content-Length: 0\r\n\r\n";
    return m + "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(sdp.size()) +
           "\r\n\r\n" + std::string(sdp);
  }

  std::string call_id_;
  std::string to_user_;
  std::string to_tag_;
  int cseq_ = 1;
};

}  // namespace sb::testing
