#include "media/latch.hpp"

#include <gtest/gtest.h>

namespace sb::media {
namespace {

using boost::asio::ip::make_address;
using Endpoint = PeerLatch::Endpoint;

Endpoint at(const char* address, std::uint16_t port) { return {make_address(address), port}; }

TEST(LatchPolicy, ParsesTheConfigurationSpelling) {
  EXPECT_EQ(parse_latch_policy("strict"), LatchPolicy::kStrict);
  EXPECT_EQ(parse_latch_policy("nat"), LatchPolicy::kNat);
  EXPECT_EQ(parse_latch_policy("any"), LatchPolicy::kAny);
  EXPECT_FALSE(parse_latch_policy("yes"));
  EXPECT_FALSE(parse_latch_policy("NAT"));
  EXPECT_FALSE(parse_latch_policy(""));
  for (auto p : {LatchPolicy::kStrict, LatchPolicy::kNat, LatchPolicy::kAny}) {
    EXPECT_EQ(parse_latch_policy(to_string(p)), p);
  }
  EXPECT_EQ(kDefaultLatchPolicy, LatchPolicy::kNat);
}

TEST(PrivateAddress, AddressesAPeerCannotBeReachedAtFromOutside) {
  for (const char* a : {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.10", "100.64.0.1",
                        "100.127.255.254", "127.0.0.1", "169.254.10.1", "0.0.0.0", "::1",
                        "::", "fe80::1", "fd00::5", "fc00::1", "::ffff:192.168.0.7"}) {
    EXPECT_TRUE(is_private_address(make_address(a))) << a;
  }
  for (const char* a :
       {"8.8.8.8", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.0", "192.169.0.1",
        "203.0.113.5", "2001:db8::1", "::ffff:203.0.113.5", "11.0.0.1"}) {
    EXPECT_FALSE(is_private_address(make_address(a))) << a;
  }
}

TEST(PeerLatch, NothingIsHeardBeforeThereIsAPeer) {
  PeerLatch latch;
  EXPECT_FALSE(latch.has_peer());
  EXPECT_FALSE(latch.admits_rtp(at("203.0.113.5", 4000)));
  EXPECT_FALSE(latch.admits_rtcp(at("203.0.113.5", 4001), false));
}

TEST(PeerLatch, StrictHearsOnlyTheSdpAddressAndPort) {
  PeerLatch latch(LatchPolicy::kStrict);
  latch.expect(at("192.168.1.10", 4000));  // private, and still nothing is learned
  EXPECT_FALSE(latch.learning());
  EXPECT_TRUE(latch.admits_rtp(at("192.168.1.10", 4000)));
  EXPECT_FALSE(latch.admits_rtp(at("192.168.1.10", 4002)));
  EXPECT_FALSE(latch.admits_rtp(at("198.51.100.7", 4000)));
  EXPECT_FALSE(latch.on_rtp(at("192.168.1.10", 4000)));  // nothing to learn
  EXPECT_TRUE(latch.admits_rtcp(at("192.168.1.10", 4001), false));
  EXPECT_FALSE(latch.admits_rtcp(at("192.168.1.10", 4003), false));
  EXPECT_TRUE(latch.admits_rtcp(at("192.168.1.10", 4000), true));  // muxed
  EXPECT_FALSE(latch.admits_rtcp(at("192.168.1.10", 4001), true));
  EXPECT_EQ(latch.rtp_peer(), at("192.168.1.10", 4000));
  EXPECT_EQ(latch.rtcp_peer(), at("192.168.1.10", 4001));
}

TEST(PeerLatch, NatWithAPublicSdpAddressIsStrict) {
  PeerLatch latch(LatchPolicy::kNat);
  latch.expect(at("203.0.113.5", 4000));
  EXPECT_FALSE(latch.learning());
  EXPECT_TRUE(latch.admits_rtp(at("203.0.113.5", 4000)));
  EXPECT_FALSE(latch.admits_rtp(at("203.0.113.5", 4100)));
  EXPECT_FALSE(latch.admits_rtp(at("198.51.100.7", 4000)));
  EXPECT_FALSE(latch.admits_rtcp(at("203.0.113.5", 4101), false));
}

TEST(PeerLatch, NatWithAPrivateSdpAddressLatchesTheFirstSourceForGood) {
  PeerLatch latch(LatchPolicy::kNat);
  latch.expect(at("192.168.1.10", 4000));
  EXPECT_TRUE(latch.learning());
  EXPECT_EQ(latch.rtp_peer(), at("192.168.1.10", 4000));             // sent there until learned
  EXPECT_FALSE(latch.admits_rtcp(at("198.51.100.7", 3001), false));  // nobody known yet
  EXPECT_TRUE(latch.admits_rtp(at("198.51.100.7", 3000)));
  EXPECT_TRUE(latch.on_rtp(at("198.51.100.7", 3000)));
  EXPECT_TRUE(latch.learned());
  EXPECT_EQ(latch.rtp_peer(), at("198.51.100.7", 3000));
  EXPECT_EQ(latch.rtcp_peer(), at("198.51.100.7", 3001));
  EXPECT_FALSE(latch.on_rtp(at("203.0.113.9", 5000)));  // never again
  EXPECT_FALSE(latch.admits_rtp(at("203.0.113.9", 5000)));
  EXPECT_FALSE(latch.admits_rtp(at("198.51.100.7", 3002)));
  EXPECT_FALSE(latch.admits_rtp(at("192.168.1.10", 4000)));
  // RTCP: another address never; the first port the peer's address uses, then only that one.
  EXPECT_FALSE(latch.admits_rtcp(at("203.0.113.9", 3001), false));
  EXPECT_TRUE(latch.admits_rtcp(at("198.51.100.7", 61000), false));
  EXPECT_EQ(latch.rtcp_peer(), at("198.51.100.7", 61000));
  EXPECT_FALSE(latch.admits_rtcp(at("198.51.100.7", 3001), false));
  EXPECT_TRUE(latch.admits_rtcp(at("198.51.100.7", 61000), false));
  EXPECT_TRUE(latch.admits_rtcp(at("198.51.100.7", 3000), true));
  EXPECT_FALSE(latch.admits_rtcp(at("198.51.100.7", 61000), true));
}

TEST(PeerLatch, TheGuessedRtcpPortSettlesTheRtcpSourceToo) {
  PeerLatch latch(LatchPolicy::kNat);
  latch.expect(at("10.0.0.2", 4000));
  ASSERT_TRUE(latch.on_rtp(at("198.51.100.7", 3000)));
  EXPECT_TRUE(latch.admits_rtcp(at("198.51.100.7", 3001), false));
  EXPECT_FALSE(latch.admits_rtcp(at("198.51.100.7", 62000), false));
}

TEST(PeerLatch, AnyLearnsEvenFromAPublicSdpAddress) {
  PeerLatch latch(LatchPolicy::kAny);
  latch.expect(at("203.0.113.5", 4000));
  EXPECT_TRUE(latch.learning());
  EXPECT_TRUE(latch.on_rtp(at("198.51.100.7", 3000)));
  EXPECT_FALSE(latch.admits_rtp(at("203.0.113.5", 4000)));
}

TEST(PeerLatch, ANewSdpAddressStartsOver) {
  PeerLatch latch(LatchPolicy::kNat);
  latch.expect(at("192.168.1.10", 4000));
  ASSERT_TRUE(latch.on_rtp(at("198.51.100.7", 3000)));
  latch.expect(at("203.0.113.5", 6000));  // a re-INVITE to a public address: strict again
  EXPECT_FALSE(latch.learned());
  EXPECT_FALSE(latch.admits_rtp(at("198.51.100.7", 3000)));
  EXPECT_TRUE(latch.admits_rtp(at("203.0.113.5", 6000)));
  latch.expect(at("10.9.9.9", 7000));  // and to a private one: learning again
  EXPECT_TRUE(latch.learning());
  EXPECT_TRUE(latch.on_rtp(at("198.51.100.8", 3100)));
  EXPECT_EQ(latch.rtp_peer(), at("198.51.100.8", 3100));
}

}  // namespace
}  // namespace sb::media
