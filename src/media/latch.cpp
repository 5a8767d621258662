#include "media/latch.hpp"

namespace sb::media {

std::optional<LatchPolicy> parse_latch_policy(std::string_view text) {
  if (text == "strict") return LatchPolicy::kStrict;
  if (text == "nat") return LatchPolicy::kNat;
  if (text == "any") return LatchPolicy::kAny;
  return std::nullopt;
}

std::string_view to_string(LatchPolicy policy) {
  switch (policy) {
    case LatchPolicy::kStrict:
      return "strict";
    case LatchPolicy::kNat:
      return "nat";
    case LatchPolicy::kAny:
      return "any";
  }
  return "nat";
}

bool is_private_address(const boost::asio::ip::address& address) {
  if (address.is_v6()) {
    const auto v6 = address.to_v6();
    if (v6.is_v4_mapped()) {
      return is_private_address(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6));
    }
    const auto b = v6.to_bytes();
    return v6.is_loopback() || v6.is_unspecified() || v6.is_link_local() ||
           (b[0] & 0xFE) == 0xFC;  // fc00::/7, unique local
  }
  const std::uint32_t a = address.to_v4().to_uint();
  auto in = [a](std::uint32_t net, int bits) { return (a >> (32 - bits)) == (net >> (32 - bits)); };
  return in(0x0A000000, 8)      // 10/8
         || in(0xAC100000, 12)  // 172.16/12
         || in(0xC0A80000, 16)  // 192.168/16
         || in(0x64400000, 10)  // 100.64/10, carrier-grade NAT (RFC 6598)
         || in(0x7F000000, 8)   // loopback
         || in(0xA9FE0000, 16)  // link-local
         || in(0x00000000, 8);  // "this network", unspecified
}

void PeerLatch::expect(const Endpoint& sdp_rtp) {
  rtp_peer_ = sdp_rtp;
  rtcp_peer_ = Endpoint(sdp_rtp.address(), static_cast<std::uint16_t>(sdp_rtp.port() + 1));
  learned_ = false;
  rtcp_learned_ = false;
  const bool learn = policy_ == LatchPolicy::kAny ||
                     (policy_ == LatchPolicy::kNat && is_private_address(sdp_rtp.address()));
  state_ = learn ? State::kLearning : State::kLocked;
}

bool PeerLatch::admits_rtp(const Endpoint& from) const {
  switch (state_) {
    case State::kNone:
      return false;
    case State::kLearning:
      return true;
    case State::kLocked:
      return from == rtp_peer_;
  }
  return false;
}

bool PeerLatch::on_rtp(const Endpoint& from) {
  if (state_ != State::kLearning) return false;
  rtp_peer_ = from;
  // Until the peer's RTCP shows its port, the usual one beside its RTP.
  rtcp_peer_ = Endpoint(from.address(), static_cast<std::uint16_t>(from.port() + 1));
  state_ = State::kLocked;
  learned_ = true;
  return true;
}

bool PeerLatch::admits_rtcp(const Endpoint& from, bool muxed) {
  if (state_ != State::kLocked) return false;  // nobody to hear from yet
  if (muxed) return from == rtp_peer_;
  if (from == rtcp_peer_) {
    rtcp_learned_ = learned_;
    return true;
  }
  if (!learned_ || rtcp_learned_ || from.address() != rtp_peer_.address()) return false;
  rtcp_peer_ = from;
  rtcp_learned_ = true;
  return true;
}

}  // namespace sb::media
