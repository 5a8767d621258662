// The four transaction state machines and the matching layer, on a fake clock.
#include "sip/transaction.hpp"

#include <gtest/gtest.h>

#include "support/fake_sender.hpp"
#include "support/fake_transaction_user.hpp"

namespace sb::sip {
namespace {

using namespace std::chrono_literals;

Message parse(std::string_view s) {
  auto m = Message::parse(s);
  EXPECT_TRUE(m) << s;
  return *m;
}

std::string request(std::string_view method, std::string_view branch = "z9hG4bKabc", int cseq = 1) {
  MessageWriter w;
  w.request_line(method, "sip:bob@192.0.2.2");
  w.header("Via", "SIP/2.0/UDP 192.0.2.1:5060;branch=" + std::string(branch));
  w.header("Max-Forwards", "70");
  w.header("From", "<sip:alice@192.0.2.1>;tag=a1");
  w.header("To", "<sip:bob@192.0.2.2>");
  w.header("Call-ID", "call-1");
  w.header("CSeq", std::to_string(cseq) + " " + std::string(method));
  return w.finish();
}

Message response_to(const Message& rq, int status) {
  return parse(make_response(rq, status, {}, "b1"));
}

int count(const TxEvents& ev, TxEvent::Kind k) {
  return static_cast<int>(
      std::count_if(ev.begin(), ev.end(), [k](const TxEvent& e) { return e.kind == k; }));
}

// Advances in 1 ms steps (like a real tick) and records at which times bytes were sent.
std::vector<long> run(Transaction& tx, Millis from, Millis to, TxEvents& all) {
  std::vector<long> sends;
  for (Millis t = from; t <= to && tx.state() != TxState::kTerminated; t += 1ms) {
    TxEvents ev;
    if (auto d = tx.next_deadline(); d && *d <= t) tx.on_timer(t, ev);
    for (auto& e : ev) {
      if (e.kind == TxEvent::Kind::kSend) sends.push_back(static_cast<long>(t.count()));
      all.push_back(std::move(e));
    }
  }
  return sends;
}

TEST(ClientInvite, TimerARetransmitsDoublingAndTimerBTimesOut) {
  TxEvents ev;
  ClientTransaction tx(parse(request("INVITE")), false, {}, 0ms, ev);
  ASSERT_EQ(count(ev, TxEvent::Kind::kSend), 1);
  EXPECT_EQ(tx.state(), TxState::kCalling);
  TxEvents all;
  auto sends = run(tx, 1ms, 40000ms, all);
  EXPECT_EQ(sends, (std::vector<long>{500, 1500, 3500, 7500, 15500, 31500}));
  EXPECT_EQ(count(all, TxEvent::Kind::kTimeout), 1);
  EXPECT_EQ(tx.state(), TxState::kTerminated);
}

TEST(ClientInvite, ProvisionalStopsRetransmissionsAndNon2xxIsAcked) {
  TxEvents ev;
  const Message inv = parse(request("INVITE"));
  ClientTransaction tx(inv, false, {}, 0ms, ev);
  ev.clear();
  tx.on_response(response_to(inv, 180), 100ms, ev);
  EXPECT_EQ(tx.state(), TxState::kProceeding);
  EXPECT_EQ(count(ev, TxEvent::Kind::kResponse), 1);
  TxEvents all;
  EXPECT_TRUE(run(tx, 101ms, 60000ms, all).empty());  // no retransmission, no Timer B
  EXPECT_EQ(count(all, TxEvent::Kind::kTimeout), 0);
  ev.clear();
  tx.on_response(response_to(inv, 486), 60001ms, ev);
  EXPECT_EQ(tx.state(), TxState::kCompleted);
  ASSERT_EQ(count(ev, TxEvent::Kind::kSend), 1);
  auto ack = parse(ev[0].bytes);
  EXPECT_EQ(ack.method(), "ACK");
  EXPECT_EQ(ack.top_via().branch(), "z9hG4bKabc");
  EXPECT_EQ(ack.to().tag(), "b1");
  EXPECT_EQ(ack.cseq().method, "ACK");
  // A retransmitted final is absorbed and re-ACKed, not passed up.
  ev.clear();
  tx.on_response(response_to(inv, 486), 61000ms, ev);
  EXPECT_EQ(count(ev, TxEvent::Kind::kSend), 1);
  EXPECT_EQ(count(ev, TxEvent::Kind::kResponse), 0);
  all.clear();
  run(tx, 61001ms, 100000ms, all);
  EXPECT_EQ(tx.state(), TxState::kTerminated);  // Timer D (32 s)
}

TEST(ClientInvite, AcceptedPassesRetransmitted2xxUpUntilTimerM) {
  TxEvents ev;
  const Message inv = parse(request("INVITE"));
  ClientTransaction tx(inv, false, {}, 0ms, ev);
  ev.clear();
  tx.on_response(response_to(inv, 200), 10ms, ev);
  EXPECT_EQ(tx.state(), TxState::kAccepted);
  EXPECT_EQ(count(ev, TxEvent::Kind::kSend), 0);  // the TU ACKs a 2xx, not the transaction
  ev.clear();
  tx.on_response(response_to(inv, 200), 600ms, ev);
  EXPECT_EQ(count(ev, TxEvent::Kind::kResponse), 1);
  TxEvents all;
  run(tx, 601ms, 32009ms, all);
  EXPECT_EQ(tx.state(), TxState::kAccepted);
  run(tx, 32010ms, 32011ms, all);
  EXPECT_EQ(tx.state(), TxState::kTerminated);
}

TEST(ClientInvite, ReliableTransportNeverRetransmits) {
  TxEvents ev;
  const Message inv = parse(request("INVITE"));
  ClientTransaction tx(inv, true, {}, 0ms, ev);
  TxEvents all;
  EXPECT_TRUE(run(tx, 1ms, 31999ms, all).empty());
  ev.clear();
  tx.on_response(response_to(inv, 503), 32ms, ev);
  EXPECT_EQ(tx.state(), TxState::kTerminated);  // Timer D is zero
}

TEST(ClientNonInvite, TimerECapsAtT2AndTimerFTimesOut) {
  TxEvents ev;
  ClientTransaction tx(parse(request("OPTIONS")), false, {}, 0ms, ev);
  TxEvents all;
  auto sends = run(tx, 1ms, 40000ms, all);
  EXPECT_EQ(sends,
            (std::vector<long>{500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
  EXPECT_EQ(count(all, TxEvent::Kind::kTimeout), 1);
}

TEST(ClientNonInvite, ProceedingRetransmitsAtT2ThenTimerK) {
  TxEvents ev;
  const Message bye = parse(request("BYE"));
  ClientTransaction tx(bye, false, {}, 0ms, ev);
  TxEvents all;
  run(tx, 1ms, 600ms, all);  // one retransmission at 500
  ev.clear();
  tx.on_response(response_to(bye, 100), 600ms, ev);
  auto sends = run(tx, 601ms, 12000ms, all);
  EXPECT_EQ(sends, (std::vector<long>{1500, 5500, 9500}));
  ev.clear();
  tx.on_response(response_to(bye, 200), 12000ms, ev);
  EXPECT_EQ(count(ev, TxEvent::Kind::kResponse), 1);
  EXPECT_EQ(tx.state(), TxState::kCompleted);
  ev.clear();
  tx.on_response(response_to(bye, 200), 13000ms, ev);
  EXPECT_TRUE(ev.empty());
  run(tx, 12001ms, 16999ms, all);
  EXPECT_EQ(tx.state(), TxState::kCompleted);
  run(tx, 17000ms, 17000ms, all);
  EXPECT_EQ(tx.state(), TxState::kTerminated);  // Timer K = T4
}

TEST(ServerInvite, Sends100ThenRetransmitsLastProvisional) {
  TxEvents ev;
  const Message inv = parse(request("INVITE"));
  ServerTransaction tx(inv, false, {}, 0ms, ev);
  ASSERT_EQ(count(ev, TxEvent::Kind::kSend), 1);
  EXPECT_EQ(parse(ev[0].bytes).status(), 100);
  ev.clear();
  tx.respond(180, make_response(inv, 180, {}, "b1"), 10ms, ev);
  ev.clear();
  tx.on_request(inv, 500ms, ev);
  ASSERT_EQ(count(ev, TxEvent::Kind::kSend), 1);
  EXPECT_EQ(parse(ev[0].bytes).status(), 180);
}

TEST(ServerInvite, TimerGRetransmitsFinalUntilAckThenTimerI) {
  TxEvents ev;
  const Message inv = parse(request("INVITE"));
  ServerTransaction tx(inv, false, {}, 0ms, ev);
  tx.respond(486, make_response(inv, 486, {}, "b1"), 0ms, ev);
  EXPECT_EQ(tx.state(), TxState::kCompleted);
  TxEvents all;
  auto sends = run(tx, 1ms, 8000ms, all);
  EXPECT_EQ(sends, (std::vector<long>{500, 1500, 3500, 7500}));
  ev.clear();
  tx.on_request(parse(make_non2xx_ack(inv, response_to(inv, 486))), 8000ms, ev);
  EXPECT_EQ(tx.state(), TxState::kConfirmed);
  EXPECT_TRUE(run(tx, 8001ms, 12999ms, all).empty());
  EXPECT_EQ(tx.state(), TxState::kConfirmed);
  run(tx, 13000ms, 13001ms, all);
  EXPECT_EQ(tx.state(), TxState::kTerminated);
}

TEST(Transactions, ReleaseTheRequestOnceFinal) {
  TxEvents ev;
  const Message inv = parse(request("INVITE"));
  ServerTransaction st(inv, false, {}, 0ms, ev);
  st.respond(180, make_response(inv, 180, {}, "b1"), 0ms, ev);
  EXPECT_NE(st.request(), nullptr);  // CANCEL still needs it
  st.respond(200, make_response(inv, 200, {}, "b1"), 0ms, ev);
  EXPECT_EQ(st.request(), nullptr);
  ClientTransaction ct(inv, false, {}, 0ms, ev);
  ct.on_response(response_to(inv, 180), 1ms, ev);
  EXPECT_NE(ct.request(), nullptr);
  ct.on_response(response_to(inv, 486), 2ms, ev);
  EXPECT_EQ(ct.request(), nullptr);
  ev.clear();
  ct.on_response(response_to(inv, 486), 3ms, ev);  // the ACK is still resent
  EXPECT_EQ(count(ev, TxEvent::Kind::kSend), 1);
}

TEST(ServerInvite, TimerHFiresWithoutAck) {
  TxEvents ev;
  const Message inv = parse(request("INVITE"));
  ServerTransaction tx(inv, false, {}, 0ms, ev);
  tx.respond(603, make_response(inv, 603, {}, "b1"), 0ms, ev);
  TxEvents all;
  run(tx, 1ms, 33000ms, all);
  EXPECT_EQ(count(all, TxEvent::Kind::kTimeout), 1);
  EXPECT_EQ(tx.state(), TxState::kTerminated);
}

TEST(ServerInvite, TwoHundredRetransmittedUntilAck) {
  TxEvents ev;
  const Message inv = parse(request("INVITE"));
  ServerTransaction tx(inv, true, {}, 0ms, ev);  // even over TCP (§13.3.1.4)
  tx.respond(200, make_response(inv, 200, {}, "b1"), 0ms, ev);
  EXPECT_EQ(tx.state(), TxState::kAccepted);
  TxEvents all;
  auto sends = run(tx, 1ms, 12000ms, all);
  EXPECT_EQ(sends, (std::vector<long>{500, 1500, 3500, 7500, 11500}));
  ev.clear();
  tx.on_2xx_ack(ev);
  EXPECT_EQ(count(ev, TxEvent::Kind::kAck), 1);
  all.clear();
  EXPECT_TRUE(run(tx, 12001ms, 40000ms, all).empty());
  EXPECT_EQ(count(all, TxEvent::Kind::kTimeout), 0);
  EXPECT_EQ(tx.state(), TxState::kTerminated);  // Timer L
}

TEST(ServerInvite, TwoHundredWithoutAckTimesOut) {
  TxEvents ev;
  const Message inv = parse(request("INVITE"));
  ServerTransaction tx(inv, false, {}, 0ms, ev);
  tx.respond(200, make_response(inv, 200, {}, "b1"), 0ms, ev);
  TxEvents all;
  auto sends = run(tx, 1ms, 40000ms, all);
  EXPECT_EQ(sends.size(), 10u);
  EXPECT_EQ(count(all, TxEvent::Kind::kTimeout), 1);
}

TEST(ServerNonInvite, RetransmissionGetsLastResponseUntilTimerJ) {
  TxEvents ev;
  const Message opt = parse(request("OPTIONS"));
  ServerTransaction tx(opt, false, {}, 0ms, ev);
  EXPECT_TRUE(ev.empty());  // no automatic 100 for non-INVITE
  tx.on_request(opt, 1ms, ev);
  EXPECT_TRUE(ev.empty());  // nothing to repeat yet
  tx.respond(200, make_response(opt, 200, {}, "b1"), 2ms, ev);
  ev.clear();
  tx.on_request(opt, 3ms, ev);
  EXPECT_EQ(count(ev, TxEvent::Kind::kSend), 1);
  TxEvents all;
  run(tx, 4ms, 32001ms, all);
  EXPECT_EQ(tx.state(), TxState::kCompleted);
  run(tx, 32002ms, 32003ms, all);
  EXPECT_EQ(tx.state(), TxState::kTerminated);
}

// --- layer ---

using sb::testing::FakeSender;
using sb::testing::FakeTransactionUser;

const Endpoint kPeer{"192.0.2.1", 5060, Transport::kUdp, 0};

TEST(TransactionLayer, MatchesRetransmissionsAndCancel) {
  FakeSender s;
  FakeTransactionUser u;
  TransactionLayer layer(s, u);
  const Message inv = parse(request("INVITE"));
  layer.on_message(inv, kPeer, 0ms);
  ASSERT_EQ(u.requests.size(), 1u);
  const auto tx = u.requests[0].first;
  EXPECT_NE(tx, 0u);
  ASSERT_EQ(s.sent.size(), 1u);  // 100 Trying
  EXPECT_EQ(s.sent[0].to, kPeer);
  layer.on_message(inv, kPeer, 100ms);  // retransmission: absorbed, 100 repeated
  EXPECT_EQ(u.requests.size(), 1u);
  EXPECT_EQ(s.sent.size(), 2u);
  // CANCEL: its own server transaction, pointing at the INVITE's.
  const Message cancel = parse(request("CANCEL"));
  layer.on_message(cancel, kPeer, 200ms);
  ASSERT_EQ(u.requests.size(), 2u);
  EXPECT_NE(u.requests[1].first, tx);
  EXPECT_EQ(layer.find_invite_for_cancel(cancel), tx);
  // A CANCEL with another branch matches nothing.
  EXPECT_EQ(layer.find_invite_for_cancel(parse(request("CANCEL", "z9hG4bKother"))), 0u);
}

TEST(TransactionLayer, AckFor2xxWithNewBranchStopsRetransmissions) {
  FakeSender s;
  FakeTransactionUser u;
  TransactionLayer layer(s, u);
  const Message inv = parse(request("INVITE"));
  layer.on_message(inv, kPeer, 0ms);
  const auto tx = u.requests[0].first;
  ASSERT_TRUE(layer.respond(tx, 200, make_response(inv, 200, {}, "b1"), 0ms));
  const auto before = s.sent.size();
  layer.on_tick(500ms);
  EXPECT_EQ(s.sent.size(), before + 1);  // 2xx retransmitted at T1
  EXPECT_EQ(layer.next_deadline(), 1500ms);
  layer.on_message(parse(request("ACK", "z9hG4bKnew")), kPeer, 600ms);
  ASSERT_EQ(u.acks.size(), 1u);
  EXPECT_EQ(u.acks[0], tx);
  EXPECT_EQ(u.requests.back().first, 0u);  // ACK passed up outside any transaction
  layer.on_tick(1500ms);
  layer.on_tick(3500ms);
  EXPECT_EQ(s.sent.size(), before + 1);
  layer.on_tick(40000ms);
  EXPECT_TRUE(u.timeouts.empty());
  EXPECT_EQ(layer.size(), 0u);
}

TEST(TransactionLayer, ClientResponsesMatchByBranchAndMethod) {
  FakeSender s;
  FakeTransactionUser u;
  TransactionLayer layer(s, u);
  const Message inv = parse(request("INVITE", "z9hG4bKc1"));
  const auto tx = layer.send_request(inv, kPeer, 0ms);
  ASSERT_EQ(s.sent.size(), 1u);
  layer.on_message(response_to(inv, 180), kPeer, 10ms);
  ASSERT_EQ(u.responses.size(), 1u);
  EXPECT_EQ(u.responses[0].first, tx);
  // A CANCEL shares the branch but is a different transaction.
  const Message cancel = parse(request("CANCEL", "z9hG4bKc1"));
  const auto ctx = layer.send_request(cancel, kPeer, 20ms);
  layer.on_message(response_to(cancel, 200), kPeer, 30ms);
  ASSERT_EQ(u.responses.size(), 2u);
  EXPECT_EQ(u.responses[1].first, ctx);
  // CANCEL race: the INVITE still gets its 487 (or a 200 that beat the CANCEL).
  layer.on_message(response_to(inv, 487), kPeer, 40ms);
  ASSERT_EQ(u.responses.size(), 3u);
  EXPECT_EQ(u.responses[2].first, tx);
  EXPECT_EQ(parse(s.sent.back().bytes).method(), "ACK");
  // Unknown branch: stray.
  layer.on_message(response_to(parse(request("INVITE", "z9hG4bKzz")), 200), kPeer, 50ms);
  EXPECT_EQ(u.stray, 1);
  layer.on_tick(100000ms);
  EXPECT_EQ(layer.size(), 0u);
}

TEST(TransactionLayer, ClientTimeoutReachesUser) {
  FakeSender s;
  FakeTransactionUser u;
  TransactionLayer layer(s, u);
  const auto tx = layer.send_request(parse(request("OPTIONS")), kPeer, 0ms);
  for (Millis t = 0ms; t <= 33000ms; t += 10ms) layer.on_tick(t);
  ASSERT_EQ(u.timeouts.size(), 1u);
  EXPECT_EQ(u.timeouts[0], tx);
  EXPECT_EQ(s.sent.size(), 11u);  // initial + 10 retransmissions (E)
}

}  // namespace
}  // namespace sb::sip
