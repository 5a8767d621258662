// RTCP (RFC 3550 §6): sender and receiver reports with an SDES CNAME as a compound packet, and
// a parser for the compound packets peers send (SR, RR, SDES, BYE; others skipped).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace sb::media {

inline constexpr std::size_t kMaxRtcpPacketSize = 1500;
inline constexpr std::size_t kMaxReportBlocks = 31;

struct ReportBlock {
  std::uint32_t ssrc = 0;                 // the source this block reports on
  std::uint8_t fraction_lost = 0;         // 1/256 units since the previous report
  std::int32_t cumulative_lost = 0;       // 24-bit signed
  std::uint32_t highest_sequence = 0;     // extended
  std::uint32_t jitter = 0;               // timestamp units
  std::uint32_t last_sr = 0;              // middle 32 bits of the last SR's NTP time
  std::uint32_t delay_since_last_sr = 0;  // 1/65536 s
};

struct SenderInfo {
  std::uint64_t ntp_timestamp = 0;
  std::uint32_t rtp_timestamp = 0;
  std::uint32_t packet_count = 0;
  std::uint32_t octet_count = 0;
};

struct RtcpReport {
  bool sender = false;  // SR (with `info`) or RR
  std::uint32_t ssrc = 0;
  SenderInfo info;
  std::vector<ReportBlock> blocks;
};

struct RtcpCompound {
  std::vector<RtcpReport> reports;
  std::vector<std::uint32_t> byes;  // SSRCs that said BYE
  std::string cname;                // first CNAME seen
};

// SR (when `report.sender`) or RR, then SDES with `cname`, optionally BYE. Returns bytes
// written into `out`, 0 if it does not fit.
std::size_t build_rtcp(const RtcpReport& report, std::string_view cname,
                       std::span<std::uint8_t> out, bool bye = false);

Result<RtcpCompound> parse_rtcp(std::span<const std::uint8_t> data);

// The NTP timestamp (RFC 3550 §4) of a Unix time in microseconds, and its middle 32 bits.
std::uint64_t ntp_from_unix_us(std::int64_t unix_us);
inline std::uint32_t ntp_middle(std::uint64_t ntp) { return static_cast<std::uint32_t>(ntp >> 16); }

}  // namespace sb::media
