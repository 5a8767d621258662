// RFC 4733 telephone-events (DTMF over RTP): payload codec, a receiver that turns packet
// streams (start, continuation, redundant end packets, duplicates, reordering, lost ends, long
// presses split into segments) into digits with durations, and a sender that paces a digit into
// packets. No allocation per packet.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace sb::media {

inline constexpr std::size_t kTelephoneEventSize = 4;

struct TelephoneEvent {
  std::uint8_t event = 0;  // 0-9, 10 '*', 11 '#', 12-15 'A'-'D', 16 flash
  bool end = false;
  std::uint8_t volume = 10;    // -dBm0, 0-63
  std::uint16_t duration = 0;  // in timestamp units since the event's timestamp
};

std::optional<TelephoneEvent> parse_telephone_event(std::span<const std::uint8_t> payload);
void serialize_telephone_event(const TelephoneEvent& e, std::span<std::uint8_t, 4> out);

// '0'-'9', '*', '#', 'A'-'D', '!' (flash) <-> event codes; nullopt for others.
std::optional<char> digit_of_event(std::uint8_t event);
std::optional<std::uint8_t> event_of_digit(char digit);

struct DtmfUpdate {
  enum class Kind { kBegin, kEnd };
  Kind kind = Kind::kBegin;
  char digit = 0;
  std::uint32_t duration_ms = 0;  // kEnd: how long the key was held
};

// Up to three updates per packet (end of a previous unterminated digit, begin, end).
struct DtmfUpdates {
  std::array<DtmfUpdate, 3> items{};
  std::size_t count = 0;
  void push(DtmfUpdate u) { items[count++] = u; }
  const DtmfUpdate* begin() const { return items.data(); }
  const DtmfUpdate* end() const { return items.data() + count; }
};

class TelephoneEventReceiver {
 public:
  struct Options {
    int clock_rate = 8000;
    // A digit whose end packets were all lost ends this long after its last packet.
    std::uint32_t end_timeout_ms = 400;
  };
  TelephoneEventReceiver() : TelephoneEventReceiver(Options{}) {}
  explicit TelephoneEventReceiver(Options options) : options_(options) {}

  DtmfUpdates on_packet(std::uint32_t rtp_timestamp, std::span<const std::uint8_t> payload);
  // Advances time (the session's pacing tick); ends a digit that went quiet.
  DtmfUpdates tick(std::uint32_t elapsed_ms);

  std::uint64_t duplicates() const { return duplicates_; }
  std::uint64_t malformed() const { return malformed_; }
  bool active() const { return active_; }

 private:
  std::uint32_t to_ms(std::uint64_t samples) const {
    return static_cast<std::uint32_t>(samples * 1000 /
                                      static_cast<std::uint64_t>(options_.clock_rate));
  }
  void finish(DtmfUpdates& out);

  Options options_;
  bool active_ = false;          // a digit is down
  bool have_last_ = false;       // some event was seen (timestamp below is meaningful)
  std::uint32_t timestamp_ = 0;  // of the current segment
  std::uint8_t event_ = 0;
  std::uint16_t segment_duration_ = 0;
  std::uint64_t previous_segments_ = 0;  // long press: duration of earlier segments
  std::uint32_t quiet_ms_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t malformed_ = 0;
};

// Turns one digit into the packet train of RFC 4733 §2.5.1: a first packet (marker set), one
// continuation per packet interval with the growing duration, then the end packet sent three
// times. Segments a press longer than the 16-bit duration field allows.
class TelephoneEventSender {
 public:
  struct Packet {
    std::array<std::uint8_t, 4> payload{};
    bool marker = false;
    std::uint32_t timestamp_offset = 0;  // from the start of the digit, in samples
  };

  explicit TelephoneEventSender(std::uint32_t samples_per_packet = 160)
      : step_(samples_per_packet) {}

  // Starts a digit; false for a character that is not a DTMF key or while one is in progress.
  bool start(char digit, std::uint32_t duration_samples, std::uint8_t volume = 10);
  // The next packet for this packet interval, or nullopt when the digit is done.
  std::optional<Packet> next();
  bool busy() const { return state_ != State::kIdle; }

 private:
  enum class State { kIdle, kTone, kEnd };
  std::uint32_t step_;
  State state_ = State::kIdle;
  TelephoneEvent event_;
  std::uint32_t total_ = 0;
  std::uint32_t sent_ = 0;           // duration covered so far
  std::uint32_t segment_start_ = 0;  // samples from the digit's start
  bool first_ = true;
  int end_repeats_ = 0;
};

}  // namespace sb::media
