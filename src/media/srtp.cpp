#include "media/srtp.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <srtp2/srtp.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

#include "core/text.hpp"

namespace sb::media {

static_assert(kSrtpMaxTrailer == SRTP_MAX_TRAILER_LEN);

std::optional<SrtpPolicy> parse_srtp_policy(std::string_view text) {
  if (text == "off") return SrtpPolicy::kOff;
  if (text == "optional") return SrtpPolicy::kOptional;
  if (text == "required") return SrtpPolicy::kRequired;
  return std::nullopt;
}

std::string_view to_string(SrtpPolicy policy) {
  switch (policy) {
    case SrtpPolicy::kOff:
      return "off";
    case SrtpPolicy::kRequired:
      return "required";
    case SrtpPolicy::kOptional:
      break;
  }
  return "optional";
}

std::string_view to_string(SrtpSuite suite) {
  return suite == SrtpSuite::kAesCm128HmacSha1_32 ? "AES_CM_128_HMAC_SHA1_32"
                                                  : "AES_CM_128_HMAC_SHA1_80";
}

std::optional<SrtpSuite> parse_srtp_suite(std::string_view name) {
  if (name == "AES_CM_128_HMAC_SHA1_80") return SrtpSuite::kAesCm128HmacSha1_80;
  if (name == "AES_CM_128_HMAC_SHA1_32") return SrtpSuite::kAesCm128HmacSha1_32;
  return std::nullopt;
}

std::optional<CryptoAttribute> parse_crypto_attribute(std::string_view value) {
  // tag SP suite SP key-params [SP session-params]
  const auto sp1 = value.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0 || sp1 > 9) return std::nullopt;
  const std::string_view tag_text = value.substr(0, sp1);
  if (!std::all_of(tag_text.begin(), tag_text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  CryptoAttribute a;
  a.tag = std::stoi(std::string(tag_text));
  std::string_view rest = value.substr(sp1 + 1);
  const auto sp2 = rest.find(' ');
  if (sp2 == std::string_view::npos) return std::nullopt;
  const auto suite = parse_srtp_suite(rest.substr(0, sp2));
  if (!suite) return std::nullopt;
  a.suite = *suite;
  rest = rest.substr(sp2 + 1);
  // One key (several ';'-separated keys need an MKI, which we do not use), then session
  // parameters: none that change the transform may be present.
  const auto sp3 = rest.find(' ');
  std::string_view key_params = rest.substr(0, sp3);
  if (sp3 != std::string_view::npos) {
    std::string_view session = trim(rest.substr(sp3 + 1));
    while (!session.empty()) {
      const auto next = session.find(' ');
      const std::string_view p = session.substr(0, next);
      // UNENCRYPTED_SRTP, UNAUTHENTICATED_SRTP, KDR, FEC_ORDER ... would weaken or change it.
      if (!p.empty()) return std::nullopt;
      session = next == std::string_view::npos ? std::string_view{} : trim(session.substr(next));
    }
  }
  if (key_params.find(';') != std::string_view::npos) return std::nullopt;
  if (!key_params.starts_with("inline:")) return std::nullopt;
  key_params.remove_prefix(7);
  const auto bar = key_params.find('|');
  const std::string_view b64 = key_params.substr(0, bar);
  if (bar != std::string_view::npos) {
    // "|lifetime" may follow ("2^31" or a number); "|MKI:length" may not (we use none).
    std::string_view extra = key_params.substr(bar + 1);
    if (extra.find(':') != std::string_view::npos) return std::nullopt;
    if (extra.find('|') != std::string_view::npos) return std::nullopt;
  }
  // 30 bytes are 40 base64 characters.
  if (b64.size() != 40) return std::nullopt;
  std::array<unsigned char, 33> raw{};  // EVP_DecodeBlock writes whole 3-byte groups
  const int n = EVP_DecodeBlock(raw.data(), reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  if (n != 30) return std::nullopt;
  std::copy_n(raw.begin(), kSrtpKeySaltBytes, a.key.begin());
  return a;
}

std::string format_crypto_attribute(const CryptoAttribute& attribute) {
  std::array<unsigned char, 41> b64{};
  EVP_EncodeBlock(b64.data(), attribute.key.data(), static_cast<int>(attribute.key.size()));
  return std::to_string(attribute.tag) + " " + std::string(to_string(attribute.suite)) +
         " inline:" + std::string(reinterpret_cast<const char*>(b64.data()), 40);
}

CryptoAttribute make_crypto_attribute(int tag, SrtpSuite suite) {
  CryptoAttribute a;
  a.tag = tag;
  a.suite = suite;
  if (RAND_bytes(a.key.data(), static_cast<int>(a.key.size())) != 1) {
    throw std::runtime_error("no randomness for an SRTP key");
  }
  return a;
}

namespace {

void init_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (srtp_init() != srtp_err_status_ok) throw std::runtime_error("srtp_init failed");
  });
}

void fill_policy(srtp_policy_t& p, const CryptoAttribute& a, srtp_ssrc_type_t direction,
                 std::array<std::uint8_t, kSrtpKeySaltBytes>& key) {
  p = {};
  if (a.suite == SrtpSuite::kAesCm128HmacSha1_32) {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
  }
  // SRTCP keeps the 80-bit tag with either suite (RFC 4568 §6.2.2).
  srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
  p.ssrc.type = direction;
  key = a.key;
  p.key = key.data();
  p.window_size = 128;  // replay window (RFC 3711 §3.3.2: at least 64)
  p.allow_repeat_tx = 0;
  p.next = nullptr;
}

}  // namespace

struct SrtpSession::Contexts {
  srtp_t out = nullptr;
  srtp_t in = nullptr;
  ~Contexts() {
    if (out) srtp_dealloc(out);
    if (in) srtp_dealloc(in);
  }
};

Result<std::unique_ptr<SrtpSession>> SrtpSession::create(const CryptoAttribute& local,
                                                         const CryptoAttribute& remote) {
  init_library();
  std::unique_ptr<SrtpSession> s(new SrtpSession());
  s->contexts_ = std::make_unique<Contexts>();
  srtp_policy_t policy;
  std::array<std::uint8_t, kSrtpKeySaltBytes> key{};
  fill_policy(policy, local, ssrc_any_outbound, key);
  if (srtp_create(&s->contexts_->out, &policy) != srtp_err_status_ok) {
    return Error::internal("SRTP: cannot create the sending context");
  }
  fill_policy(policy, remote, ssrc_any_inbound, key);
  if (srtp_create(&s->contexts_->in, &policy) != srtp_err_status_ok) {
    return Error::internal("SRTP: cannot create the receiving context");
  }
  key.fill(0);
  return s;
}

SrtpSession::~SrtpSession() = default;

bool SrtpSession::protect_rtp(std::uint8_t* packet, std::size_t& length) {
  int n = static_cast<int>(length);
  if (srtp_protect(contexts_->out, packet, &n) != srtp_err_status_ok) return false;
  length = static_cast<std::size_t>(n);
  return true;
}

bool SrtpSession::protect_rtcp(std::uint8_t* packet, std::size_t& length) {
  int n = static_cast<int>(length);
  if (srtp_protect_rtcp(contexts_->out, packet, &n) != srtp_err_status_ok) return false;
  length = static_cast<std::size_t>(n);
  return true;
}

bool SrtpSession::check(std::uint8_t* packet, std::size_t& length, bool rtcp) {
  int n = static_cast<int>(length);
  const auto st = rtcp ? srtp_unprotect_rtcp(contexts_->in, packet, &n)
                       : srtp_unprotect(contexts_->in, packet, &n);
  if (st == srtp_err_status_replay_fail || st == srtp_err_status_replay_old) {
    ++replays_;
    return false;
  }
  if (st != srtp_err_status_ok) {
    ++auth_failures_;
    return false;
  }
  length = static_cast<std::size_t>(n);
  return true;
}

bool SrtpSession::unprotect_rtp(std::uint8_t* packet, std::size_t& length) {
  return check(packet, length, false);
}

bool SrtpSession::unprotect_rtcp(std::uint8_t* packet, std::size_t& length) {
  return check(packet, length, true);
}

}  // namespace sb::media
