#include "media/g711.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

namespace sb::media {
namespace {

// Values from the ITU-T G.711 tables (and the reference g711.c).
TEST(G711, UlawTableValues) {
  EXPECT_EQ(ulaw_to_linear(0x00), -32124);
  EXPECT_EQ(ulaw_to_linear(0x80), 32124);
  EXPECT_EQ(ulaw_to_linear(0xFF), 0);
  EXPECT_EQ(ulaw_to_linear(0x7F), 0);
  EXPECT_EQ(ulaw_to_linear(0xF0), 120);
  EXPECT_EQ(ulaw_to_linear(0x70), -120);
  EXPECT_EQ(ulaw_to_linear(0xEF), 132);
  EXPECT_EQ(linear_to_ulaw(0), 0xFF);
  EXPECT_EQ(linear_to_ulaw(32767), 0x80);
  EXPECT_EQ(linear_to_ulaw(-32768), 0x00);
}

TEST(G711, AlawTableValues) {
  EXPECT_EQ(alaw_to_linear(0xD5), 8);
  EXPECT_EQ(alaw_to_linear(0x55), -8);
  EXPECT_EQ(alaw_to_linear(0xAA), 32256);
  EXPECT_EQ(alaw_to_linear(0x2A), -32256);
  EXPECT_EQ(linear_to_alaw(0), 0xD5);
  EXPECT_EQ(linear_to_alaw(-1), 0x55);
  EXPECT_EQ(linear_to_alaw(32767), 0xAA);
  EXPECT_EQ(linear_to_alaw(-32768), 0x2A);
}

TEST(G711, EveryCodeRoundTrips) {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<std::uint8_t>(c);
    EXPECT_EQ(linear_to_alaw(alaw_to_linear(code)), code) << c;
    if (code != 0x7F) {  // negative zero: encodes back as positive zero 0xFF
      EXPECT_EQ(linear_to_ulaw(ulaw_to_linear(code)), code) << c;
    }
  }
}

TEST(G711, QuantisationErrorIsBoundedBySegment) {
  for (int x = -32768; x <= 32767; x += 3) {
    const auto s = static_cast<std::int16_t>(x);
    const int mu = ulaw_to_linear(linear_to_ulaw(s));
    const int a = alaw_to_linear(linear_to_alaw(s));
    // Step size at most 1024 in the top segment (half-step error 512), relative error ~3%.
    const int bound_mu = std::max(8, std::abs(x) / 16 + 4) + (std::abs(x) > 32124 ? 700 : 0);
    const int bound_a = std::max(16, std::abs(x) / 16 + 8);
    ASSERT_LE(std::abs(mu - x), bound_mu) << x;
    ASSERT_LE(std::abs(a - x), bound_a) << x;
  }
}

TEST(G711, MonotonicDecode) {
  // Decoded positive codes increase with magnitude (0xFF..0x80 for mu, segments for A).
  for (int c = 0xFE; c >= 0x80; --c) {
    EXPECT_GT(ulaw_to_linear(static_cast<std::uint8_t>(c)),
              ulaw_to_linear(static_cast<std::uint8_t>(c + 1)));
  }
}

TEST(G711, FrameEncodeDecode) {
  std::vector<std::int16_t> pcm = {0, 1000, -1000, 20000, -20000};
  std::vector<std::uint8_t> enc(pcm.size());
  std::vector<std::int16_t> dec(pcm.size());
  for (Codec c : {Codec::kPcmu, Codec::kPcma}) {
    encode(c, pcm, enc);
    decode(c, enc, dec);
    for (std::size_t i = 0; i < pcm.size(); ++i) EXPECT_NEAR(dec[i], pcm[i], 700);
  }
  EXPECT_EQ(silence_code(Codec::kPcmu), linear_to_ulaw(0));
  EXPECT_EQ(silence_code(Codec::kPcma), linear_to_alaw(0));
}

TEST(G711, Names) {
  EXPECT_EQ(codec_from_name("pcmu"), Codec::kPcmu);
  EXPECT_EQ(codec_from_name("PCMA"), Codec::kPcma);
  EXPECT_FALSE(codec_from_name("G729"));
  EXPECT_EQ(payload_type_of(Codec::kPcma), 8);
}

}  // namespace
}  // namespace sb::media
