// In-band DTMF detection (spandsp's Goertzel detector) for peers that negotiated no
// telephone-event: decoded inbound audio in, digits with durations out, same shape as RFC 4733.
#pragma once

#include <cstdint>
#include <span>

#include "media/telephone_event.hpp"

struct dtmf_rx_state_s;

namespace sb::media {

class InbandDtmfDetector {
 public:
  InbandDtmfDetector();
  ~InbandDtmfDetector();
  InbandDtmfDetector(const InbandDtmfDetector&) = delete;
  InbandDtmfDetector& operator=(const InbandDtmfDetector&) = delete;

  // 8 kHz samples; returns the begin/end updates detected in them.
  DtmfUpdates process(std::span<const std::int16_t> samples);

 private:
  static void on_tone(void* self, int code, int level, int delay);

  dtmf_rx_state_s* rx_;
  DtmfUpdates pending_;
  char current_ = 0;
  std::uint64_t samples_seen_ = 0;
  std::uint64_t began_at_ = 0;
};

}  // namespace sb::media
