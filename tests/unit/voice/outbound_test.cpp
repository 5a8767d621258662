// Where outbound calls go: trunks by longest prefix, sip: URIs with transport and X- headers,
// the errors for what cannot be routed; trunk settings; SIP failures in Twilio's statuses.
#include "voice/outbound.hpp"

#include <gtest/gtest.h>

namespace sb::voice {
namespace {

Trunk trunk(std::string name, std::string host, std::vector<std::string> prefixes) {
  Trunk t;
  t.name = std::move(name);
  t.host = std::move(host);
  t.port = 5080;
  t.prefixes = std::move(prefixes);
  return t;
}

TEST(Destination, ANumberTakesTheTrunkWithTheLongestMatchingPrefix) {
  std::vector<Trunk> trunks = {trunk("world", "10.0.0.1", {""}), trunk("nanp", "10.0.0.2", {"+1"}),
                               trunk("sf", "10.0.0.3", {"+1415"})};
  auto d = resolve_destination("+14155550100", trunks);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->trunk, "sf");
  EXPECT_EQ(d->target, "sip:+14155550100@10.0.0.3:5080");
  EXPECT_EQ(d->host, "10.0.0.3");
  EXPECT_EQ(d->port, 5080);
  EXPECT_EQ(d->from_domain, "10.0.0.3");
  EXPECT_EQ(resolve_destination("+12125550100", trunks)->trunk, "nanp");
  EXPECT_EQ(resolve_destination("+442071234567", trunks)->trunk, "world");
}

TEST(Destination, PrefixesWithoutPlusMatchTheNumberWithOrWithoutIt) {
  std::vector<Trunk> trunks = {trunk("uk", "10.0.0.4", {"44"})};
  EXPECT_EQ(resolve_destination("+442071234567", trunks)->trunk, "uk");
  EXPECT_EQ(resolve_destination("442071234567", trunks)->trunk, "uk");
  EXPECT_FALSE(resolve_destination("+12125550100", trunks).ok());
}

TEST(Destination, ATrunkCarriesItsCredentialsTransportAndFromDomain) {
  Trunk t = trunk("carrier", "sip.carrier.test", {"+1"});
  t.username = "acct";
  t.password = "secret";
  t.transport = sip::Transport::kTcp;
  t.from_domain = "pbx.example.com";
  auto d = resolve_destination("+12125550100", {t});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->target, "sip:+12125550100@sip.carrier.test:5080;transport=tcp");
  EXPECT_EQ(d->transport, sip::Transport::kTcp);
  ASSERT_TRUE(d->credentials.has_value());
  EXPECT_EQ(d->credentials->username, "acct");
  EXPECT_EQ(d->from_domain, "pbx.example.com");
}

TEST(Destination, NoTrunkForTheNumberIsUnroutable) {
  auto d = resolve_destination("+12125550100", {});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, 13224);
  EXPECT_NE(d.error().message.find("No SIP trunk"), std::string::npos);
}

TEST(Destination, ASipUriIsDialledDirectlyWithItsTransportAndXHeaders) {
  auto d = resolve_destination(
      "sip:alice@127.0.0.1:5099;transport=tcp?X-Customer=42&X-Note=a%20b&Priority=urgent", {},
      sip::Credentials{"u", "p"});
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->target, "sip:alice@127.0.0.1:5099;transport=tcp");
  EXPECT_EQ(d->host, "127.0.0.1");
  EXPECT_EQ(d->port, 5099);
  EXPECT_EQ(d->transport, sip::Transport::kTcp);
  ASSERT_EQ(d->headers.size(), 2u);  // only X- headers pass
  EXPECT_EQ(d->headers[0], (std::pair<std::string, std::string>{"X-Customer", "42"}));
  EXPECT_EQ(d->headers[1], (std::pair<std::string, std::string>{"X-Note", "a b"}));
  ASSERT_TRUE(d->credentials.has_value());
  EXPECT_EQ(d->credentials->username, "u");
  EXPECT_TRUE(d->trunk.empty());
}

TEST(Destination, ASipUriWithoutPortUses5060AndUdp) {
  auto d = resolve_destination("sip:bob@example.com", {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 5060);
  EXPECT_EQ(d->transport, sip::Transport::kUdp);
  EXPECT_EQ(d->target, "sip:bob@example.com");
}

TEST(Destination, BadAddressesAreRefusedWithAReason) {
  for (const char* to : {"", "sip:", "sip:alice@", "sip:a@h;transport=sctp", "hello", "+1-415",
                         "sip:a@h?X-Bad=%0d%0aVia:%20evil"}) {
    auto d = resolve_destination(to, {trunk("all", "10.0.0.1", {})});
    EXPECT_FALSE(d.ok()) << to;
    if (!d.ok()) {
      EXPECT_EQ(d.error().code, 13224) << to;
    }
  }
  auto client = resolve_destination("client:alice", {});
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.error().message.find("alice"), std::string::npos);
}

TEST(Trunk, SettingsAreChecked) {
  Trunk ok = trunk("a", "10.0.0.1", {"+1", "44", ""});
  EXPECT_TRUE(validate_trunk(ok).ok());
  Trunk t = ok;
  t.name.clear();
  EXPECT_FALSE(validate_trunk(t).ok());
  t = ok;
  t.host.clear();
  EXPECT_FALSE(validate_trunk(t).ok());
  t = ok;
  t.prefixes = {"+1x"};
  EXPECT_FALSE(validate_trunk(t).ok());
  t = ok;
  t.username = "only-user";
  EXPECT_FALSE(validate_trunk(t).ok());
}

TEST(Trunk, NothingThatCouldBreakASipHeaderIsAccepted) {
  Trunk ok = trunk("a", "10.0.0.1", {"+1"});
  for (std::string bad : {std::string("pbx.example.com\r\nVia: evil"), std::string("a b"),
                          std::string("\"quoted\""), std::string(200, 'x')}) {
    Trunk t = ok;
    t.from_domain = bad;
    EXPECT_FALSE(validate_trunk(t).ok()) << bad;
    t = ok;
    t.username = bad;
    t.password = "pw";
    EXPECT_FALSE(validate_trunk(t).ok()) << bad;
  }
  Trunk many = ok;
  many.prefixes.assign(101, "+1");
  EXPECT_FALSE(validate_trunk(many).ok());
  many.prefixes = {std::string("+") + std::string(17, '1')};
  EXPECT_FALSE(validate_trunk(many).ok());
}

TEST(CallerUser, OnlyUriSafeUserPartsReachTheFromHeader) {
  EXPECT_EQ(caller_user("+14155550100"), "+14155550100");
  EXPECT_EQ(caller_user("client:alice"), "alice");
  EXPECT_EQ(caller_user("sip:bob@example.com"), "bob");
  EXPECT_EQ(caller_user("Switchboard"), "Switchboard");
  for (const char* bad : {"", "client:", "a b", "a@b", "a;tag=x", "x\r\nVia: evil", "sip:nohost",
                          "<sip:a@b>", "\"name\""}) {
    EXPECT_FALSE(caller_user(bad).has_value()) << bad;
  }
  EXPECT_FALSE(caller_user(std::string(65, 'a')).has_value());
}

TEST(SipFailure, MapsToTwiliosStatuses) {
  EXPECT_EQ(status_of_sip_failure(486), "busy");
  EXPECT_EQ(status_of_sip_failure(600), "busy");
  EXPECT_EQ(status_of_sip_failure(408), "no-answer");
  EXPECT_EQ(status_of_sip_failure(480), "no-answer");
  EXPECT_EQ(status_of_sip_failure(487), "no-answer");
  EXPECT_EQ(status_of_sip_failure(404), "failed");
  EXPECT_EQ(status_of_sip_failure(503), "failed");
  EXPECT_EQ(status_of_sip_failure(603), "failed");
}

TEST(PhoneNumber, DigitsWithAnOptionalPlus) {
  EXPECT_TRUE(is_phone_number("+14155550100"));
  EXPECT_TRUE(is_phone_number("1000"));
  EXPECT_FALSE(is_phone_number("+"));
  EXPECT_FALSE(is_phone_number("+1 415"));
  EXPECT_FALSE(is_phone_number("sip:1000@x"));
  EXPECT_FALSE(is_phone_number("1234567890123456"));  // more than E.164's 15 digits
}

}  // namespace
}  // namespace sb::voice
