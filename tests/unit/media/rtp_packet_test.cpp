#include "media/rtp_packet.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "media/rtp_sequence.hpp"

namespace sb::media {
namespace {

std::vector<std::uint8_t> make(const RtpHeader& h, std::vector<std::uint8_t> payload,
                               std::uint8_t padding = 0) {
  std::vector<std::uint8_t> buf(kMaxRtpPacketSize);
  const std::size_t n = serialize_rtp(h, payload, buf, padding);
  buf.resize(n);
  return buf;
}

TEST(RtpPacket, RoundTripsFixedHeader) {
  RtpHeader h;
  h.marker = true;
  h.payload_type = 8;
  h.sequence = 0xBEEF;
  h.timestamp = 0x01020304;
  h.ssrc = 0xCAFEBABE;
  const auto bytes = make(h, {1, 2, 3});
  ASSERT_EQ(bytes.size(), 15u);
  EXPECT_EQ(bytes[0], 0x80);
  EXPECT_EQ(bytes[1], 0x88);
  RtpPacketView v;
  ASSERT_EQ(parse_rtp(bytes, v), RtpParseError::kNone);
  EXPECT_TRUE(v.header.marker);
  EXPECT_EQ(v.header.payload_type, 8);
  EXPECT_EQ(v.header.sequence, 0xBEEF);
  EXPECT_EQ(v.header.timestamp, 0x01020304u);
  EXPECT_EQ(v.header.ssrc, 0xCAFEBABEu);
  EXPECT_EQ(std::vector<std::uint8_t>(v.payload.begin(), v.payload.end()),
            (std::vector<std::uint8_t>{1, 2, 3}));
}

TEST(RtpPacket, CsrcExtensionAndPadding) {
  RtpHeader h;
  h.csrc_count = 2;
  h.csrc[0] = 11;
  h.csrc[1] = 22;
  h.has_extension = true;
  h.extension_profile = 0xBEDE;
  const std::vector<std::uint8_t> ext = {9, 8, 7, 6, 5, 4, 3, 2};
  h.extension = ext;
  const auto bytes = make(h, {0xAA, 0xBB}, 4);
  ASSERT_EQ(bytes.size(), 12u + 8 + 4 + 8 + 2 + 4);
  RtpPacketView v;
  ASSERT_EQ(parse_rtp(bytes, v), RtpParseError::kNone);
  EXPECT_EQ(v.header.csrc_count, 2);
  EXPECT_EQ(v.header.csrc[1], 22u);
  EXPECT_EQ(v.header.extension_profile, 0xBEDE);
  EXPECT_EQ(v.header.extension.size(), 8u);
  EXPECT_EQ(v.header.extension[0], 9);
  EXPECT_EQ(v.padding, 4);
  ASSERT_EQ(v.payload.size(), 2u);
  EXPECT_EQ(v.payload[1], 0xBB);
}

TEST(RtpPacket, RejectsMalformed) {
  RtpHeader h;
  auto good = make(h, {1, 2, 3, 4});
  RtpPacketView v;
  EXPECT_EQ(parse_rtp(std::span(good).first(11), v), RtpParseError::kTooShort);

  auto bad_version = good;
  bad_version[0] = 0x40;
  EXPECT_EQ(parse_rtp(bad_version, v), RtpParseError::kBadVersion);

  auto csrc_beyond = good;
  csrc_beyond[0] = 0x80 | 5;  // claims 5 CSRCs (20 bytes), has 4 payload bytes
  EXPECT_EQ(parse_rtp(csrc_beyond, v), RtpParseError::kTooShort);

  auto ext_beyond = good;
  ext_beyond[0] = 0x90;  // extension header would be the 4 payload bytes: length 0x0304 words
  EXPECT_EQ(parse_rtp(ext_beyond, v), RtpParseError::kBadExtension);

  auto pad_zero = good;
  pad_zero[0] = 0xA0;
  pad_zero.back() = 0;
  EXPECT_EQ(parse_rtp(pad_zero, v), RtpParseError::kBadPadding);
  auto pad_beyond = good;
  pad_beyond[0] = 0xA0;
  pad_beyond.back() = 5;  // only 4 payload bytes
  EXPECT_EQ(parse_rtp(pad_beyond, v), RtpParseError::kBadPadding);

  std::vector<std::uint8_t> huge(kMaxRtpPacketSize + 1, 0);
  huge[0] = 0x80;
  EXPECT_EQ(parse_rtp(huge, v), RtpParseError::kTooLong);
}

TEST(RtpPacket, SerializeRefusesWhatDoesNotFit) {
  RtpHeader h;
  std::vector<std::uint8_t> payload(200);
  std::vector<std::uint8_t> small(100);
  EXPECT_EQ(serialize_rtp(h, payload, small), 0u);
  h.has_extension = true;
  const std::vector<std::uint8_t> odd_ext = {1, 2, 3};
  h.extension = odd_ext;
  std::vector<std::uint8_t> big(1500);
  EXPECT_EQ(serialize_rtp(h, {}, big), 0u);
}

TEST(RtpPacket, RtcpDemux) {
  const std::vector<std::uint8_t> sr = {0x80, 200, 0, 6};
  const std::vector<std::uint8_t> rtp = {0x80, 0, 0, 1};
  EXPECT_TRUE(looks_like_rtcp(sr));
  EXPECT_FALSE(looks_like_rtcp(rtp));
}

// Garbage never crashes the parser: every prefix of every pattern.
TEST(RtpPacket, ArbitraryBytesNeverCrash) {
  std::vector<std::uint8_t> data(64);
  std::uint32_t x = 12345;
  int accepted = 0;
  for (int round = 0; round < 2000; ++round) {
    for (auto& b : data) {
      x = x * 1103515245 + 12345;
      b = static_cast<std::uint8_t>(x >> 16);
    }
    data[0] = static_cast<std::uint8_t>((data[0] & 0x3F) | 0x80);
    for (std::size_t n = 0; n <= data.size(); n += 7) {
      RtpPacketView v;
      if (parse_rtp(std::span(data).first(n), v) == RtpParseError::kNone) {
        ++accepted;
        EXPECT_LE(v.payload.data() + v.payload.size(), data.data() + n);
      }
    }
  }
  EXPECT_GT(accepted, 0);
}

TEST(SequenceTracker, AcceptsFirstPacketAndCountsWrap) {
  SequenceTracker t;
  std::uint16_t seq = 65530;
  std::uint32_t last = 0;
  for (int i = 0; i < 12; ++i, ++seq) {
    auto ext = t.update(seq);
    ASSERT_TRUE(ext.has_value()) << i;
    last = *ext;
  }
  EXPECT_EQ(last, 65536u + 5);  // 65530 + 11
  EXPECT_EQ(t.extended_max(), 65541u);
  EXPECT_EQ(t.received(), 12u);
  EXPECT_EQ(t.expected(), 12u);
  EXPECT_EQ(t.cumulative_lost(), 0);
}

TEST(SequenceTracker, LateFromBeforeTheWrapGetsThePreviousCycle) {
  SequenceTracker t;
  t.update(65534);
  t.update(65535);
  t.update(1);  // 0 lost so far, wrapped
  auto late = t.update(0);
  ASSERT_TRUE(late);
  EXPECT_EQ(*late, 65536u);
  auto older = t.update(65533);
  ASSERT_TRUE(older);
  EXPECT_EQ(*older, 65533u);
}

TEST(SequenceTracker, LossAndFractionLost) {
  SequenceTracker t;
  for (std::uint16_t s = 100; s < 110; ++s) {
    if (s == 103 || s == 104) continue;
    t.update(s);
  }
  EXPECT_EQ(t.expected(), 10u);
  EXPECT_EQ(t.received(), 8u);
  EXPECT_EQ(t.cumulative_lost(), 2);
  EXPECT_EQ(t.fraction_lost_interval(), 2 * 256 / 10);
  EXPECT_EQ(t.fraction_lost_interval(), 0);  // interval reset
}

TEST(SequenceTracker, BigJumpNeedsConfirmation) {
  SequenceTracker t;
  t.update(10);
  t.update(11);
  EXPECT_FALSE(t.update(30000));
  EXPECT_EQ(t.bad_jumps(), 1u);
  auto confirmed = t.update(30001);  // the peer restarted its sequence: resync
  ASSERT_TRUE(confirmed);
  EXPECT_EQ(*confirmed, 30001u);
}

TEST(SequenceTracker, ProbationWithTwoSequential) {
  SequenceTracker t(SequenceTracker::Options{.min_sequential = 2});
  EXPECT_FALSE(t.update(7));
  EXPECT_FALSE(t.valid());
  ASSERT_TRUE(t.update(8));
  EXPECT_TRUE(t.valid());
}

TEST(SequenceTracker, JitterFromVaryingTransit) {
  SequenceTracker t;
  // Packets every 160 samples, arrivals alternate +0 / +80 samples late.
  for (int i = 0; i < 200; ++i) {
    const std::uint32_t ts = 1000 + i * 160;
    t.update_jitter(ts + 5000 + (i % 2) * 80, ts);
  }
  EXPECT_NEAR(static_cast<double>(t.jitter()), 80.0, 8.0);
  SequenceTracker steady;
  for (int i = 0; i < 200; ++i) steady.update_jitter(i * 160 + 77, i * 160);
  EXPECT_EQ(steady.jitter(), 0u);
}

TEST(SsrcLock, RejectsStrangersAndRelocksOnPersistentNewSource) {
  SsrcLock lock(3);
  EXPECT_EQ(lock.check(1), SsrcLock::Verdict::kNewSource);
  EXPECT_EQ(lock.check(1), SsrcLock::Verdict::kAccept);
  EXPECT_EQ(lock.check(2), SsrcLock::Verdict::kReject);
  EXPECT_EQ(lock.check(1), SsrcLock::Verdict::kAccept);  // interleaved: old still alive
  EXPECT_EQ(lock.check(2), SsrcLock::Verdict::kReject);
  EXPECT_EQ(lock.check(2), SsrcLock::Verdict::kReject);
  EXPECT_EQ(lock.check(2), SsrcLock::Verdict::kNewSource);
  EXPECT_EQ(*lock.locked(), 2u);
  EXPECT_EQ(lock.check(1), SsrcLock::Verdict::kReject);
  EXPECT_EQ(lock.rejected(), 4u);
}

}  // namespace
}  // namespace sb::media
