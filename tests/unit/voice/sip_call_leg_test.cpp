// SipCallLeg on a real RTP session on loopback (MediaWorker ticking on the test's io_context),
// talking to the SIP side through FakeSipDialogs; and, for the answer/CANCEL race, through a
// real sip::UserAgent driven by the bytes a caller sends.
#include "voice/sip_call_leg.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sip/message.hpp"
#include "support/fake_sip_dialogs.hpp"
#include "support/loopback_media.hpp"
#include "support/session_world.hpp"

namespace sb::voice {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using sb::testing::Reply;

// What the UA sends, kept as text.
struct Wire final : sip::Sender {
  std::vector<std::string> sent;
  void send(const sip::Endpoint&, std::string_view bytes) override { sent.emplace_back(bytes); }
  bool saw(std::string_view start, std::string_view containing = {}) const {
    for (const auto& m : sent)
      if (m.starts_with(start) && m.find(containing) != std::string::npos) return true;
    return false;
  }
};

// The UA's events, as the router would take them.
struct UaEvents final : sip::CallEvents {
  std::vector<sip::IncomingCall> incoming;
  std::vector<sip::EndReason> ended;
  std::function<void()> on_end;
  void on_incoming(const sip::IncomingCall& c) override { incoming.push_back(c); }
  void on_ended(sip::CallHandle, sip::EndReason r) override {
    ended.push_back(r);
    if (on_end) on_end();
  }
};

const sip::Endpoint kCaller{"127.0.0.1", 5099, sip::Transport::kUdp, 0};

std::string caller_sdp(std::uint16_t rtp_port) {
  return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
         "m=audio " +
         std::to_string(rtp_port) +
         " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
}

std::string invite(std::string_view sdp) {
  std::string m =
      "INVITE sip:+15005550006@127.0.0.1 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKrace1\r\n"
      "From: <sip:+14155550100@127.0.0.1>;tag=caller1\r\nTo: <sip:+15005550006@127.0.0.1>\r\n"
      "Call-ID: race-1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\n"
      "Contact: <sip:caller@127.0.0.1:5099>\r\n";
  if (sdp.empty()) return m + "Content-Length: 0\r\n\r\n";
  return m + "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(sdp.size()) +
         "\r\n\r\n" + std::string(sdp);
}

const std::string kCancel =
    "CANCEL sip:+15005550006@127.0.0.1 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bKrace1\r\n"
    "From: <sip:+14155550100@127.0.0.1>;tag=caller1\r\nTo: <sip:+15005550006@127.0.0.1>\r\n"
    "Call-ID: race-1\r\nCSeq: 1 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";

class SipCallLegTest : public ::testing::Test {
 protected:
  SipCallLegTest() : caller_rtp_(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

  std::unique_ptr<SipCallLeg> make_leg(sip::CallHandle handle = 1) {
    return std::make_unique<SipCallLeg>(io_.get_executor(), dialogs_, handle, media_.context,
                                        world_.route.account.sid, world_.call.call_sid);
  }
  std::uint16_t caller_port() const { return caller_rtp_.local_endpoint().port(); }

  // Runs the loop until `done()` holds, for at most 10 s.
  void pump_until(const std::function<bool()>& done) {
    for (int i = 0; i < 1000 && !done(); ++i) io_.run_one_for(std::chrono::milliseconds(10));
  }

  asio::io_context io_;
  sb::testing::SessionWorld world_{io_};
  sb::testing::LoopbackMedia media_{io_, world_.client, world_.clock, world_.dir.path()};
  sb::testing::FakeSipDialogs dialogs_;
  udp::socket caller_rtp_;  // where the caller's SDP says it receives RTP
};

// A real UserAgent takes the caller's INVITE; the caller's CANCEL reaches it just before our
// 200 OK does (the two cross between the call's worker and the SIP worker). The UA answers 487
// and refuses our 200: the call must end canceled, never answered.
TEST_F(SipCallLegTest, AnAnswerThatLosesToTheCallersCancelEndsTheCallCanceled) {
  Wire wire;
  UaEvents events;
  sip::UaConfig config;
  sip::UserAgent ua(config, wire, events);
  ua.on_message(invite(caller_sdp(caller_port())), kCaller, sip::Millis(0));
  ASSERT_EQ(events.incoming.size(), 1u);
  const sip::CallHandle handle = events.incoming[0].call;

  auto leg = make_leg(handle);
  ASSERT_FALSE(leg->prepare(events.incoming[0].sdp_offer));
  dialogs_.ua = &ua;
  dialogs_.before_answer = [&] { ua.on_message(kCancel, kCaller, sip::Millis(10)); };
  world_.server.reply(
      "/voice", Reply{200,
                      "text/xml",
                      "<Response><Play>" + world_.server.url("/tone.wav") + "</Play></Response>",
                      {},
                      0,
                      false});
  world_.server.reply("/status", Reply{200, "text/plain", "", {}, 0, false});
  CallSession session(io_.get_executor(), world_.services(), *leg, world_.route, world_.call);
  // As the router does: the dialog's end reaches the session by a post to the call's worker.
  events.on_end = [&] { asio::post(io_, [&] { session.remote_hangup(); }); };
  std::optional<SessionOutcome> out;
  asio::co_spawn(io_, session.run(), [&](std::exception_ptr e, SessionOutcome o) {
    if (e) std::rethrow_exception(e);
    out = o;
  });
  pump_until([&] { return out.has_value(); });
  ASSERT_TRUE(out.has_value());

  EXPECT_TRUE(wire.saw("SIP/2.0 487", "CSeq: 1 INVITE"));
  EXPECT_FALSE(wire.saw("SIP/2.0 200", "CSeq: 1 INVITE"));  // the caller never got an answer
  EXPECT_THAT(events.ended, ::testing::ElementsAre(sip::EndReason::kCancelled));
  EXPECT_FALSE(leg->answered());
  EXPECT_TRUE(leg->hung_up());
  EXPECT_EQ(out->status, "canceled");
  EXPECT_EQ(out->duration_s, 0);
  EXPECT_EQ(world_.stored().status, "canceled");
  EXPECT_EQ(world_.stored().start_time, 0);
  pump_until([&] { return world_.callback_statuses().size() >= 3; });
  EXPECT_THAT(world_.callback_statuses(), ::testing::ElementsAre("ringing", "ringing", "canceled"));
  EXPECT_EQ(dialogs_.log, (std::vector<std::string>{"200"}));  // no BYE after the 487
}

}  // namespace
}  // namespace sb::voice
