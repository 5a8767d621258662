#include "media/rtp_packet.hpp"

namespace sb::media {
namespace {

std::uint16_t load16(const std::uint8_t* p) {
  return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
std::uint32_t load32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
void store16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void store32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}

}  // namespace

std::string_view to_string(RtpParseError e) {
  switch (e) {
    case RtpParseError::kNone:
      return "ok";
    case RtpParseError::kTooShort:
      return "truncated packet";
    case RtpParseError::kTooLong:
      return "oversize packet";
    case RtpParseError::kBadVersion:
      return "not RTP version 2";
    case RtpParseError::kBadExtension:
      return "bad header extension";
    case RtpParseError::kBadPadding:
      return "bad padding";
  }
  return "unknown";
}

RtpParseError parse_rtp(std::span<const std::uint8_t> data, RtpPacketView& out) {
  if (data.size() > kMaxRtpPacketSize) return RtpParseError::kTooLong;
  if (data.size() < kRtpHeaderSize) return RtpParseError::kTooShort;
  const std::uint8_t* p = data.data();
  if ((p[0] >> 6) != 2) return RtpParseError::kBadVersion;
  const bool padding = (p[0] & 0x20) != 0;
  RtpHeader& h = out.header;
  h.has_extension = (p[0] & 0x10) != 0;
  h.csrc_count = p[0] & 0x0F;
  h.marker = (p[1] & 0x80) != 0;
  h.payload_type = p[1] & 0x7F;
  h.sequence = load16(p + 2);
  h.timestamp = load32(p + 4);
  h.ssrc = load32(p + 8);
  std::size_t offset = kRtpHeaderSize + std::size_t{h.csrc_count} * 4;
  if (data.size() < offset) return RtpParseError::kTooShort;
  for (std::size_t i = 0; i < h.csrc_count; ++i) h.csrc[i] = load32(p + kRtpHeaderSize + i * 4);
  h.extension_profile = 0;
  h.extension = {};
  if (h.has_extension) {
    if (data.size() < offset + 4) return RtpParseError::kBadExtension;
    h.extension_profile = load16(p + offset);
    const std::size_t words = load16(p + offset + 2);
    offset += 4;
    if (data.size() < offset + words * 4) return RtpParseError::kBadExtension;
    h.extension = data.subspan(offset, words * 4);
    offset += words * 4;
  }
  std::size_t end = data.size();
  out.padding = 0;
  if (padding) {
    const std::uint8_t count = p[end - 1];
    if (count == 0 || count > end - offset) return RtpParseError::kBadPadding;
    out.padding = count;
    end -= count;
  }
  out.payload = data.subspan(offset, end - offset);
  return RtpParseError::kNone;
}

std::size_t serialize_rtp(const RtpHeader& h, std::span<const std::uint8_t> payload,
                          std::span<std::uint8_t> out, std::uint8_t padding) {
  if (h.csrc_count > kMaxCsrc || h.extension.size() % 4 != 0 || h.extension.size() / 4 > 0xFFFF) {
    return 0;
  }
  const std::size_t ext = h.has_extension ? 4 + h.extension.size() : 0;
  const std::size_t total =
      kRtpHeaderSize + std::size_t{h.csrc_count} * 4 + ext + payload.size() + padding;
  if (total > out.size() || total > kMaxRtpPacketSize) return 0;
  std::uint8_t* p = out.data();
  p[0] = static_cast<std::uint8_t>(0x80 | (padding ? 0x20 : 0) | (h.has_extension ? 0x10 : 0) |
                                   h.csrc_count);
  p[1] = static_cast<std::uint8_t>((h.marker ? 0x80 : 0) | (h.payload_type & 0x7F));
  store16(p + 2, h.sequence);
  store32(p + 4, h.timestamp);
  store32(p + 8, h.ssrc);
  std::size_t offset = kRtpHeaderSize;
  for (std::size_t i = 0; i < h.csrc_count; ++i, offset += 4) store32(p + offset, h.csrc[i]);
  if (h.has_extension) {
    store16(p + offset, h.extension_profile);
    store16(p + offset + 2, static_cast<std::uint16_t>(h.extension.size() / 4));
    offset += 4;
    for (std::uint8_t b : h.extension) p[offset++] = b;
  }
  for (std::uint8_t b : payload) p[offset++] = b;
  if (padding) {
    for (std::size_t i = 0; i + 1 < padding; ++i) p[offset++] = 0;
    p[offset++] = padding;
  }
  return offset;
}

bool looks_like_rtcp(std::span<const std::uint8_t> data) {
  if (data.size() < 2) return false;
  const std::uint8_t pt = data[1] & 0x7F;
  return pt >= 64 && pt <= 95;
}

}  // namespace sb::media
