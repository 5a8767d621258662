// Which sources an RTP session listens to ("RTP bleed" protection): the peer named in the SDP,
// or, for a caller behind NAT, the first source it learns, and nobody else afterwards. The
// policy (media.latch) and its state machine; pure, so it is tested without sockets.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>
#include <optional>
#include <string_view>

namespace sb::media {

enum class LatchPolicy {
  // RTP only from the SDP's address and port, RTCP only from that address and port + 1; we
  // send there. Nothing is learned: for trunks, PBXs and SBCs whose SDP is right.
  kStrict,
  // As kStrict when the SDP names a public address. When it names one that cannot be reached
  // from outside (RFC 1918, RFC 6598, loopback, link-local, IPv6 ULA: the caller is behind
  // NAT), the first valid RTP packet from any source is the peer.
  kNat,
  // The first valid RTP packet from any source is the peer, whatever the SDP says: for peers
  // that advertise a public address they do not send from. Open to a race (see operations.md).
  kAny,
};

inline constexpr LatchPolicy kDefaultLatchPolicy = LatchPolicy::kNat;

// "strict", "nat", "any" (case-sensitive, as the configuration file spells them).
std::optional<LatchPolicy> parse_latch_policy(std::string_view text);
std::string_view to_string(LatchPolicy policy);

// An address a peer cannot be reached at from outside its own network: an SDP naming one was
// written behind a NAT (IPv4-mapped IPv6 addresses are judged as IPv4).
bool is_private_address(const boost::asio::ip::address& address);

class PeerLatch {
 public:
  using Endpoint = boost::asio::ip::udp::endpoint;

  explicit PeerLatch(LatchPolicy policy = kDefaultLatchPolicy) : policy_(policy) {}

  // The peer's RTP address from the SDP (the offer, or a re-INVITE that moved it): forgets
  // what was latched and starts again from it.
  void expect(const Endpoint& sdp_rtp);

  // Cheap check before parsing: false for a packet from a source that is not (or cannot
  // become) the peer. RTP and muxed RTCP on the RTP port both pass here first.
  bool admits_rtp(const Endpoint& from) const;
  // A valid RTP packet (it parsed and carries a negotiated payload type) that admits_rtp let
  // through: true when it latched the peer (the first one while learning).
  bool on_rtp(const Endpoint& from);
  // Whether to accept RTCP from `from`: on the RTP port (rtcp-mux) only from the RTP peer; on
  // the RTCP port from the SDP's address and port + 1, or, once the RTP peer was learned, the
  // first RTCP source with its address (NATs map the RTCP port on their own).
  bool admits_rtcp(const Endpoint& from, bool muxed);

  LatchPolicy policy() const { return policy_; }
  bool has_peer() const { return state_ != State::kNone; }
  bool learning() const { return state_ == State::kLearning; }
  bool learned() const { return learned_; }
  // Where RTP and RTCP go: the latched source, or the SDP's address until one is learned.
  const Endpoint& rtp_peer() const { return rtp_peer_; }
  const Endpoint& rtcp_peer() const { return rtcp_peer_; }

 private:
  enum class State { kNone, kLearning, kLocked };

  LatchPolicy policy_;
  State state_ = State::kNone;
  bool learned_ = false;       // the lock came from a packet, not from the SDP
  bool rtcp_learned_ = false;  // the RTCP source is settled
  Endpoint rtp_peer_;
  Endpoint rtcp_peer_;
};

}  // namespace sb::media
