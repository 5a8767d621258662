// The conference audio mixer: one conference's mix on its home worker's tick, and the lock-free
// frame rings through which participants on any worker send it their audio and play its output.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "media/audio_source.hpp"
#include "media/media_worker.hpp"
#include "media/rtp_session.hpp"

namespace sb::media {

inline constexpr std::size_t kMixFrame = 160;  // 20 ms at 8 kHz
using MixFrame = std::array<std::int16_t, kMixFrame>;

// A single-producer single-consumer ring of 20 ms frames (fixed storage, no allocation, no
// lock): one thread pushes, one (possibly another) pops. push() drops the frame and returns
// false when full; pop() returns false when empty. The reader may discard the oldest frames to
// keep latency bounded (skip_to).
class FrameChannel {
 public:
  static constexpr std::size_t kCapacity = 8;

  // Producer side. A frame shorter than kMixFrame is padded with silence (callers pass whole
  // frames; see the assert).
  bool push(std::span<const std::int16_t> frame);
  // Consumer side: fills min(out.size(), kMixFrame) samples of the oldest frame.
  bool pop(std::span<std::int16_t> out);
  // Consumer side: drops the oldest frames until at most `n` remain.
  void skip_to(std::size_t n);
  // Exact on the consumer's thread; a snapshot elsewhere.
  std::size_t size() const;

 private:
  static_assert((kCapacity & (kCapacity - 1)) == 0, "the counters wrap at a power of two");
  // Free-running counters (slot = counter % kCapacity), each written by one side only and on
  // its own cache line so that the two threads do not contend for one.
  alignas(64) std::atomic<std::size_t> head_{0};  // next to pop: the consumer's
  alignas(64) std::atomic<std::size_t> tail_{0};  // next to push: the producer's
  alignas(64) std::array<MixFrame, kCapacity> slots_{};
};

// One participant's side of a ConferenceMixer, created by ConferenceMixer::add_port on the home
// thread and shared with the participant's worker, which keeps it alive (through tap() and
// source()) as long as its session uses it, also after remove_port.
class MixerPort : public std::enable_shared_from_this<MixerPort> {
 public:
  using Id = std::uint32_t;

  MixerPort(Id id, std::size_t max_downlink_frames);
  MixerPort(const MixerPort&) = delete;
  MixerPort& operator=(const MixerPort&) = delete;

  Id id() const { return id_; }

  // Participant's worker side. One tap and one source at a time: each ring has one producer
  // and one consumer.
  // An AudioTap (for RtpSession::add_tap) writing the inbound audio into the uplink, cut into
  // kMixFrame frames whatever size it comes in.
  std::shared_ptr<AudioTap> tap();
  // Plays the downlink (for RtpSession::play): one frame per kMixFrame samples read, silence
  // when none is there; never ends (read always fills out). Frames beyond the newest
  // `max_downlink_frames` are dropped before each pop, as the mixer bounds the uplink.
  std::unique_ptr<AudioSource> source();

  // Settable from any thread; the mixer reads them once per tick.
  // Muted: not mixed into anyone's audio (still hears).
  void set_muted(bool muted) { muted_.store(muted, std::memory_order_relaxed); }
  bool muted() const { return muted_.load(std::memory_order_relaxed); }
  // On hold: neither heard nor hearing (its downlink is not written).
  void set_hold(bool hold) { hold_.store(hold, std::memory_order_relaxed); }
  bool hold() const { return hold_.load(std::memory_order_relaxed); }
  // A coach: heard only by `target` (and hears everyone as usual); nullopt: a participant.
  void set_coaching(std::optional<Id> target);
  std::optional<Id> coaching() const;
  // False while the participant hears something else (wait music): neither written nor mixed
  // in. True when created.
  void set_listening(bool listening) { listening_.store(listening, std::memory_order_relaxed); }
  bool listening() const { return listening_.load(std::memory_order_relaxed); }
  // Speaking as the mixer last decided it.
  bool speaking() const { return speaking_.load(std::memory_order_relaxed); }

  FrameChannel& uplink() { return uplink_; }
  FrameChannel& downlink() { return downlink_; }

 private:
  friend class ConferenceMixer;
  class Tap;
  class Source;
  static constexpr std::uint64_t kNotCoaching = ~std::uint64_t{0};
  // The flags guard no data (frames go through the rings), hence relaxed.
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

  Id id_;
  std::size_t max_downlink_frames_;
  FrameChannel uplink_;    // participant's worker -> mixer
  FrameChannel downlink_;  // mixer -> participant's worker
  std::atomic<bool> muted_{false};
  std::atomic<bool> hold_{false};
  std::atomic<bool> listening_{true};
  std::atomic<bool> speaking_{false};
  std::atomic<std::uint64_t> coaching_{kNotCoaching};  // an Id, or kNotCoaching
};

struct MixerOptions {
  // Speaking detector (speaker events): a port starts speaking after `speech_start_frames`
  // consecutive frames with RMS above `speech_threshold` (linear int16 RMS), and stops after
  // `speech_stop_frames` consecutive frames not above it. A port not mixed in a tick (muted,
  // held, not listening, mixer off) counts as silent in it.
  double speech_threshold = 500.0;    // roughly -36 dBFS
  int speech_start_frames = 3;        // 60 ms
  int speech_stop_frames = 25;        // 500 ms
  std::size_t max_uplink_frames = 3;  // the mixer drops older uplink frames beyond this
  // The port's source drops older downlink frames beyond this (the two workers' ticks drift
  // apart by a skipped tick now and then; without a bound the delay would only grow).
  std::size_t max_downlink_frames = 3;
};

// The mix of one conference, paced by the home worker's tick (registered with that MediaWorker
// by the caller). The work is done in on_tick_done so that every session of the home worker has
// read its packets first. Per tick: O(ports) frame work, no allocation, no lock. Callbacks run
// at the end of the tick, once the mix is written, and may call any of the mixer's methods.
class ConferenceMixer final : public PacedStream {
 public:
  struct Events {
    std::function<void(MixerPort::Id, bool speaking)> on_speaking;  // home thread
  };
  struct Stats {
    std::uint64_t ticks = 0;
    std::uint64_t underruns = 0;  // uplink frames missing (of ports being mixed)
    std::uint64_t overruns = 0;   // downlink full: a frame of output dropped
  };

  explicit ConferenceMixer(MixerOptions options = {}, Events events = {});
  ConferenceMixer(const ConferenceMixer&) = delete;
  ConferenceMixer& operator=(const ConferenceMixer&) = delete;

  // Home thread only, from here on.
  std::shared_ptr<MixerPort> add_port();
  // Unknown ids are ignored. The port's speaking state is dropped without an event.
  void remove_port(MixerPort::Id id);
  std::size_t ports() const { return slots_.size(); }

  // Audio added on top of what every listening, non-held participant hears (a join/leave beep,
  // an announcement): queued, played in order one frame per active tick (a source ending
  // mid-frame is followed by the next in the same frame); `done` once it has all been mixed.
  void play_to_all(std::unique_ptr<AudioSource> source, std::function<void()> done = {});
  // Mixing on (the conference has started). While off, uplinks are drained each tick, nothing
  // is written to downlinks, the recorder is not called and play_to_all audio waits.
  void set_active(bool active) { active_ = active; }
  bool active() const { return active_; }
  // Hears the whole mix (everyone heard, announcements included, coaches excluded) each active
  // tick, for the conference recording. nullptr removes.
  void set_recorder(std::function<void(std::span<const std::int16_t>)> on_mix);

  void on_tick(std::chrono::steady_clock::time_point /*now*/,
               std::uint32_t /*elapsed_ms*/) override {}
  // Mixes one frame.
  void on_tick_done(std::chrono::steady_clock::time_point now, std::uint32_t elapsed_ms) override;

  const Stats& stats() const { return stats_; }

 private:
  // A port's per-tick state and scratch, sized when the port is added.
  struct Slot {
    std::shared_ptr<MixerPort> port;
    MixFrame in{};                                  // this tick's uplink frame
    std::array<std::int32_t, kMixFrame> coached{};  // coaches aimed at this port
    bool receives = false;                          // listening, not held: written this tick
    bool contributes = false;                       // receives and not muted
    bool is_coach = false;
    bool has_coached = false;  // `coached` holds something this tick
    std::optional<MixerPort::Id> target;
    int loud_run = 0;  // consecutive frames above the threshold
    int quiet_run = 0;
    bool speaking = false;
  };
  struct Announcement {
    std::unique_ptr<AudioSource> source;
    std::function<void()> done;
  };
  struct SpeakingChange {
    MixerPort::Id id;
    bool speaking;
  };

  void detect_speech(Slot& slot, bool is_loud);
  bool loud(std::span<const std::int16_t> frame) const;
  // Fills announcement_ from the queue; false when nothing was queued.
  bool fill_announcement();
  Slot* find(MixerPort::Id id);
  void notify();

  MixerOptions options_;
  Events events_;
  bool active_ = false;
  MixerPort::Id next_id_ = 1;
  std::vector<Slot> slots_;  // in id order (ids only grow; removal keeps the order)
  std::array<std::int32_t, kMixFrame> total_{};
  MixFrame out_{};
  MixFrame announcement_{};
  std::deque<Announcement> announcements_;
  std::size_t announcements_finished_ = 0;  // at the queue's front, `done` due at the tick's end
  std::vector<SpeakingChange> changes_;     // capacity: one per port
  std::function<void(std::span<const std::int16_t>)> recorder_;
  bool recorder_replaced_ = false;  // set_recorder during the recorder's own call
  bool in_recorder_ = false;
  Stats stats_;
};

}  // namespace sb::media
