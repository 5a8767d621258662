// SDES-keyed SRTP (RFC 3711 with keys from SDP a=crypto, RFC 4568): the policy that decides
// when a call's media is encrypted, the a=crypto attribute, and one session's pair of contexts
// (ours protects what we send, the peer's checks what arrives: authentication tag, then the
// replay window). The transforms are AES-128-CM and HMAC-SHA1 on OpenSSL contexts keyed once per
// session, so a packet costs no key schedule, allocation or lock; the unit tests check them
// byte for byte against libsrtp2 (Debian's is built on NSS, whose per-packet set-up cost the
// daemon +88 % CPU per call-second: docs/security.md). Used from one media thread per session.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace sb::media {

// media.srtp, and a trunk's or SIP domain's own setting:
//   kOff       plain RTP; an offer with only RTP/SAVP gets 488
//   kOptional  SRTP when the peer offers it (RTP/SAVP or a=crypto), plain RTP otherwise; our
//              own offers are plain RTP/AVP
//   kRequired  our offers are RTP/SAVP with a=crypto; a plain offer gets 488
enum class SrtpPolicy : std::uint8_t { kOff, kOptional, kRequired };
inline constexpr SrtpPolicy kDefaultSrtpPolicy = SrtpPolicy::kOptional;
std::optional<SrtpPolicy> parse_srtp_policy(std::string_view text);  // "off" "optional" "required"
std::string_view to_string(SrtpPolicy policy);

// The crypto suites we speak (RFC 4568 §6.2): 128-bit AES counter mode with an 80- or 32-bit
// HMAC-SHA1 tag.
enum class SrtpSuite : std::uint8_t { kAesCm128HmacSha1_80, kAesCm128HmacSha1_32 };
std::string_view to_string(SrtpSuite suite);  // "AES_CM_128_HMAC_SHA1_80" ...
std::optional<SrtpSuite> parse_srtp_suite(std::string_view name);

inline constexpr std::size_t kSrtpKeySaltBytes = 30;  // 16-byte master key + 14-byte salt
using SrtpKeySalt = std::array<std::uint8_t, kSrtpKeySaltBytes>;

// One a=crypto line: "a=crypto:<tag> <suite> inline:<base64 key||salt>[|lifetime][|MKI:len]".
struct CryptoAttribute {
  int tag = 1;
  SrtpSuite suite = SrtpSuite::kAesCm128HmacSha1_80;
  SrtpKeySalt key{};
};
// The attribute's value (after "a=crypto:"). nullopt for a suite we do not speak, a key that is
// not 30 bytes, an MKI (we never use one) or session parameters we cannot honour.
std::optional<CryptoAttribute> parse_crypto_attribute(std::string_view value);
std::string format_crypto_attribute(const CryptoAttribute& attribute);  // without "a=crypto:"
// A fresh attribute with a random key (from the system's CSPRNG).
CryptoAttribute make_crypto_attribute(int tag, SrtpSuite suite);

// The SRTP and SRTCP contexts of one RTP session. protect_* encrypt in place and append the tag
// (buffers need kSrtpMaxTrailer spare bytes); unprotect_* check and decrypt in place, false for a
// packet that fails authentication or replays one already seen (drop it).
// What protecting may append: an RTP tag (10 or 4 bytes), or SRTCP's index and tag (14 bytes).
inline constexpr std::size_t kSrtpMaxTrailer = 16;
class SrtpSession {
 public:
  // `local` keys what we send, `remote` what the peer sends (same suite on both sides).
  static Result<std::unique_ptr<SrtpSession>> create(const CryptoAttribute& local,
                                                     const CryptoAttribute& remote);
  ~SrtpSession();
  SrtpSession(const SrtpSession&) = delete;
  SrtpSession& operator=(const SrtpSession&) = delete;

  bool protect_rtp(std::uint8_t* packet, std::size_t& length);
  bool unprotect_rtp(std::uint8_t* packet, std::size_t& length);
  bool protect_rtcp(std::uint8_t* packet, std::size_t& length);
  bool unprotect_rtcp(std::uint8_t* packet, std::size_t& length);

  // Packets dropped: failed authentication, replayed.
  std::uint64_t auth_failures() const { return auth_failures_; }
  std::uint64_t replays() const { return replays_; }

 private:
  SrtpSession() = default;
  struct Contexts;
  std::unique_ptr<Contexts> contexts_;
  std::uint64_t auth_failures_ = 0;
  std::uint64_t replays_ = 0;
};

}  // namespace sb::media
