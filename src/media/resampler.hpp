// Sample-rate conversion with libsamplerate (band-limited sinc), for decoded files and
// synthesized speech that are not 8 kHz; and the float/int16 conversions around it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/error.hpp"

namespace sb::media {

// Mono floats in [-1, 1] at `in_rate` to `out_rate`.
Result<std::vector<float>> resample(std::span<const float> in, int in_rate, int out_rate);

// Mono floats at any rate to 8 kHz signed 16-bit (clipped).
Result<std::vector<std::int16_t>> to_pcm8k(std::span<const float> in, int in_rate);

std::vector<float> to_float(std::span<const std::int16_t> in);
std::vector<std::int16_t> to_int16(std::span<const float> in);

}  // namespace sb::media
