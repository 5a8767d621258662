// The per-worker media clock (DESIGN.md, Threading): one timer per io_context that fires every
// 20 ms against absolute deadlines (no drift) and services every stream of that worker in turn,
// in two passes: first every stream's sends, then everything else. Also what the worker's
// streams share: the source-latching policy and the count of packets ignored under it.
// Streams register and unregister on the worker's thread; the tick allocates nothing.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <vector>

#include "core/error.hpp"
#include "media/latch.hpp"

namespace sb::media {

namespace asio = boost::asio;

// Something paced by the tick (an RtpSession; fakes in tests).
class PacedStream {
 public:
  virtual ~PacedStream() = default;
  // `now` is the tick's scheduled time; `elapsed_ms` the interval since the previous tick.
  // What the far end hears the timing of (sending) belongs here.
  virtual void on_tick(std::chrono::steady_clock::time_point now, std::uint32_t elapsed_ms) = 0;
  // Called once per tick after every stream's on_tick: work whose timing nobody hears (reading
  // what arrived, recording, reports), so that its varying cost does not delay the sends of
  // the streams after it.
  virtual void on_tick_done(std::chrono::steady_clock::time_point /*now*/,
                            std::uint32_t /*elapsed_ms*/) {}
};

class MediaWorker {
 public:
  static constexpr std::chrono::milliseconds kInterval{20};

  explicit MediaWorker(asio::any_io_executor executor, LatchPolicy latch = kDefaultLatchPolicy);
  ~MediaWorker();
  MediaWorker(const MediaWorker&) = delete;
  MediaWorker& operator=(const MediaWorker&) = delete;

  // Starts the timer (not needed when a test drives tick() by hand).
  void start();
  void stop();
  // Services every stream once (on_tick for all, then on_tick_done for all), as the timer does.
  void tick(std::chrono::steady_clock::time_point now);

  void add(PacedStream* stream);
  // Safe from within a tick (the stream is skipped from then on).
  void remove(PacedStream* stream);
  std::size_t streams() const { return streams_.size() - removed_; }
  asio::any_io_executor executor() const { return executor_; }
  // Which sources the worker's RTP sessions listen to (media.latch).
  LatchPolicy latch_policy() const { return latch_; }
  // A session ignored a packet from a source other than its peer.
  void count_ignored(bool rtcp) { ++(rtcp ? stats_.rtcp_ignored : stats_.rtp_ignored); }
  // Every session's RTP, for the worker's totals (/metrics).
  void count_received(std::size_t bytes, bool late) {
    ++stats_.rtp_received;
    stats_.rtp_received_bytes += bytes;
    if (late) ++stats_.rtp_late;
  }
  void count_sent(std::size_t bytes) {
    ++stats_.rtp_sent;
    stats_.rtp_sent_bytes += bytes;
  }
  void count_lost(std::uint64_t packets) { stats_.rtp_lost += packets; }  // as a session ends

  struct Stats {
    std::uint64_t ticks = 0;
    std::uint64_t late_ticks = 0;  // fired more than one interval late: a tick was skipped
    std::chrono::microseconds max_lateness{0};
    std::uint64_t rtp_ignored = 0;   // RTP (and muxed RTCP) from a source that is not the peer
    std::uint64_t rtcp_ignored = 0;  // RTCP on the RTCP port from a source that is not the peer
    std::uint64_t rtp_received = 0, rtp_received_bytes = 0, rtp_sent = 0, rtp_sent_bytes = 0;
    std::uint64_t rtp_late = 0;  // received out of order
    std::uint64_t rtp_lost = 0;  // never received, counted when each session ends
  };
  const Stats& stats() const { return stats_; }

 private:
  void arm();

  asio::any_io_executor executor_;
  LatchPolicy latch_;
  asio::steady_timer timer_;
  std::chrono::steady_clock::time_point next_;
  std::vector<PacedStream*> streams_;
  std::size_t removed_ = 0;  // null slots awaiting compaction
  bool ticking_ = false;
  bool running_ = false;
  Stats stats_;
};

// Runs the calling thread (one that runs a MediaWorker's io_context) under SCHED_FIFO at
// `priority` (1-99), as media servers are run on shared hosts: the tick then preempts batch
// work instead of waiting out its time slice, which on a busy machine is most of the send
// jitter. Needs CAP_SYS_NICE or RLIMIT_RTPRIO; an error value when refused.
Status use_realtime_scheduling(int priority = 10);

}  // namespace sb::media
