#include "media/rtp_sequence.hpp"

namespace sb::media {
namespace {
constexpr std::uint32_t kSeqMod = 1u << 16;
}

void SequenceTracker::init(std::uint16_t seq) {
  base_seq_ = seq;
  max_seq_ = seq;
  bad_seq_ = kSeqMod + 1;
  cycles_ = 0;
  received_ = 0;
  received_prior_ = 0;
  expected_prior_ = 0;
}

std::optional<std::uint32_t> SequenceTracker::update(std::uint16_t seq) {
  if (!initialised_) {
    initialised_ = true;
    init(seq);
    max_seq_ = static_cast<std::uint16_t>(seq - 1);
    probation_ = options_.min_sequential;
  }
  const std::uint16_t udelta = static_cast<std::uint16_t>(seq - max_seq_);
  if (probation_ > 0) {
    if (seq == static_cast<std::uint16_t>(max_seq_ + 1)) {
      --probation_;
      max_seq_ = seq;
      if (probation_ == 0) {
        init(seq);
        ++received_;
        return cycles_ + seq;
      }
    } else {
      probation_ = options_.min_sequential - 1;
      max_seq_ = seq;
    }
    return std::nullopt;
  }
  if (udelta < options_.max_dropout) {
    if (seq < max_seq_) cycles_ += kSeqMod;  // wrapped
    max_seq_ = seq;
  } else if (udelta <= kSeqMod - options_.max_misorder) {
    // A very large jump: accept only if the next packet continues from it (the peer restarted).
    if (seq == bad_seq_) {
      init(seq);
    } else {
      bad_seq_ = (seq + 1u) & (kSeqMod - 1);
      ++bad_jumps_;
      return std::nullopt;
    }
  } else {
    // Duplicate or reordered packet: extended number relative to the current maximum.
    ++received_;
    const auto delta = static_cast<std::int16_t>(seq - max_seq_);
    return static_cast<std::uint32_t>(static_cast<std::int64_t>(extended_max()) + delta);
  }
  ++received_;
  return cycles_ + seq;
}

void SequenceTracker::update_jitter(std::uint32_t arrival, std::uint32_t rtp_timestamp) {
  const std::int64_t transit = static_cast<std::int32_t>(arrival - rtp_timestamp);
  if (have_transit_) {
    std::int64_t d = transit - transit_;
    if (d < 0) d = -d;
    // J += (|D| - J) / 16, kept scaled by 16.
    const auto j = static_cast<std::int64_t>(jitter_);
    jitter_ = static_cast<std::uint64_t>(j + d - ((j + 8) >> 4));
  }
  have_transit_ = true;
  transit_ = transit;
}

std::int32_t SequenceTracker::cumulative_lost() const {
  if (!valid()) return 0;
  const std::int64_t lost = static_cast<std::int64_t>(expected()) - received_;
  // 24-bit signed field in reports.
  if (lost > 0x7FFFFF) return 0x7FFFFF;
  if (lost < -0x800000) return -0x800000;
  return static_cast<std::int32_t>(lost);
}

std::uint8_t SequenceTracker::fraction_lost_interval() {
  if (!valid()) return 0;
  const std::uint32_t expected_now = expected();
  const std::uint32_t expected_interval = expected_now - expected_prior_;
  expected_prior_ = expected_now;
  const std::uint32_t received_interval = received_ - received_prior_;
  received_prior_ = received_;
  const std::int64_t lost = static_cast<std::int64_t>(expected_interval) - received_interval;
  if (expected_interval == 0 || lost <= 0) return 0;
  return static_cast<std::uint8_t>((lost << 8) / expected_interval);
}

SsrcLock::Verdict SsrcLock::check(std::uint32_t ssrc) {
  if (!locked_) {
    locked_ = ssrc;
    return Verdict::kNewSource;
  }
  if (ssrc == *locked_) {
    candidate_count_ = 0;
    return Verdict::kAccept;
  }
  if (candidate_count_ > 0 && ssrc == candidate_) {
    ++candidate_count_;
  } else {
    candidate_ = ssrc;
    candidate_count_ = 1;
  }
  if (candidate_count_ >= relock_after_) {
    locked_ = ssrc;
    candidate_count_ = 0;
    return Verdict::kNewSource;
  }
  ++rejected_;
  return Verdict::kReject;
}

}  // namespace sb::media
