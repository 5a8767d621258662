#include "media/recorder.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace sb::media {
namespace {

constexpr std::size_t kHeaderSize = 44;

void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

bool write_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<WavRecorder>> WavRecorder::open(RecordingOptions options) {
  const int fd = ::open(options.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Error::internal("cannot create recording " + options.path + ": " + std::strerror(errno));
  }
  std::unique_ptr<WavRecorder> r(new WavRecorder(std::move(options), fd));
  r->write_header(0);
  ::lseek(fd, static_cast<off_t>(kHeaderSize), SEEK_SET);  // audio follows the header
  return r;
}

WavRecorder::WavRecorder(RecordingOptions options, int fd)
    : options_(std::move(options)),
      fd_(fd),
      channels_(options_.channels == RecordChannels::kBoth ? 2 : 1) {}

WavRecorder::~WavRecorder() { finish(RecordingEnd::kStopped); }

void WavRecorder::write_header(std::uint64_t frames) {
  const std::uint64_t data = frames * static_cast<std::uint64_t>(channels_) * 2;
  const auto data32 = static_cast<std::uint32_t>(std::min<std::uint64_t>(data, 0xFFFFFFFFu - 36));
  std::uint8_t h[kHeaderSize];
  std::copy_n("RIFF", 4, h);
  put32(h + 4, 36 + data32);
  std::copy_n("WAVEfmt ", 8, h + 8);
  put32(h + 16, 16);
  put16(h + 20, 1);  // PCM
  put16(h + 22, static_cast<std::uint16_t>(channels_));
  put32(h + 24, 8000);
  put32(h + 28, 8000u * 2u * static_cast<std::uint32_t>(channels_));
  put16(h + 32, static_cast<std::uint16_t>(2 * channels_));
  put16(h + 34, 16);
  std::copy_n("data", 4, h + 36);
  put32(h + 40, data32);
  (void)::pwrite(fd_, h, kHeaderSize, 0);
}

bool WavRecorder::is_silent(std::span<const std::int16_t> frame) const {
  double sum = 0;
  for (auto s : frame) sum += double(s) * s;
  return frame.empty() || std::sqrt(sum / double(frame.size())) < options_.silence_threshold;
}

std::optional<RecordingEnd> WavRecorder::write(std::span<const std::int16_t> inbound,
                                               std::span<const std::int16_t> outbound) {
  if (result_) return result_->reason;
  const std::size_t n = std::min({inbound.size(), outbound.size(), interleave_.size() / 2});
  inbound = inbound.first(n);
  outbound = outbound.first(n);
  elapsed_samples_ += n;
  // Silence is judged on what the recording is about: the caller's audio unless outbound only.
  const bool silent = options_.channels == RecordChannels::kOutbound
                          ? is_silent(outbound)
                          : (is_silent(inbound) && (options_.channels == RecordChannels::kInbound ||
                                                    is_silent(outbound)));
  if (!silent) voice_started_ = true;
  silent_run_ = silent ? silent_run_ + n : 0;
  if (voice_started_ || !options_.trim_silence) {
    std::span<const std::int16_t> data;
    if (options_.channels == RecordChannels::kBoth) {
      for (std::size_t i = 0; i < n; ++i) {
        interleave_[2 * i] = inbound[i];
        interleave_[2 * i + 1] = outbound[i];
      }
      data = std::span<const std::int16_t>(interleave_.data(), 2 * n);
    } else if (options_.channels == RecordChannels::kMixed) {
      for (std::size_t i = 0; i < n; ++i) {
        const int sum = int{inbound[i]} + int{outbound[i]};
        interleave_[i] = static_cast<std::int16_t>(std::clamp(sum, -32768, 32767));
      }
      data = std::span<const std::int16_t>(interleave_.data(), n);
    } else {
      data = options_.channels == RecordChannels::kInbound ? inbound : outbound;
    }
    if (write_all(fd_, data.data(), data.size_bytes())) {
      written_frames_ += n;
      if (!silent) last_voice_frames_ = written_frames_;
      write_header(written_frames_);
    }
  }
  if (options_.max_length_s && elapsed_samples_ >= std::uint64_t{options_.max_length_s} * 8000) {
    return RecordingEnd::kMaxLength;
  }
  if (options_.silence_timeout_s &&
      silent_run_ >= std::uint64_t{options_.silence_timeout_s} * 8000) {
    return RecordingEnd::kSilence;
  }
  return std::nullopt;
}

std::optional<RecordingEnd> WavRecorder::digit(char key) {
  if (result_) return result_->reason;
  if (options_.finish_on_key.find(key) == std::string::npos) return std::nullopt;
  key_ = key;
  return RecordingEnd::kKey;
}

RecordingResult WavRecorder::finish(RecordingEnd reason) {
  if (result_) return *result_;
  std::uint64_t frames = written_frames_;
  if (options_.trim_silence && last_voice_frames_ < frames) frames = last_voice_frames_;
  const auto bytes =
      static_cast<off_t>(kHeaderSize + frames * static_cast<std::uint64_t>(channels_) * 2);
  if (::ftruncate(fd_, bytes) == 0) write_header(frames);
  ::fsync(fd_);
  ::close(fd_);
  fd_ = -1;
  RecordingResult r;
  r.reason = reason;
  r.path = options_.path;
  r.samples = frames;
  r.key = reason == RecordingEnd::kKey ? key_ : '\0';
  result_ = r;
  return r;
}

}  // namespace sb::media
