// CallRouter between a real sip::UserAgent (driven by a caller's bytes) and real CallWorkers
// (sessions against an application server on loopback, RTP on loopback). The SIP worker and
// the call workers are separate io_contexts pumped by the test, so what crosses between them
// does so by posting, as in the daemon.
#include "voice/call_router.hpp"

#include <boost/asio/ip/udp.hpp>
#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sip/sdp.hpp"
#include "support/fake_sender.hpp"
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

const std::string kNumber = "+15005550006";

class CallRouterTest : public ::testing::Test {
 protected:
  CallRouterTest() : caller_rtp_(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    account_.sid = world_.route.account.sid;
    account_.auth_token = world_.route.account.auth_token;
    EXPECT_TRUE(world_.store->write_sync(store::InsertAccount{account_}));
  }
  ~CallRouterTest() override {
    settle();     // the workers' last reports reach the router while it is there
    ua_.reset();  // before the router it calls back
    router_.reset();
    settle();
  }

  // Runs what the calls left behind (held webhooks, call-record completions the store's writer
  // posts, status callbacks) to the end, so that no handler queued on one io_context still
  // refers to another when they are destroyed.
  void settle() {
    world_.server.release();
    world_.store->flush();
    int quiet = 0;
    for (int i = 0; i < 2000 && quiet < 3; ++i) {
      std::size_t ran = 0;
      for (asio::io_context* io : {&sip_io_, &other_io_, &io_}) {
        io->restart();
        ran += io->poll();
      }
      if (ran == 0 && world_.client.pending() == 0) {
        ++quiet;
      } else {
        quiet = 0;
        io_.restart();
        io_.run_one_for(std::chrono::milliseconds(5));
      }
    }
  }

  void start(RouterOptions options = {}, std::vector<CallWorker*> workers = {}) {
    if (workers.empty()) workers.push_back(&worker_);
    router_ = std::make_unique<CallRouter>(sip_io_, std::move(workers), std::move(options));
    ua_ = std::make_unique<sip::UserAgent>(sip::UaConfig{}, wire_, *router_);
    router_->bind(*ua_);
  }
  void add_number(const std::string& phone, const std::string& voice_url) {
    store::IncomingNumber n;
    n.sid = make_sid("PN");
    n.account_sid = account_.sid;
    n.phone_number = phone;
    n.hooks.voice_url = voice_url;
    n.hooks.status_callback = world_.server.url("/status");
    EXPECT_TRUE(world_.store->write_sync(store::InsertNumber{n}));
  }
  // The caller's bytes reach the UA (on the SIP worker, which is this thread).
  void from_caller(const std::string& bytes) {
    ua_->on_message(bytes, SipCaller::endpoint(), sip::Millis(0));
  }
  // Pumps the SIP worker and the call worker until `done()` holds (at most 10 s).
  void pump_until(const std::function<bool()>& done) {
    for (int i = 0; i < 1000 && !done(); ++i) {
      sip_io_.restart();
      sip_io_.poll();
      io_.restart();
      io_.run_one_for(std::chrono::milliseconds(10));
    }
  }
  // A final response to `caller`'s INVITE, once sent.
  const std::string* final_response(int status) const {
    return wire_.last("SIP/2.0 " + std::to_string(status), "CSeq: 1 INVITE");
  }
  // `caller` dials kNumber with an offer and the call comes up: 200 OK, ACK.
  void establish(SipCaller& caller) {
    from_caller(caller.invite(caller_sdp(caller_rtp_.local_endpoint().port())));
    pump_until([&] { return final_response(200) != nullptr; });
    ASSERT_NE(final_response(200), nullptr);
    caller.answered_by(*final_response(200));
    from_caller(caller.ack());
  }
  // Pumps until `socket` gets an RTP packet (at most 10 s).
  bool gets_rtp(udp::socket& socket) {
    std::array<std::uint8_t, 1500> packet{};
    bool done = false, rtp = false;
    socket.async_receive(asio::buffer(packet), [&](boost::system::error_code ec, std::size_t n) {
      rtp = !ec && n > 12 && (packet[0] >> 6) == 2;
      done = true;
    });
    pump_until([&] { return done; });
    if (!done) socket.cancel();
    while (!done) io_.run_one();
    return rtp;
  }

  asio::io_context sip_io_;
  asio::io_context io_;
  asio::io_context other_io_;  // a second call worker's, for the tests that need one
  sb::testing::SessionWorld world_{io_};
  sb::testing::LoopbackMedia media_{io_, world_.client, world_.clock, world_.dir.path()};
  CallWorker worker_{io_, world_.services(), media_.context};
  store::Account account_;
  sb::testing::FakeSender wire_;
  std::unique_ptr<CallRouter> router_;
  std::unique_ptr<sip::UserAgent> ua_;
  udp::socket caller_rtp_;
};

TEST_F(CallRouterTest, UnknownInactiveAndApplicationlessNumbersAreRefused) {
  start();
  add_number("2000", "");  // no voice URL
  SipCaller unknown("c-404", "+15550000000");
  from_caller(unknown.invite(caller_sdp(4000)));
  EXPECT_TRUE(wire_.saw("SIP/2.0 404 Not Found", "Call-ID: c-404"));
  SipCaller no_app("c-480", "2000");
  from_caller(no_app.invite(caller_sdp(4000)));
  EXPECT_TRUE(wire_.saw("SIP/2.0 480 No Voice Application", "Call-ID: c-480"));
  add_number("3000", world_.server.url("/voice"));
  account_.status = "suspended";
  ASSERT_TRUE(world_.store->write_sync(store::UpdateAccount{account_}));
  SipCaller inactive("c-403", "3000");
  from_caller(inactive.invite(caller_sdp(4000)));
  EXPECT_TRUE(wire_.saw("SIP/2.0 403 Forbidden", "Call-ID: c-403"));
  EXPECT_EQ(router_->stats().not_found, 1u);
  EXPECT_EQ(router_->stats().no_application, 1u);
  EXPECT_EQ(router_->stats().forbidden, 1u);
  EXPECT_EQ(router_->stats().routed, 0u);
  EXPECT_EQ(router_->active(), 0u);
  EXPECT_TRUE(world_.server.requests_to("/voice").empty());
}

TEST_F(CallRouterTest, SourcesOutsideTheAllowListGet403AndOverloadGets503WithRetryAfter) {
  RouterOptions closed;
  closed.allow = AddressAcl::parse({"10.0.0.0/8"}).value();
  start(std::move(closed));
  add_number(kNumber, world_.server.url("/voice"));
  from_caller(SipCaller("c-acl", kNumber).invite(caller_sdp(4000)));
  EXPECT_TRUE(wire_.saw("SIP/2.0 403 Forbidden", "Call-ID: c-acl"));

  RouterOptions full;
  full.max_calls = 0;
  full.retry_after_s = 7;
  start(std::move(full));
  from_caller(SipCaller("c-503", kNumber).invite(caller_sdp(4000)));
  const std::string* busy = wire_.last("SIP/2.0 503 Service Unavailable", "Call-ID: c-503");
  ASSERT_NE(busy, nullptr);
  EXPECT_NE(busy->find("Retry-After: 7\r\n"), std::string::npos);
  EXPECT_EQ(router_->stats().overloaded, 1u);
}

TEST_F(CallRouterTest, AnOfferWithoutUsableAudioIs488FromTheWorker) {
  start();
  add_number(kNumber, world_.server.url("/voice"));
  const std::string g729_only =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 18\r\n";
  from_caller(SipCaller("c-488", kNumber).invite(g729_only));
  EXPECT_EQ(router_->stats().routed, 1u);  // routed; the worker finds no audio it can use
  pump_until([&] { return final_response(488) != nullptr; });
  EXPECT_NE(final_response(488), nullptr);
  pump_until([&] { return router_->active() == 0; });
  EXPECT_EQ(router_->stats().bad_sdp, 1u);
  EXPECT_EQ(worker_.active(), 0u);
}

TEST_F(CallRouterTest, CallsGoRoundRobinToTheWorkers) {
  // The second worker's io_context outlives the store (world_), whose writer posts call-record
  // completions to it, as the daemon's worker contexts outlive its store.
  asio::io_context& other_io = other_io_;
  sb::testing::LoopbackMedia other_media(other_io, world_.client, world_.clock,
                                         world_.dir.path() / "other");
  CallWorker other(other_io, world_.services(), other_media.context);
  start({}, {&worker_, &other});
  add_number(kNumber, world_.server.url("/voice"));
  world_.server.reply("/voice", Reply{200, "text/xml", "<Response/>", {}, 0, /*hold=*/true});
  SipCaller first("c-first", kNumber), second("c-second", kNumber);
  from_caller(first.invite(caller_sdp(4000)));
  from_caller(second.invite(caller_sdp(4002)));
  auto pump_both = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 1000 && !done(); ++i) {
      other_io.restart();
      other_io.poll();
      sip_io_.restart();
      sip_io_.poll();
      io_.restart();
      io_.run_one_for(std::chrono::milliseconds(10));
    }
  };
  pump_both([&] { return worker_.active() == 1 && other.active() == 1; });
  EXPECT_EQ(worker_.active(), 1u);
  EXPECT_EQ(other.active(), 1u);
  EXPECT_EQ(router_->active(), 2u);
  from_caller(first.cancel());  // both callers give up: each worker ends its own call
  from_caller(second.cancel());
  pump_both([&] { return router_->active() == 0; });
  EXPECT_EQ(router_->active(), 0u);
  EXPECT_EQ(router_->stats().completed, 2u);
  EXPECT_EQ(worker_.active() + other.active(), 0u);
  settle();  // while the second worker and its media still exist
}

TEST_F(CallRouterTest, TheCallersByeEndsTheSessionOnItsWorker) {
  start();
  add_number(kNumber, world_.server.url("/voice"));
  world_.server.reply(
      "/voice",
      Reply{200, "text/xml", "<Response><Pause length=\"60\"/></Response>", {}, 0, false});
  SipCaller caller("c-bye", kNumber);
  establish(caller);
  EXPECT_TRUE(wire_.saw("SIP/2.0 180", "CSeq: 1 INVITE"));
  EXPECT_TRUE(gets_rtp(caller_rtp_));  // the media is up
  from_caller(caller.bye());
  EXPECT_TRUE(wire_.saw("SIP/2.0 200", "CSeq: 2 BYE"));
  pump_until([&] { return router_->active() == 0; });
  EXPECT_EQ(router_->stats().completed, 1u);
  EXPECT_EQ(worker_.active(), 0u);
  ASSERT_EQ(world_.server.requests_to("/voice").size(), 1u);
  const auto form = http::parse_form(world_.server.requests_to("/voice")[0].body);
  EXPECT_EQ(world_.stored(std::string(form->get("CallSid").value_or(""))).status, "completed");
  EXPECT_FALSE(wire_.saw("BYE "));  // the caller hung up, not us
}

// A re-INVITE with an offer is answered from the leg's media; one without gets our offer, and
// the answer in its ACK moves the RTP.
TEST_F(CallRouterTest, ReInvitesAreAnsweredOrOfferedFromTheLegsMedia) {
  start();
  add_number(kNumber, world_.server.url("/voice"));
  world_.server.reply(
      "/voice",
      Reply{200, "text/xml", "<Response><Pause length=\"60\"/></Response>", {}, 0, false});
  SipCaller caller("c-reinvite", kNumber);
  establish(caller);
  auto first = sip::parse_sdp(sip::Message::parse(*final_response(200))->body());
  ASSERT_TRUE(first);
  const std::uint16_t our_port = first->media[0].port;

  from_caller(caller.reinvite(caller_sdp(4000, "2")));  // hold music elsewhere, say
  const std::string* answered = wire_.last("SIP/2.0 200", "CSeq: 2 INVITE");
  ASSERT_NE(answered, nullptr);
  auto answer = sip::parse_sdp(sip::Message::parse(*answered)->body());
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->media[0].port, our_port);
  EXPECT_EQ(answer->session_version, first->session_version + 1);
  from_caller(caller.ack());

  udp::socket moved(io_, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  from_caller(caller.reinvite());  // no offer
  const std::string* offered = wire_.last("SIP/2.0 200", "CSeq: 3 INVITE");
  ASSERT_NE(offered, nullptr);
  auto offer = sip::parse_sdp(sip::Message::parse(*offered)->body());
  ASSERT_TRUE(offer) << *offered;
  EXPECT_EQ(offer->media[0].port, our_port);
  EXPECT_EQ(offer->media[0].formats, (std::vector<std::string>{"0", "8", "101"}));
  EXPECT_EQ(offer->session_version, first->session_version + 2);
  from_caller(caller.ack(caller_sdp(moved.local_endpoint().port(), "3")));
  EXPECT_TRUE(gets_rtp(moved));  // the ACK's answer reached the leg's RTP session
  from_caller(caller.bye());
  pump_until([&] { return router_->active() == 0; });
}

TEST_F(CallRouterTest, TheUasVerdictOnAnAnswerIsPostedBackToTheCallsWorker) {
  start();
  std::optional<Status> verdict;
  router_->answer(42, caller_sdp(4000), io_.get_executor(), [&](Status s) { verdict = s; });
  sip_io_.poll();                     // the SIP worker answers: no such call
  EXPECT_FALSE(verdict.has_value());  // not run there
  io_.poll();
  ASSERT_TRUE(verdict.has_value());
  EXPECT_FALSE(*verdict);
}

}  // namespace
}  // namespace sb::voice

namespace sb::voice {
namespace {

// The lines of `message` whose header is `name` ("Via", "From", ...), each with its CRLF.
std::string header_lines(const std::string& message, const std::string& name) {
  std::string out;
  std::size_t at = 0;
  while ((at = message.find("\r\n" + name + ":", at)) != std::string::npos) {
    const std::size_t end = message.find("\r\n", at + 2);
    out += message.substr(at + 2, end - at - 2) + "\r\n";
    at = end;
  }
  return out;
}

// The callee's 200 OK to our INVITE, with `sdp`.
std::string callee_answer(const std::string& invite, const std::string& sdp) {
  std::string to = header_lines(invite, "To");
  to.insert(to.size() - 2, ";tag=callee-1");
  return "SIP/2.0 200 OK\r\n" + header_lines(invite, "Via") + header_lines(invite, "From") + to +
         header_lines(invite, "Call-ID") + header_lines(invite, "CSeq") +
         "Contact: <sip:callee@127.0.0.1:5099>\r\nContent-Type: application/sdp\r\n"
         "Content-Length: " +
         std::to_string(sdp.size()) + "\r\n\r\n" + sdp;
}

TEST_F(CallRouterTest, AnOutboundCallsAnswerRightBehindTheDialReplyIsNotLost) {
  start();
  world_.server.reply("/status", Reply{200, "text/plain", "", {}, 0, false});
  OutboundRequest request;
  request.account = account_;
  request.info.account_sid = account_.sid;
  request.info.call_sid = make_sid("CA");
  request.info.from = kNumber;
  request.info.to = "sip:callee@127.0.0.1:5099";
  request.info.direction = "outbound-api";
  request.info.status = "queued";
  request.twiml = "<Response><Hangup/></Response>";
  request.application.status_callback = world_.server.url("/status");
  store::Call record;
  record.sid = request.info.call_sid;
  record.account_sid = account_.sid;
  record.status = "queued";
  record.direction = "outbound-api";
  ASSERT_TRUE(world_.store->write_sync(store::InsertCall{record}));
  router_->place(request);

  // Until the INVITE is out: the SIP worker has then posted the dial's reply to the call's
  // worker, which has not run it yet.
  for (int i = 0; i < 1000 && !wire_.saw("INVITE "); ++i) {
    sip_io_.restart();
    sip_io_.poll_one();
    if (wire_.saw("INVITE ")) break;
    io_.restart();
    io_.poll_one();
  }
  const std::string* invite = wire_.last("INVITE ");
  ASSERT_NE(invite, nullptr);
  EXPECT_NE(invite->find("X-Twilio-CallSid: " + request.info.call_sid), std::string::npos);
  // The callee answers at once: its 200 is posted to the worker right behind that reply.
  ua_->on_message(callee_answer(*invite, caller_sdp(caller_rtp_.local_endpoint().port())),
                  SipCaller::endpoint(), ua_->now());
  pump_until([&] { return world_.stored(request.info.call_sid).status == "completed"; });
  EXPECT_EQ(world_.stored(request.info.call_sid).status, "completed");
  EXPECT_TRUE(wire_.saw("ACK "));
  EXPECT_TRUE(wire_.saw("BYE "));
}

}  // namespace
}  // namespace sb::voice
