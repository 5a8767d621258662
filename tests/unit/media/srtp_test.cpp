#include "media/srtp.hpp"

#include <gtest/gtest.h>
#include <srtp2/srtp.h>

#include <array>
#include <vector>

#include "media/rtcp.hpp"
#include "media/rtp_packet.hpp"

namespace sb::media {
namespace {

// RFC 4568 §9.1's example key (the attribute's own text).
constexpr std::string_view kExample =
    "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32";

TEST(CryptoAttribute, ParsesAndFormats) {
  auto a = parse_crypto_attribute(
      "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->tag, 1);
  EXPECT_EQ(a->suite, SrtpSuite::kAesCm128HmacSha1_80);
  EXPECT_EQ(a->key[0], 0x3d);  // 'P','S','1','u' decode to 3d 2d 6e ...
  EXPECT_EQ(format_crypto_attribute(*a),
            "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR");
  // A lifetime may follow the key.
  EXPECT_TRUE(parse_crypto_attribute(
      "2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^31"));
  const auto fresh = make_crypto_attribute(3, SrtpSuite::kAesCm128HmacSha1_32);
  auto again = parse_crypto_attribute(format_crypto_attribute(fresh));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->key, fresh.key);
  EXPECT_EQ(again->tag, 3);
  EXPECT_NE(make_crypto_attribute(1, SrtpSuite::kAesCm128HmacSha1_80).key,
            make_crypto_attribute(1, SrtpSuite::kAesCm128HmacSha1_80).key);
}

TEST(CryptoAttribute, RefusesWhatWeCannotHonour) {
  EXPECT_FALSE(parse_crypto_attribute(kExample)) << "an MKI";
  EXPECT_FALSE(parse_crypto_attribute(
      "1 AES_256_CM_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"));
  EXPECT_FALSE(parse_crypto_attribute(
      "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtx"));
  EXPECT_FALSE(parse_crypto_attribute(
      "x AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"));
  EXPECT_FALSE(
      parse_crypto_attribute("1 AES_CM_128_HMAC_SHA1_80 "
                             "inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR UNENCRYPTED_SRTP"));
  EXPECT_FALSE(
      parse_crypto_attribute("1 AES_CM_128_HMAC_SHA1_80 PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"));
  EXPECT_FALSE(parse_crypto_attribute(""));
  EXPECT_FALSE(parse_crypto_attribute("1"));
}

std::vector<std::uint8_t> rtp_packet(std::uint16_t seq) {
  RtpHeader h;
  h.payload_type = 0;
  h.sequence = seq;
  h.timestamp = 160U * seq;
  h.ssrc = 0x11223344;
  std::array<std::uint8_t, 160> payload{};
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i + seq);
  std::vector<std::uint8_t> out(kMaxRtpPacketSize + kSrtpMaxTrailer);
  out.resize(serialize_rtp(h, payload, out));
  return out;
}

class SrtpPair : public ::testing::TestWithParam<SrtpSuite> {};

TEST_P(SrtpPair, ProtectsAndChecksBothWays) {
  const auto a = make_crypto_attribute(1, GetParam());
  const auto b = make_crypto_attribute(1, GetParam());
  auto alice = SrtpSession::create(a, b);
  auto bob = SrtpSession::create(b, a);
  ASSERT_TRUE(alice && bob);
  const std::size_t tag = GetParam() == SrtpSuite::kAesCm128HmacSha1_80 ? 10 : 4;
  for (std::uint16_t seq = 1; seq <= 5; ++seq) {
    const auto plain = rtp_packet(seq);
    std::vector<std::uint8_t> wire = plain;
    wire.resize(plain.size() + kSrtpMaxTrailer);
    std::size_t n = plain.size();
    ASSERT_TRUE((*alice)->protect_rtp(wire.data(), n));
    EXPECT_EQ(n, plain.size() + tag);
    EXPECT_TRUE(std::equal(plain.begin(), plain.begin() + 12, wire.begin())) << "header in clear";
    EXPECT_FALSE(std::equal(plain.begin() + 12, plain.end(), wire.begin() + 12))
        << "payload hidden";
    const std::vector<std::uint8_t> sent(wire.begin(), wire.begin() + static_cast<long>(n));
    ASSERT_TRUE((*bob)->unprotect_rtp(wire.data(), n));
    ASSERT_EQ(n, plain.size());
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), wire.begin()));
    // The same packet again is a replay.
    std::vector<std::uint8_t> replay = sent;
    std::size_t m = replay.size();
    EXPECT_FALSE((*bob)->unprotect_rtp(replay.data(), m));
  }
  EXPECT_EQ((*bob)->replays(), 5U);
  // One flipped bit anywhere fails the tag.
  auto plain = rtp_packet(9);
  plain.resize(plain.size() + kSrtpMaxTrailer);
  std::size_t n = plain.size() - kSrtpMaxTrailer;
  ASSERT_TRUE((*alice)->protect_rtp(plain.data(), n));
  plain[20] ^= 0x01;
  EXPECT_FALSE((*bob)->unprotect_rtp(plain.data(), n));
  EXPECT_EQ((*bob)->auth_failures(), 1U);
  // A stranger's key does not authenticate.
  auto mallory = SrtpSession::create(make_crypto_attribute(1, GetParam()), b);
  ASSERT_TRUE(mallory);
  auto forged = rtp_packet(10);
  forged.resize(forged.size() + kSrtpMaxTrailer);
  n = forged.size() - kSrtpMaxTrailer;
  ASSERT_TRUE((*mallory)->protect_rtp(forged.data(), n));
  EXPECT_FALSE((*bob)->unprotect_rtp(forged.data(), n));
  EXPECT_EQ((*bob)->auth_failures(), 2U);
}

// libsrtp2 with the same keys: the reference implementation ours must agree with.
class Reference {
 public:
  Reference(const CryptoAttribute& local, const CryptoAttribute& remote) {
    static const bool kReady = srtp_init() == srtp_err_status_ok;
    EXPECT_TRUE(kReady);
    make(local, ssrc_any_outbound, &out_);
    make(remote, ssrc_any_inbound, &in_);
  }
  ~Reference() {
    srtp_dealloc(out_);
    srtp_dealloc(in_);
  }
  Reference(const Reference&) = delete;
  Reference& operator=(const Reference&) = delete;
  bool protect(std::vector<std::uint8_t>& p, bool rtcp) {
    int n = static_cast<int>(p.size());
    p.resize(p.size() + SRTP_MAX_TRAILER_LEN);
    const auto st = rtcp ? srtp_protect_rtcp(out_, p.data(), &n) : srtp_protect(out_, p.data(), &n);
    p.resize(static_cast<std::size_t>(n));
    return st == srtp_err_status_ok;
  }
  bool unprotect(std::vector<std::uint8_t>& p, bool rtcp) {
    int n = static_cast<int>(p.size());
    const auto st =
        rtcp ? srtp_unprotect_rtcp(in_, p.data(), &n) : srtp_unprotect(in_, p.data(), &n);
    p.resize(static_cast<std::size_t>(n));
    return st == srtp_err_status_ok;
  }

 private:
  static void make(const CryptoAttribute& a, srtp_ssrc_type_t type, srtp_t* out) {
    srtp_policy_t p{};
    if (a.suite == SrtpSuite::kAesCm128HmacSha1_32) {
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
    } else {
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
    }
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
    p.ssrc.type = type;
    std::array<std::uint8_t, kSrtpKeySaltBytes> key = a.key;
    p.key = key.data();
    p.window_size = 128;
    ASSERT_EQ(srtp_create(out, &p), srtp_err_status_ok);
  }
  srtp_t out_ = nullptr;
  srtp_t in_ = nullptr;
};

// An RTP packet of `payload` bytes; `extended` adds two CSRCs and a header extension.
std::vector<std::uint8_t> rtp_of(std::uint16_t seq, std::size_t payload, bool extended) {
  std::vector<std::uint8_t> p = {0x80,
                                 0x00,
                                 static_cast<std::uint8_t>(seq >> 8),
                                 static_cast<std::uint8_t>(seq),
                                 0,
                                 0,
                                 0x12,
                                 0x34,
                                 0xde,
                                 0xad,
                                 0xbe,
                                 0xef};
  if (extended) {
    p[0] = 0x92;                                                                 // X and CC = 2
    for (std::uint8_t b : {1, 2, 3, 4, 5, 6, 7, 8}) p.push_back(b);              // CSRCs
    for (std::uint8_t b : {0xbe, 0xde, 0, 1, 0x10, 0xaa, 0, 0}) p.push_back(b);  // one word
  }
  for (std::size_t i = 0; i < payload; ++i) p.push_back(static_cast<std::uint8_t>(i * 7 + seq));
  return p;
}

TEST_P(SrtpPair, AgreesWithLibsrtpByteForByteAcrossTheSequenceWrap) {
  const auto ours_key = make_crypto_attribute(1, GetParam());
  const auto theirs_key = make_crypto_attribute(1, GetParam());
  auto ours = SrtpSession::create(ours_key, theirs_key);
  ASSERT_TRUE(ours);
  Reference theirs(theirs_key, ours_key);
  // From 65,500 to past 65,535: the rollover counter must move on both sides alike.
  for (std::uint32_t k = 0; k < 80; ++k) {
    const auto seq = static_cast<std::uint16_t>(65500 + k);
    const bool extended = k % 3 == 0;
    const std::size_t size = 160 + k % 13;  // not always whole AES blocks
    // Ours to libsrtp.
    auto plain = rtp_of(seq, size, extended);
    std::vector<std::uint8_t> wire = plain;
    wire.resize(plain.size() + kSrtpMaxTrailer);
    std::size_t n = plain.size();
    ASSERT_TRUE((*ours)->protect_rtp(wire.data(), n));
    wire.resize(n);
    ASSERT_TRUE(theirs.unprotect(wire, false)) << "libsrtp refused our packet " << k;
    EXPECT_EQ(wire, plain);
    // libsrtp to ours.
    std::vector<std::uint8_t> back = plain;
    ASSERT_TRUE(theirs.protect(back, false));
    back.resize(back.size() + kSrtpMaxTrailer);
    n = back.size() - kSrtpMaxTrailer;
    ASSERT_TRUE((*ours)->unprotect_rtp(back.data(), n)) << "we refused libsrtp's packet " << k;
    back.resize(n);
    EXPECT_EQ(back, plain);
  }
  // SRTCP both ways.
  for (int k = 0; k < 5; ++k) {
    RtcpReport report;
    report.ssrc = 0xdeadbeef;
    report.sender = true;
    std::array<std::uint8_t, 256> buf{};
    const std::size_t len = build_rtcp(report, "test", buf, k == 4);
    const std::vector<std::uint8_t> plain(buf.begin(), buf.begin() + static_cast<long>(len));
    std::vector<std::uint8_t> wire = plain;
    wire.resize(plain.size() + kSrtpMaxTrailer);
    std::size_t n = plain.size();
    ASSERT_TRUE((*ours)->protect_rtcp(wire.data(), n));
    wire.resize(n);
    ASSERT_TRUE(theirs.unprotect(wire, true)) << "libsrtp refused our SRTCP " << k;
    EXPECT_EQ(wire, plain);
    std::vector<std::uint8_t> back = plain;
    ASSERT_TRUE(theirs.protect(back, true));
    back.resize(back.size() + kSrtpMaxTrailer);
    n = back.size() - kSrtpMaxTrailer;
    ASSERT_TRUE((*ours)->unprotect_rtcp(back.data(), n)) << "we refused libsrtp's SRTCP " << k;
    back.resize(n);
    EXPECT_EQ(back, plain);
  }
}

TEST_P(SrtpPair, ProtectsRtcp) {
  const auto a = make_crypto_attribute(4, GetParam());
  const auto b = make_crypto_attribute(4, GetParam());
  auto alice = SrtpSession::create(a, b);
  auto bob = SrtpSession::create(b, a);
  ASSERT_TRUE(alice && bob);
  RtcpReport report;
  report.ssrc = 0x11223344;
  report.sender = true;
  std::array<std::uint8_t, 256 + kSrtpMaxTrailer> buf{};
  std::size_t n = build_rtcp(report, "test", std::span(buf).first(256), false);
  ASSERT_GT(n, 0U);
  const std::vector<std::uint8_t> plain(buf.begin(), buf.begin() + static_cast<long>(n));
  ASSERT_TRUE((*alice)->protect_rtcp(buf.data(), n));
  EXPECT_EQ(n, plain.size() + 4 + 10) << "SRTCP index and an 80-bit tag with either suite";
  ASSERT_TRUE((*bob)->unprotect_rtcp(buf.data(), n));
  ASSERT_EQ(n, plain.size());
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), buf.begin()));
}

INSTANTIATE_TEST_SUITE_P(Suites, SrtpPair,
                         ::testing::Values(SrtpSuite::kAesCm128HmacSha1_80,
                                           SrtpSuite::kAesCm128HmacSha1_32),
                         [](const auto& info) {
                           return info.param == SrtpSuite::kAesCm128HmacSha1_80
                                      ? std::string("Sha1_80")
                                      : std::string("Sha1_32");
                         });

TEST(SrtpPolicy, ParsesTheSettingsWords) {
  EXPECT_EQ(parse_srtp_policy("off"), SrtpPolicy::kOff);
  EXPECT_EQ(parse_srtp_policy("optional"), SrtpPolicy::kOptional);
  EXPECT_EQ(parse_srtp_policy("required"), SrtpPolicy::kRequired);
  EXPECT_FALSE(parse_srtp_policy("Required"));
  EXPECT_FALSE(parse_srtp_policy(""));
  EXPECT_EQ(to_string(SrtpPolicy::kRequired), "required");
}

}  // namespace
}  // namespace sb::media
