// The Asio stack over real loopback sockets: a call each way over UDP, TCP and TLS (certificate
// checked, connection reused, a failed check failing the call at once), and garbage that must
// not disturb anything. Bounded by io_context::run_for, never by sleeping.
#include "sip/stack.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "support/fake_call_events.hpp"
#include "support/temp_dir.hpp"

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

// A self-signed certificate for 127.0.0.1 (it is its own CA), made by the openssl command.
struct SelfSigned {
  testing::TempDir dir;
  std::string cert = dir.file("sip.pem");
  std::string key = dir.file("sip.key");
  SelfSigned() {
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "
        "/CN=sip.switchboard.test -addext subjectAltName=IP:127.0.0.1 -keyout " +
        key + " -out " + cert + " 2>/dev/null";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }
};

TEST(StackTls, CallsOverOneCheckedConnectionAndAFailedCheckFailsAtOnce) {
  SelfSigned pki;
  asio::io_context io;
  FakeCallEvents callee_events, caller_events, stranger_events;
  SipStack callee(io, {}, callee_events);
  SipStack caller(io, {}, caller_events);
  SipStack stranger(io, {}, stranger_events);  // trusts only the system's CAs
  auto_answer(callee_events, callee);
  auto server = make_sip_server_tls({pki.cert, pki.key});
  ASSERT_TRUE(server) << server.error().message;
  ASSERT_TRUE(callee.listen_udp("127.0.0.1", 0));
  auto tls = callee.listen_tls("127.0.0.1", 0, *server);
  ASSERT_TRUE(tls);
  EXPECT_EQ(tls->transport, Transport::kTls);
  auto trusting = make_sip_client_tls(pki.cert);
  auto system_only = make_sip_client_tls("");
  ASSERT_TRUE(trusting && system_only);
  caller.set_tls_client(*trusting);
  stranger.set_tls_client(*system_only);
  for (auto* s : {&caller, &stranger}) ASSERT_TRUE(s->listen_udp("127.0.0.1", 0));
  callee.start();
  caller.start();
  stranger.start();

  OutboundCall o;
  o.target = "sip:bob@127.0.0.1;transport=tls";
  o.from = "sip:alice@127.0.0.1";
  o.next_hop = *tls;
  o.sdp_offer = kSdp;
  for (int i = 0; i < 2; ++i) {
    auto h = caller.ua().call(o);
    ASSERT_TRUE(h);
    ASSERT_TRUE(run_until(io, [&] { return caller_events.answered.size() == 1u + i; }));
    ASSERT_TRUE(caller.ua().hangup(*h));
    ASSERT_TRUE(run_until(io, [&] { return callee_events.ended.size() == 1u + i; }));
  }
  EXPECT_EQ(caller.transport_stats().tcp_connected, 1u) << "both calls on one connection";
  EXPECT_EQ(caller.transport_stats().tls_handshakes, 1u);
  EXPECT_EQ(callee.transport_stats().tls_handshakes, 1u);

  // The certificate does not chain to anything the stranger trusts: 503 at once, not 408 later.
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(stranger.ua().call(o));
  ASSERT_TRUE(run_until(io, [&] { return stranger_events.failed.size() == 1; }));
  EXPECT_EQ(stranger_events.failed[0].second, 503);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(stranger.transport_stats().tls_handshake_failures, 1u);
  // A name the certificate does not carry fails the same way.
  OutboundCall wrong_name = o;
  wrong_name.next_hop.tls_name = "elsewhere.switchboard.test";
  ASSERT_TRUE(caller.ua().call(wrong_name));
  ASSERT_TRUE(run_until(io, [&] { return caller_events.failed.size() == 1; }));
  EXPECT_EQ(caller_events.failed[0].second, 503);
  // With the check off, the stranger gets through.
  OutboundCall unchecked = o;
  unchecked.next_hop.tls_verify = false;
  ASSERT_TRUE(stranger.ua().call(unchecked));
  ASSERT_TRUE(run_until(io, [&] { return stranger_events.answered.size() == 1; }));
  caller.stop();
  stranger.stop();
  callee.stop();
}

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
