#include "media/conference_mixer.hpp"

#include <algorithm>
#include <cassert>
#include <limits>

namespace sb::media {

namespace {

std::int16_t saturate(std::int32_t v) {
  return static_cast<std::int16_t>(std::clamp<std::int32_t>(
      v, std::numeric_limits<std::int16_t>::min(), std::numeric_limits<std::int16_t>::max()));
}

}  // namespace

// --- FrameChannel -----------------------------------------------------------------------------

bool FrameChannel::push(std::span<const std::int16_t> frame) {
  assert(frame.size() == kMixFrame);
  const std::size_t tail = tail_.load(std::memory_order_relaxed);
  // Acquire: the consumer has finished reading the slot it released.
  if (tail - head_.load(std::memory_order_acquire) == kCapacity) return false;
  MixFrame& slot = slots_[tail % kCapacity];
  const std::size_t n = std::min(frame.size(), kMixFrame);
  std::copy_n(frame.begin(), n, slot.begin());
  std::fill(slot.begin() + static_cast<std::ptrdiff_t>(n), slot.end(), std::int16_t{0});
  tail_.store(tail + 1, std::memory_order_release);  // publishes the slot's samples
  return true;
}

bool FrameChannel::pop(std::span<std::int16_t> out) {
  const std::size_t head = head_.load(std::memory_order_relaxed);
  if (tail_.load(std::memory_order_acquire) == head) return false;
  const MixFrame& slot = slots_[head % kCapacity];
  std::copy_n(slot.begin(), std::min(out.size(), kMixFrame), out.begin());
  head_.store(head + 1, std::memory_order_release);  // hands the slot back to the producer
  return true;
}

void FrameChannel::skip_to(std::size_t n) {
  const std::size_t head = head_.load(std::memory_order_relaxed);
  const std::size_t tail = tail_.load(std::memory_order_acquire);
  if (tail - head > n) head_.store(tail - n, std::memory_order_release);
}

std::size_t FrameChannel::size() const {
  // Head first: the tail read after it is at least as far on, so the difference cannot wrap.
  const std::size_t head = head_.load(std::memory_order_acquire);
  const std::size_t tail = tail_.load(std::memory_order_acquire);
  return std::min(tail - head, kCapacity);
}

// --- MixerPort ----------------------------------------------------------------------------------

// Cuts the session's inbound audio into frames for the uplink (the producer side).
class MixerPort::Tap final : public AudioTap {
 public:
  explicit Tap(std::shared_ptr<MixerPort> port) : port_(std::move(port)) {}

  void on_audio(std::span<const std::int16_t> inbound,
                std::span<const std::int16_t> /*outbound*/) override {
    while (!inbound.empty()) {
      if (fill_ == 0 && inbound.size() >= kMixFrame) {  // the usual case: whole frames
        port_->uplink_.push(inbound.first(kMixFrame));  // full: the mixer is behind, dropped
        inbound = inbound.subspan(kMixFrame);
        continue;
      }
      const std::size_t n = std::min(kMixFrame - fill_, inbound.size());
      std::copy_n(inbound.begin(), n, pending_.begin() + static_cast<std::ptrdiff_t>(fill_));
      fill_ += n;
      inbound = inbound.subspan(n);
      if (fill_ == kMixFrame) {
        port_->uplink_.push(pending_);
        fill_ = 0;
      }
    }
  }

 private:
  std::shared_ptr<MixerPort> port_;
  MixFrame pending_{};
  std::size_t fill_ = 0;
};

// Plays the downlink (the consumer side).
class MixerPort::Source final : public AudioSource {
 public:
  explicit Source(std::shared_ptr<MixerPort> port) : port_(std::move(port)) {}

  std::size_t read(std::span<std::int16_t> out) override {
    std::size_t n = 0;
    while (n < out.size()) {
      if (pos_ == kMixFrame) {
        FrameChannel& downlink = port_->downlink_;
        downlink.skip_to(port_->max_downlink_frames_);
        if (!downlink.pop(frame_)) frame_.fill(0);
        pos_ = 0;
      }
      const std::size_t chunk = std::min(out.size() - n, kMixFrame - pos_);
      std::copy_n(frame_.begin() + static_cast<std::ptrdiff_t>(pos_), chunk,
                  out.begin() + static_cast<std::ptrdiff_t>(n));
      pos_ += chunk;
      n += chunk;
    }
    return n;
  }
  void rewind() override {}

 private:
  std::shared_ptr<MixerPort> port_;
  MixFrame frame_{};
  std::size_t pos_ = kMixFrame;  // into frame_; kMixFrame: the next read pops
};

MixerPort::MixerPort(Id id, std::size_t max_downlink_frames)
    : id_(id), max_downlink_frames_(std::max<std::size_t>(max_downlink_frames, 1)) {}

std::shared_ptr<AudioTap> MixerPort::tap() { return std::make_shared<Tap>(shared_from_this()); }

std::unique_ptr<AudioSource> MixerPort::source() {
  return std::make_unique<Source>(shared_from_this());
}

void MixerPort::set_coaching(std::optional<Id> target) {
  coaching_.store(target ? std::uint64_t{*target} : kNotCoaching, std::memory_order_relaxed);
}

std::optional<MixerPort::Id> MixerPort::coaching() const {
  const std::uint64_t v = coaching_.load(std::memory_order_relaxed);
  if (v == kNotCoaching) return std::nullopt;
  return static_cast<Id>(v);
}

// --- ConferenceMixer ----------------------------------------------------------------------------

ConferenceMixer::ConferenceMixer(MixerOptions options, Events events)
    : options_(options), events_(std::move(events)) {
  // At least the frame about to be popped must survive the trim.
  options_.max_uplink_frames = std::max<std::size_t>(options_.max_uplink_frames, 1);
}

std::shared_ptr<MixerPort> ConferenceMixer::add_port() {
  auto port = std::make_shared<MixerPort>(next_id_++, options_.max_downlink_frames);
  Slot slot;
  slot.port = port;
  slots_.push_back(std::move(slot));
  changes_.reserve(slots_.size());  // at most one change per port per tick
  return port;
}

void ConferenceMixer::remove_port(MixerPort::Id id) {
  auto it = std::lower_bound(slots_.begin(), slots_.end(), id,
                             [](const Slot& s, MixerPort::Id v) { return s.port->id() < v; });
  if (it != slots_.end() && it->port->id() == id) slots_.erase(it);
}

ConferenceMixer::Slot* ConferenceMixer::find(MixerPort::Id id) {
  auto it = std::lower_bound(slots_.begin(), slots_.end(), id,
                             [](const Slot& s, MixerPort::Id v) { return s.port->id() < v; });
  return it != slots_.end() && it->port->id() == id ? &*it : nullptr;
}

void ConferenceMixer::play_to_all(std::unique_ptr<AudioSource> source, std::function<void()> done) {
  announcements_.push_back({std::move(source), std::move(done)});
}

void ConferenceMixer::set_recorder(std::function<void(std::span<const std::int16_t>)> on_mix) {
  recorder_ = std::move(on_mix);
  if (in_recorder_) recorder_replaced_ = true;
}

bool ConferenceMixer::loud(std::span<const std::int16_t> frame) const {
  // RMS > threshold, without the square root.
  double sum = 0;  // exact: at most 160 * 2^30
  for (std::int16_t s : frame) sum += static_cast<double>(std::int32_t{s} * std::int32_t{s});
  return sum >
         options_.speech_threshold * options_.speech_threshold * static_cast<double>(frame.size());
}

void ConferenceMixer::detect_speech(Slot& slot, bool is_loud) {
  if (is_loud) {
    slot.quiet_run = 0;
    if (slot.speaking || ++slot.loud_run < options_.speech_start_frames) return;
    slot.loud_run = 0;
  } else {
    slot.loud_run = 0;
    if (!slot.speaking || ++slot.quiet_run < options_.speech_stop_frames) return;
    slot.quiet_run = 0;
  }
  slot.speaking = !slot.speaking;
  slot.port->speaking_.store(slot.speaking, std::memory_order_relaxed);
  changes_.push_back({slot.port->id(), slot.speaking});
}

bool ConferenceMixer::fill_announcement() {
  if (announcements_finished_ == announcements_.size()) return false;
  std::size_t filled = 0;
  while (filled < kMixFrame && announcements_finished_ < announcements_.size()) {
    Announcement& a = announcements_[announcements_finished_];
    const std::span<std::int16_t> rest = std::span(announcement_).subspan(filled);
    const std::size_t n = a.source ? a.source->read(rest) : 0;
    filled += n;
    if (n < rest.size()) ++announcements_finished_;  // ended; `done` at the tick's end
  }
  std::fill(announcement_.begin() + static_cast<std::ptrdiff_t>(filled), announcement_.end(),
            std::int16_t{0});
  return true;
}

void ConferenceMixer::on_tick_done(std::chrono::steady_clock::time_point /*now*/,
                                   std::uint32_t /*elapsed_ms*/) {
  ++stats_.ticks;
  total_.fill(0);

  // Read every uplink once; sum the participants (coaches apart).
  for (Slot& s : slots_) {
    MixerPort& port = *s.port;
    const std::optional<MixerPort::Id> coaching = port.coaching();
    s.receives = active_ && port.listening() && !port.hold();
    s.contributes = s.receives && !port.muted();
    s.is_coach = coaching.has_value();
    s.target = coaching;
    s.has_coached = false;
    if (!s.receives) {
      port.uplink_.skip_to(0);  // stale audio must not play once it is heard again
      detect_speech(s, false);
      continue;
    }
    port.uplink_.skip_to(options_.max_uplink_frames);
    if (!port.uplink_.pop(s.in)) {
      s.in.fill(0);
      ++stats_.underruns;
    }
    detect_speech(s, s.contributes && loud(s.in));
    if (s.contributes && !s.is_coach) {
      for (std::size_t i = 0; i < kMixFrame; ++i) total_[i] += s.in[i];
    }
  }

  if (active_) {
    // Coaches, each into its target's ear only.
    for (Slot& s : slots_) {
      if (!s.contributes || !s.is_coach || *s.target == s.port->id()) continue;
      Slot* target = find(*s.target);
      if (target == nullptr || !target->receives) continue;
      if (!target->has_coached) {
        std::copy(s.in.begin(), s.in.end(), target->coached.begin());
        target->has_coached = true;
      } else {
        for (std::size_t i = 0; i < kMixFrame; ++i) target->coached[i] += s.in[i];
      }
    }

    // What everyone hears: the participants and the announcement (total_ from here on).
    if (fill_announcement()) {
      for (std::size_t i = 0; i < kMixFrame; ++i) total_[i] += announcement_[i];
    }

    for (Slot& s : slots_) {
      if (!s.receives) continue;
      const bool own = s.contributes && !s.is_coach;
      for (std::size_t i = 0; i < kMixFrame; ++i) {
        std::int32_t v = total_[i];
        if (own) v -= s.in[i];
        if (s.has_coached) v += s.coached[i];
        out_[i] = saturate(v);
      }
      if (!s.port->downlink_.push(out_)) ++stats_.overruns;
    }

    if (recorder_) {
      for (std::size_t i = 0; i < kMixFrame; ++i) out_[i] = saturate(total_[i]);
      // Moved out for the call, so that the recorder may replace or remove itself.
      auto recorder = std::move(recorder_);
      recorder_ = nullptr;
      recorder_replaced_ = false;
      in_recorder_ = true;
      recorder(out_);
      in_recorder_ = false;
      if (!recorder_replaced_) recorder_ = std::move(recorder);
    }
  }

  notify();
}

void ConferenceMixer::notify() {
  // By index, each copied before its call: a callback may add a port, and add_port grows changes_.
  // NOLINTNEXTLINE(modernize-loop-convert)
  for (std::size_t i = 0; i < changes_.size(); ++i) {
    const SpeakingChange change = changes_[i];
    if (events_.on_speaking) events_.on_speaking(change.id, change.speaking);
  }
  changes_.clear();
  while (announcements_finished_ > 0) {
    std::function<void()> done = std::move(announcements_.front().done);
    announcements_.pop_front();
    --announcements_finished_;
    if (done) done();  // may queue the next announcement
  }
}

}  // namespace sb::media
