#include "media/srtp.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <bitset>
#include <mutex>
#include <stdexcept>

#include "core/text.hpp"

namespace sb::media {

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

constexpr std::size_t kSaltBytes = 14;
constexpr std::size_t kAuthKeyBytes = 20;
constexpr std::size_t kReplayWindow = 128;  // RFC 3711 §3.3.2: at least 64
constexpr std::size_t kRtcpTagBytes = 10;   // SRTCP keeps HMAC-SHA1-80 with either suite

// AES-128 in counter mode (RFC 3711 §4.1.1) on one OpenSSL context keyed once; each packet only
// sets its IV, so no key schedule, allocation or lock is spent per packet.
class AesCm {
 public:
  explicit AesCm(const std::uint8_t* key) : ctx_(EVP_CIPHER_CTX_new()) {
    const std::array<std::uint8_t, 16> zero{};
    if (!ctx_ || EVP_EncryptInit_ex(ctx_, EVP_aes_128_ctr(), nullptr, key, zero.data()) != 1) {
      throw std::runtime_error("SRTP: AES-128-CTR is not available");
    }
  }
  ~AesCm() { EVP_CIPHER_CTX_free(ctx_); }
  AesCm(const AesCm&) = delete;
  AesCm& operator=(const AesCm&) = delete;
  // XORs `n` bytes at `data` with the keystream that starts at `iv`.
  void apply(const std::array<std::uint8_t, 16>& iv, std::uint8_t* data, std::size_t n) {
    int out = 0;
    EVP_EncryptInit_ex(ctx_, nullptr, nullptr, nullptr, iv.data());
    EVP_EncryptUpdate(ctx_, data, &out, data, static_cast<int>(n));
  }

 private:
  EVP_CIPHER_CTX* ctx_;
};

// HMAC-SHA1 (RFC 2104) from the digest states after the inner and outer pads, kept per
// session: a packet costs two state copies and the hashing itself.
class HmacSha1 {
 public:
  explicit HmacSha1(const std::uint8_t* key)
      : inner_(EVP_MD_CTX_new()), outer_(EVP_MD_CTX_new()), work_(EVP_MD_CTX_new()) {
    std::array<std::uint8_t, 64> ipad{};
    std::array<std::uint8_t, 64> opad{};
    for (std::size_t i = 0; i < 64; ++i) {
      const std::uint8_t k = i < kAuthKeyBytes ? key[i] : 0;
      ipad[i] = k ^ 0x36;
      opad[i] = k ^ 0x5c;
    }
    if (!inner_ || !outer_ || !work_ || EVP_DigestInit_ex(inner_, EVP_sha1(), nullptr) != 1 ||
        EVP_DigestUpdate(inner_, ipad.data(), ipad.size()) != 1 ||
        EVP_DigestInit_ex(outer_, EVP_sha1(), nullptr) != 1 ||
        EVP_DigestUpdate(outer_, opad.data(), opad.size()) != 1) {
      throw std::runtime_error("SRTP: SHA-1 is not available");
    }
    OPENSSL_cleanse(ipad.data(), ipad.size());
    OPENSSL_cleanse(opad.data(), opad.size());
  }
  ~HmacSha1() {
    EVP_MD_CTX_free(inner_);
    EVP_MD_CTX_free(outer_);
    EVP_MD_CTX_free(work_);
  }
  HmacSha1(const HmacSha1&) = delete;
  HmacSha1& operator=(const HmacSha1&) = delete;
  // The MAC of `a` followed by `b` (4 bytes: the ROC or the SRTCP index word).
  std::array<std::uint8_t, 20> mac(const std::uint8_t* a, std::size_t n,
                                   const std::array<std::uint8_t, 4>& b) {
    std::array<std::uint8_t, 20> inner{};
    std::array<std::uint8_t, 20> out{};
    unsigned len = 0;
    EVP_MD_CTX_copy_ex(work_, inner_);
    EVP_DigestUpdate(work_, a, n);
    EVP_DigestUpdate(work_, b.data(), b.size());
    EVP_DigestFinal_ex(work_, inner.data(), &len);
    EVP_MD_CTX_copy_ex(work_, outer_);
    EVP_DigestUpdate(work_, inner.data(), inner.size());
    EVP_DigestFinal_ex(work_, out.data(), &len);
    return out;
  }

 private:
  EVP_MD_CTX* inner_;
  EVP_MD_CTX* outer_;
  EVP_MD_CTX* work_;
};

std::array<std::uint8_t, 4> be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

std::uint32_t read32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// The session keys one master key and salt give (RFC 3711 §4.3.1, key derivation rate 0):
// AES-CM under the master key from IV = (label XOR'd into the salt) * 2^16.
void derive(const SrtpKeySalt& master, std::uint8_t label, std::uint8_t* out, std::size_t n) {
  std::array<std::uint8_t, 16> iv{};
  std::copy_n(master.begin() + 16, kSaltBytes, iv.begin());
  iv[7] ^= label;
  std::fill_n(out, n, 0);
  AesCm(master.data()).apply(iv, out, n);
}

// The keystream's IV for one packet (RFC 3711 §4.1.1): salt * 2^16 XOR SSRC * 2^64 XOR
// index * 2^16.
std::array<std::uint8_t, 16> packet_iv(const std::array<std::uint8_t, kSaltBytes>& salt,
                                       std::uint32_t ssrc, std::uint64_t index) {
  std::array<std::uint8_t, 16> iv{};
  std::copy(salt.begin(), salt.end(), iv.begin());
  for (int i = 0; i < 4; ++i) iv[4 + i] ^= static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
  for (int i = 0; i < 6; ++i) iv[8 + i] ^= static_cast<std::uint8_t>(index >> (40 - 8 * i));
  return iv;
}

// A sliding replay window over packet indices (RFC 3711 §3.3.2).
class ReplayWindow {
 public:
  // Whether `index` may still be accepted (not seen, not older than the window).
  bool fresh(std::uint64_t index) const {
    if (!started_ || index > highest_) return true;
    const std::uint64_t age = highest_ - index;
    return age < kReplayWindow && !seen_[age];
  }
  // After the packet authenticated.
  void accept(std::uint64_t index) {
    if (!started_ || index > highest_) {
      const std::uint64_t shift = started_ ? index - highest_ : kReplayWindow;
      seen_ = shift >= kReplayWindow ? std::bitset<kReplayWindow>{} : seen_ << shift;
      highest_ = index;
      started_ = true;
    }
    seen_.set(highest_ - index);
  }
  bool started() const { return started_; }
  std::uint64_t highest() const { return highest_; }

 private:
  bool started_ = false;
  std::uint64_t highest_ = 0;
  std::bitset<kReplayWindow> seen_;
};

// Length of an RTP header with its CSRCs and extension; 0 when the packet is too short for it.
std::size_t rtp_header_length(const std::uint8_t* p, std::size_t n) {
  if (n < 12) return 0;
  std::size_t h = 12 + 4 * std::size_t{p[0] & 0x0fU};
  if ((p[0] & 0x10U) != 0) {
    if (n < h + 4) return 0;
    h += 4 + 4 * ((std::size_t{p[h + 2]} << 8) | p[h + 3]);
  }
  return h <= n ? h : 0;
}

}  // namespace

// One direction's keys and state: what we send (the sequence numbers' rollover count, the
// SRTCP index) or what the peer sends (the index estimate and the replay windows). A new SSRC
// starts its own counters, as each SSRC is its own cryptographic context (RFC 3711 §3.2.3).
// The session keys of one master key (RFC 3711 §4.3): wiped when no longer needed.
struct SessionKeys {
  std::array<std::uint8_t, 16> rtp_key{}, rtcp_key{};
  std::array<std::uint8_t, kAuthKeyBytes> rtp_auth{}, rtcp_auth{};
  std::array<std::uint8_t, kSaltBytes> rtp_salt{}, rtcp_salt{};
  explicit SessionKeys(const SrtpKeySalt& master) {
    derive(master, 0x00, rtp_key.data(), rtp_key.size());
    derive(master, 0x01, rtp_auth.data(), rtp_auth.size());
    derive(master, 0x02, rtp_salt.data(), rtp_salt.size());
    derive(master, 0x03, rtcp_key.data(), rtcp_key.size());
    derive(master, 0x04, rtcp_auth.data(), rtcp_auth.size());
    derive(master, 0x05, rtcp_salt.data(), rtcp_salt.size());
  }
  ~SessionKeys() {
    for (auto* k : {rtp_key.data(), rtcp_key.data()}) OPENSSL_cleanse(k, 16);
    for (auto* k : {rtp_auth.data(), rtcp_auth.data()}) OPENSSL_cleanse(k, kAuthKeyBytes);
    for (auto* k : {rtp_salt.data(), rtcp_salt.data()}) OPENSSL_cleanse(k, kSaltBytes);
  }
  SessionKeys(const SessionKeys&) = delete;
  SessionKeys& operator=(const SessionKeys&) = delete;
};

// One direction's keys and state: what we send (the sequence numbers' rollover count, the
// SRTCP index) or what the peer sends (the index estimate and the replay windows). A new SSRC
// starts its own counters, as each SSRC is its own cryptographic context (RFC 3711 §3.2.3).
struct SrtpSession::Contexts {
  struct Direction {
    explicit Direction(const CryptoAttribute& a) : Direction(SessionKeys(a.key), a.suite) {}
    Direction(const SessionKeys& k, SrtpSuite suite)
        : tag_bytes(suite == SrtpSuite::kAesCm128HmacSha1_32 ? 4 : 10),
          rtp_cipher(k.rtp_key.data()),
          rtcp_cipher(k.rtcp_key.data()),
          rtp_auth(k.rtp_auth.data()),
          rtcp_auth(k.rtcp_auth.data()),
          rtp_salt(k.rtp_salt),
          rtcp_salt(k.rtcp_salt) {}

    std::size_t tag_bytes;
    AesCm rtp_cipher, rtcp_cipher;
    HmacSha1 rtp_auth, rtcp_auth;
    std::array<std::uint8_t, kSaltBytes> rtp_salt, rtcp_salt;
    // For the last SSRC seen (another one starts again).
    std::uint32_t ssrc = 0;
    bool have_ssrc = false;
    std::uint32_t roc = 0;         // sender: the rollover counter
    std::uint16_t last_seq = 0;    // sender: the last sequence number sent
    ReplayWindow rtp_window;       // receiver: RTP indices authenticated
    std::uint32_t rtcp_index = 0;  // sender: the next SRTCP index
    ReplayWindow rtcp_window;      // receiver: SRTCP indices authenticated

    void switch_ssrc(std::uint32_t s) {
      ssrc = s;
      have_ssrc = true;
      roc = 0;
      last_seq = 0;
      rtp_window = {};
      rtcp_index = 0;
      rtcp_window = {};
    }
  };
  Contexts(const CryptoAttribute& local, const CryptoAttribute& remote) : out(local), in(remote) {}
  Direction out;
  Direction in;
};

Result<std::unique_ptr<SrtpSession>> SrtpSession::create(const CryptoAttribute& local,
                                                         const CryptoAttribute& remote) {
  if (local.suite != remote.suite) {
    return Error::bad_request(codes::kInvalidParameter, "SRTP: the two keys' suites differ");
  }
  std::unique_ptr<SrtpSession> s(new SrtpSession());
  s->contexts_ = std::make_unique<Contexts>(local, remote);
  return s;
}

SrtpSession::~SrtpSession() = default;

bool SrtpSession::protect_rtp(std::uint8_t* packet, std::size_t& length) {
  const std::size_t header = rtp_header_length(packet, length);
  if (header == 0) return false;
  auto& d = contexts_->out;
  const std::uint32_t ssrc = read32(packet + 8);
  const auto seq = static_cast<std::uint16_t>((packet[2] << 8) | packet[3]);
  if (!d.have_ssrc || ssrc != d.ssrc) {
    d.switch_ssrc(ssrc);
  } else if (seq < d.last_seq && d.last_seq - seq > 0x8000) {
    ++d.roc;  // the sequence number wrapped
  }
  d.last_seq = seq;
  const std::uint64_t index = (std::uint64_t{d.roc} << 16) | seq;
  d.rtp_cipher.apply(packet_iv(d.rtp_salt, ssrc, index), packet + header, length - header);
  const auto tag = d.rtp_auth.mac(packet, length, be32(d.roc));
  std::copy_n(tag.begin(), d.tag_bytes, packet + length);
  length += d.tag_bytes;
  return true;
}

bool SrtpSession::unprotect_rtp(std::uint8_t* packet, std::size_t& length) {
  auto& d = contexts_->in;
  if (length < d.tag_bytes) return false;
  const std::size_t body = length - d.tag_bytes;
  const std::size_t header = rtp_header_length(packet, body);
  if (header == 0) {
    ++auth_failures_;
    return false;
  }
  const std::uint32_t ssrc = read32(packet + 8);
  const auto seq = static_cast<std::uint16_t>((packet[2] << 8) | packet[3]);
  // The index estimate (RFC 3711 §3.3.1) against the highest index authenticated so far.
  const bool known = d.have_ssrc && ssrc == d.ssrc && d.rtp_window.started();
  std::uint64_t index = seq;
  if (known) {
    const std::uint64_t highest = d.rtp_window.highest();
    const auto s_l = static_cast<std::uint16_t>(highest & 0xffff);
    const std::uint64_t roc = highest >> 16;
    std::uint64_t v = roc;
    if (s_l < 0x8000) {
      if (seq > s_l && seq - s_l > 0x8000 && roc > 0) v = roc - 1;
    } else if (s_l - 0x8000 > seq) {
      v = roc + 1;
    }
    index = (v << 16) | seq;
    if (!d.rtp_window.fresh(index)) {
      ++replays_;
      return false;
    }
  }
  const auto tag = d.rtp_auth.mac(packet, body, be32(static_cast<std::uint32_t>(index >> 16)));
  if (CRYPTO_memcmp(tag.data(), packet + body, d.tag_bytes) != 0) {
    ++auth_failures_;
    return false;
  }
  if (!known) d.switch_ssrc(ssrc);
  d.rtp_window.accept(index);
  d.rtp_cipher.apply(packet_iv(d.rtp_salt, ssrc, index), packet + header, body - header);
  length = body;
  return true;
}

bool SrtpSession::protect_rtcp(std::uint8_t* packet, std::size_t& length) {
  if (length < 8) return false;
  auto& d = contexts_->out;
  const std::uint32_t ssrc = read32(packet + 4);
  const std::uint32_t index = d.rtcp_index & 0x7fffffffU;
  d.rtcp_index = (d.rtcp_index + 1) & 0x7fffffffU;
  d.rtcp_cipher.apply(packet_iv(d.rtcp_salt, ssrc, index), packet + 8, length - 8);
  const auto word = be32(0x80000000U | index);  // E: encrypted
  std::copy(word.begin(), word.end(), packet + length);
  const auto tag = d.rtcp_auth.mac(packet, length, word);
  std::copy_n(tag.begin(), kRtcpTagBytes, packet + length + 4);
  length += 4 + kRtcpTagBytes;
  return true;
}

bool SrtpSession::unprotect_rtcp(std::uint8_t* packet, std::size_t& length) {
  if (length < 8 + 4 + kRtcpTagBytes) {
    ++auth_failures_;
    return false;
  }
  auto& d = contexts_->in;
  const std::size_t body = length - 4 - kRtcpTagBytes;
  std::array<std::uint8_t, 4> word{};
  std::copy_n(packet + body, 4, word.begin());
  const std::uint32_t e_index = read32(word.data());
  const std::uint32_t index = e_index & 0x7fffffffU;
  if (!d.rtcp_window.fresh(index)) {
    ++replays_;
    return false;
  }
  const auto tag = d.rtcp_auth.mac(packet, body, word);
  if (CRYPTO_memcmp(tag.data(), packet + body + 4, kRtcpTagBytes) != 0) {
    ++auth_failures_;
    return false;
  }
  d.rtcp_window.accept(index);
  if ((e_index & 0x80000000U) != 0) {
    d.rtcp_cipher.apply(packet_iv(d.rtcp_salt, read32(packet + 4), index), packet + 8, body - 8);
  }
  length = body;
  return true;
}

}  // namespace sb::media
