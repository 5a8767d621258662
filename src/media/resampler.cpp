#include "media/resampler.hpp"

#include <samplerate.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace sb::media {

Result<std::vector<float>> resample(std::span<const float> in, int in_rate, int out_rate) {
  if (in_rate <= 0 || out_rate <= 0 || in_rate > 384000) {
    return Error::internal("unsupported sample rate " + std::to_string(in_rate));
  }
  if (in_rate == out_rate) return std::vector<float>(in.begin(), in.end());
  if (in.empty()) return std::vector<float>{};
  const double ratio = static_cast<double>(out_rate) / in_rate;
  std::vector<float> out(
      static_cast<std::size_t>(std::ceil(static_cast<double>(in.size()) * ratio)) + 16);
  SRC_DATA data{};
  data.data_in = in.data();
  data.input_frames = static_cast<long>(in.size());
  data.data_out = out.data();
  data.output_frames = static_cast<long>(out.size());
  data.src_ratio = ratio;
  if (int err = src_simple(&data, SRC_SINC_MEDIUM_QUALITY, 1); err != 0) {
    return Error::internal(std::string("resampling failed: ") + src_strerror(err));
  }
  out.resize(static_cast<std::size_t>(data.output_frames_gen));
  return out;
}

std::vector<float> to_float(std::span<const std::int16_t> in) {
  std::vector<float> out(in.size());
  std::transform(in.begin(), in.end(), out.begin(),
                 [](std::int16_t s) { return static_cast<float>(s) / 32768.0f; });
  return out;
}

std::vector<std::int16_t> to_int16(std::span<const float> in) {
  std::vector<std::int16_t> out(in.size());
  std::transform(in.begin(), in.end(), out.begin(), [](float f) {
    return static_cast<std::int16_t>(std::lround(std::clamp(f, -1.0f, 1.0f) * 32767.0f));
  });
  return out;
}

Result<std::vector<std::int16_t>> to_pcm8k(std::span<const float> in, int in_rate) {
  auto r = resample(in, in_rate, 8000);
  if (!r) return r.error();
  return to_int16(*r);
}

}  // namespace sb::media
