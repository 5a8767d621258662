// One call leg's RTP stream on a worker: a UDP socket pair (RTP + RTCP) from the PortPool,
// one peer only (the SDP's address, or the source latched under the worker's LatchPolicy, to
// which it then sends: symmetric RTP for NAT; every other source is ignored), G.711 as
// negotiated in SDP, RFC 4733 DTMF in and out (in-band detection when no telephone-event was
// negotiated), playback from a Player, recording, and RTCP reports. Paced by its MediaWorker's
// tick; everything runs on that worker's thread. Bad packets are dropped and counted.
#pragma once

#include <array>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "media/audio_source.hpp"
#include "media/g711.hpp"
#include "media/inband_dtmf.hpp"
#include "media/jitter_buffer.hpp"
#include "media/latch.hpp"
#include "media/media_worker.hpp"
#include "media/port_pool.hpp"
#include "media/recorder.hpp"
#include "media/rtp_packet.hpp"
#include "media/rtp_sequence.hpp"
#include "media/srtp.hpp"
#include "media/telephone_event.hpp"

namespace sb::media {

// What offer/answer settled (sip::AudioSession maps onto this field by field).
struct SessionParams {
  std::string remote_address;  // the peer (where to send until a NAT'd peer is latched)
  std::uint16_t remote_port = 0;
  Codec codec = Codec::kPcmu;
  int payload_type = kPcmuPayloadType;
  std::optional<int> telephone_event_pt;  // none: in-band DTMF detection
  int ptime = 20;                         // 10-120 ms in steps of 10
  bool send = true;  // false on hold / recvonly: RTP timestamps advance but nothing is sent
  bool receive = true;
};

struct SessionLimits {
  std::uint32_t max_packets_per_tick = 25;  // beyond: a flood, dropped and counted
  std::uint32_t rtcp_interval_ms = 5000;    // each report 0.5-1.5 times this, at random
  std::uint32_t dtmf_duration_ms = 100;     // of digits we send
};

struct RtpStats {
  std::uint64_t received = 0;  // accepted RTP packets
  std::uint64_t received_bytes = 0;
  std::uint64_t sent = 0;
  std::uint64_t sent_bytes = 0;
  std::uint64_t send_errors = 0;
  std::uint64_t malformed = 0;  // failed parse_rtp
  std::uint64_t oversize = 0;
  std::uint64_t ignored = 0;     // RTP (or muxed RTCP) from a source that is not the peer
  std::uint64_t wrong_ssrc = 0;  // from the peer, but not the locked SSRC
  std::uint64_t unknown_payload_type = 0;
  std::uint64_t flood_dropped = 0;
  std::uint64_t bad_sequence = 0;  // big jumps awaiting confirmation
  std::uint64_t late = 0;          // accepted, but after a packet numbered above it (reordered)
  std::uint64_t rtcp_received = 0;
  std::uint64_t rtcp_malformed = 0;
  std::uint64_t rtcp_ignored = 0;  // from a source that is not the peer
  std::uint64_t rtcp_sent = 0;
  std::uint64_t dtmf_digits = 0;
  std::uint64_t latched = 0;       // times the peer was learned from its packets (LatchPolicy)
  std::uint64_t srtp_dropped = 0;  // SRTP/SRTCP that failed authentication or was replayed
};

struct DtmfEvent {
  char digit = 0;
  std::uint32_t duration_ms = 0;  // 0 at begin
  bool end = false;
  bool inband = false;
};

// Hears a call's audio as it goes: each tick, 20 ms of what the peer sent (8 kHz, after the
// jitter buffer, concealed where packets were lost, silence where none came) and of what we
// sent. Runs on the worker's thread; it must not block. An answering-machine detector is one.
class AudioTap {
 public:
  virtual ~AudioTap() = default;
  virtual void on_audio(std::span<const std::int16_t> inbound,
                        std::span<const std::int16_t> outbound) = 0;
};

class RtpSession final : public PacedStream, public std::enable_shared_from_this<RtpSession> {
 public:
  struct Callbacks {
    std::function<void(const DtmfEvent&)> on_dtmf;             // begin and end of each digit
    std::function<void(const RecordingResult&)> on_recording;  // a recording ended
    std::function<void()> on_peer_bye;                         // RTCP BYE from the peer
  };

  // Binds the RTP/RTCP pair on `local_address` (a port from `pool`, skipping ports taken by
  // other processes) and registers with `worker`. Call on the worker's thread.
  static Result<std::shared_ptr<RtpSession>> open(MediaWorker& worker, PortPool& pool,
                                                  const std::string& local_address,
                                                  SessionParams params, Callbacks callbacks,
                                                  SessionLimits limits = {});
  ~RtpSession() override;

  std::uint16_t local_port() const { return local_port_; }
  const SessionParams& params() const { return params_; }
  // A re-INVITE changed the negotiation (hold, new address, codec). A new address is the only
  // thing that moves the peer: latching starts again from it.
  Status update(SessionParams params);

  // SRTP from now on (keys from the SDP's a=crypto): what we send is protected, what arrives
  // must authenticate (and not replay) or it is dropped. Set before media flows.
  void set_srtp(std::unique_ptr<SrtpSession> srtp) { srtp_ = std::move(srtp); }
  bool secure() const { return srtp_ != nullptr; }

  // Playback (queued; silence when empty).
  Player::Id play(std::unique_ptr<AudioSource> source, PlayOptions options = {},
                  Player::Done done = {});
  void stop_playback() { player_.stop(); }
  bool playing() const { return player_.playing(); }

  // Sends digits as RFC 4733 events (or in-band tones when none was negotiated), one after
  // another with 100 ms gaps. False for a character that is not a DTMF key.
  bool send_digits(std::string_view digits);

  // One recording at a time; its end is reported through Callbacks::on_recording.
  Status start_recording(RecordingOptions options);
  void stop_recording();
  bool recording() const { return recorder_ != nullptr; }
  // A whole-call recording (Calls.json Record), alongside <Record>'s and without its limits,
  // until stopped or closed. stop returns how it ended (also after close()).
  Status start_call_recording(RecordingOptions options);
  std::optional<RecordingResult> stop_call_recording();

  // Taps listen from the next tick until removed (or the session closes).
  void add_tap(std::shared_ptr<AudioTap> tap);
  void remove_tap(const AudioTap* tap);
  bool tapped() const { return !taps_.empty(); }

  // Relaying (a B2BUA bridge without decoding; both sessions on this worker): every audio and
  // telephone-event packet accepted from our peer is sent on at once, as it arrives (our
  // socket is watched while relaying), to `to`'s peer as `to`'s own stream: its SSRC, its
  // payload types, sequence numbers and timestamps continuing its own across the switch (a
  // gap in ours stays a gap). `to` sends nothing of its own meanwhile. nullptr stops. The
  // payload is not touched: both sessions must have negotiated the same codec and ptime.
  void relay_to(const std::shared_ptr<RtpSession>& to);
  bool relaying() const { return !relay_to_.expired(); }
  bool relayed_into() const { return relayed_into_ > 0; }

  // Stops the streams, ends a recording (reported as kStopped), sends RTCP BYE, releases the
  // ports. Idempotent; the destructor does it too.
  void close();

  const RtpStats& stats() const { return stats_; }
  // Names the session in its log lines (the call SID).
  void set_log_name(std::string name) { log_name_ = std::move(name); }
  // Packets the peer sent that never arrived (RFC 3550 A.3, over every source it used; 0 while
  // duplicates outnumber the losses).
  std::uint64_t packets_lost() const;
  const SequenceTracker& sequence() const { return sequence_; }
  std::optional<boost::asio::ip::udp::endpoint> send_endpoint() const;

  // The tick sends (on_tick); reading what arrived, recording and RTCP follow once every
  // session of the worker has sent (on_tick_done).
  void on_tick(std::chrono::steady_clock::time_point now, std::uint32_t elapsed_ms) override;
  void on_tick_done(std::chrono::steady_clock::time_point now, std::uint32_t elapsed_ms) override;

  struct Private;  // constructor tag

  RtpSession(Private, MediaWorker& worker, PortPool& pool, boost::asio::ip::udp::socket rtp,
             boost::asio::ip::udp::socket rtcp, std::uint16_t port, SessionParams params,
             Callbacks callbacks, SessionLimits limits);

 private:
  void receive_rtp();
  void start_receive_rtcp();
  void handle_rtp(std::span<const std::uint8_t> data, const boost::asio::ip::udp::endpoint& from,
                  std::uint32_t arrival);
  void handle_rtcp(std::span<const std::uint8_t> data, const boost::asio::ip::udp::endpoint& from,
                   bool muxed);
  void ignore(bool rtcp);
  void deliver(const DtmfUpdates& updates, bool inband);
  void send_packet(const RtpHeader& header, std::span<const std::uint8_t> payload);
  void send_rtcp(bool bye);
  void watch_rtp();
  void send_relayed(const RtpHeader& in, std::span<const std::uint8_t> payload, bool event,
                    bool resync);
  void end_relay_in();
  void finish_recording(RecordingEnd reason);
  Status apply(SessionParams params);

  MediaWorker& worker_;
  PortPool& pool_;
  // RTP is read on the tick (recvmmsg until empty) and written with plain sendto, so its
  // socket is a bare descriptor outside the io_context's epoll set: no wake-up and no
  // completion handler per packet. RTCP (one packet in seconds) stays asynchronous.
  int rtp_fd_ = -1;
  boost::asio::ip::udp::socket rtcp_;
  std::uint16_t local_port_;
  SessionParams params_;
  Callbacks callbacks_;
  SessionLimits limits_;
  bool closed_ = false;
  bool told_payload_type_ = false;  // logged the first packet of a type not negotiated
  std::string log_name_;

  boost::asio::ip::udp::endpoint configured_remote_;  // from the SDP
  PeerLatch latch_;                                   // whom we listen to and send to
  boost::asio::ip::udp::endpoint rtcp_from_;
  std::array<std::uint8_t, 1500> rtcp_buffer_{};
  std::array<std::uint8_t, kMaxRtpPacketSize + kSrtpMaxTrailer> tx_buffer_{};
  std::unique_ptr<SrtpSession> srtp_;                      // null: plain RTP
  std::array<std::uint8_t, kMaxRtpPacketSize> srtp_rx_{};  // a packet being authenticated

  // Receive side.
  SsrcLock ssrc_lock_;
  SequenceTracker sequence_;
  std::uint64_t lost_before_ = 0;  // by the peer's earlier sources (SSRC changes)
  TelephoneEventReceiver dtmf_rx_;
  std::unique_ptr<InbandDtmfDetector> inband_;
  std::unique_ptr<JitterBuffer> jitter_;     // while recording
  std::array<std::int16_t, 960> decoded_{};  // up to 120 ms
  std::uint32_t packets_this_tick_ = 0;
  std::uint32_t remote_ssrc_ = 0;
  std::int64_t start_realtime_ns_;  // arrival times are the kernel's (SO_TIMESTAMPNS)
  std::uint32_t last_sr_middle_ = 0;
  std::chrono::steady_clock::time_point last_sr_at_{};

  // Send side.
  Player player_;
  TelephoneEventSender dtmf_tx_;
  std::string digits_to_send_;
  std::uint32_t dtmf_gap_samples_ = 0;
  std::uint32_t dtmf_start_ts_ = 0;
  std::uint32_t ssrc_;
  std::uint16_t seq_;
  std::uint32_t timestamp_;
  bool first_packet_ = true;
  std::array<std::int16_t, 960> tx_pcm_{};  // accumulates ticks up to one packet
  std::size_t tx_pcm_fill_ = 0;
  std::array<std::int16_t, 160> tick_out_{};
  std::array<std::int16_t, 160> tick_in_{};
  std::array<std::uint8_t, 960> encoded_{};
  std::uint32_t rtcp_elapsed_ms_ = 0;
  std::uint32_t rtcp_due_ms_ = 0;  // this report's randomized interval (RFC 3550 §6.3.1)

  std::unique_ptr<WavRecorder> recorder_;
  std::unique_ptr<WavRecorder> call_recorder_;
  void ensure_jitter();
  void release_jitter();  // once nothing reads from it any more
  std::vector<std::shared_ptr<AudioTap>> taps_;
  // Relaying out: where our peer's packets go, and the socket watch that forwards them.
  std::weak_ptr<RtpSession> relay_to_;
  bool relay_resync_ = true;  // the next relayed packet starts a new mapping (new SSRC)
  std::optional<boost::asio::posix::stream_descriptor> rtp_watch_;
  // Relayed into: our stream is the relayed one, mapped onto our sequence and timestamps.
  int relayed_into_ = 0;
  bool relay_synced_ = false;
  std::uint16_t relay_seq_offset_ = 0;
  std::uint32_t relay_ts_offset_ = 0;
  std::optional<RecordingResult> call_recording_;  // once the call recorder has finished
  RtpStats stats_;
};

}  // namespace sb::media
