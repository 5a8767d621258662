#include "media/rtcp.hpp"

#include <algorithm>

namespace sb::media {
namespace {

constexpr std::uint8_t kSr = 200, kRr = 201, kSdes = 202, kBye = 203;

struct Writer {
  std::span<std::uint8_t> out;
  std::size_t pos = 0;
  bool ok = true;
  void u8(std::uint8_t v) {
    if (pos >= out.size()) {
      ok = false;
      return;
    }
    out[pos++] = v;
  }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8)), u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16)), u16(static_cast<std::uint16_t>(v));
  }
  void patch_length(std::size_t start) {
    if (!ok) return;
    const auto words = static_cast<std::uint16_t>((pos - start) / 4 - 1);
    out[start + 2] = static_cast<std::uint8_t>(words >> 8);
    out[start + 3] = static_cast<std::uint8_t>(words);
  }
};

std::uint32_t load32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

}  // namespace

std::uint64_t ntp_from_unix_us(std::int64_t unix_us) {
  constexpr std::uint64_t kEpochOffset = 2208988800ull;  // 1900 -> 1970
  const auto secs = static_cast<std::uint64_t>(unix_us / 1000000) + kEpochOffset;
  const auto frac = (static_cast<std::uint64_t>(unix_us % 1000000) << 32) / 1000000;
  return secs << 32 | frac;
}

std::size_t build_rtcp(const RtcpReport& report, std::string_view cname,
                       std::span<std::uint8_t> out, bool bye) {
  Writer w{out};
  const std::size_t blocks = std::min(report.blocks.size(), kMaxReportBlocks);
  std::size_t start = w.pos;
  w.u8(static_cast<std::uint8_t>(0x80 | blocks));
  w.u8(report.sender ? kSr : kRr);
  w.u16(0);
  w.u32(report.ssrc);
  if (report.sender) {
    w.u32(static_cast<std::uint32_t>(report.info.ntp_timestamp >> 32));
    w.u32(static_cast<std::uint32_t>(report.info.ntp_timestamp));
    w.u32(report.info.rtp_timestamp);
    w.u32(report.info.packet_count);
    w.u32(report.info.octet_count);
  }
  for (std::size_t i = 0; i < blocks; ++i) {
    const ReportBlock& b = report.blocks[i];
    w.u32(b.ssrc);
    w.u32(std::uint32_t{b.fraction_lost} << 24 |
          (static_cast<std::uint32_t>(b.cumulative_lost) & 0xFFFFFF));
    w.u32(b.highest_sequence);
    w.u32(b.jitter);
    w.u32(b.last_sr);
    w.u32(b.delay_since_last_sr);
  }
  w.patch_length(start);
  // SDES: one chunk with CNAME, then a null item and padding to a 32-bit boundary.
  start = w.pos;
  w.u8(0x81);
  w.u8(kSdes);
  w.u16(0);
  w.u32(report.ssrc);
  const std::size_t len = std::min<std::size_t>(cname.size(), 255);
  w.u8(1);
  w.u8(static_cast<std::uint8_t>(len));
  for (std::size_t i = 0; i < len; ++i) w.u8(static_cast<std::uint8_t>(cname[i]));
  w.u8(0);
  while ((w.pos - start) % 4 != 0) w.u8(0);
  w.patch_length(start);
  if (bye) {
    start = w.pos;
    w.u8(0x81);
    w.u8(kBye);
    w.u16(0);
    w.u32(report.ssrc);
    w.patch_length(start);
  }
  return w.ok ? w.pos : 0;
}

Result<RtcpCompound> parse_rtcp(std::span<const std::uint8_t> data) {
  auto bad = [](const char* why) {
    return Error::bad_request(codes::kInvalidParameter, std::string("RTCP: ") + why);
  };
  if (data.size() > kMaxRtcpPacketSize) return bad("oversize packet");
  if (data.size() < 8) return bad("truncated packet");
  RtcpCompound c;
  std::size_t pos = 0;
  bool first = true;
  while (pos < data.size()) {
    if (data.size() - pos < 4) return bad("truncated header");
    const std::uint8_t* p = data.data() + pos;
    if ((p[0] >> 6) != 2) return bad("not version 2");
    const std::size_t count = p[0] & 0x1F;
    const std::uint8_t type = p[1];
    const std::size_t length = (std::size_t{p[2]} << 8 | p[3]) * 4 + 4;
    if (length > data.size() - pos) return bad("length beyond the datagram");
    // RFC 3550 A.2: a compound packet starts with SR or RR and only its last packet pads.
    if (first && type != kSr && type != kRr) return bad("compound does not start with SR/RR");
    if ((p[0] & 0x20) && pos + length != data.size()) return bad("padding before the end");
    first = false;
    const std::uint8_t* body = p + 4;
    const std::size_t body_len = length - 4;
    if (type == kSr || type == kRr) {
      const std::size_t fixed = type == kSr ? 24 : 4;
      if (body_len < fixed + count * 24) return bad("report blocks beyond the packet");
      RtcpReport r;
      r.sender = type == kSr;
      r.ssrc = load32(body);
      if (r.sender) {
        r.info.ntp_timestamp = std::uint64_t{load32(body + 4)} << 32 | load32(body + 8);
        r.info.rtp_timestamp = load32(body + 12);
        r.info.packet_count = load32(body + 16);
        r.info.octet_count = load32(body + 20);
      }
      for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t* b = body + fixed + i * 24;
        ReportBlock rb;
        rb.ssrc = load32(b);
        const std::uint32_t lost = load32(b + 4);
        rb.fraction_lost = static_cast<std::uint8_t>(lost >> 24);
        std::int32_t cum = static_cast<std::int32_t>(lost & 0xFFFFFF);
        if (cum & 0x800000) cum -= 0x1000000;  // sign-extend 24 bits
        rb.cumulative_lost = cum;
        rb.highest_sequence = load32(b + 8);
        rb.jitter = load32(b + 12);
        rb.last_sr = load32(b + 16);
        rb.delay_since_last_sr = load32(b + 20);
        r.blocks.push_back(rb);
      }
      c.reports.push_back(std::move(r));
    } else if (type == kSdes && c.cname.empty() && count > 0 && body_len >= 6) {
      std::size_t i = 4;  // first chunk's items
      while (i + 2 <= body_len && body[i] != 0) {
        const std::size_t item_len = body[i + 1];
        if (i + 2 + item_len > body_len) return bad("SDES item beyond the packet");
        if (body[i] == 1) {
          c.cname.assign(reinterpret_cast<const char*>(body + i + 2), item_len);
          break;
        }
        i += 2 + item_len;
      }
    } else if (type == kBye) {
      if (body_len < count * 4) return bad("BYE sources beyond the packet");
      for (std::size_t i = 0; i < count; ++i) c.byes.push_back(load32(body + i * 4));
    }
    pos += length;
  }
  return c;
}

}  // namespace sb::media
