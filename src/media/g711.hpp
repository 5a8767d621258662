// G.711 (ITU-T G.711) mu-law (PCMU, PT 0) and A-law (PCMA, PT 8) with the reference
// segment/quantisation algorithm; decoding is a 256-entry table built at compile time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace sb::media {

enum class Codec { kPcmu, kPcma };
inline constexpr int kPcmuPayloadType = 0;
inline constexpr int kPcmaPayloadType = 8;
inline constexpr int kSampleRate = 8000;

std::optional<Codec> codec_from_name(std::string_view name);  // "PCMU", "PCMA" (any case)
int payload_type_of(Codec c);
std::string_view name_of(Codec c);

std::uint8_t linear_to_ulaw(std::int16_t pcm);
std::int16_t ulaw_to_linear(std::uint8_t code);
std::uint8_t linear_to_alaw(std::int16_t pcm);
std::int16_t alaw_to_linear(std::uint8_t code);

// Whole frames; `out` must be at least as long as `in`.
void encode(Codec c, std::span<const std::int16_t> in, std::span<std::uint8_t> out);
void decode(Codec c, std::span<const std::uint8_t> in, std::span<std::int16_t> out);

// The code for digital silence (what a muted leg sends).
std::uint8_t silence_code(Codec c);

}  // namespace sb::media
