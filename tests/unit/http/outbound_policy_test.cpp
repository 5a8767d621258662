// OutboundPolicy: which resolved addresses a tenant's fetch may connect to.
#include "http/outbound_policy.hpp"

#include <gtest/gtest.h>

namespace sb::http {
namespace {

bool refused(const OutboundPolicy& p, const char* address) {
  return p.refusal(boost::asio::ip::make_address(address)).has_value();
}

TEST(OutboundPolicy, MetadataLinkLocalAndSpecialAddressesAreAlwaysRefused) {
  const OutboundPolicy open;  // the default: private ranges allowed
  for (const char* a :
       {"169.254.169.254", "169.254.0.1", "100.100.100.200", "0.0.0.0", "224.0.0.1",
        "255.255.255.255", "fe80::1", "fd00:ec2::254", "::", "ff02::1", "::ffff:169.254.169.254"}) {
    EXPECT_TRUE(refused(open, a)) << a;
  }
  EXPECT_NE(open.refusal(boost::asio::ip::make_address("169.254.169.254"))->find("metadata"),
            std::string::npos);
}

TEST(OutboundPolicy, PrivateRangesAreAllowedUnlessDenied) {
  OutboundPolicy deny;
  deny.deny_private = true;
  for (const char* a : {"127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "172.31.255.255",
                        "192.168.1.1", "100.64.0.1", "::1", "fd12:3456::1", "::ffff:10.0.0.1"}) {
    EXPECT_FALSE(refused(OutboundPolicy{}, a)) << a;
    EXPECT_TRUE(refused(deny, a)) << a;
  }
  EXPECT_NE(deny.refusal(boost::asio::ip::make_address("10.0.0.1"))
                ->find("http.outbound_deny_private = true"),
            std::string::npos);
}

TEST(OutboundPolicy, PublicAddressesAreAllowed) {
  OutboundPolicy deny;
  deny.deny_private = true;
  for (const char* a : {"8.8.8.8", "172.32.0.1", "172.15.255.255", "100.128.0.1", "192.169.0.1",
                        "2001:db8::1", "2606:4700::1111"}) {
    EXPECT_FALSE(refused(deny, a)) << a;
  }
}

TEST(OutboundPolicy, TheProcessDefaultIsWhatTheDaemonSet) {
  EXPECT_FALSE(OutboundPolicy::process_default().deny_private);
  OutboundPolicy::set_process_default(OutboundPolicy{.deny_private = true});
  EXPECT_TRUE(OutboundPolicy::process_default().deny_private);
  OutboundPolicy::set_process_default(OutboundPolicy{});
  EXPECT_FALSE(OutboundPolicy::process_default().deny_private);
}

}  // namespace
}  // namespace sb::http
