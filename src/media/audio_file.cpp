#include "media/audio_file.hpp"

#include <sndfile.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <memory>

#include "media/media_errors.hpp"
#include "media/resampler.hpp"

namespace sb::media {
namespace {

struct MemoryFile {
  std::span<const std::uint8_t> data;
  sf_count_t pos = 0;
};

sf_count_t mem_length(void* user) {
  return static_cast<sf_count_t>(static_cast<MemoryFile*>(user)->data.size());
}
sf_count_t mem_seek(sf_count_t offset, int whence, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  sf_count_t base = whence == SEEK_SET   ? 0
                    : whence == SEEK_CUR ? f->pos
                                         : static_cast<sf_count_t>(f->data.size());
  const sf_count_t target = base + offset;
  if (target < 0 || target > static_cast<sf_count_t>(f->data.size())) return -1;
  f->pos = target;
  return f->pos;
}
sf_count_t mem_read(void* ptr, sf_count_t count, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  const sf_count_t n = std::min(count, static_cast<sf_count_t>(f->data.size()) - f->pos);
  if (n <= 0) return 0;
  std::memcpy(ptr, f->data.data() + f->pos, static_cast<std::size_t>(n));
  f->pos += n;
  return n;
}
sf_count_t mem_write(const void*, sf_count_t, void*) { return 0; }
sf_count_t mem_tell(void* user) { return static_cast<MemoryFile*>(user)->pos; }

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

Result<SharedPcm> decode_open(SNDFILE* raw, const SF_INFO& info, const DecodeLimits& limits) {
  SndfilePtr file(raw);
  if (!file) {
    return unplayable(std::string("unsupported or corrupt audio: ") + sf_strerror(nullptr));
  }
  if (info.channels <= 0 || info.channels > 8 || info.samplerate < 1000 ||
      info.samplerate > 192000) {
    return unplayable("unsupported channel count or sample rate");
  }
  const double max_frames = limits.max_seconds * info.samplerate;
  // Some formats (MP3) do not know their length up front: read in chunks until the limit.
  std::vector<float> mono;
  std::vector<float> chunk(static_cast<std::size_t>(4096 * info.channels));
  for (;;) {
    const sf_count_t got = sf_readf_float(file.get(), chunk.data(), 4096);
    if (got <= 0) break;
    for (sf_count_t i = 0; i < got; ++i) {
      float sum = 0;
      for (int c = 0; c < info.channels; ++c) {
        sum += chunk[static_cast<std::size_t>(i * info.channels + c)];
      }
      mono.push_back(sum / static_cast<float>(info.channels));
    }
    if (static_cast<double>(mono.size()) > max_frames) {
      return unplayable("audio longer than " +
                        std::to_string(static_cast<int>(limits.max_seconds)) + " s");
    }
  }
  if (sf_error(file.get()) != SF_ERR_NO_ERROR && mono.empty()) {
    return unplayable(std::string("decoding failed: ") + sf_strerror(file.get()));
  }
  if (mono.empty()) return unplayable("no audio in the file");
  auto pcm = to_pcm8k(mono, info.samplerate);
  if (!pcm) return unplayable(pcm.error().message);
  return SharedPcm(std::make_shared<const std::vector<std::int16_t>>(std::move(*pcm)));
}

}  // namespace

Result<SharedPcm> decode_audio(std::span<const std::uint8_t> bytes, const DecodeLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    return unplayable("audio larger than " + std::to_string(limits.max_bytes) + " bytes");
  }
  if (bytes.empty()) return unplayable("empty audio body");
  SF_VIRTUAL_IO io{mem_length, mem_seek, mem_read, mem_write, mem_tell};
  MemoryFile mem{bytes};
  SF_INFO info{};
  SNDFILE* f = sf_open_virtual(&io, SFM_READ, &info, &mem);
  return decode_open(f, info, limits);
}

Result<SharedPcm> decode_audio_file(const std::string& path, const DecodeLimits& limits) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return unplayable("cannot read " + path + ": " + ec.message());
  if (size > limits.max_bytes) {
    return unplayable("audio larger than " + std::to_string(limits.max_bytes) + " bytes");
  }
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  return decode_open(f, info, limits);
}

bool is_audio_content_type(std::string_view ct) {
  std::string lower(ct.substr(0, ct.find(';')));
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!lower.empty() && lower.back() == ' ') lower.pop_back();
  return lower.rfind("audio/", 0) == 0 || lower == "application/octet-stream" ||
         lower == "application/ogg";
}

Status write_wav(const std::string& path, std::span<const std::int16_t> samples, int channels) {
  SF_INFO info{};
  info.samplerate = 8000;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SndfilePtr f(sf_open(path.c_str(), SFM_WRITE, &info));
  if (!f) return Error::internal("cannot write " + path + ": " + sf_strerror(nullptr));
  const auto frames = static_cast<sf_count_t>(samples.size() / static_cast<std::size_t>(channels));
  if (sf_writef_short(f.get(), samples.data(), frames) != frames) {
    return Error::internal("short write to " + path);
  }
  return Ok{};
}

}  // namespace sb::media
