// Audio played to a call: sources of 8 kHz mono PCM (silence, tones, decoded files and speech
// shared between calls, loops) and the Player that queues them and stops them on barge-in.
// A source is pulled one frame per pacing tick; reading never allocates.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace sb::media {

// Decoded audio, immutable once built, shared by every call playing it (and by the caches).
using SharedPcm = std::shared_ptr<const std::vector<std::int16_t>>;

class AudioSource {
 public:
  virtual ~AudioSource() = default;
  // Fills up to out.size() samples and returns how many; fewer only at the end (0: done).
  virtual std::size_t read(std::span<std::int16_t> out) = 0;
  // Back to the start, for loops.
  virtual void rewind() = 0;
};

class SilenceSource final : public AudioSource {
 public:
  explicit SilenceSource(std::size_t samples) : total_(samples) {}
  std::size_t read(std::span<std::int16_t> out) override;
  void rewind() override { done_ = 0; }

 private:
  std::size_t total_;
  std::size_t done_ = 0;
};

struct ToneSegment {
  double freq1 = 0;  // Hz; 0 with freq2 0 is a pause
  double freq2 = 0;
  double level_dbm0 = -13;
  std::uint32_t duration_ms = 0;
};

// A cadence of segments played `repeats` times (0: until stopped).
struct ToneSpec {
  std::vector<ToneSegment> cadence;
  std::uint32_t repeats = 1;

  static ToneSpec beep();      // <Record playBeep>: 1 kHz, 500 ms (Twilio's beep)
  static ToneSpec ringback();  // North American: 440+480 Hz, 2 s on, 4 s off, until stopped
  // The ringback tone of a country (<Dial ringTone>: at au bg br be ch cl cn cz de dk ee es fi
  // fr gr hu il in it lt jp mx my nl no nz ph pl pt ru se sg th uk us us-old tw ve za, as ITU-T
  // E.180 lists them), until stopped; nullopt for a code not in the list.
  static std::optional<ToneSpec> ringback(std::string_view country);
  static ToneSpec dtmf(char digit, std::uint32_t on_ms = 100, std::uint32_t off_ms = 100);
};

class ToneSource final : public AudioSource {
 public:
  explicit ToneSource(ToneSpec spec);
  std::size_t read(std::span<std::int16_t> out) override;
  void rewind() override;

 private:
  ToneSpec spec_;
  std::size_t segment_ = 0;
  std::size_t in_segment_ = 0;  // samples into the current segment
  std::uint32_t round_ = 0;
  double phase1_ = 0, phase2_ = 0;
};

class PcmSource final : public AudioSource {
 public:
  explicit PcmSource(SharedPcm pcm) : pcm_(std::move(pcm)) {}
  std::size_t read(std::span<std::int16_t> out) override;
  void rewind() override { pos_ = 0; }

 private:
  SharedPcm pcm_;
  std::size_t pos_ = 0;
};

// Plays `inner` `loops` times; 0 loops forever (Twilio's loop="0"; capped at kMaxLoops).
class LoopSource final : public AudioSource {
 public:
  static constexpr std::uint32_t kMaxLoops = 1000;
  LoopSource(std::unique_ptr<AudioSource> inner, std::uint32_t loops);
  std::size_t read(std::span<std::int16_t> out) override;
  void rewind() override;

 private:
  std::unique_ptr<AudioSource> inner_;
  std::uint32_t loops_;
  std::uint32_t played_ = 0;
  std::size_t pass_samples_ = 0;
};

// Live audio handed from one stream to another (a bridge that decodes): a fixed ring of the
// last 160 ms; the writer drops the oldest when the reader falls behind. No allocation after
// construction. Both ends on one thread.
class FrameRing {
 public:
  static constexpr std::size_t kCapacity = 1280;
  void write(std::span<const std::int16_t> pcm);
  // Up to out.size() samples; returns how many.
  std::size_t read(std::span<std::int16_t> out);
  std::size_t available() const { return size_; }

 private:
  std::array<std::int16_t, kCapacity> buf_{};
  std::size_t head_ = 0;  // next read
  std::size_t size_ = 0;
};

// Plays what a FrameRing holds, silence when it is empty; never ends (stopped by its owner).
class RingSource final : public AudioSource {
 public:
  explicit RingSource(std::shared_ptr<FrameRing> ring) : ring_(std::move(ring)) {}
  std::size_t read(std::span<std::int16_t> out) override;
  void rewind() override {}

 private:
  std::shared_ptr<FrameRing> ring_;
};

enum class PlaybackEnd { kCompleted, kInterrupted, kStopped };

struct PlayOptions {
  bool barge_in = false;  // a DTMF key stops it (Gather's nested prompts, interruptible Say)
};

// The queue of what a session plays, one frame at a time; silence when empty. Completion
// callbacks run from within fill()/stop()/barge_in() on the session's thread.
class Player {
 public:
  using Id = std::uint64_t;
  using Done = std::function<void(PlaybackEnd)>;

  Id enqueue(std::unique_ptr<AudioSource> source, PlayOptions options = {}, Done done = {});
  // Fills `frame` entirely (the next source continues where one ends); false when nothing was
  // playing, so the frame is silence.
  bool fill(std::span<std::int16_t> frame);
  // Ends everything queued (kStopped).
  void stop();
  // Ends the current and queued items that allow barge-in, up to the first that does not.
  // Returns whether anything was interrupted.
  bool barge_in();
  bool playing() const { return !queue_.empty(); }
  std::size_t queued() const { return queue_.size(); }

 private:
  struct Item {
    Id id;
    std::unique_ptr<AudioSource> source;
    PlayOptions options;
    Done done;
  };
  void finish_front(PlaybackEnd how);

  std::deque<Item> queue_;
  Id next_id_ = 1;
};

}  // namespace sb::media
