// Receive-side RTP bookkeeping (RFC 3550 Appendix A): source validation with sequence-number
// probation, 16-bit wrap into extended sequence numbers, loss and interarrival jitter for
// receiver reports, and locking onto one SSRC (others are dropped and counted).
#pragma once

#include <cstdint>
#include <optional>

namespace sb::media {

class SequenceTracker {
 public:
  struct Options {
    int min_sequential = 1;  // packets in sequence before a source is valid (A.1 uses 2)
    int max_dropout = 3000;
    int max_misorder = 100;
  };

  SequenceTracker() : SequenceTracker(Options{}) {}
  explicit SequenceTracker(Options options) : options_(options) {}

  // Feeds one packet's sequence number. Returns its extended (32-bit cycle-aware) sequence
  // number when the packet is accepted; nullopt while on probation or for a bad jump.
  std::optional<std::uint32_t> update(std::uint16_t seq);

  // Feeds arrival time and RTP timestamp (both in clock-rate units) for the jitter estimate.
  void update_jitter(std::uint32_t arrival, std::uint32_t rtp_timestamp);

  bool valid() const { return initialised_ && probation_ == 0; }
  std::uint32_t extended_max() const { return cycles_ + max_seq_; }
  std::uint32_t received() const { return received_; }
  std::uint32_t expected() const { return extended_max() - base_seq_ + 1; }
  std::int32_t cumulative_lost() const;  // may be negative with duplicates (A.3)
  // Fraction lost since the previous call, in 1/256 units (A.3); resets the interval.
  std::uint8_t fraction_lost_interval();
  std::uint32_t jitter() const { return static_cast<std::uint32_t>(jitter_ >> 4); }
  std::uint32_t bad_jumps() const { return bad_jumps_; }

 private:
  void init(std::uint16_t seq);

  Options options_;
  bool initialised_ = false;
  std::uint16_t max_seq_ = 0;
  std::uint32_t cycles_ = 0;
  std::uint32_t base_seq_ = 0;
  std::uint32_t bad_seq_ = 1u << 16 | 1;  // RTP_SEQ_MOD + 1: matches nothing yet
  int probation_ = 0;
  std::uint32_t received_ = 0;
  std::uint32_t expected_prior_ = 0;
  std::uint32_t received_prior_ = 0;
  std::uint32_t bad_jumps_ = 0;
  bool have_transit_ = false;
  std::int64_t transit_ = 0;
  std::uint64_t jitter_ = 0;  // scaled by 16 as in A.8
};

// Locks onto the first SSRC seen. Packets from another SSRC are rejected unless the locked
// source has gone quiet and the new one keeps sending (a transfer or re-INVITE to another
// media server): after `relock_after` consecutive packets from one new SSRC with none from the
// old one, the lock moves.
class SsrcLock {
 public:
  explicit SsrcLock(int relock_after = 10) : relock_after_(relock_after) {}

  enum class Verdict { kAccept, kNewSource, kReject };
  Verdict check(std::uint32_t ssrc);
  std::optional<std::uint32_t> locked() const { return locked_; }
  std::uint64_t rejected() const { return rejected_; }

 private:
  int relock_after_;
  std::optional<std::uint32_t> locked_;
  std::uint32_t candidate_ = 0;
  int candidate_count_ = 0;
  std::uint64_t rejected_ = 0;
};

}  // namespace sb::media
