#include "media/rtp_session.hpp"

#include <gtest/gtest.h>
#include <sched.h>
#include <sndfile.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cmath>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "media/rtcp.hpp"
#include "support/fake_paced_stream.hpp"
#include "support/temp_dir.hpp"
#include "support/udp_peer.hpp"

#if defined(__SANITIZE_ADDRESS__)
// The sanitizer runtime calls these on every allocation (malloc and operator new alike).
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*,
                                                                             std::size_t),
                                                         void (*free_hook)(const volatile void*));
#endif

namespace sb::media {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;
using Peer = test::UdpPeer;

class RtpSessionTest : public ::testing::Test {
 protected:
  RtpSessionTest() : worker(io.get_executor()), pool(41000, 41999), peer(io) {}
  // Sessions end before their worker (pending receives hold them until the io runs).
  ~RtpSessionTest() override {
    for (auto& s : opened) s->close();
    opened.clear();
    pump();
  }

  std::shared_ptr<RtpSession> open(SessionParams p = {}, RtpSession::Callbacks cb = {}) {
    if (p.remote_address.empty()) {
      p.remote_address = "127.0.0.1";
      p.remote_port = peer.port();
    }
    auto s = RtpSession::open(worker, pool, "127.0.0.1", p, std::move(cb));
    EXPECT_TRUE(s) << s.error().message;
    if (s) opened.push_back(*s);
    return s ? *s : nullptr;
  }
  void opened_sessions(std::shared_ptr<RtpSession> s) { opened.push_back(std::move(s)); }
  // Runs ready handlers (loopback datagrams are delivered at once; no waiting).
  void pump() { test::pump(io); }
  void tick(int n = 1) { test::tick(io, worker, now, n); }

  asio::io_context io;
  MediaWorker worker;
  PortPool pool;
  Peer peer;
  Clock::time_point now = Clock::now();
  std::vector<std::shared_ptr<RtpSession>> opened;
};

std::vector<std::uint8_t> event(std::uint8_t code, std::uint16_t duration, bool end) {
  std::array<std::uint8_t, 4> b{};
  serialize_telephone_event({code, end, 10, duration}, b);
  return {b.begin(), b.end()};
}

TEST_F(RtpSessionTest, SendsPacedPcmuOfWhatIsPlaying) {
  auto s = open();
  auto ramp = std::make_shared<std::vector<std::int16_t>>(480);
  for (std::size_t i = 0; i < 480; ++i) (*ramp)[i] = static_cast<std::int16_t>(i * 50);
  bool done = false;
  s->play(std::make_unique<PcmSource>(ramp), {},
          [&](PlaybackEnd e) { done = e == PlaybackEnd::kCompleted; });
  tick(3);
  auto packets = peer.drain();
  ASSERT_EQ(packets.size(), 3u);
  RtpPacketView v0, v1;
  ASSERT_EQ(parse_rtp(packets[0], v0), RtpParseError::kNone);
  EXPECT_EQ(v0.header.payload_type, 0);
  EXPECT_TRUE(v0.header.marker);
  EXPECT_EQ(v0.payload.size(), 160u);
  for (std::size_t i = 0; i < 160; ++i) ASSERT_EQ(v0.payload[i], linear_to_ulaw((*ramp)[i])) << i;
  ASSERT_EQ(parse_rtp(packets[1], v1), RtpParseError::kNone);
  EXPECT_FALSE(v1.header.marker);
  EXPECT_EQ(static_cast<std::uint16_t>(v1.header.sequence - v0.header.sequence), 1);
  EXPECT_EQ(v1.header.timestamp - v0.header.timestamp, 160u);
  EXPECT_EQ(v1.header.ssrc, v0.header.ssrc);
  tick();  // the source ends in the 4th tick
  EXPECT_TRUE(done);
  EXPECT_EQ(s->stats().sent, 4u);
}

TEST_F(RtpSessionTest, PtimeAndCodecAsNegotiated) {
  SessionParams p;
  p.codec = Codec::kPcma;
  p.payload_type = 8;
  p.ptime = 40;
  auto s = open(p);
  tick(4);
  auto packets = peer.drain();
  ASSERT_EQ(packets.size(), 2u);  // one per 40 ms
  RtpPacketView v;
  ASSERT_EQ(parse_rtp(packets[0], v), RtpParseError::kNone);
  EXPECT_EQ(v.header.payload_type, 8);
  EXPECT_EQ(v.payload.size(), 320u);
  EXPECT_EQ(v.payload[0], 0xD5);  // A-law silence
}

TEST_F(RtpSessionTest, SymmetricRtpSendsWhereThePacketsComeFrom) {
  Peer nat(io);  // the peer's real source address differs from its SDP
  auto s = open();
  std::vector<std::uint8_t> audio(160, 0xFF);
  nat.send_rtp(s->local_port(), 0, 1, 0, audio);
  tick();  // sends first (still to the SDP address), then reads the packet and latches
  EXPECT_EQ(peer.drain().size(), 1u);
  EXPECT_EQ(s->stats().latched, 1u);
  tick(2);
  EXPECT_EQ(nat.drain().size(), 2u);
  EXPECT_TRUE(peer.drain().empty());
  EXPECT_EQ(s->stats().latched, 1u);
  EXPECT_EQ(s->send_endpoint()->port(), nat.port());
}

// RTP bleed: a stranger who finds the port (scanning the range, as rtpbleed tools do) is
// neither heard nor sent to, whatever SSRC it uses and however much it sends; the peer's
// audio keeps flowing.
TEST_F(RtpSessionTest, AStrangersRtpIsIgnoredAndThePeersAudioStillFlows) {
  Peer attacker(io);
  auto s = open();
  std::vector<std::uint8_t> audio(160, 0xFF);
  std::uint16_t seq = 1;
  peer.send_rtp(s->local_port(), 0, seq++, 0, audio);  // the peer, from its SDP address
  tick();
  for (std::uint16_t t = 0; t < 5; ++t) {
    // More than the 10 packets that used to move the SSRC lock, then one with the peer's SSRC.
    for (std::uint16_t k = 0; k < 12; ++k) {
      attacker.send_rtp(s->local_port(), 0, static_cast<std::uint16_t>(7000 + t * 12 + k),
                        (t * 12u + k) * 160, audio, 0xBAD);
    }
    attacker.send_rtp(s->local_port(), 0, seq, seq * 160u, audio, 0x5EED);
    peer.send_rtp(s->local_port(), 0, seq, seq * 160u, audio);
    ++seq;
    tick();
  }
  EXPECT_TRUE(attacker.drain().empty());  // never sent to
  EXPECT_EQ(peer.drain().size(), 6u);
  ASSERT_TRUE(s->send_endpoint());
  EXPECT_EQ(s->send_endpoint()->port(), peer.port());
  EXPECT_EQ(s->stats().received, 6u);
  EXPECT_EQ(s->stats().wrong_ssrc, 0u);  // dropped for the source, before the SSRC is looked at
  EXPECT_EQ(s->stats().ignored, 65u);
  EXPECT_EQ(s->stats().flood_dropped, 0u);  // a stranger does not use up the peer's budget
  EXPECT_EQ(worker.stats().rtp_ignored, 65u);
}

TEST_F(RtpSessionTest, AStrangersRtcpIsIgnored) {
  Peer attacker(io);
  Peer peer_rtcp(io);  // the peer's RTCP, from a port its NAT chose
  bool peer_bye = false;
  SessionParams p;
  p.remote_address = "127.0.0.1";
  p.remote_port = peer.port();
  SessionLimits limits;
  limits.rtcp_interval_ms = 100;  // a report within 150 ms
  auto opened = RtpSession::open(worker, pool, "127.0.0.1", p,
                                 {.on_peer_bye = [&] { peer_bye = true; }}, limits);
  ASSERT_TRUE(opened);
  auto s = *opened;
  opened_sessions(s);
  std::vector<std::uint8_t> audio(160, 0xFF);
  peer.send_rtp(s->local_port(), 0, 1, 0, audio);
  tick();
  std::array<std::uint8_t, 256> buf{};
  RtcpReport rr;
  rr.ssrc = 0x5EED;
  const std::size_t rr_size = build_rtcp(rr, "peer", buf);
  peer_rtcp.send({buf.data(), rr_size}, static_cast<std::uint16_t>(s->local_port() + 1));
  tick();
  EXPECT_EQ(s->stats().rtcp_received, 1u);
  // The stranger: a report, then a BYE in the peer's name, on the RTCP port and muxed on RTP.
  attacker.send({buf.data(), rr_size}, static_cast<std::uint16_t>(s->local_port() + 1));
  const std::size_t bye_size = build_rtcp(rr, "peer", buf, true);
  attacker.send({buf.data(), bye_size}, static_cast<std::uint16_t>(s->local_port() + 1));
  attacker.send({buf.data(), bye_size}, s->local_port());
  tick(10);  // 200 ms: our next report is due
  EXPECT_FALSE(peer_bye);
  EXPECT_EQ(s->stats().rtcp_received, 1u);
  EXPECT_EQ(s->stats().rtcp_ignored, 2u);  // on the RTCP port
  EXPECT_EQ(s->stats().ignored, 1u);       // muxed, on the RTP port
  EXPECT_EQ(worker.stats().rtcp_ignored, 2u);
  EXPECT_EQ(worker.stats().rtp_ignored, 1u);
  EXPECT_GT(s->stats().rtcp_sent, 0u);
  EXPECT_TRUE(attacker.drain().empty());  // our reports go to the peer, not to the stranger
  EXPECT_FALSE(peer_rtcp.drain().empty());
  EXPECT_EQ(peer.drain().size(), 12u);  // the audio never moved
}

// A caller behind NAT: its SDP names an address it cannot be reached at, so the first source
// that sends valid RTP is the caller; nobody else is listened to afterwards.
TEST_F(RtpSessionTest, NatLatchesTheFirstSourceAndIgnoresLaterOnes) {
  Peer nat(io);
  Peer attacker(io);
  auto s = open();  // SDP: 127.0.0.1, not routable from outside
  std::vector<std::uint8_t> audio(160, 0xFF);
  std::uint16_t seq = 1;
  nat.send_rtp(s->local_port(), 0, seq++, 0, audio);
  tick();
  for (std::uint16_t t = 0; t < 4; ++t) {
    for (std::uint16_t k = 0; k < 12; ++k) {
      attacker.send_rtp(s->local_port(), 0, static_cast<std::uint16_t>(300 + t * 12 + k), 0, audio,
                        0xBAD);
    }
    nat.send_rtp(s->local_port(), 0, seq++, 0, audio);
    tick();
  }
  EXPECT_EQ(s->send_endpoint()->port(), nat.port());
  EXPECT_EQ(nat.drain().size(), 4u);
  EXPECT_TRUE(attacker.drain().empty());
  EXPECT_EQ(s->stats().received, 5u);
  EXPECT_EQ(s->stats().latched, 1u);
  EXPECT_EQ(s->stats().ignored, 48u);
}

// Only a re-INVITE that moves the peer's address moves the latch.
TEST_F(RtpSessionTest, OnlyAReinviteToANewAddressMovesThePeer) {
  Peer moved(io);
  auto s = open();
  std::vector<std::uint8_t> audio(160, 0xFF);
  peer.send_rtp(s->local_port(), 0, 1, 0, audio);
  tick();
  for (std::uint16_t k = 0; k < 12; ++k) {
    moved.send_rtp(s->local_port(), 0, static_cast<std::uint16_t>(50 + k), k * 160u, audio, 0x77);
  }
  tick();
  EXPECT_EQ(s->send_endpoint()->port(), peer.port());
  EXPECT_EQ(s->stats().received, 1u);
  SessionParams p;
  p.remote_address = "127.0.0.1";
  p.remote_port = moved.port();
  ASSERT_TRUE(s->update(p));
  EXPECT_EQ(s->send_endpoint()->port(), moved.port());
  moved.send_rtp(s->local_port(), 0, 62, 12 * 160, audio, 0x77);
  peer.send_rtp(s->local_port(), 0, 2, 160, audio);  // the old peer is a stranger now
  tick();
  EXPECT_EQ(s->send_endpoint()->port(), moved.port());
  EXPECT_EQ(s->stats().received, 2u);
  EXPECT_EQ(s->stats().ignored, 13u);
  peer.drain();
  moved.drain();
}

// Two sockets on adjacent ports (RTP, RTCP = RTP + 1), as a peer's SDP implies.
struct PeerPair {
  explicit PeerPair(asio::io_context& io) {
    for (int attempt = 0; attempt < 100 && !rtcp; ++attempt) {
      rtp = std::make_unique<Peer>(io);
      if (rtp->port() == 65535) continue;
      boost::system::error_code ec;
      udp::socket s(io);
      s.open(udp::v4());
      s.bind({asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(rtp->port() + 1)},
             ec);
      if (ec) continue;
      s.non_blocking(true);
      rtcp = std::make_unique<Peer>(std::move(s));
    }
  }
  std::unique_ptr<Peer> rtp, rtcp;
};

// media.latch = strict: nothing is learned, not even for an unroutable SDP address; only the
// SDP's address and port are heard, and sent to.
TEST_F(RtpSessionTest, StrictListensOnlyToTheSdpAddressAndPort) {
  MediaWorker strict(io.get_executor(), LatchPolicy::kStrict);
  PeerPair sdp_peer(io);
  ASSERT_TRUE(sdp_peer.rtcp);
  Peer elsewhere(io);  // the same host, another port: a NAT'd peer or a stranger
  SessionParams p;
  p.remote_address = "127.0.0.1";
  p.remote_port = sdp_peer.rtp->port();
  SessionLimits limits;
  limits.rtcp_interval_ms = 100;
  auto opened = RtpSession::open(strict, pool, "127.0.0.1", p, {}, limits);
  ASSERT_TRUE(opened);
  auto s = *opened;
  opened_sessions(s);
  std::vector<std::uint8_t> audio(160, 0xFF);
  std::array<std::uint8_t, 256> buf{};
  RtcpReport rr;
  rr.ssrc = 0x5EED;
  const std::size_t rr_size = build_rtcp(rr, "peer", buf);
  for (std::uint16_t seq = 1; seq <= 3; ++seq) {
    elsewhere.send_rtp(s->local_port(), 0, seq, seq * 160u, audio);
    elsewhere.send({buf.data(), rr_size}, static_cast<std::uint16_t>(s->local_port() + 1));
    strict.tick(now += std::chrono::milliseconds(20));
    pump();
  }
  EXPECT_EQ(s->stats().received, 0u);
  EXPECT_EQ(s->stats().latched, 0u);
  EXPECT_EQ(s->stats().ignored, 3u);
  EXPECT_EQ(s->stats().rtcp_ignored, 3u);
  EXPECT_EQ(strict.stats().rtp_ignored, 3u);
  EXPECT_EQ(s->send_endpoint()->port(), sdp_peer.rtp->port());
  sdp_peer.rtp->send_rtp(s->local_port(), 0, 10, 0, audio);
  sdp_peer.rtcp->send({buf.data(), rr_size}, static_cast<std::uint16_t>(s->local_port() + 1));
  for (int t = 0; t < 10; ++t) {
    strict.tick(now += std::chrono::milliseconds(20));
    pump();
  }
  EXPECT_EQ(s->stats().received, 1u);
  EXPECT_EQ(s->stats().rtcp_received, 1u);
  EXPECT_EQ(sdp_peer.rtp->drain().size(), 13u);
  EXPECT_FALSE(sdp_peer.rtcp->drain().empty());  // our reports
  EXPECT_TRUE(elsewhere.drain().empty());
  s->close();
}

// Before the NAT'd peer has sent RTP nobody is known: RTCP is not listened to, and RTCP
// cannot make a source the peer (only valid RTP can).
TEST_F(RtpSessionTest, NatLearnsOnlyFromValidRtp) {
  Peer nat(io);
  Peer noise(io);
  auto s = open();
  std::array<std::uint8_t, 256> buf{};
  RtcpReport rr;
  rr.ssrc = 0x5EED;
  const std::size_t rr_size = build_rtcp(rr, "peer", buf);
  noise.send({buf.data(), rr_size}, static_cast<std::uint16_t>(s->local_port() + 1));
  noise.send({buf.data(), rr_size}, s->local_port());  // muxed
  std::vector<std::uint8_t> audio(160, 0xFF);
  noise.send_rtp(s->local_port(), 18, 1, 0, audio);  // G.729: not what was negotiated
  std::vector<std::uint8_t> garbage = {0x80, 0x00, 0x01};
  noise.send(garbage, s->local_port());
  tick();
  EXPECT_EQ(s->stats().latched, 0u);
  EXPECT_EQ(s->stats().rtcp_ignored, 1u);
  EXPECT_EQ(s->stats().ignored, 1u);
  nat.send_rtp(s->local_port(), 0, 1, 0, audio);
  tick();
  EXPECT_EQ(s->stats().latched, 1u);
  EXPECT_EQ(s->send_endpoint()->port(), nat.port());
  nat.drain();
}

TEST_F(RtpSessionTest, Rfc4733DigitsArriveWithDurationAndBargeIn) {
  std::vector<DtmfEvent> events;
  SessionParams p;
  p.telephone_event_pt = 101;
  auto s = open(p, {.on_dtmf = [&](const DtmfEvent& e) { events.push_back(e); }});
  PlaybackEnd how = PlaybackEnd::kCompleted;
  s->play(std::make_unique<SilenceSource>(80000), {.barge_in = true},
          [&](PlaybackEnd e) { how = e; });
  std::uint16_t seq = 100;
  peer.send_rtp(s->local_port(), 101, seq++, 8000, event(5, 160, false), 0x5EED, true);
  peer.send_rtp(s->local_port(), 101, seq++, 8000, event(5, 320, false));
  peer.send_rtp(s->local_port(), 101, seq++, 8000, event(5, 960, true));
  peer.send_rtp(s->local_port(), 101, seq++, 8000, event(5, 960, true));
  peer.send_rtp(s->local_port(), 101, seq++, 8000, event(5, 960, true));
  EXPECT_TRUE(events.empty());  // RTP is read on the tick
  tick();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].digit, '5');
  EXPECT_FALSE(events[0].end);
  EXPECT_TRUE(events[1].end);
  EXPECT_EQ(events[1].duration_ms, 120u);
  EXPECT_EQ(how, PlaybackEnd::kInterrupted);
  EXPECT_EQ(s->stats().dtmf_digits, 1u);
}

TEST_F(RtpSessionTest, BadPacketsAreDroppedAndCounted) {
  auto s = open();
  const auto port = s->local_port();
  std::vector<std::uint8_t> audio(160, 0xFF);
  peer.send_rtp(port, 0, 1, 0, audio);  // locks SSRC 0x5EED
  std::vector<std::uint8_t> garbage = {1, 2, 3};
  peer.send(garbage, port);
  std::vector<std::uint8_t> v1(20, 0);
  v1[0] = 0x40;
  peer.send(v1, port);
  peer.send_rtp(port, 18, 2, 160, audio);        // G.729: not negotiated
  peer.send_rtp(port, 0, 3, 320, audio, 0xBAD);  // another source
  std::vector<std::uint8_t> huge(1600, 0x80);
  peer.send(huge, port);
  tick();
  const RtpStats& st = s->stats();
  EXPECT_EQ(st.received, 1u);
  EXPECT_EQ(st.malformed, 2u);
  EXPECT_EQ(st.unknown_payload_type, 1u);
  EXPECT_EQ(st.wrong_ssrc, 1u);
  EXPECT_EQ(st.oversize, 1u);
  // A flood within one tick: beyond the per-tick budget is dropped.
  for (std::uint16_t i = 0; i < 40; ++i)
    peer.send_rtp(port, 0, static_cast<std::uint16_t>(10 + i), 0, audio);
  tick();
  EXPECT_EQ(s->stats().flood_dropped, 15u);
  EXPECT_EQ(s->stats().received, 26u);
}

TEST_F(RtpSessionTest, SendsDigitsAsTelephoneEvents) {
  SessionParams p;
  p.telephone_event_pt = 101;
  auto s = open(p);
  ASSERT_FALSE(s->send_digits("1x"));
  ASSERT_TRUE(s->send_digits("12"));
  tick(30);
  TelephoneEventReceiver rx;
  std::string digits;
  int events = 0;
  std::uint16_t last_seq = 0;
  bool first = true;
  for (const auto& pkt : peer.drain()) {
    RtpPacketView v;
    ASSERT_EQ(parse_rtp(pkt, v), RtpParseError::kNone);
    if (!first) {
      EXPECT_EQ(static_cast<std::uint16_t>(v.header.sequence - last_seq), 1);
    }
    first = false;
    last_seq = v.header.sequence;
    if (v.header.payload_type != 101) continue;
    ++events;
    for (const auto& u : rx.on_packet(v.header.timestamp, v.payload)) {
      if (u.kind == DtmfUpdate::Kind::kEnd) digits.push_back(u.digit);
    }
  }
  EXPECT_EQ(digits, "12");
  EXPECT_EQ(events, 14);  // 7 per digit: 5 at 20 ms (the 5th with E set) and 2 repeated ends
}

TEST_F(RtpSessionTest, InbandDtmfWhenNoTelephoneEvent) {
  std::vector<DtmfEvent> events;
  auto s = open({}, {.on_dtmf = [&](const DtmfEvent& e) { events.push_back(e); }});
  ToneSource tone(ToneSpec::dtmf('7', 120, 200));
  std::vector<std::int16_t> frame(160);
  std::vector<std::uint8_t> encoded(160);
  std::uint16_t seq = 1;
  std::uint32_t ts = 0;
  while (tone.read(frame) == frame.size()) {
    encode(Codec::kPcmu, frame, encoded);
    peer.send_rtp(s->local_port(), 0, seq++, ts, encoded);
    ts += 160;
    tick();
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].digit, '7');
  EXPECT_TRUE(events[1].inband);
  EXPECT_NEAR(events[1].duration_ms, 120, 30);
}

TEST_F(RtpSessionTest, RecordsBothDirectionsToTwoChannels) {
  testing::TempDir dir;
  std::optional<RecordingResult> result;
  auto s = open({}, {.on_recording = [&](const RecordingResult& r) { result = r; }});
  ASSERT_TRUE(s->start_recording({.path = dir.file("call.wav"),
                                  .channels = RecordChannels::kBoth,
                                  .silence_timeout_s = 0,
                                  .trim_silence = false}));
  EXPECT_FALSE(s->start_recording({.path = dir.file("again.wav")}));
  s->play(std::make_unique<ToneSource>(ToneSpec{{{1000, 0, -10, 2000}}, 1}));
  std::vector<std::int16_t> frame(160);
  std::vector<std::uint8_t> encoded(160);
  ToneSource inbound(ToneSpec{{{440, 0, -10, 2000}}, 1});
  for (int i = 0; i < 50; ++i) {
    inbound.read(frame);
    encode(Codec::kPcmu, frame, encoded);
    peer.send_rtp(s->local_port(), 0, static_cast<std::uint16_t>(i),
                  static_cast<std::uint32_t>(i * 160), encoded);
    pump();
    tick();
  }
  s->stop_recording();
  ASSERT_TRUE(result);
  EXPECT_EQ(result->reason, RecordingEnd::kStopped);
  EXPECT_EQ(result->samples, 50u * 160);
  SF_INFO info{};
  SNDFILE* f = sf_open(dir.file("call.wav").c_str(), SFM_READ, &info);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(info.channels, 2);
  std::vector<std::int16_t> data(static_cast<std::size_t>(info.frames * 2));
  sf_readf_short(f, data.data(), info.frames);
  sf_close(f);
  // Zero crossings per channel over the last 0.5 s: 440 Hz left, 1000 Hz right.
  auto crossings = [&](int ch) {
    int n = 0;
    for (std::size_t i = 4000; i + 1 < static_cast<std::size_t>(info.frames); ++i) {
      n += (data[2 * i + ch] < 0) != (data[2 * (i + 1) + ch] < 0);
    }
    return n;
  };
  EXPECT_NEAR(crossings(0), 440, 25);
  EXPECT_NEAR(crossings(1), 1000, 25);
}

TEST_F(RtpSessionTest, HoldSendsNothingButTimeAdvances) {
  auto s = open();
  tick();
  auto before = peer.drain();
  SessionParams held;
  held.remote_address = "127.0.0.1";
  held.remote_port = peer.port();
  held.send = false;
  ASSERT_TRUE(s->update(held));
  tick(5);
  EXPECT_TRUE(peer.drain().empty());
  held.send = true;
  ASSERT_TRUE(s->update(held));
  tick();
  auto after = peer.drain();
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(after.size(), 1u);
  RtpPacketView a, b;
  parse_rtp(before[0], a);
  parse_rtp(after[0], b);
  EXPECT_EQ(b.header.timestamp - a.header.timestamp, 6u * 160);
  EXPECT_EQ(static_cast<std::uint16_t>(b.header.sequence - a.header.sequence), 1);
}

TEST_F(RtpSessionTest, RtcpIntervalsAreRandomizedSoSessionsDoNotReportTogether) {
  SessionParams p;
  p.remote_address = "127.0.0.1";
  p.remote_port = peer.port();
  SessionLimits limits;
  limits.rtcp_interval_ms = 1000;
  std::vector<std::shared_ptr<RtpSession>> sessions;
  for (int i = 0; i < 20; ++i) {
    auto s = RtpSession::open(worker, pool, "127.0.0.1", p, {}, limits);
    ASSERT_TRUE(s) << s.error().message;
    opened.push_back(*s);
    sessions.push_back(*s);
  }
  std::vector<int> first_report(sessions.size(), -1);
  for (int t = 1; t <= 80; ++t) {
    now += std::chrono::milliseconds(20);
    worker.tick(now);
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      if (first_report[i] < 0 && sessions[i]->stats().rtcp_sent > 0) first_report[i] = t;
    }
  }
  peer.drain();
  std::set<int> ticks;
  for (int t : first_report) {
    EXPECT_GE(t, 25);  // 0.5-1.5 s at 20 ms a tick
    EXPECT_LE(t, 75);
    ticks.insert(t);
  }
  EXPECT_GE(ticks.size(), 5u);  // all 20 in the same tick without the randomization
}

#if defined(__SANITIZE_ADDRESS__)
std::atomic<bool> counting_allocations{false};
std::atomic<std::uint64_t> allocations{0};
void count_allocation(const volatile void*, std::size_t) {
  if (counting_allocations.load(std::memory_order_relaxed)) {
    allocations.fetch_add(1, std::memory_order_relaxed);
  }
}
void ignore_free(const volatile void*) {}
#endif

// The rule: no allocation per packet. 50 ticks of playing out, receiving audio and a
// digit, counted through the sanitizer's allocation hooks (so only in the sanitizer build,
// which is what `make test` runs).
TEST_F(RtpSessionTest, TicksAllocateNothingWhilePlayingAndReceiving) {
#if !defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "counts allocations through AddressSanitizer's hooks";
#else
  static const bool installed =
      __sanitizer_install_malloc_and_free_hooks(&count_allocation, &ignore_free) != 0;
  ASSERT_TRUE(installed);
  int digit_events = 0;
  SessionParams p;
  p.telephone_event_pt = 101;
  auto s = open(p, {.on_dtmf = [&](const DtmfEvent&) { ++digit_events; }});
  auto prompt = std::make_shared<std::vector<std::int16_t>>(800);
  for (std::size_t i = 0; i < prompt->size(); ++i) {
    (*prompt)[i] = static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 440 * i / 8000.0));
  }
  s->play(std::make_unique<LoopSource>(std::make_unique<PcmSource>(prompt), 0));
  // Every inbound packet built beforehand: audio, with a digit (start, 2 updates, 3 ends).
  std::vector<std::vector<std::uint8_t>> inbound;
  std::vector<std::uint8_t> audio(160, 0xFF);
  for (std::uint16_t i = 0; i < 55; ++i) {
    RtpHeader h;
    h.sequence = static_cast<std::uint16_t>(500 + i);
    h.ssrc = 0x5EED;
    std::vector<std::uint8_t> buf(kMaxRtpPacketSize);
    if (i >= 20 && i < 26) {
      h.payload_type = 101;
      h.timestamp = 20 * 160;
      h.marker = i == 20;
      const std::uint16_t duration = static_cast<std::uint16_t>(std::min(i - 19, 3) * 160);
      buf.resize(serialize_rtp(h, event(7, duration, i >= 23), buf));
    } else {
      h.timestamp = static_cast<std::uint32_t>(i) * 160;
      buf.resize(serialize_rtp(h, audio, buf));
    }
    inbound.push_back(std::move(buf));
  }
  const udp::endpoint to(asio::ip::make_address("127.0.0.1"), s->local_port());
  auto tick_with = [&](std::size_t i) {
    boost::system::error_code ec;
    peer.socket.send_to(asio::buffer(inbound[i]), to, 0, ec);
    now += std::chrono::milliseconds(20);
    worker.tick(now);
  };
  for (std::size_t i = 0; i < 5; ++i) tick_with(i);  // warm-up: first packet, SSRC lock
  counting_allocations = true;
  for (std::size_t i = 5; i < inbound.size(); ++i) tick_with(i);
  counting_allocations = false;
  EXPECT_EQ(allocations.load(), 0u);
  EXPECT_EQ(s->stats().received, 55u);
  EXPECT_EQ(s->stats().sent, 55u);
  EXPECT_EQ(digit_events, 2);  // begin and end
  peer.drain();
#endif
}

TEST_F(RtpSessionTest, CloseReleasesThePortAndUnregisters) {
  const auto available = pool.available();
  auto s = open();
  EXPECT_EQ(pool.available(), available - 1);
  EXPECT_EQ(worker.streams(), 1u);
  s->close();
  EXPECT_EQ(pool.available(), available);
  EXPECT_EQ(worker.streams(), 0u);
  s.reset();
  pump();  // pending receives complete with operation_aborted and free the session
}

TEST_F(RtpSessionTest, RejectsBadParameters) {
  SessionParams p;
  p.remote_address = "127.0.0.1";
  p.remote_port = peer.port();
  p.ptime = 25;
  EXPECT_FALSE(RtpSession::open(worker, pool, "127.0.0.1", p, {}));
  EXPECT_FALSE(RtpSession::open(worker, pool, "not-an-address", {}, {}));
  PortPool tiny(41990, 41991);
  auto one = RtpSession::open(worker, tiny, "127.0.0.1", {}, {});
  ASSERT_TRUE(one);
  opened.push_back(*one);
  auto two = RtpSession::open(worker, tiny, "127.0.0.1", {}, {});
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().code, 20503);
  (*one)->close();
}

// ---- MediaWorker ----

TEST(MediaWorker, EveryStreamSendsBeforeAnyDoesTheRest) {
  asio::io_context io;
  MediaWorker worker(io.get_executor());
  std::vector<std::string> log;
  testing::FakePacedStream a, b;
  a.log = b.log = &log;
  a.name = "a";
  b.name = "b";
  worker.add(&a);
  worker.add(&b);
  worker.tick(Clock::now());
  EXPECT_EQ(log, (std::vector<std::string>{"a.send", "b.send", "a.rest", "b.rest"}));
}

TEST(MediaWorker, TicksEveryStreamAndSurvivesRemovalDuringATick) {
  asio::io_context io;
  MediaWorker worker(io.get_executor());
  testing::FakePacedStream a, b, c;
  worker.add(&a);
  worker.add(&b);
  worker.add(&c);
  a.during = [&](Clock::time_point) { worker.remove(&b); };
  worker.tick(Clock::now());
  EXPECT_EQ(a.ticks, 1);
  EXPECT_EQ(b.ticks, 0);
  EXPECT_EQ(b.done, 0);
  EXPECT_EQ(c.ticks, 1);
  EXPECT_EQ(c.done, 1);
  EXPECT_EQ(worker.streams(), 2u);
  a.during = nullptr;
  worker.tick(Clock::now());
  EXPECT_EQ(c.ticks, 2);
  EXPECT_EQ(worker.stats().ticks, 2u);
}

TEST(MediaWorker, RealtimeSchedulingForTheCallingThread) {
  EXPECT_FALSE(use_realtime_scheduling(0));
  EXPECT_FALSE(use_realtime_scheduling(100));
  // On a thread of its own, so the test runner's thread keeps its policy.
  Status result = Ok{};
  int policy = -1;
  std::thread t([&] {
    result = use_realtime_scheduling(5);
    policy = sched_getscheduler(0);
  });
  t.join();
  if (!result) GTEST_SKIP() << result.error().message;  // not privileged here
  EXPECT_EQ(policy, SCHED_FIFO);
}

}  // namespace
}  // namespace sb::media
