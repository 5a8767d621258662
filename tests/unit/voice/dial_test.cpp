// DialVerb against fakes: which nouns become calls (and what is left out, with a warning), how
// callerId is checked, and the outcome when the children end without an answer. The bridge
// itself is tested end to end (tests/integration/dial.test.js).
#include "voice/dial.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "support/fake_call_leg.hpp"
#include "support/run_on.hpp"
#include "support/session_world.hpp"

namespace sb::voice {
namespace {

using testing::FakeCallLeg;
using testing::SessionWorld;

// Places nothing: each child ends at once with `status` (as a callee that is busy would).
class EndingChildren final : public ChildCalls {
 public:
  explicit EndingChildren(std::string status) : status_(std::move(status)) {}
  void start_child(OutboundRequest request, std::shared_ptr<DialLink> link) override {
    requests.push_back(request);
    link->status = status_;
    link->move_to(DialLink::State::kEnded);
  }
  std::vector<OutboundRequest> requests;

 private:
  std::string status_;
};

class DialTest : public ::testing::Test {
 protected:
  DialTest() : world(io) {}
  CallSession session(ChildCalls* children) {
    SessionServices services = world.services();
    services.children = children;
    return CallSession(io.get_executor(), services, leg, world.route, world.call);
  }
  static twiml::DialNumber number(std::string n) {
    twiml::DialNumber d;
    d.number = std::move(n);
    return d;
  }
  boost::asio::io_context io;
  SessionWorld world;
  FakeCallLeg leg;
};

TEST_F(DialTest, NounsBecomePartiesAtMostTenWithTheirUrlsResolved) {
  EndingChildren children("busy");
  CallSession s = session(&children);
  DialVerb verb(s);
  twiml::Dial dial;
  twiml::DialNumber first = number("+15551230000");
  first.url = "whisper";
  first.status_callback = "/child";
  first.send_digits = "ww12";
  dial.targets.emplace_back(first);
  twiml::DialSip sip;
  sip.uri = "sip:bob@example.test";
  sip.username = "bob";
  sip.password = "pw";
  dial.targets.emplace_back(sip);
  twiml::DialClient client;
  client.identity = "alice";
  dial.targets.emplace_back(client);
  dial.targets.emplace_back(twiml::DialConference{});
  for (int i = 0; i < 9; ++i) dial.targets.emplace_back(number("+1555123100" + std::to_string(i)));

  const auto parties = verb.parties(dial, "http://app.test/calls/voice.xml");
  ASSERT_EQ(parties.size(), DialVerb::kMaxNouns);
  EXPECT_EQ(parties[0].kind, "Number");
  EXPECT_EQ(parties[0].application.url, "http://app.test/calls/whisper");
  EXPECT_EQ(parties[0].application.status_callback, "http://app.test/child");
  EXPECT_EQ(parties[0].application.status_callback_events, std::set<std::string>{"completed"});
  EXPECT_EQ(parties[0].send_digits, "ww12");
  EXPECT_EQ(parties[1].kind, "Sip");
  ASSERT_TRUE(parties[1].credentials);
  EXPECT_EQ(parties[1].credentials->username, "bob");
  EXPECT_EQ(parties[2].to, "client:alice");
  EXPECT_EQ(parties[9].to, "+15551231006");
  const auto notes = world.notifications.notes();
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_NE(notes[0].message_text.find("<Conference>"), std::string::npos);
  EXPECT_NE(notes[1].message_text.find("more than 10"), std::string::npos);
}

TEST_F(DialTest, ClientParametersBecomeXHeadersUpTo1024Bytes) {
  CallSession s = session(nullptr);
  DialVerb verb(s);
  twiml::Dial dial;
  twiml::DialClient client;
  client.identity = "alice";
  client.parameters = {
      {"ticket", "42"}, {"X-Lang", "fr"}, {"big", std::string(2000, 'a')}, {"after", "1"}};
  dial.targets.emplace_back(client);
  const auto parties = verb.parties(dial, "http://app.test/voice");
  ASSERT_EQ(parties.size(), 1u);
  using Headers = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(parties[0].headers, (Headers{{"X-ticket", "42"}, {"X-Lang", "fr"}}));
  const auto notes = world.notifications.notes();
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].message_text.find("1024"), std::string::npos);
}

TEST_F(DialTest, NobodyAnsweringGivesTheChildrensStatusAndTheLastChildsSid) {
  EndingChildren children("busy");
  CallSession s = session(&children);
  DialVerb verb(s);
  twiml::Dial dial;
  dial.targets.emplace_back(number("+15551230000"));
  dial.targets.emplace_back(number("+15551230001"));
  dial.timeout = 2;  // below Twilio's minimum: 5
  auto out = testing::run_on(io, verb.run(dial, "http://app.test/voice"));
  EXPECT_EQ(out.status, "busy");
  EXPECT_FALSE(out.bridged);
  ASSERT_EQ(children.requests.size(), 2u);
  EXPECT_EQ(out.call_sid, children.requests[1].info.call_sid);
  for (const auto& r : children.requests) {
    EXPECT_EQ(r.info.direction, "outbound-dial");
    EXPECT_EQ(r.info.parent_call_sid, world.call.call_sid);
    EXPECT_EQ(r.info.from, world.call.from) << "the caller's number by default";
    EXPECT_EQ(r.timeout_s, 5);
  }
  EXPECT_TRUE(leg.answered()) << "without answerOnBridge the caller is answered to hear ringback";
}

TEST_F(DialTest, ACallerIdThatIsNotTheAccountsFailsWith13214AndDialsNothing) {
  EndingChildren children("busy");
  CallSession s = session(&children);
  DialVerb verb(s);
  twiml::Dial dial;
  dial.caller_id = "+19995550000";
  dial.targets.emplace_back(number("+15551230000"));
  auto out = testing::run_on(io, verb.run(dial, "http://app.test/voice"));
  EXPECT_EQ(out.status, "failed");
  EXPECT_TRUE(children.requests.empty());
  const auto notes = world.notifications.notes();
  EXPECT_TRUE(std::any_of(notes.begin(), notes.end(),
                          [](const store::Notification& n) { return n.error_code == 13214; }));

  // The number the caller called is allowed, as on Twilio.
  twiml::Dial to_caller = dial;
  to_caller.caller_id = world.call.to;
  DialVerb again(s);
  out = testing::run_on(io, again.run(to_caller, "http://app.test/voice"));
  EXPECT_EQ(out.status, "busy");
  ASSERT_EQ(children.requests.size(), 1u);
  EXPECT_EQ(children.requests[0].info.from, world.call.to);
}

TEST_F(DialTest, WithoutAWorkerToPlaceCallsTheDialFails) {
  CallSession s = session(nullptr);
  DialVerb verb(s);
  twiml::Dial dial;
  dial.targets.emplace_back(number("+15551230000"));
  auto out = testing::run_on(io, verb.run(dial, "http://app.test/voice"));
  EXPECT_EQ(out.status, "failed");
  EXPECT_FALSE(world.notifications.notes().empty());
}

}  // namespace
}  // namespace sb::voice
