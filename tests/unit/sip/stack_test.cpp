// The Asio stack over real loopback sockets: a call each way over UDP and TCP, and garbage
// that must not disturb anything. Bounded by io_context::run_for, never by sleeping.
#include "sip/stack.hpp"

#include <gtest/gtest.h>

#include "support/fake_call_events.hpp"

namespace sb::sip {
namespace {

const std::string kSdp =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0\r\n";

using sb::testing::FakeCallEvents;

// Every incoming call on `stack` is answered at once.
void auto_answer(FakeCallEvents& events, SipStack& stack) {
  events.when_incoming = [&stack](const IncomingCall& c) {
    EXPECT_TRUE(stack.ua().answer(c.call, kSdp));
  };
}

template <typename F>
bool run_until(asio::io_context& io, F done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(std::chrono::milliseconds(5));
  }
  return done();
}

class StackTest : public ::testing::TestWithParam<Transport> {};

TEST_P(StackTest, CallAnswerHangupOverLoopback) {
  asio::io_context io;
  FakeCallEvents callee_events, caller_events;
  SipStack callee(io, {}, callee_events);
  SipStack caller(io, {}, caller_events);
  auto_answer(callee_events, callee);
  auto_answer(caller_events, caller);
  auto cu = callee.listen_udp("127.0.0.1", 0);
  auto ct = callee.listen_tcp("127.0.0.1", 0);
  ASSERT_TRUE(cu && ct);
  ASSERT_TRUE(caller.listen_udp("127.0.0.1", 0));
  ASSERT_TRUE(caller.listen_tcp("127.0.0.1", 0));
  callee.start();
  caller.start();

  OutboundCall o;
  o.target = "sip:bob@127.0.0.1";
  o.from = "sip:alice@127.0.0.1";
  o.next_hop = GetParam() == Transport::kUdp ? *cu : *ct;
  o.sdp_offer = kSdp;
  auto h = caller.ua().call(o);
  ASSERT_TRUE(h);
  ASSERT_TRUE(run_until(io, [&] {
    return caller_events.answered.size() == 1 && callee_events.answered.size() == 1;
  }));
  ASSERT_TRUE(caller.ua().hangup(*h));
  ASSERT_TRUE(run_until(io, [&] { return callee_events.ended.size() == 1; }));
  EXPECT_EQ(callee.ua().active_calls(), 0u);
  if (GetParam() == Transport::kTcp) {
    EXPECT_EQ(callee.transport_stats().tcp_accepted, 1u);
    EXPECT_EQ(caller.transport_stats().tcp_connected, 1u);
  }
  caller.stop();
  callee.stop();
}

INSTANTIATE_TEST_SUITE_P(Transports, StackTest, ::testing::Values(Transport::kUdp, Transport::kTcp),
                         [](const auto& i) { return std::string(to_string(i.param)); });

TEST(Stack, GarbageOnSocketsIsSurvived) {
  asio::io_context io;
  FakeCallEvents ev;
  SipStack stack(io, {}, ev);
  auto_answer(ev, stack);
  auto u = stack.listen_udp("127.0.0.1", 0);
  auto t = stack.listen_tcp("127.0.0.1", 0);
  ASSERT_TRUE(u && t);
  stack.start();
  asio::ip::udp::socket s(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const asio::ip::udp::endpoint dest(asio::ip::make_address("127.0.0.1"), u->port);
  s.send_to(asio::buffer(std::string("\0\1\2garbage", 10)), dest);
  s.send_to(asio::buffer(std::string(
                "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\n"
                "From: <sip:c@d>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: g\r\nCSeq: 1 BYE\r\n\r\n")),
            dest);
  std::array<char, 2048> buf{};
  asio::ip::udp::endpoint from;
  std::size_t got = 0;
  s.async_receive_from(asio::buffer(buf), from,
                       [&](boost::system::error_code ec, std::size_t n) { got = ec ? 0 : n; });
  // A TCP peer sending a bad Content-Length is disconnected.
  asio::ip::tcp::socket tc(io);
  tc.connect({asio::ip::make_address("127.0.0.1"), t->port});
  asio::write(tc,
              asio::buffer(std::string("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -1\r\n\r\n")));
  ASSERT_TRUE(
      run_until(io, [&] { return got > 0 && stack.transport_stats().framing_errors == 1; }));
  EXPECT_TRUE(std::string_view(buf.data(), got)
                  .starts_with("SIP/2.0 400 CSeq method does not match Request-Line\r\n"));
  EXPECT_EQ(stack.ua().stats().dropped, 1u);
  EXPECT_EQ(stack.ua().stats().malformed, 1u);
  stack.stop();
}

}  // namespace
}  // namespace sb::sip
