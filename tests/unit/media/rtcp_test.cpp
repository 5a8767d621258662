#include "media/rtcp.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "media/port_pool.hpp"

namespace sb::media {
namespace {

TEST(Rtcp, SenderReportRoundTrip) {
  RtcpReport sr;
  sr.sender = true;
  sr.ssrc = 0x11223344;
  sr.info = {ntp_from_unix_us(1'796'144'400'500'000), 160000, 1000, 160000};
  sr.blocks.push_back({0xAABBCCDD, 25, -3, 70000, 42, 0x12345678, 65536});
  std::vector<std::uint8_t> buf(kMaxRtcpPacketSize);
  const std::size_t n = build_rtcp(sr, "sb@example", buf, true);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(n % 4, 0u);
  buf.resize(n);
  auto parsed = parse_rtcp(buf);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->reports.size(), 1u);
  const auto& r = parsed->reports[0];
  EXPECT_TRUE(r.sender);
  EXPECT_EQ(r.ssrc, 0x11223344u);
  EXPECT_EQ(r.info.ntp_timestamp, sr.info.ntp_timestamp);
  EXPECT_EQ(r.info.packet_count, 1000u);
  ASSERT_EQ(r.blocks.size(), 1u);
  EXPECT_EQ(r.blocks[0].fraction_lost, 25);
  EXPECT_EQ(r.blocks[0].cumulative_lost, -3);
  EXPECT_EQ(r.blocks[0].highest_sequence, 70000u);
  EXPECT_EQ(r.blocks[0].last_sr, 0x12345678u);
  EXPECT_EQ(parsed->cname, "sb@example");
  ASSERT_EQ(parsed->byes.size(), 1u);
  EXPECT_EQ(parsed->byes[0], 0x11223344u);
}

TEST(Rtcp, ReceiverReportWithoutBlocks) {
  RtcpReport rr;
  rr.ssrc = 7;
  std::vector<std::uint8_t> buf(64);
  const std::size_t n = build_rtcp(rr, "x", buf);
  ASSERT_EQ(n, 8u + 12u);  // RR header + SDES with a 1-char CNAME padded
  EXPECT_EQ(buf[1], 201);
  auto parsed = parse_rtcp(std::span(buf).first(n));
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->reports[0].sender);
  EXPECT_TRUE(parsed->byes.empty());
}

TEST(Rtcp, NtpTimestamp) {
  // 1970-01-01 + 0.5 s: seconds offset 2208988800, fraction 2^31.
  EXPECT_EQ(ntp_from_unix_us(500000), (2208988800ull << 32) | 0x80000000ull);
  EXPECT_EQ(ntp_middle(0x0000123456780000ull), 0x12345678u);
}

TEST(Rtcp, RejectsMalformed) {
  RtcpReport rr;
  rr.ssrc = 7;
  rr.blocks.resize(2);
  std::vector<std::uint8_t> buf(256);
  buf.resize(build_rtcp(rr, "cname", buf));
  ASSERT_TRUE(parse_rtcp(buf));
  EXPECT_FALSE(parse_rtcp(std::span(buf).first(buf.size() - 4)));  // SDES length beyond end
  auto v1 = buf;
  v1[0] = 0x42;
  EXPECT_FALSE(parse_rtcp(v1));
  auto blocks_beyond = buf;
  blocks_beyond[0] = 0x80 | 5;  // 5 blocks claimed, 2 present
  EXPECT_FALSE(parse_rtcp(blocks_beyond));
  auto sdes_first = std::vector<std::uint8_t>(buf.begin() + 4 + 4 + 48, buf.end());
  EXPECT_FALSE(parse_rtcp(sdes_first));
  EXPECT_FALSE(parse_rtcp(std::vector<std::uint8_t>(4, 0x80)));
  // Random bytes never crash.
  std::uint32_t x = 99;
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::uint8_t> junk(static_cast<std::size_t>(8 + i % 90));
    for (auto& b : junk) b = static_cast<std::uint8_t>((x = x * 1664525 + 1013904223) >> 24);
    junk[0] = static_cast<std::uint8_t>(0x80 | (junk[0] & 0x1F));
    junk[1] = static_cast<std::uint8_t>(200 + i % 5);
    (void)parse_rtcp(junk);
  }
}

TEST(PortPool, HandsOutEvenPortsRoundRobinAndReuses) {
  PortPool pool(10001, 10008);  // even ports 10002, 10004, 10006 (10008 lacks its RTCP port)
  EXPECT_EQ(pool.capacity(), 3u);
  auto a = pool.acquire();
  auto b = pool.acquire();
  auto c = pool.acquire();
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, 10002);
  EXPECT_EQ(*b, 10004);
  EXPECT_EQ(*c, 10006);
  EXPECT_FALSE(pool.acquire());
  EXPECT_EQ(pool.available(), 0u);
  pool.release(*a);
  pool.release(*a);     // double release is harmless
  pool.release(10003);  // not ours
  EXPECT_EQ(pool.available(), 1u);
  EXPECT_EQ(*pool.acquire(), 10002);
}

TEST(PortPool, RoundRobinDoesNotReuseAtOnce) {
  PortPool pool(20000, 20009);
  auto a = pool.acquire();
  pool.release(*a);
  EXPECT_NE(*pool.acquire(), *a);
}

TEST(PortPool, ValidatesRange) {
  EXPECT_TRUE(PortPool::validate_range(10000, 20000));
  EXPECT_FALSE(PortPool::validate_range(10000, 10000));
  EXPECT_FALSE(PortPool::validate_range(0, 100));
  EXPECT_FALSE(PortPool::validate_range(30000, 20000));
}

}  // namespace
}  // namespace sb::media
