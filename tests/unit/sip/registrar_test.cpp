// The registrar: the location service on its own (RFC 3261 §10.3), the per-source budget, and
// REGISTER / domain INVITE authentication through a real UserAgent with a FakeDirectory.
#include "sip/registrar.hpp"

#include <gtest/gtest.h>

#include "sip/user_agent.hpp"
#include "support/fake_call_events.hpp"
#include "support/fake_directory.hpp"
#include "support/fake_sender.hpp"
#include "support/rfc4475.hpp"

namespace sb::sip {
namespace {

using namespace std::chrono_literals;
using sb::testing::FakeDirectory;

std::string register_msg(std::string_view contacts, std::string_view extra = {},
                         std::uint32_t cseq = 1, std::string_view call_id = "reg-1",
                         std::string_view user = "alice",
                         std::string_view domain = "office.example.test") {
  std::string s = "REGISTER sip:" + std::string(domain) +
                  " SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bK" +
                  std::to_string(cseq) + std::string(call_id) +
                  "\r\nFrom: <sip:" + std::string(user) + "@" + std::string(domain) +
                  ">;tag=f1\r\nTo: <sip:" + std::string(user) + "@" + std::string(domain) +
                  ">\r\nCall-ID: " + std::string(call_id) + "\r\nCSeq: " + std::to_string(cseq) +
                  " REGISTER\r\nMax-Forwards: 70\r\n";
  if (!contacts.empty()) s += "Contact: " + std::string(contacts) + "\r\n";
  s += std::string(extra);
  return s + "Content-Length: 0\r\n\r\n";
}

Message parse(const std::string& bytes) {
  ParseError e;
  auto m = Message::parse(bytes, &e);
  if (!m) ADD_FAILURE() << e.reason << " in:\n" << bytes;
  return m ? *m
           : *Message::parse(
                 "OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx\r\n"
                 "From: <sip:x@h>;tag=1\r\nTo: <sip:x@h>\r\nCall-ID: x\r\n"
                 "CSeq: 1 OPTIONS\r\n\r\n");
}

const Endpoint kPhone{"192.0.2.7", 5062, Transport::kUdp, 0};

TEST(LocationService, BindsRefreshesExpiresAndRemoves) {
  LocationService loc;
  auto out =
      loc.apply("alice@d", parse(register_msg("<sip:alice@192.0.2.7:5062>", "Expires: 300\r\n")),
                kPhone, 1000ms);
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(out.headers, "Contact: <sip:alice@192.0.2.7:5062>;expires=300\r\n");
  auto b = loc.lookup("alice@d", 1000ms);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].source, kPhone);
  // A second device; a contact's own expires beats the header; Expires is capped at max.
  out = loc.apply(
      "alice@d",
      parse(register_msg("<sip:alice@198.51.100.2>;expires=120", "Expires: 99999\r\n", 1, "reg-2")),
      kPhone, 2000ms);
  EXPECT_EQ(out.status, 200);
  ASSERT_EQ(loc.lookup("alice@d", 2000ms).size(), 2u);
  EXPECT_EQ(loc.lookup("alice@d", 2000ms)[0].contact, "sip:alice@198.51.100.2");  // newest first
  // The 120 s binding lapses on its own.
  EXPECT_EQ(loc.lookup("alice@d", 123000ms).size(), 1u);
  // A query (no Contact) lists the bindings without changing them.
  out = loc.apply("alice@d", parse(register_msg("", {}, 2)), kPhone, 3000ms);
  EXPECT_EQ(out.status, 200);
  EXPECT_NE(out.headers.find("198.51.100.2"), std::string::npos);
  // Expires: 0 on one contact removes it.
  out = loc.apply("alice@d", parse(register_msg("<sip:alice@192.0.2.7:5062>;expires=0", {}, 3)),
                  kPhone, 4000ms);
  EXPECT_EQ(out.status, 200);
  ASSERT_EQ(loc.lookup("alice@d", 4000ms).size(), 1u);
  // "*" with Expires: 0 removes them all; "*" otherwise is a 400.
  EXPECT_EQ(
      loc.apply("alice@d", parse(register_msg("*", "Expires: 60\r\n", 9, "reg-2")), kPhone, 5000ms)
          .status,
      400);
  EXPECT_EQ(
      loc.apply("alice@d", parse(register_msg("*", "Expires: 0\r\n", 9, "reg-2")), kPhone, 5000ms)
          .status,
      200);
  EXPECT_TRUE(loc.lookup("alice@d", 5000ms).empty());
  EXPECT_EQ(loc.size(), 0u);
}

TEST(LocationService, RefusesTooBriefOutOfOrderAndMalformed) {
  LocationService loc;
  auto out =
      loc.apply("a@d", parse(register_msg("<sip:a@192.0.2.7>", "Expires: 10\r\n")), kPhone, 0ms);
  EXPECT_EQ(out.status, 423);
  EXPECT_EQ(out.headers, "Min-Expires: 60\r\n");
  EXPECT_EQ(loc.size(), 0u);
  ASSERT_EQ(loc.apply("a@d", parse(register_msg("<sip:a@192.0.2.7>", {}, 5)), kPhone, 0ms).status,
            200);
  // Same Call-ID, CSeq not higher: out of order, nothing changes (§10.3 step 7).
  out = loc.apply("a@d", parse(register_msg("<sip:a@192.0.2.7>;expires=0", {}, 5)), kPhone, 0ms);
  EXPECT_EQ(out.status, 500);
  EXPECT_EQ(loc.lookup("a@d", 0ms).size(), 1u);
  // (A malformed Expires header never gets here: the parser refuses the message.)
  EXPECT_FALSE(Message::parse(register_msg("<sip:a@192.0.2.7>", "Expires: soon\r\n", 6)));
  EXPECT_EQ(loc.apply("a@d", parse(register_msg("<sip:a@192.0.2.7>;expires=x", {}, 7)), kPhone, 0ms)
                .status,
            400);
}

TEST(LocationService, KeepsAtMostMaxContactsNewestWinning) {
  RegistrarLimits limits;
  limits.max_contacts = 2;
  limits.max_aors = 1;
  LocationService loc(limits);
  for (int i = 0; i < 3; ++i) {
    const std::string contact = "<sip:a@192.0.2." + std::to_string(i + 1) + ">";
    ASSERT_EQ(loc.apply("a@d", parse(register_msg(contact, {}, 1, "c" + std::to_string(i))), kPhone,
                        std::chrono::milliseconds(i * 1000))
                  .status,
              200);
  }
  auto b = loc.lookup("a@d", 3000ms);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].contact, "sip:a@192.0.2.3");
  EXPECT_EQ(b[1].contact, "sip:a@192.0.2.2");
  // A full registrar refuses a new address of record.
  EXPECT_EQ(
      loc.apply("b@d", parse(register_msg("<sip:b@192.0.2.9>", {}, 1, "b")), kPhone, 0ms).status,
      503);
}

TEST(LocationService, Rfc4475RegistrationsBindTheRightUris) {
  LocationService loc;
  auto bind = [&](const std::string& file) {
    auto m = Message::parse(sb::testing::read_rfc4475_case(file));
    EXPECT_TRUE(m);
    auto out = loc.apply(file, *m, kPhone, 0ms);
    EXPECT_EQ(out.status, 200) << file;
    auto b = loc.lookup(file, 0ms);
    return b.empty() ? std::string() : b[0].contact;
  };
  // §3.3.12: unknownparam is a contact parameter, not part of the bound URI.
  EXPECT_EQ(bind("semantic-cparam01.sip").find("unknownparam"), std::string::npos);
  // §3.3.13: here it is a URI parameter, and stays.
  EXPECT_NE(bind("semantic-cparam02.sip").find("unknownparam"), std::string::npos);
  // §3.3.14: the escaped Route header stays in the contact URI.
  EXPECT_NE(bind("semantic-regescrt.sip").find("?Route="), std::string::npos);
  // §3.1.1.4: two distinct contacts, and the AOR's %00 does not cut anything short.
  auto m = Message::parse(sb::testing::read_rfc4475_case("valid-escnull.sip"));
  ASSERT_TRUE(m);
  ASSERT_EQ(loc.apply("null", *m, kPhone, 0ms).status, 200);
  EXPECT_EQ(loc.lookup("null", 0ms).size(), 2u);
}

TEST(SourceBudget, RefillsAtTheRateAndChargesFailures) {
  SourceBudget budget(2, 4);  // 2/s, bursts of 4
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(budget.take("a", 0ms));
  EXPECT_FALSE(budget.take("a", 0ms));
  EXPECT_TRUE(budget.take("b", 0ms));    // per source
  EXPECT_TRUE(budget.take("a", 500ms));  // one token back after 0.5 s
  EXPECT_FALSE(budget.take("a", 500ms));
  budget.charge("b", 0ms, 10);             // a failed password: b waits for its debt to refill
  EXPECT_FALSE(budget.take("b", 3000ms));  // 3 - 10 + 6 = -1
  EXPECT_TRUE(budget.take("b", 4000ms));
}

// Our registration client against our own registrar: 423 raises Expires, 401 is answered, the
// refresh comes at half the granted time, and a wrong password backs off.
TEST(OwnRegistration, RegistersToARegistrarAndKeepsItFresh) {
  sb::testing::FakeSipNetwork net;
  FakeDirectory dir;
  dir.add_domain("provider.test");
  dir.add_user("provider.test", Directory::Purpose::kRegister, "acct", "AcctPass1234");
  auto node = [&](const std::string& host, UaConfig cfg, sb::testing::FakeSender& sender,
                  sb::testing::FakeCallEvents& events) {
    cfg.host = host;
    auto ua = std::make_unique<UserAgent>(cfg, sender, events);
    net.attach(sender.self(), *ua);
    return ua;
  };
  sb::testing::FakeSender bs(net, {"10.0.0.2", 5060}), as(net, {"10.0.0.1", 5060});
  sb::testing::FakeCallEvents be, ae;
  UaConfig registrar;
  registrar.directory = &dir;
  auto b = node("10.0.0.2", registrar, bs, be);
  auto a = node("10.0.0.1", {}, as, ae);
  Registration r{"carrier",
                 "sip:acct@provider.test",
                 "sip:provider.test",
                 {"10.0.0.2", 5060, Transport::kUdp, 0},
                 Credentials{"acct", "AcctPass1234"},
                 30};
  a->add_registration(r);
  r.name = "wrong";
  r.credentials = Credentials{"acct", "NotThePass99"};
  a->add_registration(r);
  net.advance(100ms);
  EXPECT_GE(net.count("SIP/2.0 423"), 1);  // 30 s is below the registrar's 60
  auto status = a->registration_status();
  ASSERT_EQ(status.size(), 2u);
  EXPECT_TRUE(status[0].registered);
  EXPECT_EQ(status[0].granted_expires, 60);
  EXPECT_EQ(status[0].refreshes, 1u);
  ASSERT_EQ(b->registrations("acct@provider.test").size(), 1u);
  EXPECT_EQ(b->registrations("acct@provider.test")[0].contact, "sip:sb@10.0.0.1:5060");
  EXPECT_FALSE(status[1].registered);
  EXPECT_EQ(status[1].last_status, 403);
  // The refresh comes at 30 s; the failed one retries after 30 s and fails again.
  const int registers = net.count("REGISTER ");
  net.advance(31s);
  status = a->registration_status();
  EXPECT_EQ(status[0].refreshes, 2u);
  EXPECT_TRUE(status[0].registered);
  EXPECT_EQ(status[1].last_status, 403);
  EXPECT_GT(net.count("REGISTER "), registers);
  EXPECT_EQ(b->registrations("acct@provider.test").size(), 1u);  // refreshed, not doubled
}

// ---- through the user agent ----

class RegistrarUaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir.add_domain("office.example.test");
    dir.add_domain("closed.example.test", false);
    dir.add_user("office.example.test", Directory::Purpose::kRegister, "alice", "Secret123Pass");
    dir.add_user("office.example.test", Directory::Purpose::kCall, "alice", "Secret123Pass");
    UaConfig cfg;
    cfg.host = "10.0.0.1";
    cfg.directory = &dir;
    cfg.challenge_algorithms = {DigestAlgorithm::kMd5, DigestAlgorithm::kSha256};
    cfg.register_rate = 1;
    cfg.register_burst = 20;
    cfg.guard.ban_after = 4;
    ua = std::make_unique<UserAgent>(cfg, sender, events);
  }
  // Sends `bytes` from the phone; returns our final answer.
  Message send(const std::string& bytes) {
    const auto before = sender.sent.size();
    ua->on_message(bytes, kPhone, now);
    EXPECT_GT(sender.sent.size(), before);
    return parse(sender.sent.back().bytes);
  }
  // Answers `challenge_response`'s first challenge as `user` with `password`.
  std::string authorization(const Message& challenge, std::string_view method, std::string_view uri,
                            std::string_view user, std::string_view password) {
    auto ch = parse_challenge(*challenge.header(Hdr::kWwwAuthenticate));
    EXPECT_TRUE(ch);
    return "Authorization: " + make_authorization(*ch, user, password, method, uri, "c1") + "\r\n";
  }

  FakeDirectory dir;
  sb::testing::FakeSender sender;
  sb::testing::FakeCallEvents events;
  std::unique_ptr<UserAgent> ua;
  Millis now{100000};
};

TEST_F(RegistrarUaTest, ChallengesThenRegistersAndRefusesWrongPasswords) {
  const std::string contact = "<sip:alice@192.0.2.7:5062>";
  auto r = send(register_msg(contact));
  ASSERT_EQ(r.status(), 401);
  EXPECT_EQ(r.count(Hdr::kWwwAuthenticate), 2u);  // MD5 first here (the configured order)
  EXPECT_NE(r.header(Hdr::kWwwAuthenticate)->find("algorithm=MD5"), std::string::npos);
  auto ok = send(register_msg(
      contact, authorization(r, "REGISTER", "sip:office.example.test", "alice", "Secret123Pass"),
      2));
  ASSERT_EQ(ok.status(), 200);
  EXPECT_NE(ok.header(Hdr::kContact)->find("sip:alice@192.0.2.7:5062"), std::string::npos);
  ASSERT_EQ(ua->registrations("alice@office.example.test").size(), 1u);
  EXPECT_EQ(ua->registrations("alice@office.example.test")[0].source, kPhone);

  // A wrong password gets 403, not a second challenge.
  auto bad = send(register_msg(
      contact, authorization(r, "REGISTER", "sip:office.example.test", "alice", "WrongPass1234"),
      3));
  EXPECT_EQ(bad.status(), 403);
  EXPECT_EQ(ua->stats().auth_failures, 1u);
  // Registering someone else with one's own password: 403.
  dir.add_user("office.example.test", Directory::Purpose::kRegister, "bob", "BobSecret1234");
  auto theft = send(register_msg(
      contact, authorization(r, "REGISTER", "sip:office.example.test", "bob", "BobSecret1234"), 4));
  EXPECT_EQ(theft.status(), 403);
  // Unregister: Expires 0.
  auto gone = send(register_msg(
      contact + ";expires=0",
      authorization(r, "REGISTER", "sip:office.example.test", "alice", "Secret123Pass"), 5));
  EXPECT_EQ(gone.status(), 200);
  EXPECT_TRUE(ua->registrations("alice@office.example.test").empty());
}

TEST_F(RegistrarUaTest, UnknownDomainsClosedDomainsAndNonSipAors) {
  EXPECT_EQ(
      send(register_msg("<sip:a@192.0.2.7>", {}, 1, "x", "alice", "nowhere.example.test")).status(),
      404);
  EXPECT_EQ(
      send(register_msg("<sip:a@192.0.2.7>", {}, 1, "y", "alice", "closed.example.test")).status(),
      403);
  // An address is never a domain (no lookup is made for it).
  const int lookups = dir.domain_lookups;
  EXPECT_EQ(send(register_msg("<sip:a@192.0.2.7>", {}, 1, "z", "alice", "10.0.0.1")).status(), 404);
  EXPECT_EQ(dir.domain_lookups, lookups);
  // RFC 4475 §3.3.4: the To is not a SIP AOR: 400.
  EXPECT_EQ(send(sb::testing::read_rfc4475_case("semantic-unksm2.sip")).status(), 400);
}

TEST_F(RegistrarUaTest, UnknownAuthorizationSchemeIsChallenged) {
  // RFC 4475 §3.3.7: credentials of a scheme we do not know are not a failed login.
  dir.add_domain("example.com");
  EXPECT_EQ(send(sb::testing::read_rfc4475_case("semantic-regaut01.sip")).status(), 401);
  EXPECT_EQ(ua->stats().auth_failures, 0u);
}

TEST_F(RegistrarUaTest, FloodsRunOutOfBudget) {
  int limited = 0;
  for (int i = 0; i < 60; ++i) {
    auto r =
        send(register_msg("<sip:alice@192.0.2.7:5062>", {}, static_cast<std::uint32_t>(i + 1)));
    if (r.status() == 503) {
      ++limited;
      EXPECT_TRUE(r.header("Retry-After"));
    }
  }
  EXPECT_EQ(limited, 40);  // a burst of 20 passes, then the rate of 1/s (no time passes)
  EXPECT_EQ(ua->stats().registers_limited, 40u);
  // Another source is not affected.
  ua->on_message(register_msg("<sip:alice@192.0.2.8>"), Endpoint{"192.0.2.8", 5060}, now);
  EXPECT_EQ(parse(sender.sent.back().bytes).status(), 401);
}

TEST_F(RegistrarUaTest, UnknownUsersAndWrongPasswordsGetTheSameAnswer) {
  // No credentials: the same challenge whether the user exists or not.
  auto alice = send(register_msg("<sip:alice@192.0.2.7>", {}, 1, "a1"));
  auto ghost = send(register_msg("<sip:ghost@192.0.2.7>", {}, 1, "g1", "ghost"));
  EXPECT_EQ(alice.status(), 401);
  EXPECT_EQ(ghost.status(), 401);
  EXPECT_EQ(alice.count(Hdr::kWwwAuthenticate), ghost.count(Hdr::kWwwAuthenticate));
  // Credentials: a wrong password and a user that does not exist, the same status and reason.
  auto wrong = send(register_msg(
      "<sip:alice@192.0.2.7>",
      authorization(alice, "REGISTER", "sip:office.example.test", "alice", "WrongPass1234"), 2,
      "a1"));
  auto missing = send(register_msg(
      "<sip:ghost@192.0.2.7>",
      authorization(ghost, "REGISTER", "sip:office.example.test", "ghost", "WrongPass1234"), 2,
      "g1", "ghost"));
  EXPECT_EQ(wrong.status(), 403);
  EXPECT_EQ(missing.status(), 403);
  EXPECT_EQ(wrong.reason(), missing.reason());
  EXPECT_EQ(ua->stats().auth_failures, 2u);
}

TEST_F(RegistrarUaTest, RepeatedFailuresBanTheSourceWhoseMessagesAreThenDropped) {
  auto ch = send(register_msg("<sip:alice@192.0.2.7>"));
  ASSERT_EQ(ch.status(), 401);
  for (std::uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(send(register_msg("<sip:alice@192.0.2.7>",
                                authorization(ch, "REGISTER", "sip:office.example.test", "alice",
                                              "Guess" + std::to_string(i) + "Password"),
                                i + 2))
                  .status(),
              403);
  }
  // Banned: even the right password (or an OPTIONS) gets no answer at all.
  const auto sent = sender.sent.size();
  ua->on_message(
      register_msg(
          "<sip:alice@192.0.2.7>",
          authorization(ch, "REGISTER", "sip:office.example.test", "alice", "Secret123Pass"), 9),
      kPhone, now);
  EXPECT_EQ(sender.sent.size(), sent);
  EXPECT_EQ(ua->guard().stats().bans, 1u);
  EXPECT_EQ(ua->guard().stats().dropped, 1u);
  ASSERT_EQ(ua->guard().bans(now).size(), 1u);
  EXPECT_EQ(ua->guard().bans(now)[0].address, kPhone.address);
  EXPECT_TRUE(ua->registrations("alice@office.example.test").empty());
  // Another address still registers.
  ua->on_message(register_msg("<sip:alice@192.0.2.8>"), Endpoint{"192.0.2.8", 5060}, now);
  EXPECT_EQ(parse(sender.sent.back().bytes).status(), 401);
  // Lifted by an operator: the phone is answered again.
  EXPECT_TRUE(ua->guard().lift(kPhone.address));
  EXPECT_EQ(send(register_msg("<sip:alice@192.0.2.7>",
                              authorization(ch, "REGISTER", "sip:office.example.test", "alice",
                                            "Secret123Pass"),
                              10))
                .status(),
            200);
}

TEST_F(RegistrarUaTest, CallsToADomainAuthenticateAsItsUsers) {
  const std::string invite =
      "INVITE sip:bob@office.example.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch="
      "z9hG4bKinv1\r\nFrom: <sip:alice@office.example.test>;tag=a1\r\nTo: "
      "<sip:bob@office.example.test>\r\nCall-ID: inv-1\r\nCSeq: 1 INVITE\r\nContact: "
      "<sip:alice@192.0.2.7:5062>\r\nMax-Forwards: 70\r\n";
  auto r = send(invite + "Content-Length: 0\r\n\r\n");
  ASSERT_EQ(r.status(), 401);
  EXPECT_TRUE(events.incoming.empty());
  const std::string authed =
      "INVITE sip:bob@office.example.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch="
      "z9hG4bKinv2\r\nFrom: <sip:alice@office.example.test>;tag=a1\r\nTo: "
      "<sip:bob@office.example.test>\r\nCall-ID: inv-1\r\nCSeq: 2 INVITE\r\nContact: "
      "<sip:alice@192.0.2.7:5062>\r\nMax-Forwards: 70\r\n" +
      authorization(r, "INVITE", "sip:bob@office.example.test", "alice", "Secret123Pass") +
      "Content-Length: 0\r\n\r\n";
  ua->on_message(authed, kPhone, now);
  ASSERT_EQ(events.incoming.size(), 1u);
  ASSERT_TRUE(events.incoming[0].domain);
  EXPECT_EQ(events.incoming[0].domain->name, "office.example.test");
  EXPECT_EQ(events.incoming[0].auth_user, "alice");
  EXPECT_EQ(events.incoming[0].to_user, "bob");
  // A call to our address (not a domain) needs no domain credentials.
  ua->on_message(
      "INVITE sip:+15551234@10.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKinv3"
      "\r\nFrom: <sip:x@192.0.2.7>;tag=b\r\nTo: <sip:+15551234@10.0.0.1>\r\nCall-ID: inv-3\r\n"
      "CSeq: 1 INVITE\r\nContact: <sip:x@192.0.2.7:5062>\r\nMax-Forwards: 70\r\n"
      "Content-Length: 0\r\n\r\n",
      kPhone, now);
  ASSERT_EQ(events.incoming.size(), 2u);
  EXPECT_FALSE(events.incoming[1].domain);
}

}  // namespace
}  // namespace sb::sip
