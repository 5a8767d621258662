// Two user agents wired through a fake network, on a fake clock: whole call flows.
#include "sip/user_agent.hpp"

#include <gtest/gtest.h>

#include <tuple>

#include "sip/sdp.hpp"
#include "support/fake_call_events.hpp"
#include "support/fake_sender.hpp"

namespace sb::sip {
namespace {

using namespace std::chrono_literals;

using sb::testing::FakeCallEvents;
using sb::testing::FakeSender;
using Net = sb::testing::FakeSipNetwork;
using Packet = Net::Packet;

struct Node {
  Node(Net& net, Endpoint self) : sender(net, std::move(self)) {}
  FakeSender sender;
  FakeCallEvents events;
  std::unique_ptr<UserAgent> ua;
};

const std::string kSdpA =
    "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";
const std::string kSdpB =
    "v=0\r\no=- 2 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
    "m=audio 5000 RTP/AVP 0\r\n";

class UaTest : public ::testing::Test {
 protected:
  void SetUp() override { build({}, {}); }
  void build(UaConfig a_cfg, UaConfig b_cfg) {
    net_ = Net{};
    a_ = node("10.0.0.1", std::move(a_cfg));
    b_ = node("10.0.0.2", std::move(b_cfg));
  }
  std::unique_ptr<Node> node(const std::string& host, UaConfig cfg) {
    cfg.host = host;
    cfg.udp_port = 5060;
    auto n = std::make_unique<Node>(net_, Endpoint{host, 5060, Transport::kUdp, 0});
    n->ua = std::make_unique<UserAgent>(cfg, n->sender, n->events);
    net_.attach(n->sender.self(), *n->ua);
    return n;
  }
  OutboundCall spec() {
    OutboundCall o;
    o.target = "sip:+15551234@10.0.0.2";
    o.from = "sip:+15550000@10.0.0.1";
    o.from_display = "Alice";
    o.next_hop = {"10.0.0.2", 5060, Transport::kUdp, 0};
    o.sdp_offer = kSdpA;
    return o;
  }
  // A calls B; B rings and answers. Returns {A's handle, B's handle}.
  std::pair<CallHandle, CallHandle> establish() {
    auto h = a_->ua->call(spec());
    EXPECT_TRUE(h);
    net_.deliver_all();
    EXPECT_EQ(b_->events.incoming.size(), 1u);
    const CallHandle bh = b_->events.incoming.back().call;
    EXPECT_TRUE(b_->ua->ringing(bh));
    net_.deliver_all();
    EXPECT_TRUE(b_->ua->answer(bh, kSdpB));
    net_.deliver_all();
    return {*h, bh};
  }
  void inject(Node& n, const std::string& bytes, Endpoint from = {"10.0.0.9", 5060}) {
    n.ua->on_message(bytes, from, net_.now);
  }
  // B receives `invite` from 10.0.0.9 and answers it with `sdp`; returns B's 200 OK.
  Message answer_at_b(const std::string& invite, std::string_view sdp = kSdpB) {
    inject(*b_, invite);
    net_.deliver_all();
    EXPECT_EQ(b_->events.incoming.size(), 1u);
    EXPECT_TRUE(b_->ua->answer(b_->events.incoming.back().call, sdp));
    net_.deliver_all();
    auto ok = Message::parse(net_.last("SIP/2.0 200")->bytes);
    EXPECT_TRUE(ok);
    return std::move(*ok);
  }

  Net net_;
  std::unique_ptr<Node> a_, b_;
};

TEST_F(UaTest, CallRingAnswerAndHangupFromCaller) {
  auto [ah, bh] = establish();
  const auto& in = b_->events.incoming[0];
  EXPECT_EQ(in.from_user, "+15550000");
  EXPECT_EQ(in.from_display, "Alice");
  EXPECT_EQ(in.to_user, "+15551234");
  EXPECT_EQ(in.sdp_offer, kSdpA);
  ASSERT_EQ(a_->events.ringing.size(), 1u);
  EXPECT_EQ(a_->events.ringing[0].second, 180);
  ASSERT_EQ(a_->events.answered.size(), 1u);
  EXPECT_EQ(a_->events.answered[0].second, kSdpB);
  EXPECT_EQ(b_->events.answered.size(), 1u);  // the ACK arrived
  EXPECT_EQ(net_.count("SIP/2.0 100"), 1);
  EXPECT_EQ(net_.count("ACK "), 1);
  ASSERT_TRUE(a_->ua->hangup(ah));
  net_.deliver_all();
  ASSERT_EQ(b_->events.ended.size(), 1u);
  EXPECT_EQ(b_->events.ended[0], std::make_pair(bh, EndReason::kRemoteHangup));
  ASSERT_EQ(a_->events.ended.size(), 1u);
  EXPECT_EQ(a_->events.ended[0].second, EndReason::kLocalHangup);
  EXPECT_EQ(net_.count("BYE "), 1);
  EXPECT_EQ(a_->ua->active_calls(), 0u);
  EXPECT_EQ(b_->ua->active_calls(), 0u);
  net_.advance(40s);  // every transaction finishes; nothing is retransmitted needlessly
  EXPECT_EQ(a_->ua->transactions(), 0u);
  EXPECT_EQ(b_->ua->transactions(), 0u);
  EXPECT_EQ(net_.count("SIP/2.0 200"), 2);
}

TEST_F(UaTest, HangupFromCallee) {
  auto [ah, bh] = establish();
  ASSERT_TRUE(b_->ua->hangup(bh));
  net_.deliver_all();
  ASSERT_EQ(a_->events.ended.size(), 1u);
  EXPECT_EQ(a_->events.ended[0], std::make_pair(ah, EndReason::kRemoteHangup));
  auto bye = Message::parse(net_.last("BYE ")->bytes);
  ASSERT_TRUE(bye);
  EXPECT_EQ(bye->uri().host, "10.0.0.1");  // to the caller's Contact
  EXPECT_FALSE(a_->ua->hangup(ah));        // already gone
}

TEST_F(UaTest, CancelBeforeAnswerGives487) {
  auto h = a_->ua->call(spec());
  net_.deliver_all();
  const CallHandle bh = b_->events.incoming[0].call;
  ASSERT_TRUE(b_->ua->ringing(bh));
  net_.deliver_all();
  ASSERT_TRUE(a_->ua->hangup(*h));
  net_.deliver_all();
  EXPECT_EQ(net_.count("CANCEL "), 1);
  EXPECT_EQ(net_.count("SIP/2.0 487"), 1);
  ASSERT_EQ(b_->events.ended.size(), 1u);
  EXPECT_EQ(b_->events.ended[0].second, EndReason::kCancelled);
  EXPECT_TRUE(a_->events.failed.empty());  // a hangup is not a failure
  EXPECT_EQ(a_->ua->active_calls(), 0u);
  EXPECT_FALSE(b_->ua->answer(bh, kSdpB));
}

TEST_F(UaTest, CancelBeforeAnyProvisionalWaitsForIt) {
  // Drop B's 100 Trying so A has no provisional yet when hanging up.
  net_.drop = [](const Packet& p) { return p.bytes.starts_with("SIP/2.0 100"); };
  auto h = a_->ua->call(spec());
  net_.deliver_all();
  ASSERT_TRUE(a_->ua->hangup(*h));
  net_.deliver_all();
  EXPECT_EQ(net_.count("CANCEL "), 0);  // §9.1: not before a provisional
  ASSERT_TRUE(b_->ua->ringing(b_->events.incoming[0].call));
  net_.deliver_all();
  EXPECT_EQ(net_.count("CANCEL "), 1);
  EXPECT_EQ(b_->events.ended.size(), 1u);
}

TEST_F(UaTest, CancelRacingTheAnswerEndsWithBye) {
  auto h = a_->ua->call(spec());
  net_.deliver_all();
  const CallHandle bh = b_->events.incoming[0].call;
  ASSERT_TRUE(b_->ua->ringing(bh));
  net_.deliver_all();
  ASSERT_TRUE(b_->ua->answer(bh, kSdpB));  // the 200 is queued, not yet delivered
  ASSERT_TRUE(a_->ua->hangup(*h));         // CANCEL queued behind it
  net_.deliver_all();
  EXPECT_EQ(net_.count("SIP/2.0 487"), 0);  // INVITE already answered: CANCEL has no effect
  EXPECT_EQ(net_.count("ACK "), 1);
  EXPECT_EQ(net_.count("BYE "), 1);
  ASSERT_EQ(b_->events.ended.size(), 1u);
  EXPECT_EQ(b_->events.ended[0].second, EndReason::kRemoteHangup);
  EXPECT_TRUE(a_->events.answered.empty());
  EXPECT_EQ(a_->events.ended.size(), 1u);
  EXPECT_EQ(a_->ua->active_calls(), 0u);
}

TEST_F(UaTest, RejectReachesCallerAsFailure) {
  auto h = a_->ua->call(spec());
  net_.deliver_all();
  ASSERT_TRUE(b_->ua->reject(b_->events.incoming[0].call, 486));
  net_.deliver_all();
  ASSERT_EQ(a_->events.failed.size(), 1u);
  EXPECT_EQ(a_->events.failed[0], std::make_pair(*h, 486));
  EXPECT_EQ(net_.count("ACK "), 1);  // the client transaction ACKs the 486
  EXPECT_FALSE(b_->ua->reject(b_->events.incoming[0].call, 200));
}

TEST_F(UaTest, Lost2xxAckIsRecoveredByRetransmission) {
  int acks_dropped = 0;
  net_.drop = [&](const Packet& p) {
    if (p.bytes.starts_with("ACK ") && acks_dropped == 0) return ++acks_dropped, true;
    return false;
  };
  establish();
  EXPECT_TRUE(b_->events.answered.empty());
  net_.advance(600ms);  // B's 200 retransmission at T1, A ACKs again
  EXPECT_EQ(net_.count("SIP/2.0 200"), 2);
  EXPECT_EQ(net_.count("ACK "), 2);
  EXPECT_EQ(b_->events.answered.size(), 1u);
  net_.advance(10s);
  EXPECT_EQ(net_.count("SIP/2.0 200"), 2);  // stopped once ACKed
}

TEST_F(UaTest, NoAckAtAllEndsTheCallWithBye) {
  net_.drop = [](const Packet& p) { return p.bytes.starts_with("ACK "); };
  auto [ah, bh] = establish();
  net_.advance(33s);
  ASSERT_EQ(b_->events.ended.size(), 1u);
  EXPECT_EQ(b_->events.ended[0], std::make_pair(bh, EndReason::kNoAck));
  EXPECT_GE(net_.count("SIP/2.0 200"), 7);
  EXPECT_EQ(net_.count("BYE "), 1);
  EXPECT_EQ(a_->events.ended.size(), 1u);  // the caller got the BYE
  (void)ah;
}

TEST_F(UaTest, DigestChallengeIsAnswered) {
  UaConfig b;
  b.auth_realm = "switchboard";
  b.password_lookup = [](std::string_view u) -> std::optional<std::string> {
    if (u == "trunk") return std::string("s3cret");
    return std::nullopt;
  };
  build({}, b);
  auto o = spec();
  o.credentials = Credentials{"trunk", "s3cret"};
  ASSERT_TRUE(a_->ua->call(o));
  net_.deliver_all();
  EXPECT_EQ(net_.count("SIP/2.0 401"), 1);
  EXPECT_EQ(net_.count("INVITE "), 2);
  ASSERT_EQ(b_->events.incoming.size(), 1u);
  auto second = Message::parse(net_.last("INVITE ")->bytes);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->cseq().number, 2u);
  EXPECT_NE(second->header(Hdr::kAuthorization)->find("algorithm=SHA-256"), std::string::npos);
  // Wrong password: one retry, then failure.
  o.credentials = Credentials{"trunk", "wrong"};
  auto h = a_->ua->call(o);
  net_.deliver_all();
  ASSERT_EQ(a_->events.failed.size(), 1u);
  EXPECT_EQ(a_->events.failed[0], std::make_pair(*h, 401));
  EXPECT_EQ(b_->events.incoming.size(), 1u);
}

TEST_F(UaTest, ReinviteHoldAndUnhold) {
  auto [ah, bh] = establish();
  LocalMedia hold;
  hold.address = "10.0.0.1";
  hold.port = 4000;
  hold.direction = Direction::kSendOnly;
  b_->events.reoffer_answer = kSdpB;
  ASSERT_TRUE(a_->ua->reinvite(ah, to_string(make_offer(hold, {}))));
  EXPECT_FALSE(a_->ua->reinvite(ah, kSdpA));  // one at a time
  net_.deliver_all();
  ASSERT_EQ(b_->events.reoffers.size(), 1u);
  EXPECT_NE(b_->events.reoffers[0].find("a=sendonly"), std::string::npos);
  ASSERT_EQ(a_->events.reinvite_results.size(), 1u);
  EXPECT_EQ(a_->events.reinvite_results[0].second, 200);
  EXPECT_EQ(net_.count("ACK "), 2);
  // The callee refuses the next offer: 488.
  b_->events.reoffer_answer.reset();
  ASSERT_TRUE(a_->ua->reinvite(ah, kSdpA));
  net_.deliver_all();
  ASSERT_EQ(a_->events.reinvite_results.size(), 2u);
  EXPECT_EQ(a_->events.reinvite_results[1].second, 488);
  // And the callee can re-INVITE too.
  a_->events.reoffer_answer = kSdpA;
  ASSERT_TRUE(b_->ua->reinvite(bh, kSdpB));
  net_.deliver_all();
  ASSERT_EQ(b_->events.reinvite_results.size(), 1u);
  EXPECT_EQ(b_->events.reinvite_results[0].second, 200);
}

TEST_F(UaTest, InfoDtmfRelay) {
  auto [ah, bh] = establish();
  ASSERT_TRUE(a_->ua->send_dtmf(ah, '5', 160));
  net_.deliver_all();
  ASSERT_EQ(b_->events.dtmf.size(), 1u);
  EXPECT_EQ(b_->events.dtmf[0], std::make_pair('5', 160));
  EXPECT_EQ(parse_dtmf_relay("Signal=#\r\nDuration=250\r\n")->first, '#');
  EXPECT_FALSE(parse_dtmf_relay("Signal=X\r\n"));
  (void)bh;
}

std::string raw_request(std::string_view method, std::string_view to_tag,
                        std::string_view extra = {}) {
  std::string s =
      std::string(method) +
      " sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.5:5062;branch=z9hG4bKr1;rport\r\n"
      "From: <sip:x@10.0.0.9>;tag=x1\r\nTo: <sip:b@10.0.0.2>" +
      (to_tag.empty() ? std::string() : ";tag=" + std::string(to_tag)) +
      "\r\nCall-ID: raw-1\r\nCSeq: 5 " + std::string(method) +
      "\r\nMax-Forwards: 70\r\nContact: <sip:x@10.0.0.9>\r\n" + std::string(extra);
  return s + "Content-Length: 0\r\n\r\n";
}

// `request` (as raw_request builds it, without a body) carrying `sdp`.
std::string with_sdp(std::string request, std::string_view sdp) {
  const std::string empty = "Content-Length: 0\r\n\r\n";
  request.replace(request.find(empty), empty.size(),
                  "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(sdp.size()) +
                      "\r\n\r\n" + std::string(sdp));
  return request;
}

std::string raw_ack(std::string_view to_tag, int cseq, std::string_view sdp = {}) {
  std::string ack =
      "ACK sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKack" +
      std::to_string(cseq) +
      "\r\nFrom: <sip:x@10.0.0.9>;tag=x1\r\nTo: <sip:b@10.0.0.2>;tag=" + std::string(to_tag) +
      "\r\nCall-ID: raw-1\r\nCSeq: " + std::to_string(cseq) + " ACK\r\nContent-Length: 0\r\n\r\n";
  return sdp.empty() ? ack : with_sdp(ack, sdp);
}

// A re-INVITE in the raw-1 dialog, CSeq 6, with `sdp` as its body ("" for none).
std::string raw_reinvite(std::string_view to_tag, std::string_view sdp = {}) {
  std::string r = raw_request("INVITE", to_tag);
  r.replace(r.find("CSeq: 5 INVITE"), 14, "CSeq: 6 INVITE");
  r.replace(r.find("z9hG4bKr1"), 9, "z9hG4bKr2");
  return sdp.empty() ? r : with_sdp(r, sdp);
}

// The caller's INVITE has no SDP: our 200 carries the offer and its ACK the answer.
TEST_F(UaTest, OfferlessInviteGetsOurOfferInThe200AndTheAnswerFromTheAck) {
  const Message ok = answer_at_b(raw_request("INVITE", ""), kSdpB);  // our offer
  ASSERT_EQ(b_->events.incoming.size(), 1u);
  EXPECT_TRUE(b_->events.incoming[0].sdp_offer.empty());
  EXPECT_EQ(net_.count("SIP/2.0 488"), 0);
  const CallHandle bh = b_->events.incoming[0].call;
  EXPECT_EQ(ok.body(), kSdpB);
  EXPECT_EQ(ok.header(Hdr::kContentType).value(), "application/sdp");
  inject(*b_, raw_ack(ok.to().tag(), 5, kSdpA));
  ASSERT_EQ(b_->events.answered.size(), 1u);
  EXPECT_EQ(b_->events.answered[0], std::make_pair(bh, kSdpA));  // the answer, to the router
  net_.advance(40s);  // a confirmed call: no retransmissions, no BYE
  EXPECT_EQ(net_.count("SIP/2.0 200"), 1);
  EXPECT_EQ(net_.count("BYE "), 0);
  EXPECT_TRUE(b_->events.ended.empty());
  EXPECT_EQ(b_->ua->active_calls(), 1u);
}

TEST_F(UaTest, OfferlessInviteWhoseAckHasNoAnswerEndsWithBye) {
  const Message ok = answer_at_b(raw_request("INVITE", ""));
  ASSERT_EQ(b_->events.incoming.size(), 1u);
  const CallHandle bh = b_->events.incoming[0].call;
  inject(*b_, raw_ack(ok.to().tag(), 5));
  net_.deliver_all();
  EXPECT_TRUE(b_->events.answered.empty());
  ASSERT_EQ(b_->events.ended.size(), 1u);
  EXPECT_EQ(b_->events.ended[0], std::make_pair(bh, EndReason::kNoAnswer));
  ASSERT_NE(net_.last("BYE "), nullptr);
  EXPECT_EQ(net_.last("BYE ")->to.address, "10.0.0.9");
  EXPECT_EQ(b_->ua->active_calls(), 0u);
}

class UaReinviteTest : public UaTest {
 protected:
  // An established raw-1 dialog at B (the caller offered); returns B's To tag.
  std::string establish_raw() {
    const Message ok = answer_at_b(with_sdp(raw_request("INVITE", ""), kSdpA));
    const std::string tag(ok.to().tag());
    inject(*b_, raw_ack(tag, 5));
    EXPECT_EQ(b_->events.answered.size(), 1u);
    return tag;
  }
};

// RFC 3261 §14.2: a re-INVITE without an offer gets our offer in the 200, the answer in the ACK.
TEST_F(UaReinviteTest, OfferlessReinviteGetsAnOfferAndTheAnswerFromTheAck) {
  const std::string tag = establish_raw();
  b_->events.offer = kSdpB;
  inject(*b_, raw_reinvite(tag));
  net_.deliver_all();
  EXPECT_EQ(b_->events.offer_requests, 1);
  EXPECT_TRUE(b_->events.reoffers.empty());
  auto ok = Message::parse(net_.last("SIP/2.0 200")->bytes);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->cseq().number, 6u);
  EXPECT_EQ(ok->body(), kSdpB);
  inject(*b_, raw_ack(tag, 6, kSdpA));
  inject(*b_, raw_ack(tag, 6, kSdpA));  // a retransmitted ACK is no second answer
  ASSERT_EQ(b_->events.ack_answers.size(), 1u);
  EXPECT_EQ(b_->events.ack_answers[0], kSdpA);
  net_.advance(40s);
  EXPECT_EQ(net_.count("BYE "), 0);
  EXPECT_TRUE(b_->events.ended.empty());
}

TEST_F(UaReinviteTest, OfferlessReinviteWithoutAnAnswerInTheAckEndsWithBye) {
  const std::string tag = establish_raw();
  b_->events.offer = kSdpB;
  inject(*b_, raw_reinvite(tag));
  net_.deliver_all();
  inject(*b_, raw_ack(tag, 6));
  net_.deliver_all();
  EXPECT_TRUE(b_->events.ack_answers.empty());
  EXPECT_EQ(net_.count("BYE "), 1);
  ASSERT_EQ(b_->events.ended.size(), 1u);
  EXPECT_EQ(b_->events.ended[0].second, EndReason::kNoAnswer);
}

TEST_F(UaReinviteTest, OfferlessReinviteNeverAckedEndsWithBye) {
  const std::string tag = establish_raw();
  b_->events.offer = kSdpB;
  inject(*b_, raw_reinvite(tag));
  net_.deliver_all();
  net_.advance(net_.now + 33s);  // 64*T1 of 200 retransmissions
  EXPECT_GE(net_.count("SIP/2.0 200"), 3);
  EXPECT_GE(net_.count("BYE "), 1);
  ASSERT_EQ(b_->events.ended.size(), 1u);
  EXPECT_EQ(b_->events.ended[0].second, EndReason::kNoAck);
}

TEST_F(UaReinviteTest, OfferlessReinviteWithoutAnOfferToGiveGets488) {
  const std::string tag = establish_raw();
  inject(*b_, raw_reinvite(tag));  // events.offer is empty: the router has none
  net_.deliver_all();
  EXPECT_EQ(b_->events.offer_requests, 1);
  auto r = Message::parse(net_.last("SIP/2.0 488")->bytes);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->cseq().number, 6u);
  EXPECT_TRUE(b_->events.ended.empty());  // the call goes on as it was
}

TEST_F(UaTest, UnknownDialogGets481AndOptionsGets200) {
  inject(*b_, raw_request("BYE", "nosuch"));
  inject(*b_, raw_request("OPTIONS", ""));
  net_.deliver_all();
  auto r481 = Message::parse(net_.last("SIP/2.0 481")->bytes);
  ASSERT_TRUE(r481);
  EXPECT_EQ(r481->cseq().method, "BYE");
  EXPECT_EQ(b_->ua->stats().unknown_dialog, 1u);
  auto ok = Message::parse(net_.last("SIP/2.0 200")->bytes);
  ASSERT_TRUE(ok);
  EXPECT_NE(ok->header(Hdr::kAllow)->find("INVITE"), std::string_view::npos);
  // RFC 3581: received and rport filled in from the packet's source.
  EXPECT_EQ(ok->top_via().param("received").value(), "10.0.0.9");
  EXPECT_EQ(ok->top_via().param("rport").value(), "5060");
  EXPECT_EQ(net_.last("SIP/2.0 200")->to.address, "10.0.0.9");
}

TEST_F(UaTest, MalformedRequestGets400AndOthersAreUntouched) {
  auto [ah, bh] = establish();
  std::string bad = raw_request("OPTIONS", "");
  bad.replace(bad.find("CSeq: 5 OPTIONS"), 15, "CSeq: 99999999999 OPTIONS");
  inject(*b_, bad);
  inject(*b_, "garbage\r\n\r\n");
  net_.deliver_all();
  const Packet* r = net_.last("SIP/2.0 400");
  ASSERT_NE(r, nullptr);
  EXPECT_TRUE(r->bytes.starts_with("SIP/2.0 400 CSeq number too large\r\n"));
  EXPECT_EQ(r->to.address, "10.0.0.9");
  EXPECT_EQ(b_->ua->stats().malformed, 1u);
  EXPECT_EQ(b_->ua->stats().dropped, 1u);
  ASSERT_TRUE(a_->ua->hangup(ah));  // the established call still works
  net_.deliver_all();
  EXPECT_EQ(b_->events.ended.size(), 1u);
  (void)bh;
}

TEST_F(UaTest, RecordRouteBecomesRouteSet) {
  inject(*b_,
         with_sdp(raw_request("INVITE", "",
                              "Record-Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
                              "Session-Expires: 1800\r\nSupported: timer\r\n"),
                  kSdpA),
         {"10.0.0.9", 5060});
  net_.deliver_all();
  ASSERT_EQ(b_->events.incoming.size(), 1u);
  const CallHandle bh = b_->events.incoming[0].call;
  ASSERT_TRUE(b_->ua->answer(bh, kSdpB));
  net_.deliver_all();
  auto ok = Message::parse(net_.last("SIP/2.0 200")->bytes);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->count(Hdr::kRecordRoute), 2u);
  EXPECT_EQ(ok->header(Hdr::kSessionExpires).value(), "1800;refresher=uac");
  EXPECT_EQ(ok->header(Hdr::kRequire).value(), "timer");
  inject(*b_,
         "ACK sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKack\r\n"
         "From: <sip:x@10.0.0.9>;tag=x1\r\nTo: <sip:b@10.0.0.2>;tag=" +
             std::string(ok->to().tag()) +
             "\r\nCall-ID: raw-1\r\nCSeq: 5 ACK\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(b_->events.answered.size(), 1u);
  ASSERT_TRUE(b_->ua->hangup(bh));
  net_.deliver_all();
  auto bye = Message::parse(net_.last("BYE ")->bytes);
  ASSERT_TRUE(bye);
  ASSERT_EQ(bye->count(Hdr::kRoute), 2u);
  std::vector<std::string> routes;
  bye->for_each_value(Hdr::kRoute, [&](std::string_view v) { routes.emplace_back(v); });
  EXPECT_EQ(routes,
            (std::vector<std::string>{"<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"}));
  EXPECT_EQ(bye->uri().user, "x");  // remote target from Contact
}

TEST_F(UaTest, SessionTimerWithoutRefreshEndsTheCallWithBye) {
  inject(*b_,
         with_sdp(raw_request("INVITE", "", "Session-Expires: 90\r\nSupported: timer\r\n"), kSdpA),
         {"10.0.0.9", 5060});
  net_.deliver_all();
  ASSERT_EQ(b_->events.incoming.size(), 1u);
  const CallHandle bh = b_->events.incoming[0].call;
  ASSERT_TRUE(b_->ua->answer(bh, kSdpB));
  net_.deliver_all();
  auto ok = Message::parse(net_.last("SIP/2.0 200")->bytes);
  ASSERT_TRUE(ok);
  const std::string tag(ok->to().tag());
  inject(*b_,
         "ACK sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKack\r\n"
         "From: <sip:x@10.0.0.9>;tag=x1\r\nTo: <sip:b@10.0.0.2>;tag=" +
             tag + "\r\nCall-ID: raw-1\r\nCSeq: 5 ACK\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(b_->events.answered.size(), 1u);

  // 90 s with the caller refreshing: we must hang up a third (30 s) before expiry, so at 60 s.
  net_.advance(50s);  // the fake network's clock is absolute
  EXPECT_EQ(net_.count("BYE "), 0);
  std::string refresh = raw_request("INVITE", tag, "Session-Expires: 90;refresher=uac\r\n");
  refresh.replace(refresh.find("CSeq: 5 INVITE"), 14, "CSeq: 6 INVITE");
  refresh.replace(refresh.find("z9hG4bKr1"), 9, "z9hG4bKr2");
  b_->events.reoffer_answer = kSdpB;  // a refresh re-INVITE carries an offer (RFC 4028 §7.4)
  inject(*b_, with_sdp(refresh, kSdpA), {"10.0.0.9", 5060});
  net_.deliver_all();
  net_.advance(105s);  // past the first deadline (60 s), before the refreshed one (110 s)
  EXPECT_EQ(net_.count("BYE "), 0);
  EXPECT_TRUE(b_->events.ended.empty());
  net_.advance(115s);                // no refresh since 50 s
  EXPECT_GE(net_.count("BYE "), 1);  // retransmitted: nobody answers at the raw address
  ASSERT_EQ(b_->events.ended.size(), 1u);
  EXPECT_EQ(b_->events.ended[0], std::make_pair(bh, EndReason::kTimeout));
}

TEST_F(UaTest, SessionIntervalTooSmallGets422) {
  inject(*b_, raw_request("INVITE", "", "Session-Expires: 30\r\n"));
  net_.deliver_all();
  auto r = Message::parse(net_.last("SIP/2.0 422")->bytes);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header(Hdr::kMinSe).value(), "90");
  EXPECT_TRUE(b_->events.incoming.empty());
}

TEST_F(UaTest, CallerTimesOutWithoutAnswer) {
  net_.drop = [](const Packet& p) { return p.to.address == "10.0.0.2"; };
  auto h = a_->ua->call(spec());
  net_.advance(33s);
  ASSERT_EQ(a_->events.failed.size(), 1u);
  EXPECT_EQ(a_->events.failed[0], std::make_pair(*h, 408));
  EXPECT_EQ(net_.count("INVITE "), 7);  // initial + Timer A retransmissions
}

// Messages (RFC 3428): what a node's MessageEvents saw.
struct FakeMessageEvents : MessageEvents {
  std::vector<IncomingMessage> incoming;
  std::vector<std::tuple<std::uint64_t, int, std::string>> results;
  void on_message(const IncomingMessage& m) override { incoming.push_back(m); }
  void on_message_result(std::uint64_t h, int status, std::string_view reason) override {
    results.emplace_back(h, status, std::string(reason));
  }
};

class UaMessageTest : public UaTest {
 protected:
  void SetUp() override {
    UaTest::SetUp();
    attach();
  }
  void attach() {
    a_->ua->set_message_events(&a_msgs_);
    b_->ua->set_message_events(&b_msgs_);
  }
  OutboundMessage message(std::string body = "hello") {
    OutboundMessage m;
    m.target = "sip:+15551234@10.0.0.2";
    m.from = "sip:+15550000@10.0.0.1";
    m.next_hop = {"10.0.0.2", 5060, Transport::kUdp, 0};
    m.body = std::move(body);
    return m;
  }
  FakeMessageEvents a_msgs_, b_msgs_;
};

TEST_F(UaMessageTest, MessageIsHandedOverAndItsAnswerReachesTheSender) {
  auto h = a_->ua->send_message(message("héllo wörld"));
  ASSERT_TRUE(h);
  net_.deliver_all();
  ASSERT_EQ(b_msgs_.incoming.size(), 1u);
  const IncomingMessage& in = b_msgs_.incoming[0];
  EXPECT_EQ(in.body, "héllo wörld");
  EXPECT_EQ(in.content_type, "text/plain;charset=UTF-8");
  EXPECT_EQ(in.from_user, "+15550000");
  EXPECT_EQ(in.to_user, "+15551234");
  EXPECT_EQ(in.source.address, "10.0.0.1");
  EXPECT_TRUE(a_msgs_.results.empty());  // nothing until B answers
  EXPECT_EQ(b_->ua->messages_pending(), 1u);
  ASSERT_TRUE(b_->ua->answer_message(in.tx, 202));
  EXPECT_FALSE(b_->ua->answer_message(in.tx, 202));  // once only
  net_.deliver_all();
  ASSERT_EQ(a_msgs_.results.size(), 1u);
  EXPECT_EQ(std::get<0>(a_msgs_.results[0]), *h);
  EXPECT_EQ(std::get<1>(a_msgs_.results[0]), 202);
  EXPECT_EQ(a_->ua->messages_pending(), 0u);
  EXPECT_EQ(b_->ua->messages_pending(), 0u);
  EXPECT_EQ(b_->ua->stats().messages_in, 1u);
  EXPECT_EQ(a_->ua->stats().messages_out, 1u);
}

TEST_F(UaMessageTest, RefusalReachesTheSenderWithItsReason) {
  auto h = a_->ua->send_message(message());
  ASSERT_TRUE(h);
  net_.deliver_all();
  ASSERT_EQ(b_msgs_.incoming.size(), 1u);
  ASSERT_TRUE(b_->ua->answer_message(b_msgs_.incoming[0].tx, 480, "Temporarily Unavailable"));
  net_.deliver_all();
  ASSERT_EQ(a_msgs_.results.size(), 1u);
  EXPECT_EQ(std::get<1>(a_msgs_.results[0]), 480);
  EXPECT_EQ(std::get<2>(a_msgs_.results[0]), "Temporarily Unavailable");
}

TEST_F(UaMessageTest, WithoutAHandlerMessageGets405) {
  b_->ua->set_message_events(nullptr);
  ASSERT_TRUE(a_->ua->send_message(message()));
  net_.deliver_all();
  ASSERT_EQ(a_msgs_.results.size(), 1u);
  EXPECT_EQ(std::get<1>(a_msgs_.results[0]), 405);
  auto r = Message::parse(net_.last("SIP/2.0 405")->bytes);
  ASSERT_TRUE(r);
  EXPECT_NE(r->header("Allow")->find("MESSAGE"), std::string_view::npos);
}

TEST_F(UaMessageTest, ChallengeIsAnsweredOnce) {
  UaConfig b;
  b.auth_realm = "switchboard";
  b.password_lookup = [](std::string_view u) -> std::optional<std::string> {
    if (u == "trunk") return std::string("s3cret");
    return std::nullopt;
  };
  build({}, b);
  attach();
  auto m = message();
  m.credentials = Credentials{"trunk", "s3cret"};
  ASSERT_TRUE(a_->ua->send_message(m));
  net_.deliver_all();
  EXPECT_EQ(net_.count("SIP/2.0 401"), 1);
  ASSERT_EQ(b_msgs_.incoming.size(), 1u);
  ASSERT_TRUE(b_->ua->answer_message(b_msgs_.incoming[0].tx, 202));
  net_.deliver_all();
  ASSERT_EQ(a_msgs_.results.size(), 1u);
  EXPECT_EQ(std::get<1>(a_msgs_.results[0]), 202);
  // A wrong password: one retry, then the second 401 is the outcome.
  m.credentials = Credentials{"trunk", "wrong"};
  ASSERT_TRUE(a_->ua->send_message(m));
  net_.deliver_all();
  ASSERT_EQ(a_msgs_.results.size(), 2u);
  EXPECT_EQ(std::get<1>(a_msgs_.results[1]), 401);
  EXPECT_EQ(b_msgs_.incoming.size(), 1u);
}

TEST_F(UaMessageTest, NoAnswerEndsIn408) {
  net_.drop = [](const Packet& p) { return p.to.address == "10.0.0.2"; };
  auto h = a_->ua->send_message(message());
  ASSERT_TRUE(h);
  net_.advance(33s);
  ASSERT_EQ(a_msgs_.results.size(), 1u);
  EXPECT_EQ(a_msgs_.results[0], std::make_tuple(*h, 408, std::string("Request Timeout")));
  EXPECT_EQ(a_->ua->messages_pending(), 0u);
}

TEST_F(UaMessageTest, AFloodFromOneSourceIsRefusedWith503) {
  UaConfig b;
  b.message_rate = 1;
  b.message_burst = 3;
  build({}, b);
  attach();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(a_->ua->send_message(message()));
  net_.deliver_all();
  EXPECT_EQ(b_msgs_.incoming.size(), 3u);
  EXPECT_EQ(b_->ua->stats().messages_limited, 2u);
  EXPECT_EQ(net_.count("SIP/2.0 503"), 2);
}

TEST_F(UaMessageTest, UnsafeExtraHeaderIsRefused) {
  auto m = message();
  m.headers.emplace_back("X-Bad", "a\r\nInjected: 1");
  EXPECT_FALSE(a_->ua->send_message(m));
  EXPECT_EQ(a_->ua->messages_pending(), 0u);
}

}  // namespace
}  // namespace sb::sip
