// RTP packets (RFC 3550 §5.1): zero-copy parse into a view and serialize into a caller buffer.
// Malformed input is an error value; nothing here allocates, so it is safe per packet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sb::media {

inline constexpr std::size_t kRtpHeaderSize = 12;
inline constexpr std::size_t kMaxRtpPacketSize = 1500;  // one Ethernet MTU; larger is dropped
inline constexpr std::size_t kMaxCsrc = 15;

enum class RtpParseError {
  kNone,
  kTooShort,      // shorter than the fixed header, or than what the header announces
  kTooLong,       // above kMaxRtpPacketSize
  kBadVersion,    // not version 2
  kBadExtension,  // extension header runs past the end
  kBadPadding,    // padding count 0 or beyond the payload
};
std::string_view to_string(RtpParseError e);

struct RtpHeader {
  bool marker = false;
  std::uint8_t payload_type = 0;
  std::uint16_t sequence = 0;
  std::uint32_t timestamp = 0;
  std::uint32_t ssrc = 0;
  std::uint8_t csrc_count = 0;
  std::array<std::uint32_t, kMaxCsrc> csrc{};
  bool has_extension = false;
  std::uint16_t extension_profile = 0;
  std::span<const std::uint8_t> extension;  // extension data after its 4-byte header
};

struct RtpPacketView {
  RtpHeader header;
  std::span<const std::uint8_t> payload;  // without padding
  std::uint8_t padding = 0;               // padding bytes removed from the end
};

// Views in `out` point into `data`.
RtpParseError parse_rtp(std::span<const std::uint8_t> data, RtpPacketView& out);

// Writes header (with its CSRCs and extension), payload and `padding` bytes of padding into
// `out`. Returns the bytes written, or 0 when it does not fit (or the extension is not a whole
// number of 32-bit words).
std::size_t serialize_rtp(const RtpHeader& header, std::span<const std::uint8_t> payload,
                          std::span<std::uint8_t> out, std::uint8_t padding = 0);

// Whether a datagram looks like RTCP rather than RTP (RFC 5761 §4: PT 64-95 in the RTP PT
// field position), for peers that multiplex both on one port.
bool looks_like_rtcp(std::span<const std::uint8_t> data);

}  // namespace sb::media
