#include "media/rtp_session.hpp"

#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>

#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <random>
#include <utility>

#include "core/log.hpp"
#include "media/rtcp.hpp"

namespace sb::media {

namespace asio = boost::asio;
using udp = asio::ip::udp;

struct RtpSession::Private {};

namespace {

constexpr std::size_t kTickSamples = 160;  // 20 ms at 8 kHz
constexpr std::size_t kJitterFrame = 80;   // 10 ms: every G.711 ptime is a multiple

std::uint32_t random32() {
  static thread_local std::mt19937 gen{std::random_device{}()};
  return static_cast<std::uint32_t>(gen());
}

// RFC 3550 §6.3.1: each RTCP interval is drawn from 0.5-1.5 times the nominal one, so that
// sessions started together (a worker's calls, a bench) do not all report in the same tick.
std::uint32_t randomized_interval(std::uint32_t nominal_ms) {
  return nominal_ms / 2 + random32() % (nominal_ms + 1);
}

std::int64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

// Datagrams one recvmmsg call takes: a ptime-10 peer sends two a tick, so one call usually
// empties the socket and a second is needed only under a flood.
constexpr unsigned kRxBatch = 8;
// Past the per-tick budget a tick reads (dropping and counting) at most this many more; the
// rest wait in, or overflow, the kernel's buffer, so a flood costs a bounded amount per tick.
constexpr std::uint32_t kFloodReadLimit = 256;

// The receive scratch of a worker thread: its sessions are serviced one after another, so
// they share one set of buffers (allocated with the thread, not per session or per packet).
struct RxBatch {
  std::array<std::array<std::uint8_t, kMaxRtpPacketSize + 1>, kRxBatch> data;  // +1: oversize
  std::array<sockaddr_storage, kRxBatch> from;
  struct alignas(cmsghdr) Control {
    char bytes[CMSG_SPACE(sizeof(timespec))];
  };
  std::array<Control, kRxBatch> control;
  std::array<iovec, kRxBatch> iov;
  std::array<mmsghdr, kRxBatch> msgs;

  void prepare(unsigned n) {
    for (unsigned k = 0; k < n; ++k) {
      iov[k] = {data[k].data(), data[k].size()};
      msgs[k] = {};
      msgs[k].msg_hdr.msg_iov = &iov[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
      msgs[k].msg_hdr.msg_name = &from[k];
      msgs[k].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      msgs[k].msg_hdr.msg_control = control[k].bytes;
      msgs[k].msg_hdr.msg_controllen = sizeof(control[k].bytes);
    }
  }
  // The kernel's arrival stamp of message k (0 when it gave none).
  std::int64_t arrival_ns(unsigned k) {
    msghdr& h = msgs[k].msg_hdr;
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts{};
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
      }
    }
    return 0;
  }
};
thread_local RxBatch rx_batch;

}  // namespace

Result<std::shared_ptr<RtpSession>> RtpSession::open(MediaWorker& worker, PortPool& pool,
                                                     const std::string& local_address,
                                                     SessionParams params, Callbacks callbacks,
                                                     SessionLimits limits) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(local_address, ec);
  if (ec) return Error::internal("bad local media address " + local_address);
  // Ports another process holds fail to bind: try the next, up to the whole range once.
  for (std::size_t attempt = 0; attempt < pool.capacity(); ++attempt) {
    const auto port = pool.acquire();
    if (!port) break;
    udp::socket rtp(worker.executor());
    udp::socket rtcp(worker.executor());
    rtp.open(address.is_v6() ? udp::v6() : udp::v4(), ec);
    if (!ec) rtp.bind({address, *port}, ec);
    if (!ec) rtcp.open(address.is_v6() ? udp::v6() : udp::v4(), ec);
    if (!ec) rtcp.bind({address, static_cast<std::uint16_t>(*port + 1)}, ec);
    if (!ec) rtp.non_blocking(true, ec);
    if (!ec) rtcp.non_blocking(true, ec);
    if (!ec) {
      // Kernel arrival stamps: packets are read on the tick, not when they arrive, and the
      // RFC 3550 interarrival jitter needs the real arrival times.
      const int on = 1;
      if (setsockopt(rtp.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0) {
        ec.assign(errno, boost::system::system_category());
      }
    }
    if (ec) {
      pool.release(*port);
      continue;
    }
    auto session =
        std::make_shared<RtpSession>(Private{}, worker, pool, std::move(rtp), std::move(rtcp),
                                     *port, params, std::move(callbacks), limits);
    if (auto s = session->apply(std::move(params)); !s) {
      session->close();
      return s.error();
    }
    worker.add(session.get());
    session->start_receive_rtcp();
    return session;
  }
  return Error{codes::kServiceUnavailable, 503, "no free RTP port in the configured range"};
}

RtpSession::RtpSession(Private, MediaWorker& worker, PortPool& pool, udp::socket rtp,
                       udp::socket rtcp, std::uint16_t port, SessionParams params,
                       Callbacks callbacks, SessionLimits limits)
    : worker_(worker),
      pool_(pool),
      rtp_fd_(rtp.release()),  // leaves the reactor: read on the tick instead
      rtcp_(std::move(rtcp)),
      local_port_(port),
      params_(std::move(params)),
      callbacks_(std::move(callbacks)),
      limits_(limits),
      latch_(worker.latch_policy()),
      start_realtime_ns_(realtime_ns()),
      ssrc_(random32()),
      seq_(static_cast<std::uint16_t>(random32())),
      timestamp_(random32()),
      rtcp_due_ms_(randomized_interval(limits.rtcp_interval_ms)) {}

RtpSession::~RtpSession() { close(); }

Status RtpSession::apply(SessionParams p) {
  if (p.ptime < 10 || p.ptime > 120 || p.ptime % 10 != 0) {
    return Error::bad_request(codes::kInvalidParameter,
                              "unsupported ptime " + std::to_string(p.ptime));
  }
  if (p.payload_type < 0 || p.payload_type > 127 ||
      (p.telephone_event_pt && (*p.telephone_event_pt < 0 || *p.telephone_event_pt > 127))) {
    return Error::bad_request(codes::kInvalidParameter, "bad payload type");
  }
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(p.remote_address, ec);
  const bool hold_address = ec || address.is_unspecified() || p.remote_port == 0;
  const udp::endpoint configured =
      hold_address ? udp::endpoint{} : udp::endpoint{address, p.remote_port};
  // A new address in the SDP (re-INVITE, transfer) restarts latching from it, and its stream
  // (SSRC, sequence numbers, digits) starts afresh.
  if (!hold_address && configured != configured_remote_) {
    configured_remote_ = configured;
    latch_.expect(configured);
    ssrc_lock_ = SsrcLock{};
    sequence_ = SequenceTracker{};
    dtmf_rx_ = TelephoneEventReceiver{};
    remote_ssrc_ = 0;
  }
  const auto frame = static_cast<std::uint32_t>(p.ptime * 8);
  if (!dtmf_tx_.busy()) dtmf_tx_ = TelephoneEventSender(frame);
  if (!p.telephone_event_pt && !inband_) inband_ = std::make_unique<InbandDtmfDetector>();
  if (p.telephone_event_pt) inband_.reset();
  params_ = std::move(p);
  if (!params_.send) tx_pcm_fill_ = 0;
  return Ok{};
}

Status RtpSession::update(SessionParams params) {
  if (closed_) return Error::internal("session closed");
  return apply(std::move(params));
}

std::optional<udp::endpoint> RtpSession::send_endpoint() const {
  if (!latch_.has_peer()) return std::nullopt;
  return latch_.rtp_peer();
}

Player::Id RtpSession::play(std::unique_ptr<AudioSource> source, PlayOptions options,
                            Player::Done done) {
  return player_.enqueue(std::move(source), options, std::move(done));
}

bool RtpSession::send_digits(std::string_view digits) {
  for (char d : digits) {
    if (!event_of_digit(d)) return false;
  }
  if (params_.telephone_event_pt) {
    digits_to_send_.append(digits);
  } else {
    for (char d : digits) {
      player_.enqueue(
          std::make_unique<ToneSource>(ToneSpec::dtmf(d, limits_.dtmf_duration_ms, 100)));
    }
  }
  return true;
}

Status RtpSession::start_recording(RecordingOptions options) {
  if (closed_) return Error::internal("session closed");
  if (recorder_) return Error::internal("already recording");
  auto r = WavRecorder::open(std::move(options));
  if (!r) return r.error();
  recorder_ = std::move(*r);
  ensure_jitter();
  return Ok{};
}

void RtpSession::ensure_jitter() {
  // One buffer feeds both recorders; it exists while either records.
  if (jitter_) return;
  jitter_ = std::make_unique<JitterBuffer>(JitterBuffer::Options{.frame_samples = kJitterFrame,
                                                                 .depth_frames = 6,
                                                                 .capacity_frames = 100,
                                                                 .max_concealed_frames = 20});
}

void RtpSession::release_jitter() {
  if (!recorder_ && !call_recorder_ && taps_.empty()) jitter_.reset();
}

void RtpSession::add_tap(std::shared_ptr<AudioTap> tap) {
  if (closed_ || !tap) return;
  taps_.push_back(std::move(tap));
  ensure_jitter();
}

void RtpSession::remove_tap(const AudioTap* tap) {
  std::erase_if(taps_, [tap](const auto& t) { return t.get() == tap; });
  release_jitter();
}

Status RtpSession::start_call_recording(RecordingOptions options) {
  if (closed_) return Error::internal("session closed");
  if (call_recorder_) return Error::internal("already recording the call");
  auto r = WavRecorder::open(std::move(options));
  if (!r) return r.error();
  call_recorder_ = std::move(*r);
  call_recording_.reset();
  ensure_jitter();
  return Ok{};
}

std::optional<RecordingResult> RtpSession::stop_call_recording() {
  if (call_recorder_) {
    call_recording_ = call_recorder_->finish(RecordingEnd::kStopped);
    call_recorder_.reset();
    release_jitter();
  }
  return call_recording_;
}

void RtpSession::stop_recording() {
  if (recorder_) finish_recording(RecordingEnd::kStopped);
}

void RtpSession::finish_recording(RecordingEnd reason) {
  const RecordingResult result = recorder_->finish(reason);
  recorder_.reset();
  release_jitter();
  if (callbacks_.on_recording) callbacks_.on_recording(result);
}

void RtpSession::relay_to(const std::shared_ptr<RtpSession>& to) {
  if (auto old = relay_to_.lock()) old->end_relay_in();
  relay_to_.reset();
  if (rtp_watch_) {
    boost::system::error_code ec;
    rtp_watch_->cancel(ec);
    rtp_watch_->close(ec);  // our duplicate of the socket; rtp_fd_ stays open
    rtp_watch_.reset();
  }
  if (!to || to.get() == this || closed_) return;
  relay_to_ = to;
  relay_resync_ = true;
  ++to->relayed_into_;
  to->relay_synced_ = false;
  to->tx_pcm_fill_ = 0;
  // Forward as packets arrive rather than on the next tick: a relay adds no 20 ms of delay.
  const int fd = ::dup(rtp_fd_);
  if (fd >= 0) {
    rtp_watch_.emplace(worker_.executor(), fd);
    watch_rtp();
  }
}

void RtpSession::watch_rtp() {
  rtp_watch_->async_wait(asio::posix::descriptor_base::wait_read,
                         [weak = weak_from_this()](const boost::system::error_code& ec) {
                           if (ec) return;
                           auto self = weak.lock();
                           if (!self || self->closed_ || !self->rtp_watch_) return;
                           self->receive_rtp();
                           if (!self->closed_ && self->rtp_watch_) self->watch_rtp();
                         });
}

void RtpSession::end_relay_in() {
  if (relayed_into_ > 0) --relayed_into_;
  if (relayed_into_ == 0) first_packet_ = true;  // our own stream resumes: marker bit
}

void RtpSession::send_relayed(const RtpHeader& in, std::span<const std::uint8_t> payload,
                              bool event, bool resync) {
  if (closed_ || !params_.send || !latch_.has_peer()) return;
  if (event && !params_.telephone_event_pt) return;  // the far end takes no RFC 4733 events
  if (resync || !relay_synced_) {
    relay_synced_ = true;
    relay_seq_offset_ = static_cast<std::uint16_t>(seq_ - in.sequence);
    relay_ts_offset_ = timestamp_ - in.timestamp;
    first_packet_ = true;
  }
  RtpHeader h;
  h.ssrc = ssrc_;
  h.sequence = static_cast<std::uint16_t>(in.sequence + relay_seq_offset_);
  h.timestamp = in.timestamp + relay_ts_offset_;
  h.payload_type =
      static_cast<std::uint8_t>(event ? *params_.telephone_event_pt : params_.payload_type);
  h.marker = in.marker || (first_packet_ && !event);
  if (!event) first_packet_ = false;
  send_packet(h, payload);
  // Our own stream continues after the relayed one when the relay stops.
  if (static_cast<std::int16_t>(static_cast<std::uint16_t>(h.sequence + 1 - seq_)) > 0) {
    seq_ = static_cast<std::uint16_t>(h.sequence + 1);
  }
  if (!event) {
    const std::uint32_t end = h.timestamp + static_cast<std::uint32_t>(payload.size());
    if (static_cast<std::int32_t>(end - timestamp_) > 0) timestamp_ = end;  // G.711: 1 byte each
  }
}

void RtpSession::close() {
  if (closed_) return;
  relay_to(nullptr);
  closed_ = true;
  if (recorder_) finish_recording(RecordingEnd::kStopped);
  (void)stop_call_recording();
  taps_.clear();
  player_.stop();
  if (latch_.has_peer() && params_.send) send_rtcp(true);
  worker_.count_lost(packets_lost());
  worker_.remove(this);
  boost::system::error_code ec;
  if (rtp_fd_ >= 0) ::close(rtp_fd_);
  rtp_fd_ = -1;
  rtcp_.close(ec);
  pool_.release(local_port_);
}

void RtpSession::receive_rtp() {
  RxBatch& b = rx_batch;
  const std::uint32_t read_limit = limits_.max_packets_per_tick + kFloodReadLimit;
  std::uint32_t read = 0;
  udp::endpoint from;
  while (read < read_limit && !closed_) {
    const unsigned want = std::min<std::uint32_t>(kRxBatch, read_limit - read);
    b.prepare(want);
    const int got = ::recvmmsg(rtp_fd_, b.msgs.data(), want, MSG_DONTWAIT, nullptr);
    if (got <= 0) break;  // empty (EAGAIN), or an error that the next tick sees again
    for (unsigned k = 0; k < static_cast<unsigned>(got) && !closed_; ++k) {
      const msghdr& h = b.msgs[k].msg_hdr;
      const std::size_t len = (h.msg_flags & MSG_TRUNC) != 0
                                  ? b.data[k].size()
                                  : std::min<std::size_t>(b.msgs[k].msg_len, b.data[k].size());
      std::memcpy(from.data(), &b.from[k], std::min<std::size_t>(h.msg_namelen, from.capacity()));
      from.resize(std::min<std::size_t>(h.msg_namelen, from.capacity()));
      std::int64_t at = b.arrival_ns(k);
      if (at == 0) at = realtime_ns();
      // RTP timestamp units (8 kHz) since the session began; wraps like RTP timestamps do.
      const auto arrival = static_cast<std::uint32_t>((at - start_realtime_ns_) / 125'000);
      handle_rtp({b.data[k].data(), len}, from, arrival);
    }
    read += static_cast<std::uint32_t>(got);
    if (static_cast<unsigned>(got) < want) break;
  }
}

void RtpSession::start_receive_rtcp() {
  rtcp_.async_receive_from(
      asio::buffer(rtcp_buffer_), rtcp_from_,
      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
        if (ec == asio::error::operation_aborted || self->closed_) return;
        std::size_t size = n;
        if (!ec && self->srtp_ && !self->srtp_->unprotect_rtcp(self->rtcp_buffer_.data(), size)) {
          ++self->stats_.srtp_dropped;
        } else if (!ec) {
          self->handle_rtcp({self->rtcp_buffer_.data(), size}, self->rtcp_from_, false);
        }
        if (!self->closed_) self->start_receive_rtcp();
      });
}

void RtpSession::deliver(const DtmfUpdates& updates, bool inband) {
  for (const DtmfUpdate& u : updates) {
    const bool begin = u.kind == DtmfUpdate::Kind::kBegin;
    if (begin) {
      player_.barge_in();
      if (recorder_) {
        if (auto end = recorder_->digit(u.digit)) finish_recording(*end);
      }
    } else {
      ++stats_.dtmf_digits;
    }
    if (callbacks_.on_dtmf) callbacks_.on_dtmf({u.digit, u.duration_ms, !begin, inband});
    if (closed_) return;
  }
}

void RtpSession::handle_rtp(std::span<const std::uint8_t> data, const udp::endpoint& from,
                            std::uint32_t arrival) {
  std::size_t size = data.size();
  if (size > kMaxRtpPacketSize) {
    ++stats_.oversize;
    return;
  }
  // Before anything else, so that a stranger's packets cost a comparison and cannot use up
  // the peer's per-tick budget.
  if (!latch_.admits_rtp(from)) {
    ignore(false);
    return;
  }
  if (++packets_this_tick_ > limits_.max_packets_per_tick) {
    ++stats_.flood_dropped;
    return;
  }
  if (srtp_) {
    // Authenticated and decrypted before anything trusts it (not even the latch learns from a
    // packet that fails its tag); a replayed packet is dropped as well.
    std::memcpy(srtp_rx_.data(), data.data(), size);
    const bool ok = looks_like_rtcp(data) ? srtp_->unprotect_rtcp(srtp_rx_.data(), size)
                                          : srtp_->unprotect_rtp(srtp_rx_.data(), size);
    if (!ok) {
      ++stats_.srtp_dropped;
      return;
    }
    data = {srtp_rx_.data(), size};
  }
  if (looks_like_rtcp(data)) {  // rtcp-mux peers
    handle_rtcp(data, from, true);
    return;
  }
  RtpPacketView packet;
  if (parse_rtp(data, packet) != RtpParseError::kNone) {
    ++stats_.malformed;
    return;
  }
  const RtpHeader& h = packet.header;
  const bool is_audio = h.payload_type == params_.payload_type;
  const bool is_event = params_.telephone_event_pt && h.payload_type == *params_.telephone_event_pt;
  if (!is_audio && !is_event) {
    ++stats_.unknown_payload_type;
    if (!std::exchange(told_payload_type_, true)) {
      // Once per call: keys sent as RFC 4733 events by a peer whose SDP offered no
      // telephone-event are dropped here, which is otherwise invisible.
      spdlog::info(
          "call {}: RTP payload type {} was not negotiated (the SDP agreed on {}{}): its packets "
          "are ignored; to send keys as RFC 4733 events, offer telephone-event/8000",
          log_name_.empty() ? "?" : log_name_, static_cast<int>(h.payload_type),
          static_cast<int>(params_.payload_type),
          params_.telephone_event_pt ? " and events " + std::to_string(*params_.telephone_event_pt)
                                     : " and no telephone-event");
    }
    return;
  }
  // Only a packet that is plausibly the peer's stream can make its source the peer.
  if (latch_.learning() && latch_.on_rtp(from)) ++stats_.latched;
  const auto verdict = ssrc_lock_.check(h.ssrc);
  if (verdict == SsrcLock::Verdict::kReject) {
    ++stats_.wrong_ssrc;
    return;
  }
  if (verdict == SsrcLock::Verdict::kNewSource) {
    if (remote_ssrc_ != 0 || stats_.received > 0) {
      lost_before_ += static_cast<std::uint64_t>(std::max(0, sequence_.cumulative_lost()));
      sequence_ = SequenceTracker{};
      dtmf_rx_ = TelephoneEventReceiver{};
    }
    remote_ssrc_ = h.ssrc;
    relay_resync_ = true;
  }
  const bool had_max = sequence_.valid();
  const std::uint32_t max_before = sequence_.extended_max();
  const auto extended = sequence_.update(h.sequence);
  if (!extended) {
    ++stats_.bad_sequence;
    return;
  }
  ++stats_.received;
  stats_.received_bytes += size;
  const bool late = had_max && *extended < max_before;
  if (late) ++stats_.late;
  worker_.count_received(size, late);
  sequence_.update_jitter(arrival, h.timestamp);
  if (!params_.receive) return;
  if (auto to = relay_to_.lock()) {
    to->send_relayed(h, packet.payload, is_event, std::exchange(relay_resync_, false));
  }
  if (is_event) {
    deliver(dtmf_rx_.on_packet(h.timestamp, packet.payload), false);
    return;
  }
  if (!jitter_ && !inband_) return;  // nobody listens to the audio itself (a relay)
  const std::size_t n = std::min(packet.payload.size(), decoded_.size());
  decode(params_.codec, packet.payload.first(n), decoded_);
  const std::span<const std::int16_t> pcm(decoded_.data(), n);
  if (inband_) deliver(inband_->process(pcm), true);
  if (jitter_) {
    for (std::size_t off = 0; off + kJitterFrame <= n; off += kJitterFrame) {
      jitter_->push(h.timestamp + static_cast<std::uint32_t>(off), pcm.subspan(off, kJitterFrame));
    }
  }
}

void RtpSession::ignore(bool rtcp) {
  ++(rtcp ? stats_.rtcp_ignored : stats_.ignored);
  worker_.count_ignored(rtcp);
}

void RtpSession::handle_rtcp(std::span<const std::uint8_t> data, const udp::endpoint& from,
                             bool muxed) {
  // Muxed RTCP already passed admits_rtp: what is ignored here is counted as RTCP.
  if (!latch_.admits_rtcp(from, muxed)) {
    ignore(!muxed);
    return;
  }
  auto parsed = parse_rtcp(data);
  if (!parsed) {
    ++stats_.rtcp_malformed;
    return;
  }
  ++stats_.rtcp_received;
  for (const auto& r : parsed->reports) {
    if (r.sender && r.ssrc == remote_ssrc_) {
      last_sr_middle_ = ntp_middle(r.info.ntp_timestamp);
      last_sr_at_ = std::chrono::steady_clock::now();
    }
  }
  for (std::uint32_t s : parsed->byes) {
    if (s == remote_ssrc_ && remote_ssrc_ != 0 && callbacks_.on_peer_bye) {
      callbacks_.on_peer_bye();
      return;
    }
  }
}

void RtpSession::send_packet(const RtpHeader& header, std::span<const std::uint8_t> payload) {
  std::size_t n = serialize_rtp(header, payload, {tx_buffer_.data(), kMaxRtpPacketSize});
  if (srtp_ && !srtp_->protect_rtp(tx_buffer_.data(), n)) {
    ++stats_.send_errors;
    return;
  }
  const udp::endpoint& to = latch_.rtp_peer();
  if (::sendto(rtp_fd_, tx_buffer_.data(), n, MSG_DONTWAIT, to.data(), to.size()) < 0) {
    ++stats_.send_errors;
    return;
  }
  ++stats_.sent;
  stats_.sent_bytes += n;
  worker_.count_sent(n);
}

std::uint64_t RtpSession::packets_lost() const {
  return lost_before_ + static_cast<std::uint64_t>(std::max(0, sequence_.cumulative_lost()));
}

void RtpSession::send_rtcp(bool bye) {
  if (!latch_.has_peer()) return;
  RtcpReport report;
  report.sender = stats_.sent > 0;
  report.ssrc = ssrc_;
  const auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  report.info.ntp_timestamp = ntp_from_unix_us(now_us);
  report.info.rtp_timestamp = timestamp_;
  report.info.packet_count = static_cast<std::uint32_t>(stats_.sent);
  report.info.octet_count =
      static_cast<std::uint32_t>(stats_.sent_bytes - stats_.sent * kRtpHeaderSize);
  if (remote_ssrc_ != 0 && sequence_.valid()) {
    ReportBlock b;
    b.ssrc = remote_ssrc_;
    b.fraction_lost = sequence_.fraction_lost_interval();
    b.cumulative_lost = sequence_.cumulative_lost();
    b.highest_sequence = sequence_.extended_max();
    b.jitter = sequence_.jitter();
    b.last_sr = last_sr_middle_;
    if (last_sr_middle_ != 0) {
      const auto since = std::chrono::steady_clock::now() - last_sr_at_;
      b.delay_since_last_sr = static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(since).count() * 65536 / 1000000);
    }
    report.blocks.push_back(b);  // RTCP every 5 s: this allocation is not per packet
  }
  std::array<std::uint8_t, 256 + kSrtpMaxTrailer> buf{};
  std::size_t n = build_rtcp(report, "switchboard", std::span(buf).first(256), bye);
  if (srtp_ && !srtp_->protect_rtcp(buf.data(), n)) return;
  boost::system::error_code ec;
  rtcp_.send_to(asio::buffer(buf.data(), n), latch_.rtcp_peer(), 0, ec);
  if (!ec) ++stats_.rtcp_sent;
}

void RtpSession::on_tick(std::chrono::steady_clock::time_point, std::uint32_t) {
  if (closed_) return;
  if (relayed_into_ > 0) {  // our stream is the relayed one
    tick_out_.fill(0);
    return;
  }
  auto self = shared_from_this();  // a callback below may drop the owner's reference
  player_.fill(tick_out_);
  if (closed_) return;  // a playback-done callback closed the session

  // Packetise at the negotiated ptime: ptime 10 sends two packets per tick, 40 one every two.
  const std::size_t frame = static_cast<std::size_t>(params_.ptime) * 8;
  std::copy(tick_out_.begin(), tick_out_.end(),
            tx_pcm_.begin() + static_cast<std::ptrdiff_t>(tx_pcm_fill_));
  tx_pcm_fill_ += kTickSamples;
  while (tx_pcm_fill_ >= frame) {
    const bool can_send = params_.send && latch_.has_peer();
    if (!dtmf_tx_.busy() && dtmf_gap_samples_ == 0 && !digits_to_send_.empty()) {
      dtmf_tx_.start(digits_to_send_.front(), limits_.dtmf_duration_ms * 8);
      digits_to_send_.erase(0, 1);
      dtmf_start_ts_ = timestamp_;
    }
    RtpHeader h;
    h.ssrc = ssrc_;
    if (dtmf_tx_.busy()) {
      auto p = dtmf_tx_.next();
      if (!dtmf_tx_.busy()) dtmf_gap_samples_ = 800;  // 100 ms before the next digit
      h.payload_type = static_cast<std::uint8_t>(*params_.telephone_event_pt);
      h.marker = p->marker;
      h.timestamp = dtmf_start_ts_ + p->timestamp_offset;
      h.sequence = seq_;
      if (can_send) {
        ++seq_;
        send_packet(h, p->payload);
      }
    } else {
      dtmf_gap_samples_ -=
          std::min<std::uint32_t>(dtmf_gap_samples_, static_cast<std::uint32_t>(frame));
      encode(params_.codec, {tx_pcm_.data(), frame}, encoded_);
      h.payload_type = static_cast<std::uint8_t>(params_.payload_type);
      h.marker = first_packet_;
      h.timestamp = timestamp_;
      h.sequence = seq_;
      if (can_send) {
        first_packet_ = false;
        ++seq_;
        send_packet(h, {encoded_.data(), frame});
      }
    }
    timestamp_ += static_cast<std::uint32_t>(frame);
    std::copy(tx_pcm_.begin() + static_cast<std::ptrdiff_t>(frame),
              tx_pcm_.begin() + static_cast<std::ptrdiff_t>(tx_pcm_fill_), tx_pcm_.begin());
    tx_pcm_fill_ -= frame;
  }
}

void RtpSession::on_tick_done(std::chrono::steady_clock::time_point, std::uint32_t elapsed_ms) {
  if (closed_) return;
  auto self = shared_from_this();  // a callback below may drop the owner's reference
  // What arrived since the last tick, then the digit timeout that it may have refreshed.
  packets_this_tick_ = 0;
  receive_rtp();
  if (closed_) return;
  deliver(dtmf_rx_.tick(elapsed_ms), false);
  if (closed_) return;
  if (jitter_) {
    jitter_->pop({tick_in_.data(), kJitterFrame});
    jitter_->pop({tick_in_.data() + kJitterFrame, kJitterFrame});
    // By index: a tap may remove itself (or another) from its callback; the next one is then
    // where it was.
    for (std::size_t i = 0; i < taps_.size();) {
      const auto tap = taps_[i];
      tap->on_audio(tick_in_, tick_out_);
      if (closed_) return;
      if (i < taps_.size() && taps_[i] == tap) ++i;
    }
    if (call_recorder_) (void)call_recorder_->write(tick_in_, tick_out_);  // no limits to end it
    if (recorder_) {
      if (auto end = recorder_->write(tick_in_, tick_out_)) finish_recording(*end);
    }
  }
  rtcp_elapsed_ms_ += elapsed_ms;
  if (rtcp_elapsed_ms_ >= rtcp_due_ms_) {
    rtcp_elapsed_ms_ = 0;
    rtcp_due_ms_ = randomized_interval(limits_.rtcp_interval_ms);
    if (params_.send || params_.receive) send_rtcp(false);
  }
}

}  // namespace sb::media
