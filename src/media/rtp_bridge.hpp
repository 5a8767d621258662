// Two RTP sessions of one worker joined as a B2BUA joins two call legs: each leg's far end hears
// what the other's sends. With the same codec and packet time on both sides (and nobody
// listening to the decoded audio) packets are relayed as they arrive, payload untouched, each
// leg keeping its own SSRC, sequence numbers and timestamps (RtpSession::relay_to); RFC 4733
// events go with them. Otherwise each side is decoded (after its jitter buffer) and played to
// the other, 20 ms at a time, re-encoded in that leg's codec; digits are then passed on by
// whoever watches the legs' keys (RtpSession::send_digits). Ending the bridge (destruction)
// hands each session back to its own player.
#pragma once

#include <memory>

#include "media/rtp_session.hpp"

namespace sb::media {

class RtpBridge {
 public:
  // `decode`: decode even when a relay would do (a recording of the bridge needs the audio).
  RtpBridge(std::shared_ptr<RtpSession> a, std::shared_ptr<RtpSession> b, bool decode = false);
  ~RtpBridge();
  RtpBridge(const RtpBridge&) = delete;
  RtpBridge& operator=(const RtpBridge&) = delete;

  // Whether packets are relayed (false: decoded and re-encoded).
  bool relaying() const { return relaying_; }
  // Whether the two sessions' negotiation allows relaying.
  static bool can_relay(const RtpSession& a, const RtpSession& b);

 private:
  class Feed;  // a tap on one side writing into the ring the other side plays
  std::shared_ptr<RtpSession> a_, b_;
  bool relaying_ = false;
  std::shared_ptr<Feed> a_to_b_, b_to_a_;
};

}  // namespace sb::media
