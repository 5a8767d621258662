#include "media/g711.hpp"

#include <array>
#include <cassert>

namespace sb::media {
namespace {

constexpr int kSignBit = 0x80;
constexpr int kQuantMask = 0x0F;
constexpr int kSegShift = 4;
constexpr int kSegMask = 0x70;
constexpr int kBias = 0x84;
constexpr int kClip = 8159;

constexpr std::array<int, 8> kSegUEnd = {0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF};
constexpr std::array<int, 8> kSegAEnd = {0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF};

constexpr int segment(int value, const std::array<int, 8>& table) {
  for (int i = 0; i < 8; ++i) {
    if (value <= table[static_cast<std::size_t>(i)]) return i;
  }
  return 8;
}

constexpr std::int16_t ulaw_decode(std::uint8_t code) {
  const int u = ~code & 0xFF;
  int t = ((u & kQuantMask) << 3) + kBias;
  t <<= (u & kSegMask) >> kSegShift;
  return static_cast<std::int16_t>((u & kSignBit) ? (kBias - t) : (t - kBias));
}

constexpr std::int16_t alaw_decode(std::uint8_t code) {
  const int a = code ^ 0x55;
  int t = (a & kQuantMask) << 4;
  const int seg = (a & kSegMask) >> kSegShift;
  switch (seg) {
    case 0:
      t += 8;
      break;
    case 1:
      t += 0x108;
      break;
    default:
      t += 0x108;
      t <<= seg - 1;
  }
  return static_cast<std::int16_t>((a & kSignBit) ? t : -t);
}

template <std::int16_t (*F)(std::uint8_t)>
constexpr std::array<std::int16_t, 256> make_table() {
  std::array<std::int16_t, 256> t{};
  for (int i = 0; i < 256; ++i) t[static_cast<std::size_t>(i)] = F(static_cast<std::uint8_t>(i));
  return t;
}

constexpr auto kUlawTable = make_table<ulaw_decode>();
constexpr auto kAlawTable = make_table<alaw_decode>();

static_assert(kUlawTable[0x00] == -32124 && kUlawTable[0x80] == 32124 && kUlawTable[0xFF] == 0);
static_assert(kAlawTable[0xD5] == 8 && kAlawTable[0x55] == -8 && kAlawTable[0xAA] == 32256);

// Encoding tables over the bits the algorithms look at (14 for mu-law, 13 for A-law), built
// once from the reference functions below: one load per sample on the per-packet path.
std::uint8_t ulaw_encode_ref(std::int16_t pcm16);
std::uint8_t alaw_encode_ref(std::int16_t pcm16);

struct EncodeTables {
  std::array<std::uint8_t, 1 << 14> ulaw{};
  std::array<std::uint8_t, 1 << 13> alaw{};
  EncodeTables() {
    for (int i = 0; i < (1 << 14); ++i) {
      ulaw[static_cast<std::size_t>(i)] =
          ulaw_encode_ref(static_cast<std::int16_t>((i - (1 << 13)) * 4));
    }
    for (int i = 0; i < (1 << 13); ++i) {
      alaw[static_cast<std::size_t>(i)] =
          alaw_encode_ref(static_cast<std::int16_t>((i - (1 << 12)) * 8));
    }
  }
};
const EncodeTables& encode_tables() {
  static const EncodeTables kTables;
  return kTables;
}

}  // namespace

std::optional<Codec> codec_from_name(std::string_view name) {
  auto eq = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      char c = a[i];
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
      if (c != b[i]) return false;
    }
    return true;
  };
  if (eq(name, "PCMU")) return Codec::kPcmu;
  if (eq(name, "PCMA")) return Codec::kPcma;
  return std::nullopt;
}

int payload_type_of(Codec c) { return c == Codec::kPcmu ? kPcmuPayloadType : kPcmaPayloadType; }
std::string_view name_of(Codec c) { return c == Codec::kPcmu ? "PCMU" : "PCMA"; }

namespace {
std::uint8_t ulaw_encode_ref(std::int16_t pcm16) {
  int pcm = pcm16 >> 2;  // 14-bit magnitude domain
  int mask = 0xFF;
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7F;
  }
  if (pcm > kClip) pcm = kClip;
  pcm += kBias >> 2;
  const int seg = segment(pcm, kSegUEnd);
  if (seg >= 8) return static_cast<std::uint8_t>(0x7F ^ mask);
  const int u = (seg << 4) | ((pcm >> (seg + 1)) & 0xF);
  return static_cast<std::uint8_t>(u ^ mask);
}

std::uint8_t alaw_encode_ref(std::int16_t pcm16) {
  int pcm = pcm16 >> 3;  // 13-bit domain
  int mask = 0xD5;
  if (pcm < 0) {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const int seg = segment(pcm, kSegAEnd);
  if (seg >= 8) return static_cast<std::uint8_t>(0x7F ^ mask);
  int a = seg << kSegShift;
  a |= seg < 2 ? (pcm >> 1) & kQuantMask : (pcm >> seg) & kQuantMask;
  return static_cast<std::uint8_t>(a ^ mask);
}

}  // namespace

namespace {
// The encode tables' indexes: the sample's top 14 (µ-law) or 13 (A-law) bits, offset to >= 0.
std::size_t ulaw_index(std::int16_t pcm) {
  const int index = (pcm >> 2) + (1 << 13);
  return static_cast<std::size_t>(index);
}
std::size_t alaw_index(std::int16_t pcm) {
  const int index = (pcm >> 3) + (1 << 12);
  return static_cast<std::size_t>(index);
}
}  // namespace

std::uint8_t linear_to_ulaw(std::int16_t pcm) { return encode_tables().ulaw[ulaw_index(pcm)]; }
std::uint8_t linear_to_alaw(std::int16_t pcm) { return encode_tables().alaw[alaw_index(pcm)]; }
std::int16_t ulaw_to_linear(std::uint8_t code) { return kUlawTable[code]; }
std::int16_t alaw_to_linear(std::uint8_t code) { return kAlawTable[code]; }

void encode(Codec c, std::span<const std::int16_t> in, std::span<std::uint8_t> out) {
  assert(out.size() >= in.size());
  const EncodeTables& t = encode_tables();
  if (c == Codec::kPcmu) {
    for (std::size_t i = 0; i < in.size(); ++i) {
      out[i] = t.ulaw[ulaw_index(in[i])];
    }
  } else {
    for (std::size_t i = 0; i < in.size(); ++i) {
      out[i] = t.alaw[alaw_index(in[i])];
    }
  }
}

void decode(Codec c, std::span<const std::uint8_t> in, std::span<std::int16_t> out) {
  assert(out.size() >= in.size());
  const auto& table = c == Codec::kPcmu ? kUlawTable : kAlawTable;
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = table[in[i]];
}

std::uint8_t silence_code(Codec c) { return c == Codec::kPcmu ? 0xFF : 0xD5; }

}  // namespace sb::media
