#include "media/rtp_bridge.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <cmath>

#include "media/g711.hpp"
#include "support/udp_peer.hpp"

namespace sb::media {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Peer = test::UdpPeer;

struct Received {
  RtpHeader header;
  std::vector<std::uint8_t> payload;
};

std::vector<Received> parse_all(const std::vector<std::vector<std::uint8_t>>& datagrams) {
  std::vector<Received> out;
  for (const auto& d : datagrams) {
    RtpPacketView v;
    if (parse_rtp(d, v) != RtpParseError::kNone) continue;  // RTCP
    out.push_back({v.header, {v.payload.begin(), v.payload.end()}});
  }
  return out;
}

class RtpBridgeTest : public ::testing::Test {
 protected:
  RtpBridgeTest() : worker(io.get_executor()), pool(43000, 43999), caller(io), callee(io) {}
  ~RtpBridgeTest() override {
    bridge.reset();
    for (auto* s : {&a, &b}) {
      if (*s) (*s)->close();
    }
    pump();
  }
  std::shared_ptr<RtpSession> open(Peer& peer, Codec codec, int pt, int te_pt) {
    SessionParams p;
    p.remote_address = "127.0.0.1";
    p.remote_port = peer.port();
    p.codec = codec;
    p.payload_type = pt;
    p.telephone_event_pt = te_pt;
    auto s = RtpSession::open(worker, pool, "127.0.0.1", p, {});
    EXPECT_TRUE(s) << s.error().message;
    return *s;
  }
  void pump() { test::pump(io); }
  void tick(int n = 1) { test::tick(io, worker, now, n); }
  // 160 bytes that differ from packet to packet.
  static std::vector<std::uint8_t> payload(int n) {
    std::vector<std::uint8_t> p(160);
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(n * 7 + i);
    return p;
  }

  asio::io_context io;
  MediaWorker worker;
  PortPool pool;
  Peer caller, callee;
  std::shared_ptr<RtpSession> a, b;
  std::unique_ptr<RtpBridge> bridge;
  Clock::time_point now = Clock::now();
};

TEST_F(RtpBridgeTest, SameCodecRelaysPayloadsAsTheyArriveUnderTheOtherLegsOwnStream) {
  a = open(caller, Codec::kPcmu, 0, 101);
  b = open(callee, Codec::kPcmu, 0, 96);
  tick(5);  // each leg sends its own (silent) stream first
  auto own = parse_all(callee.drain());
  ASSERT_FALSE(own.empty());
  const RtpHeader last_own = own.back().header;
  (void)caller.drain();

  bridge = std::make_unique<RtpBridge>(a, b);
  EXPECT_TRUE(bridge->relaying());
  for (int n = 0; n < 10; ++n) {
    caller.send_rtp(a->local_port(), 0, static_cast<std::uint16_t>(65530 + n), 9000 + n * 160,
                    payload(n), 0xCA11E4);
  }
  pump();  // no tick: relayed as they arrive, not on the next 20 ms tick
  auto relayed = parse_all(callee.drain());
  ASSERT_EQ(relayed.size(), 10u);
  for (int n = 0; n < 10; ++n) {
    const auto& r = relayed[static_cast<std::size_t>(n)];
    EXPECT_EQ(r.payload, payload(n)) << n;
    EXPECT_EQ(r.header.ssrc, last_own.ssrc) << "the callee keeps seeing the same stream";
    EXPECT_EQ(r.header.sequence, static_cast<std::uint16_t>(last_own.sequence + 1 + n));
    EXPECT_EQ(r.header.timestamp, last_own.timestamp + 160 + static_cast<std::uint32_t>(n) * 160);
    EXPECT_EQ(r.header.marker, n == 0);
  }
  // While relayed into, the callee's leg sends nothing of its own.
  tick(3);
  EXPECT_TRUE(parse_all(callee.drain()).empty());

  // The other way, with a telephone event mapped onto the caller leg's payload type.
  const std::array<std::uint8_t, 4> star{10, 0x0a, 0x00, 0xa0};
  callee.send_rtp(b->local_port(), 96, 1, 1, star, 0xB0B);
  pump();
  auto back = parse_all(caller.drain());
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].header.payload_type, 101);
  EXPECT_EQ(back[0].payload, std::vector<std::uint8_t>(star.begin(), star.end()));

  // Unbridged: the callee's leg resumes its own stream right after the relayed one.
  bridge.reset();
  tick(2);
  auto resumed = parse_all(callee.drain());
  ASSERT_FALSE(resumed.empty());
  EXPECT_EQ(resumed[0].header.sequence, static_cast<std::uint16_t>(last_own.sequence + 11));
  EXPECT_TRUE(resumed[0].header.marker);
}

TEST_F(RtpBridgeTest, DifferentCodecsAreTranscodedTwentyMillisecondsAtATime) {
  a = open(caller, Codec::kPcmu, 0, 101);
  b = open(callee, Codec::kPcma, 8, 101);
  bridge = std::make_unique<RtpBridge>(a, b);
  EXPECT_FALSE(bridge->relaying());
  // The caller sends a loud 1 kHz tone in PCMU.
  std::array<std::int16_t, 160> pcm{};
  for (std::size_t i = 0; i < pcm.size(); ++i) {
    pcm[i] = static_cast<std::int16_t>(10000 * std::sin(2 * M_PI * 1000 * i / 8000.0));
  }
  std::array<std::uint8_t, 160> ulaw{};
  encode(Codec::kPcmu, pcm, ulaw);
  for (int n = 0; n < 30; ++n) {
    caller.send_rtp(a->local_port(), 0, static_cast<std::uint16_t>(n), n * 160, ulaw);
    tick();
  }
  auto got = parse_all(callee.drain());
  ASSERT_GT(got.size(), 20u);
  double loud = 0;
  for (const auto& r : got) {
    EXPECT_EQ(r.header.payload_type, 8);
    std::array<std::int16_t, 160> out{};
    decode(Codec::kPcma, r.payload, out);
    for (auto s : out) loud = std::max(loud, std::abs(static_cast<double>(s)));
  }
  EXPECT_GT(loud, 8000) << "the tone came through in PCMA";
}

TEST(RingbackTones, EveryCountryOfDialRingToneHasACadenceAndOthersNone) {
  for (const char* c :
       {"at", "au", "bg", "br", "be", "ch", "cl", "cn", "cz",     "de", "dk", "ee", "es", "fi",
        "fr", "gr", "hu", "il", "in", "it", "lt", "jp", "mx",     "my", "nl", "no", "nz", "ph",
        "pl", "pt", "ru", "se", "sg", "th", "uk", "us", "us-old", "tw", "ve", "za"}) {
    auto spec = ToneSpec::ringback(c);
    ASSERT_TRUE(spec) << c;
    EXPECT_EQ(spec->repeats, 0u) << c << " rings until stopped";
    EXPECT_GT(spec->cadence.front().freq1, 0) << c;
  }
  EXPECT_EQ(ToneSpec::ringback("uk")->cadence.size(), 4u) << "the UK rings twice per cycle";
  EXPECT_FALSE(ToneSpec::ringback("xx"));
}

TEST(FrameRing, KeepsTheNewestAndPlaysSilenceWhenEmpty) {
  auto ring = std::make_shared<FrameRing>();
  std::vector<std::int16_t> in(FrameRing::kCapacity + 10);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::int16_t>(i);
  ring->write(in);
  EXPECT_EQ(ring->available(), FrameRing::kCapacity);
  RingSource source(ring);
  std::array<std::int16_t, 160> out{};
  EXPECT_EQ(source.read(out), out.size());
  EXPECT_EQ(out[0], 10) << "the oldest ten were dropped";
  std::vector<std::int16_t> rest(FrameRing::kCapacity);
  EXPECT_EQ(source.read(rest), rest.size());
  EXPECT_EQ(rest[FrameRing::kCapacity - 161], static_cast<std::int16_t>(in.size() - 1));
  EXPECT_EQ(rest.back(), 0) << "silence once empty; the source never ends";
}

}  // namespace
}  // namespace sb::media
