#include "media/inband_dtmf.hpp"

#include <spandsp.h>

namespace sb::media {

InbandDtmfDetector::InbandDtmfDetector() : rx_(dtmf_rx_init(nullptr, nullptr, nullptr)) {
  dtmf_rx_set_realtime_callback(rx_, &InbandDtmfDetector::on_tone, this);
}

InbandDtmfDetector::~InbandDtmfDetector() { dtmf_rx_free(rx_); }

void InbandDtmfDetector::on_tone(void* user, int code, int /*level*/, int /*delay*/) {
  auto* self = static_cast<InbandDtmfDetector*>(user);
  if (self->pending_.count >= self->pending_.items.size()) return;
  if (code != 0) {
    if (self->current_ != 0) {  // a new key without a gap: end the previous one
      self->pending_.push(
          {DtmfUpdate::Kind::kEnd, self->current_,
           static_cast<std::uint32_t>((self->samples_seen_ - self->began_at_) / 8)});
      if (self->pending_.count >= self->pending_.items.size()) return;
    }
    self->current_ = static_cast<char>(code);
    self->began_at_ = self->samples_seen_;
    self->pending_.push({DtmfUpdate::Kind::kBegin, self->current_, 0});
  } else if (self->current_ != 0) {
    self->pending_.push({DtmfUpdate::Kind::kEnd, self->current_,
                         static_cast<std::uint32_t>((self->samples_seen_ - self->began_at_) / 8)});
    self->current_ = 0;
  }
}

DtmfUpdates InbandDtmfDetector::process(std::span<const std::int16_t> samples) {
  pending_ = {};
  // Small chunks so the reported durations are accurate to 5 ms.
  for (std::size_t i = 0; i < samples.size(); i += 40) {
    const std::size_t n = std::min<std::size_t>(40, samples.size() - i);
    samples_seen_ += n;
    dtmf_rx(rx_, samples.data() + i, static_cast<int>(n));
  }
  return pending_;
}

}  // namespace sb::media
