// Decoding audio files and fetched bodies (WAV, MP3, OGG/Vorbis, FLAC, anything libsndfile
// reads) into 8 kHz mono PCM, within limits on input size and duration; and writing PCM as WAV.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "media/audio_source.hpp"

namespace sb::media {

struct DecodeLimits {
  std::size_t max_bytes = std::size_t{64} << 20;  // encoded input
  double max_seconds = 40 * 60;                   // decoded duration (Twilio: 40 min prompts)
};

// 13420 (Play: invalid Content-Type) for anything that does not decode or is beyond a limit.
Result<SharedPcm> decode_audio(std::span<const std::uint8_t> bytes,
                               const DecodeLimits& limits = {});
Result<SharedPcm> decode_audio_file(const std::string& path, const DecodeLimits& limits = {});

// Whether a Content-Type names audio we try to decode (audio/*, and octet-stream which some
// servers send for files); anything else (text/html error pages…) is refused before decoding.
bool is_audio_content_type(std::string_view content_type);

// 16-bit PCM WAV at 8 kHz.
Status write_wav(const std::string& path, std::span<const std::int16_t> samples, int channels = 1);

}  // namespace sb::media
