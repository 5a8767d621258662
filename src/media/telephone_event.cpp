#include "media/telephone_event.hpp"

#include <algorithm>

namespace sb::media {

std::optional<TelephoneEvent> parse_telephone_event(std::span<const std::uint8_t> payload) {
  // RFC 4733 §2.3: one 4-byte event (redundancy per RFC 2198 is not negotiated by us).
  if (payload.size() < kTelephoneEventSize) return std::nullopt;
  TelephoneEvent e;
  e.event = payload[0];
  e.end = (payload[1] & 0x80) != 0;
  e.volume = payload[1] & 0x3F;
  e.duration = static_cast<std::uint16_t>((payload[2] << 8) | payload[3]);
  return e;
}

void serialize_telephone_event(const TelephoneEvent& e, std::span<std::uint8_t, 4> out) {
  out[0] = e.event;
  out[1] = static_cast<std::uint8_t>((e.end ? 0x80 : 0) | (e.volume & 0x3F));
  out[2] = static_cast<std::uint8_t>(e.duration >> 8);
  out[3] = static_cast<std::uint8_t>(e.duration);
}

std::optional<char> digit_of_event(std::uint8_t event) {
  static constexpr char kDigits[] = "0123456789*#ABCD!";
  if (event <= 16) return kDigits[event];
  return std::nullopt;
}

std::optional<std::uint8_t> event_of_digit(char digit) {
  if (digit >= '0' && digit <= '9') return static_cast<std::uint8_t>(digit - '0');
  switch (digit) {
    case '*':
      return 10;
    case '#':
      return 11;
    case 'A':
    case 'a':
      return 12;
    case 'B':
    case 'b':
      return 13;
    case 'C':
    case 'c':
      return 14;
    case 'D':
    case 'd':
      return 15;
    case '!':
      return 16;
    default:
      return std::nullopt;
  }
}

void TelephoneEventReceiver::finish(DtmfUpdates& out) {
  const std::uint64_t total = previous_segments_ + segment_duration_;
  out.push({DtmfUpdate::Kind::kEnd, *digit_of_event(event_), to_ms(total)});
  active_ = false;
}

DtmfUpdates TelephoneEventReceiver::on_packet(std::uint32_t ts,
                                              std::span<const std::uint8_t> payload) {
  DtmfUpdates out;
  const auto parsed = parse_telephone_event(payload);
  if (!parsed || !digit_of_event(parsed->event)) {
    ++malformed_;
    return out;
  }
  const TelephoneEvent& e = *parsed;
  if (have_last_) {
    const auto age = static_cast<std::int32_t>(ts - timestamp_);
    if (age < 0) {  // an older event's straggler (late retransmission of a redundant end)
      ++duplicates_;
      return out;
    }
    if (age == 0) {
      if (!active_ || e.event != event_) {  // redundant end packet, or a repeat after the end
        ++duplicates_;
        return out;
      }
      quiet_ms_ = 0;
      if (e.duration < segment_duration_) {  // reordered continuation
        ++duplicates_;
        return out;
      }
      if (e.duration == segment_duration_ && !e.end) ++duplicates_;
      segment_duration_ = e.duration;
      if (e.end) finish(out);
      return out;
    }
    // A new timestamp. A long press continues in a new segment starting where the previous
    // one ended (§2.5.1.3): same event, no end seen, timestamp = old + old duration.
    // Only a segment that reached (nearly, if its last packets were lost) the 16-bit limit
    // continues; anything else with the same key is a new press.
    const auto gap = static_cast<std::uint32_t>(age);
    if (active_ && e.event == event_ && gap >= segment_duration_ && gap <= 0xFFFF &&
        std::uint32_t{segment_duration_} + 8u * 160u >= 0xFFFF) {
      previous_segments_ += gap;
      timestamp_ = ts;
      segment_duration_ = e.duration;
      quiet_ms_ = 0;
      if (e.end) finish(out);
      return out;
    }
    if (active_) finish(out);  // the previous digit's end packets were lost
  }
  have_last_ = true;
  active_ = true;
  timestamp_ = ts;
  event_ = e.event;
  segment_duration_ = e.duration;
  previous_segments_ = 0;
  quiet_ms_ = 0;
  out.push({DtmfUpdate::Kind::kBegin, *digit_of_event(e.event), 0});
  if (e.end) finish(out);  // only the end packets arrived
  return out;
}

DtmfUpdates TelephoneEventReceiver::tick(std::uint32_t elapsed_ms) {
  DtmfUpdates out;
  if (!active_) return out;
  quiet_ms_ += elapsed_ms;
  if (quiet_ms_ >= options_.end_timeout_ms) finish(out);
  return out;
}

bool TelephoneEventSender::start(char digit, std::uint32_t duration_samples, std::uint8_t volume) {
  const auto code = event_of_digit(digit);
  if (!code || state_ != State::kIdle) return false;
  event_ = {};
  event_.event = *code;
  event_.volume = std::min<std::uint8_t>(volume, 63);
  total_ = std::max(duration_samples, step_);
  sent_ = 0;
  segment_start_ = 0;
  first_ = true;
  end_repeats_ = 0;
  state_ = State::kTone;
  return true;
}

std::optional<TelephoneEventSender::Packet> TelephoneEventSender::next() {
  Packet p;
  switch (state_) {
    case State::kIdle:
      return std::nullopt;
    case State::kTone: {
      sent_ = std::min(sent_ + step_, total_);
      std::uint32_t in_segment = sent_ - segment_start_;
      if (in_segment > 0xFFFF) {  // start a new segment where the previous one ended
        segment_start_ += 0xFFFF;
        in_segment = sent_ - segment_start_;
      }
      event_.duration = static_cast<std::uint16_t>(in_segment);
      p.marker = first_;
      first_ = false;
      if (sent_ >= total_) {
        event_.end = true;
        state_ = State::kEnd;
        end_repeats_ = 1;
      }
      break;
    }
    case State::kEnd:
      if (++end_repeats_ >= 3) state_ = State::kIdle;
      break;
  }
  p.timestamp_offset = segment_start_;
  serialize_telephone_event(event_, p.payload);
  return p;
}

}  // namespace sb::media
