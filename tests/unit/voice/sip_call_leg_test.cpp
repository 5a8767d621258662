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
#include "support/fake_call_events.hpp"
#include "support/fake_sender.hpp"
#include "support/fake_sip_dialogs.hpp"
#include "support/loopback_media.hpp"
#include "support/session_world.hpp"
#include "support/sip_caller.hpp"

namespace sb::voice {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using sb::testing::caller_sdp;
using sb::testing::Reply;
using sb::testing::SipCaller;

class SipCallLegTest : public ::testing::Test {
 protected:
  SipCallLegTest() : caller_rtp_(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

  std::unique_ptr<SipCallLeg> make_leg(sip::CallHandle handle = 1) {
    return std::make_unique<SipCallLeg>(io_.get_executor(), dialogs_, handle, media_.context,
                                        world_.route.account.sid, world_.call.call_sid);
  }
  std::uint16_t caller_port() const { return caller_rtp_.local_endpoint().port(); }

  // Pumps the loop until the caller's socket gets an RTP packet (at most 10 s); its payload type.
  std::optional<int> caller_gets_rtp() {
    std::array<std::uint8_t, 1500> packet{};
    std::optional<int> payload_type;
    bool done = false;
    caller_rtp_.async_receive(asio::buffer(packet),
                              [&](boost::system::error_code ec, std::size_t n) {
                                if (!ec && n > 12 && (packet[0] >> 6) == 2) {
                                  payload_type = packet[1] & 0x7f;
                                }
                                done = true;
                              });
    pump_until([&] { return done; });
    if (!done) caller_rtp_.cancel();
    while (!done) io_.run_one();
    return payload_type;
  }

  // Runs `a` on the loop to its end.
  template <typename T>
  T run(asio::awaitable<T> a) {
    std::optional<T> out;
    asio::co_spawn(io_, std::move(a), [&](std::exception_ptr e, T v) {
      if (e) std::rethrow_exception(e);
      out = std::move(v);
    });
    pump_until([&] { return out.has_value(); });
    EXPECT_TRUE(out.has_value());
    return out.value_or(T{});
  }
  void run(asio::awaitable<void> a) {
    bool done = false;
    asio::co_spawn(io_, std::move(a), [&](std::exception_ptr e) {
      if (e) std::rethrow_exception(e);
      done = true;
    });
    pump_until([&] { return done; });
    EXPECT_TRUE(done);
  }

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
  sb::testing::FakeSender wire;
  sb::testing::FakeCallEvents events;
  sip::UaConfig config;
  sip::UserAgent ua(config, wire, events);
  SipCaller caller("race-1", "+15005550006");
  ua.on_message(caller.invite(caller_sdp(caller_port())), SipCaller::endpoint(), sip::Millis(0));
  ASSERT_EQ(events.incoming.size(), 1u);
  const sip::CallHandle handle = events.incoming[0].call;

  auto leg = make_leg(handle);
  ASSERT_FALSE(leg->prepare(events.incoming[0].sdp_offer));
  dialogs_.ua = &ua;
  dialogs_.before_answer = [&] {
    ua.on_message(caller.cancel(), SipCaller::endpoint(), sip::Millis(10));
  };
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
  events.when_ended = [&](sip::CallHandle, sip::EndReason) {
    asio::post(io_, [&] { session.remote_hangup(); });
  };
  std::optional<SessionOutcome> out;
  asio::co_spawn(io_, session.run(), [&](std::exception_ptr e, SessionOutcome o) {
    if (e) std::rethrow_exception(e);
    out = o;
  });
  pump_until([&] { return out.has_value(); });
  ASSERT_TRUE(out.has_value());

  EXPECT_TRUE(wire.saw("SIP/2.0 487", "CSeq: 1 INVITE"));
  EXPECT_FALSE(wire.saw("SIP/2.0 200", "CSeq: 1 INVITE"));  // the caller never got an answer
  EXPECT_THAT(events.ended, ::testing::ElementsAre(std::pair(handle, sip::EndReason::kCancelled)));
  EXPECT_FALSE(leg->answered());
  EXPECT_TRUE(leg->hung_up());
  EXPECT_EQ(out->status, "canceled");
  EXPECT_EQ(out->duration_s, 0);
  EXPECT_EQ(world_.stored().status, "canceled");
  EXPECT_EQ(world_.stored().start_time, 0);
  pump_until([&] { return world_.callback_statuses().size() >= 3; });
  EXPECT_THAT(world_.callback_statuses(),
              ::testing::ElementsAre("initiated", "ringing", "canceled"));
  EXPECT_EQ(dialogs_.log, (std::vector<std::string>{"200"}));  // no BYE after the 487
}

TEST_F(SipCallLegTest, PrepareAnswersTheOfferOnItsRtpPortAndSendsOnlyOnceAnswered) {
  auto leg = make_leg();
  ASSERT_FALSE(leg->prepare(caller_sdp(caller_port())));
  ASSERT_NE(leg->rtp(), nullptr);
  EXPECT_EQ(leg->local_media().port, leg->rtp()->local_port());
  EXPECT_FALSE(leg->answered());
  run(leg->answer());
  EXPECT_TRUE(leg->answered());
  EXPECT_EQ(dialogs_.log, (std::vector<std::string>{"200"}));
  EXPECT_NE(dialogs_.answer_sdp.find("m=audio " + std::to_string(leg->rtp()->local_port()) +
                                     " RTP/AVP 0 101"),
            std::string::npos)
      << dialogs_.answer_sdp;
  EXPECT_EQ(caller_gets_rtp(), 0);  // PCMU, as the offer put first
  run(leg->hangup());
  EXPECT_EQ(dialogs_.log, (std::vector<std::string>{"200", "BYE"}));
  EXPECT_TRUE(leg->hung_up());
  EXPECT_EQ(leg->rtp(), nullptr);  // media closed
}

TEST_F(SipCallLegTest, UnacceptableOffersAre488AndNoFreePortIs503) {
  for (const std::string& offer :
       {std::string("not sdp"),
        std::string("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                    "m=audio 4000 RTP/AVP 18\r\n")}) {  // G.729 only
    auto refusal = make_leg()->prepare(offer);
    ASSERT_TRUE(refusal) << offer;
    EXPECT_EQ(refusal->status, 488);
    EXPECT_EQ(refusal->reason, "Not Acceptable Here");
  }
  // A pool of one RTP port, held here (or by someone else already): none is free.
  media::PortPool one(43010, 43011);
  udp::socket holder(io_, udp::v4());
  boost::system::error_code ignored;
  holder.bind(udp::endpoint(asio::ip::make_address("127.0.0.1"), 43010), ignored);
  const MediaContext& m = media_.context;
  MediaContext no_ports{m.worker,         one,          m.tts,           m.audio, m.rtp_address,
                        m.recordings_dir, m.public_url, m.notifications, m.store, m.clock};
  SipCallLeg leg(io_.get_executor(), dialogs_, 1, no_ports, "AC1", "CA1");
  auto refusal = leg.prepare(caller_sdp(caller_port()));
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->status, 503);
}

// RFC 3261 §13.2.1: an INVITE without SDP gets our offer in the 200; the ACK's answer says
// where the media goes.
TEST_F(SipCallLegTest, WithoutAnOfferThe200OffersAndTheAcksAnswerStartsTheMedia) {
  auto leg = make_leg();
  ASSERT_FALSE(leg->prepare(""));
  run(leg->answer());
  ASSERT_TRUE(leg->answered());
  auto offer = sip::parse_sdp(dialogs_.answer_sdp);
  ASSERT_TRUE(offer) << dialogs_.answer_sdp;
  ASSERT_EQ(offer->media.size(), 1u);
  EXPECT_EQ(offer->media[0].port, leg->rtp()->local_port());
  EXPECT_EQ(offer->media[0].formats, (std::vector<std::string>{"0", "8", "101"}));
  EXPECT_TRUE(leg->take_answer(caller_sdp(caller_port())));
  EXPECT_EQ(caller_gets_rtp(), 0);
  EXPECT_FALSE(leg->hung_up());
}

TEST_F(SipCallLegTest, AnUnusableAnswerInTheAckHangsUp) {
  auto leg = make_leg();
  ASSERT_FALSE(leg->prepare(""));
  run(leg->answer());
  const std::string g729_only =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 18\r\n";
  EXPECT_FALSE(leg->take_answer(g729_only));
  EXPECT_TRUE(leg->hung_up());
  EXPECT_EQ(dialogs_.log, (std::vector<std::string>{"200", "BYE"}));
  EXPECT_EQ(leg->rtp(), nullptr);
}

TEST_F(SipCallLegTest, AnAnswerTheSipSideRefusesLeavesTheLegHungUp) {
  auto leg = make_leg();
  ASSERT_FALSE(leg->prepare(caller_sdp(caller_port())));
  dialogs_.answer_verdict = Error::bad_request(codes::kInvalidParameter, "call cannot be answered");
  run(leg->answer());
  EXPECT_FALSE(leg->answered());
  EXPECT_TRUE(leg->hung_up());
  EXPECT_EQ(leg->rtp(), nullptr);
  EXPECT_EQ(run(leg->play(twiml::Play{}, false)), twiml::PromptEnd::kHungUp);
  run(leg->hangup());  // nothing more reaches SIP
  EXPECT_EQ(dialogs_.log, (std::vector<std::string>{"200"}));
}

TEST_F(SipCallLegTest, RefusalsBeforeAnswerCarryTheirStatus) {
  auto busy = make_leg(1);
  run(busy->reject("busy"));
  auto rejected = make_leg(2);
  run(rejected->reject("rejected"));
  auto canceled = make_leg(3);
  run(canceled->cancel());
  auto unanswered = make_leg(4);
  run(unanswered->hangup());
  EXPECT_EQ(dialogs_.log, (std::vector<std::string>{"486 Busy Here", "603 Decline",
                                                    "487 Request Terminated", "603 Decline"}));
  for (auto* leg : {busy.get(), rejected.get(), canceled.get(), unanswered.get()})
    EXPECT_TRUE(leg->hung_up());
  run(busy->cancel());  // over already: nothing more
  EXPECT_EQ(dialogs_.log.size(), 4u);
}

TEST_F(SipCallLegTest, SipInfoDigitsReachAGather) {
  auto leg = make_leg();
  ASSERT_FALSE(leg->prepare(caller_sdp(caller_port())));
  run(leg->answer());
  twiml::DigitCollection spec;
  spec.num_digits = 2;
  std::optional<twiml::CollectedDigits> got;
  asio::co_spawn(io_, leg->collect_digits(spec),
                 [&](std::exception_ptr e, twiml::CollectedDigits d) {
                   if (e) std::rethrow_exception(e);
                   got = d;
                 });
  io_.poll();
  leg->on_sip_dtmf('4');
  leg->on_sip_dtmf('2');
  pump_until([&] { return got.has_value(); });
  ASSERT_TRUE(got);
  EXPECT_EQ(got->digits, "42");
  EXPECT_FALSE(got->hung_up);
}

TEST_F(SipCallLegTest, TheFarEndGoingAwayClosesTheMedia) {
  auto leg = make_leg();
  ASSERT_FALSE(leg->prepare(caller_sdp(caller_port())));
  run(leg->answer());
  leg->remote_end();
  EXPECT_TRUE(leg->hung_up());
  EXPECT_EQ(leg->rtp(), nullptr);
  run(leg->hangup());  // no BYE for a dialog that is gone
  EXPECT_EQ(dialogs_.log, (std::vector<std::string>{"200"}));
}

}  // namespace
}  // namespace sb::voice
