#include "media/audio_source.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "media/telephone_event.hpp"

namespace sb::media {

std::size_t SilenceSource::read(std::span<std::int16_t> out) {
  const std::size_t n = std::min(out.size(), total_ - done_);
  std::fill_n(out.begin(), n, std::int16_t{0});
  done_ += n;
  return n;
}

ToneSpec ToneSpec::beep() { return {{{1000, 0, -6, 500}}, 1}; }
ToneSpec ToneSpec::ringback() { return {{{440, 480, -19, 2000}, {0, 0, 0, 4000}}, 0}; }

std::optional<ToneSpec> ToneSpec::ringback(std::string_view country) {
  struct Cadence {
    std::string_view code;
    double f1, f2;
    std::uint32_t on1, off1, on2, off2;  // on2 = 0: a single burst per cycle
  };
  // ITU-T E.180 (Supplement 2) ringing tones; two-frequency and modulated tones as their
  // component frequencies.
  static constexpr Cadence kTones[] = {
      {"at", 420, 0, 1000, 5000, 0, 0},      {"au", 400, 425, 400, 200, 400, 2000},
      {"be", 425, 0, 1000, 3000, 0, 0},      {"bg", 425, 0, 1000, 4000, 0, 0},
      {"br", 425, 0, 1000, 4000, 0, 0},      {"ch", 425, 0, 1000, 4000, 0, 0},
      {"cl", 400, 0, 1000, 3000, 0, 0},      {"cn", 450, 0, 1000, 4000, 0, 0},
      {"cz", 425, 0, 1000, 4000, 0, 0},      {"de", 425, 0, 1000, 4000, 0, 0},
      {"dk", 425, 0, 1000, 4000, 0, 0},      {"ee", 425, 0, 1000, 4000, 0, 0},
      {"es", 425, 0, 1500, 3000, 0, 0},      {"fi", 425, 0, 1000, 4000, 0, 0},
      {"fr", 440, 0, 1500, 3500, 0, 0},      {"gr", 425, 0, 1000, 4000, 0, 0},
      {"hu", 425, 0, 1250, 3750, 0, 0},      {"il", 400, 0, 1000, 3000, 0, 0},
      {"in", 400, 425, 400, 200, 400, 2000}, {"it", 425, 0, 1000, 4000, 0, 0},
      {"jp", 400, 0, 1000, 2000, 0, 0},      {"lt", 425, 0, 1000, 4000, 0, 0},
      {"mx", 425, 0, 1000, 4000, 0, 0},      {"my", 425, 0, 400, 200, 400, 2000},
      {"nl", 425, 0, 1000, 4000, 0, 0},      {"no", 425, 0, 1000, 4000, 0, 0},
      {"nz", 400, 450, 400, 200, 400, 2000}, {"ph", 425, 480, 1000, 4000, 0, 0},
      {"pl", 425, 0, 1000, 4000, 0, 0},      {"pt", 425, 0, 1000, 5000, 0, 0},
      {"ru", 425, 0, 800, 3200, 0, 0},       {"se", 425, 0, 1000, 5000, 0, 0},
      {"sg", 400, 450, 400, 200, 400, 2000}, {"th", 400, 0, 1000, 4000, 0, 0},
      {"tw", 440, 480, 1000, 2000, 0, 0},    {"uk", 400, 450, 400, 200, 400, 2000},
      {"us", 440, 480, 2000, 4000, 0, 0},    {"us-old", 420, 500, 2000, 4000, 0, 0},
      {"ve", 425, 0, 1000, 4000, 0, 0},      {"za", 400, 433, 400, 200, 400, 2000},
  };
  for (const Cadence& c : kTones) {
    if (c.code != country) continue;
    ToneSpec spec;
    spec.repeats = 0;
    spec.cadence.push_back({c.f1, c.f2, -19, c.on1});
    spec.cadence.push_back({0, 0, 0, c.off1});
    if (c.on2 > 0) {
      spec.cadence.push_back({c.f1, c.f2, -19, c.on2});
      spec.cadence.push_back({0, 0, 0, c.off2});
    }
    return spec;
  }
  return std::nullopt;
}

void FrameRing::write(std::span<const std::int16_t> pcm) {
  for (std::int16_t s : pcm) {
    if (size_ == kCapacity) {  // the reader fell behind: drop the oldest sample
      head_ = (head_ + 1) % kCapacity;
      --size_;
    }
    buf_[(head_ + size_) % kCapacity] = s;
    ++size_;
  }
}

std::size_t FrameRing::read(std::span<std::int16_t> out) {
  const std::size_t n = std::min(out.size(), size_);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = buf_[head_];
    head_ = (head_ + 1) % kCapacity;
  }
  size_ -= n;
  return n;
}

std::size_t RingSource::read(std::span<std::int16_t> out) {
  const std::size_t n = ring_->read(out);
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(n), out.end(), std::int16_t{0});
  return out.size();
}

ToneSpec ToneSpec::dtmf(char digit, std::uint32_t on_ms, std::uint32_t off_ms) {
  static constexpr double kRow[] = {697, 770, 852, 941};
  static constexpr double kCol[] = {1209, 1336, 1477, 1633};
  static constexpr char kKeys[4][5] = {"123A", "456B", "789C", "*0#D"};
  for (int r = 0; r < 4; ++r) {
    for (int c = 0; c < 4; ++c) {
      if (kKeys[r][c] == digit) return {{{kRow[r], kCol[c], -10, on_ms}, {0, 0, 0, off_ms}}, 1};
    }
  }
  return {{{0, 0, 0, on_ms + off_ms}}, 1};
}

ToneSource::ToneSource(ToneSpec spec) : spec_(std::move(spec)) {
  std::uint64_t total = 0;
  for (const auto& seg : spec_.cadence) total += seg.duration_ms;
  if (total == 0) spec_ = {{{0, 0, 0, 0}}, 1};  // nothing to play: ends at once
}

void ToneSource::rewind() {
  segment_ = 0;
  in_segment_ = 0;
  round_ = 0;
  phase1_ = phase2_ = 0;
}

std::size_t ToneSource::read(std::span<std::int16_t> out) {
  std::size_t n = 0;
  while (n < out.size()) {
    if (spec_.repeats != 0 && round_ >= spec_.repeats) break;
    const ToneSegment& seg = spec_.cadence[segment_];
    const std::size_t seg_len = std::size_t{seg.duration_ms} * 8;
    if (in_segment_ >= seg_len) {
      in_segment_ = 0;
      phase1_ = phase2_ = 0;
      if (++segment_ == spec_.cadence.size()) {
        segment_ = 0;
        ++round_;
      }
      continue;
    }
    // dBm0 to linear: 0 dBm0 is a sine of RMS 3.14 dB below G.711 full scale (peak 32767*...).
    const bool two = seg.freq1 > 0 && seg.freq2 > 0;
    const double peak = 32767.0 * std::pow(10.0, (seg.level_dbm0 - 3.14) / 20.0) * std::sqrt(2.0);
    const double amp = two ? peak / 2 : peak;
    const double w1 = 2 * std::numbers::pi * seg.freq1 / 8000.0;
    const double w2 = 2 * std::numbers::pi * seg.freq2 / 8000.0;
    const std::size_t chunk = std::min(out.size() - n, seg_len - in_segment_);
    for (std::size_t i = 0; i < chunk; ++i) {
      double v = 0;
      if (seg.freq1 > 0) v += std::sin(phase1_);
      if (seg.freq2 > 0) v += std::sin(phase2_);
      phase1_ = std::fmod(phase1_ + w1, 2 * std::numbers::pi);
      phase2_ = std::fmod(phase2_ + w2, 2 * std::numbers::pi);
      out[n + i] = static_cast<std::int16_t>(std::clamp(v * amp, -32767.0, 32767.0));
    }
    n += chunk;
    in_segment_ += chunk;
  }
  return n;
}

std::size_t PcmSource::read(std::span<std::int16_t> out) {
  if (!pcm_) return 0;
  const std::size_t n = std::min(out.size(), pcm_->size() - pos_);
  std::copy_n(pcm_->begin() + static_cast<std::ptrdiff_t>(pos_), n, out.begin());
  pos_ += n;
  return n;
}

LoopSource::LoopSource(std::unique_ptr<AudioSource> inner, std::uint32_t loops)
    : inner_(std::move(inner)), loops_(loops == 0 ? kMaxLoops : std::min(loops, kMaxLoops)) {}

void LoopSource::rewind() {
  inner_->rewind();
  played_ = 0;
  pass_samples_ = 0;
}

std::size_t LoopSource::read(std::span<std::int16_t> out) {
  std::size_t n = 0;
  while (n < out.size() && played_ < loops_) {
    const std::size_t got = inner_->read(out.subspan(n));
    n += got;
    pass_samples_ += got;
    if (n < out.size()) {  // this pass ended
      ++played_;
      if (pass_samples_ == 0) played_ = loops_;  // an empty source would spin forever
      pass_samples_ = 0;
      if (played_ < loops_) inner_->rewind();
    }
  }
  return n;
}

Player::Id Player::enqueue(std::unique_ptr<AudioSource> source, PlayOptions options, Done done) {
  const Id id = next_id_++;
  queue_.push_back({id, std::move(source), options, std::move(done)});
  return id;
}

void Player::finish_front(PlaybackEnd how) {
  Done done = std::move(queue_.front().done);
  queue_.pop_front();
  if (done) done(how);
}

bool Player::fill(std::span<std::int16_t> frame) {
  const bool was_playing = !queue_.empty();
  std::size_t n = 0;
  while (n < frame.size() && !queue_.empty()) {
    const std::size_t got = queue_.front().source->read(frame.subspan(n));
    n += got;
    if (n < frame.size()) finish_front(PlaybackEnd::kCompleted);
  }
  std::fill(frame.begin() + static_cast<std::ptrdiff_t>(n), frame.end(), std::int16_t{0});
  return was_playing;
}

void Player::stop() {
  while (!queue_.empty()) finish_front(PlaybackEnd::kStopped);
}

bool Player::barge_in() {
  bool any = false;
  while (!queue_.empty() && queue_.front().options.barge_in) {
    finish_front(PlaybackEnd::kInterrupted);
    any = true;
  }
  return any;
}

}  // namespace sb::media
