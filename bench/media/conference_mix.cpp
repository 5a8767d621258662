// What conferences cost the media engine, run as the daemon runs them: each conference's
// ConferenceMixer ticks on its home worker (conferences spread round-robin over W workers, one
// io_context + MediaWorker each, every mixer registered after the worker's sessions so that they
// have read their packets first), and each participant's audio goes through its MixerPort's tap
// and source on the participant's own worker (participants spread over all workers, so half of
// a conference's rings cross threads on 2 workers). Every participant sends a tone all the time.
//
// Per row: the workers' CPU (thread time) per participant-second, in all and in the mixing pass
// alone; the duration of that pass (on_tick_done of every mixer of a worker) and of the whole
// tick; the tick's lateness (timer wake-up after its deadline) and the ticks MediaWorker skipped;
// the mixers' underruns (uplink frame missing) and overruns (downlink full), and the share of
// frames participants heard as silence (their downlink was empty).
//
//   bench_media_conference_mix [--mode mixer|rtp] [--conferences 50,100,200] [--size 10]
//                              [--single 250] [--seconds 5] [--workers 2] [--realtime]
//
// --mode mixer (default): a participant is a stand-in for its RtpSession that does what the
//   session does with the port each tick and nothing else: its Player reads the port's source
//   in on_tick, its taps get 20 ms of inbound audio in on_tick_done.
// --mode rtp: a participant is a real RtpSession on loopback (RFC 4733 negotiated, as phones do,
//   so no in-band DTMF detection) playing the port's source and tapped by the port, fed 50
//   packets/s of PCMU by a load generator on the main thread (sendmmsg, four groups 5 ms apart),
//   which also reads what the sessions send (under --realtime it runs SCHED_FIFO too, below the
//   workers: the callers are other machines, and a starved generator would show as silence).
// --single N adds a row with one conference of N participants; without --conferences and
// --single, the rows are 50, 100 and 200 conferences of 10 and one of 250.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "media/conference_mixer.hpp"
#include "media/g711.hpp"
#include "media/rtp_packet.hpp"
#include "media/rtp_session.hpp"

namespace asio = boost::asio;
using udp = asio::ip::udp;
using SteadyClock = std::chrono::steady_clock;
using sb::media::AudioSource;
using sb::media::ConferenceMixer;
using sb::media::kMixFrame;
using sb::media::MediaWorker;
using sb::media::MixerPort;
using sb::media::PacedStream;
using sb::media::RtpSession;

namespace {

constexpr double kWarmupSeconds = 1.0;
constexpr std::size_t kVoices = 24;  // distinct tones, shared by the participants

// 1 µs buckets up to 100 ms.
struct Histogram {
  static constexpr double kPerUs = 1.0;
  std::vector<std::uint64_t> buckets = std::vector<std::uint64_t>(100001);
  std::uint64_t count = 0;
  void add(SteadyClock::duration d) {
    const double us = std::chrono::duration<double, std::micro>(d).count();
    const auto b = static_cast<std::size_t>(
        std::clamp(us * kPerUs, 0.0, static_cast<double>(buckets.size() - 1)));
    ++buckets[b];
    ++count;
  }
  void merge(const Histogram& o) {
    for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += o.buckets[i];
    count += o.count;
  }
  double percentile(double p) const {
    if (count == 0) return 0;
    const auto target = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      seen += buckets[i];
      if (seen >= target) return static_cast<double>(i) / kPerUs;
    }
    return static_cast<double>(buckets.size() - 1) / kPerUs;
  }
  std::uint64_t above(double us) const {
    std::uint64_t n = 0;
    for (auto i = static_cast<std::size_t>(us * kPerUs) + 1; i < buckets.size(); ++i) {
      n += buckets[i];
    }
    return n;
  }
  double max() const {
    for (std::size_t i = buckets.size(); i-- > 0;) {
      if (buckets[i]) return static_cast<double>(i) / kPerUs;
    }
    return 0;
  }
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// One second of a tone (a whole number of cycles, so it loops without a click).
std::vector<std::int16_t> tone_of(std::size_t k) {
  std::vector<std::int16_t> v(8000);
  const double hz = 200.0 + 25.0 * static_cast<double>(k);
  for (std::size_t i = 0; i < v.size(); ++i) {
    v[i] =
        static_cast<std::int16_t>(3000 * std::sin(2 * M_PI * hz * static_cast<double>(i) / 8000));
  }
  return v;
}

// What one worker's participants heard, counted on that worker's thread.
struct Heard {
  std::uint64_t frames = 0;
  std::uint64_t silent = 0;
  std::uint64_t sent = 0;         // frames the participants' sessions gave their taps
  std::uint64_t sent_silent = 0;  // of which silence: the peer's packet had not arrived
};

// The port's downlink as the participant's session plays it, counting the frames that were
// silence (no mix in the downlink: it came late or not at all; a mix of tones is never silent).
class CountingSource final : public AudioSource {
 public:
  CountingSource(std::unique_ptr<AudioSource> inner, Heard& heard)
      : inner_(std::move(inner)), heard_(heard) {}
  std::size_t read(std::span<std::int16_t> out) override {
    const std::size_t n = inner_->read(out);
    ++heard_.frames;
    if (std::all_of(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n),
                    [](std::int16_t s) { return s == 0; })) {
      ++heard_.silent;
    }
    return n;
  }
  void rewind() override { inner_->rewind(); }

 private:
  std::unique_ptr<AudioSource> inner_;
  Heard& heard_;
};

// The port's tap as the participant's session feeds it, counting the frames of inbound audio that
// were silence (in --mode rtp: the jitter buffer had nothing, the generator's packet came late).
class CountingTap final : public sb::media::AudioTap {
 public:
  CountingTap(std::shared_ptr<sb::media::AudioTap> inner, Heard& heard)
      : inner_(std::move(inner)), heard_(heard) {}
  void on_audio(std::span<const std::int16_t> inbound,
                std::span<const std::int16_t> outbound) override {
    ++heard_.sent;
    if (std::all_of(inbound.begin(), inbound.end(), [](std::int16_t s) { return s == 0; })) {
      ++heard_.sent_silent;
    }
    inner_->on_audio(inbound, outbound);
  }

 private:
  std::shared_ptr<sb::media::AudioTap> inner_;
  Heard& heard_;
};

// --mode mixer: what a participant's RtpSession does with its MixerPort each tick, without the
// network: the Player reads the port's source in on_tick, the taps hear the inbound audio (here
// the participant's tone) in on_tick_done.
class StandInParticipant final : public PacedStream {
 public:
  StandInParticipant(const std::shared_ptr<MixerPort>& port, const std::vector<std::int16_t>& voice,
                     Heard& heard)
      : tap_(std::make_shared<CountingTap>(port->tap(), heard)),
        source_(std::make_unique<CountingSource>(port->source(), heard)),
        voice_(voice) {}
  void on_tick(SteadyClock::time_point, std::uint32_t) override { source_->read(out_); }
  void on_tick_done(SteadyClock::time_point, std::uint32_t) override {
    tap_->on_audio(std::span(voice_).subspan(pos_, kMixFrame), out_);
    pos_ = (pos_ + kMixFrame) % voice_.size();
  }

 private:
  std::shared_ptr<sb::media::AudioTap> tap_;
  std::unique_ptr<AudioSource> source_;
  const std::vector<std::int16_t>& voice_;
  std::size_t pos_ = 0;
  std::array<std::int16_t, kMixFrame> out_{};
};

// A measuring point among a worker's streams.
class Hook final : public PacedStream {
 public:
  std::function<void(SteadyClock::time_point)> tick, done;
  void on_tick(SteadyClock::time_point now, std::uint32_t) override {
    if (tick) tick(now);
  }
  void on_tick_done(SteadyClock::time_point now, std::uint32_t) override {
    if (done) done(now);
  }
};

// A worker's counters at one edge of the measuring window, read on its thread.
struct Snapshot {
  SteadyClock::time_point at;
  double cpu_s = 0;
  std::uint64_t underruns = 0, overruns = 0, late_ticks = 0, ticks = 0;
  Heard heard;
};

struct Worker {
  asio::io_context io{1};
  std::unique_ptr<MediaWorker> media;
  std::vector<std::shared_ptr<ConferenceMixer>> mixers;  // homed here
  std::vector<std::unique_ptr<StandInParticipant>> stand_ins;
  std::vector<std::shared_ptr<RtpSession>> sessions;
  Heard heard;
  // Registered first, before the mixers and last: the window's edges, the tick's lateness and
  // duration; the mixing pass's duration and thread time.
  Hook tick_start, mix_start, mix_end;
  Histogram lateness, mix, mix_cpu, tick;
  double mix_cpu_s = 0;
  double mix_cpu_began = 0;
  SteadyClock::time_point tick_began, mix_began;
  bool measuring = false;
  bool measured = false;
  Snapshot first, last;
  std::atomic<bool> finished{false};  // `last` taken
  std::atomic<bool> stop{false};
  std::thread thread;

  Snapshot snapshot() const {
    Snapshot s;
    s.at = SteadyClock::now();
    s.cpu_s = thread_cpu_seconds();
    for (const auto& m : mixers) {
      s.underruns += m->stats().underruns;
      s.overruns += m->stats().overruns;
    }
    s.late_ticks = media->stats().late_ticks;
    s.ticks = media->stats().ticks;
    s.heard = heard;
    return s;
  }

  // phase: 0 warm-up, 1 measuring, 2 done.
  void instrument(const std::atomic<int>& phase) {
    tick_start.tick = [this, &phase](SteadyClock::time_point scheduled) {
      const auto now = SteadyClock::now();
      const int p = phase.load(std::memory_order_relaxed);
      if (p >= 1 && !measuring && !measured) {
        first = snapshot();
        measuring = true;
      } else if (p >= 2 && measuring) {
        last = snapshot();
        measuring = false;
        measured = true;
        finished.store(true);
      }
      if (measuring) lateness.add(now - scheduled);
      tick_began = now;
    };
    mix_start.done = [this](SteadyClock::time_point) {
      if (!measuring) return;
      mix_began = SteadyClock::now();
      mix_cpu_began = thread_cpu_seconds();
    };
    mix_end.done = [this](SteadyClock::time_point) {
      if (!measuring) return;
      const auto now = SteadyClock::now();
      const double cpu = thread_cpu_seconds() - mix_cpu_began;
      mix_cpu_s += cpu;
      tick.add(now - tick_began);
      if (mixers.empty()) return;  // a worker homing no conference has no pass to time
      mix_cpu.add(
          std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(cpu)));
      mix.add(now - mix_began);
    };
  }
};

// --mode rtp: one G.711 packet to every session every 20 ms from kPeerSockets sockets, in kSlots
// groups spread over the interval (real callers are not phase-aligned), with sendmmsg so that
// the generator stays cheaper than the engine it feeds; what the sessions send is read and
// counted.
class LoadGenerator {
 public:
  static constexpr std::size_t kPeerSockets = 64;
  static constexpr std::size_t kSlots = 4;
  static constexpr unsigned kBatch = 64;

  explicit LoadGenerator(asio::io_context& io) {
    for (std::size_t i = 0; i < kPeerSockets; ++i) {
      sockets_.emplace_back(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      sockets_.back().non_blocking(true);
      sockets_.back().set_option(asio::socket_base::receive_buffer_size(4 << 20));
      sockets_.back().set_option(asio::socket_base::send_buffer_size(4 << 20));
    }
    // Each tone encoded once, 50 packets a second of it.
    for (std::size_t k = 0; k < kVoices; ++k) {
      const auto pcm = tone_of(k);
      encoded_.emplace_back(pcm.size());
      sb::media::encode(sb::media::Codec::kPcmu, pcm, encoded_.back());
    }
  }

  std::uint16_t peer_port(std::size_t session) const {
    return sockets_[session % kPeerSockets].local_endpoint().port();
  }

  // Call once every session is known, before the first step.
  void set_sessions(const std::vector<std::uint16_t>& ports) {
    const std::size_t n = ports.size();
    addr_.resize(n);
    seq_.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      addr_[i] = {};
      addr_[i].sin_family = AF_INET;
      addr_[i].sin_port = htons(ports[i]);
      addr_[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    }
    feeds_.assign(kSlots, std::vector<std::vector<std::size_t>>(kPeerSockets));
    for (std::size_t i = 0; i < n; ++i) {
      feeds_[(i / kPeerSockets) % kSlots][i % kPeerSockets].push_back(i);
    }
    tx_.resize(n);
    tx_iov_.resize(n);
    tx_msgs_.resize(n);
  }

  // One slot's packets (a quarter of the sessions), then whatever has arrived.
  void step(std::uint64_t step) {
    const std::size_t slot = step % kSlots;
    const auto round = static_cast<std::uint32_t>(step / kSlots);
    for (std::size_t sock = 0; sock < kPeerSockets; ++sock) {
      const auto& ids = feeds_[slot][sock];
      for (std::size_t k = 0; k < ids.size(); ++k) {
        const std::size_t i = ids[k];
        sb::media::RtpHeader h;
        h.sequence = seq_[i]++;
        h.timestamp = round * kMixFrame;
        h.ssrc = static_cast<std::uint32_t>(i + 1);
        const auto& tone = encoded_[i % kVoices];
        const std::size_t at = (round % 50) * kMixFrame;
        const std::size_t len =
            sb::media::serialize_rtp(h, std::span(tone).subspan(at, kMixFrame), tx_[k]);
        tx_iov_[k] = {tx_[k].data(), len};
        tx_msgs_[k] = {};
        tx_msgs_[k].msg_hdr.msg_iov = &tx_iov_[k];
        tx_msgs_[k].msg_hdr.msg_iovlen = 1;
        tx_msgs_[k].msg_hdr.msg_name = &addr_[i];
        tx_msgs_[k].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      }
      for (std::size_t off = 0; off < ids.size();) {
        const int n = sendmmsg(sockets_[sock].native_handle(), tx_msgs_.data() + off,
                               static_cast<unsigned>(ids.size() - off), MSG_DONTWAIT);
        if (n <= 0) break;  // a full buffer: lost, and seen in the sessions' counts
        off += static_cast<std::size_t>(n);
        sent += static_cast<std::uint64_t>(n);
      }
    }
    drain();
  }

  void drain() {
    for (auto& sock : sockets_) {
      for (int calls = 0; calls < 1000; ++calls) {
        std::array<mmsghdr, kBatch> msgs{};
        std::array<iovec, kBatch> iov{};
        for (unsigned k = 0; k < kBatch; ++k) {
          iov[k] = {rx_[k].data(), rx_[k].size()};
          msgs[k].msg_hdr.msg_iov = &iov[k];
          msgs[k].msg_hdr.msg_iovlen = 1;
        }
        const int got = recvmmsg(sock.native_handle(), msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
        if (got <= 0) break;
        received += static_cast<std::uint64_t>(got);
        if (got < static_cast<int>(kBatch)) break;
      }
    }
  }

  std::uint64_t sent = 0;
  std::uint64_t received = 0;

 private:
  std::vector<udp::socket> sockets_;
  std::vector<std::vector<std::uint8_t>> encoded_;
  std::vector<sockaddr_in> addr_;
  std::vector<std::uint16_t> seq_;
  std::vector<std::vector<std::vector<std::size_t>>> feeds_;  // [slot][socket] -> sessions
  std::vector<std::array<std::uint8_t, 200>> tx_;
  std::vector<iovec> tx_iov_;
  std::vector<mmsghdr> tx_msgs_;
  std::array<std::array<std::uint8_t, 256>, kBatch> rx_{};
};

struct Options {
  bool rtp = false;
  int workers = 2;
  double seconds = 5;
  bool realtime = false;
};

struct Result {
  std::size_t conferences = 0, size = 0;
  double wall_s = 0, cpu_s = 0, mix_cpu_s = 0, generator_cpu_s = 0;
  Histogram lateness, mix, mix_cpu, tick;
  std::uint64_t late_ticks = 0, underruns = 0, overruns = 0, mixer_ticks = 0;
  Heard heard;
  std::uint64_t rtp_to_sessions = 0, rtp_received = 0, rtp_sent = 0, rtp_from_sessions = 0;
};

Result run(std::size_t conferences, std::size_t size, const Options& opt) {
  Result r;
  r.conferences = conferences;
  r.size = size;
  const auto workers_n = static_cast<std::size_t>(opt.workers);
  std::atomic<int> phase{0};
  std::vector<std::vector<std::int16_t>> voices;
  for (std::size_t k = 0; k < kVoices; ++k) voices.push_back(tone_of(k));

  sb::media::PortPool pool(20000, 39999);  // outlives the sessions
  std::vector<std::unique_ptr<Worker>> workers;
  for (std::size_t w = 0; w < workers_n; ++w) {
    auto wk = std::make_unique<Worker>();
    wk->media = std::make_unique<MediaWorker>(wk->io.get_executor());
    wk->instrument(phase);
    wk->media->add(&wk->tick_start);
    workers.push_back(std::move(wk));
  }
  asio::io_context generator_io;
  std::unique_ptr<LoadGenerator> generator;
  std::vector<std::uint16_t> session_ports;
  if (opt.rtp) generator = std::make_unique<LoadGenerator>(generator_io);

  // Nothing runs yet, so the main thread may do what the home and participants' threads would.
  std::size_t participant = 0;
  for (std::size_t c = 0; c < conferences; ++c) {
    Worker& home = *workers[c % workers_n];
    auto mixer = std::make_shared<ConferenceMixer>();
    mixer->set_active(true);
    for (std::size_t j = 0; j < size; ++j, ++participant) {
      Worker& wk = *workers[(c + j) % workers_n];
      auto port = mixer->add_port();
      const auto& tone = voices[participant % kVoices];
      if (!opt.rtp) {
        wk.stand_ins.push_back(std::make_unique<StandInParticipant>(port, tone, wk.heard));
        wk.media->add(wk.stand_ins.back().get());
        continue;
      }
      sb::media::SessionParams p;
      p.remote_address = "127.0.0.1";
      p.remote_port = generator->peer_port(participant);
      p.telephone_event_pt = 101;
      auto s = RtpSession::open(*wk.media, pool, "127.0.0.1", p, {});
      if (!s) {
        std::fprintf(stderr, "session %zu: %s\n", participant, s.error().message.c_str());
        std::exit(1);
      }
      (*s)->play(std::make_unique<CountingSource>(port->source(), wk.heard));
      (*s)->add_tap(std::make_shared<CountingTap>(port->tap(), wk.heard));
      session_ports.push_back((*s)->local_port());
      wk.sessions.push_back(std::move(*s));
    }
    home.mixers.push_back(std::move(mixer));
  }
  if (generator) generator->set_sessions(session_ports);
  for (auto& wk : workers) {
    wk->media->add(&wk->mix_start);
    for (auto& m : wk->mixers) wk->media->add(m.get());
    wk->media->add(&wk->mix_end);
  }

  for (auto& wk : workers) {
    wk->media->start();
    Worker* raw = wk.get();
    raw->thread = std::thread([raw, realtime = opt.realtime] {
      pthread_setname_np(pthread_self(), "media-worker");
      if (realtime) {
        if (auto s = sb::media::use_realtime_scheduling(); !s) {
          std::fprintf(stderr, "%s; running at normal priority\n", s.error().message.c_str());
        }
      }
      auto guard = asio::make_work_guard(raw->io);
      while (!raw->stop.load()) raw->io.run_for(std::chrono::milliseconds(50));
      raw->media->stop();
      for (auto& s : raw->sessions) s->close();
      raw->io.restart();
      raw->io.poll();
    });
  }

  // The clock of the run: warm-up, the window, then until every worker has closed its window
  // (at most 2 s more). In rtp mode the generator sends every 5 ms throughout.
  const auto start = SteadyClock::now();
  const auto measure_at = start + std::chrono::duration_cast<SteadyClock::duration>(
                                      std::chrono::duration<double>(kWarmupSeconds));
  const auto end_at = measure_at + std::chrono::duration_cast<SteadyClock::duration>(
                                       std::chrono::duration<double>(opt.seconds));
  const auto give_up_at = end_at + std::chrono::seconds(2);
  if (generator && opt.realtime) {
    // The callers are other machines: under --realtime the generator is not starved either
    // (below the workers' priority, so it never delays a tick).
    if (auto s = sb::media::use_realtime_scheduling(5); !s) {
      std::fprintf(stderr, "generator: %s\n", s.error().message.c_str());
    }
  }
  double generator_cpu_start = 0;
  auto next = start;
  for (std::uint64_t step = 0;; ++step) {
    const auto now = SteadyClock::now();
    if (now >= measure_at && phase.load() == 0) {
      phase = 1;
      generator_cpu_start = thread_cpu_seconds();
    }
    if (now >= end_at && phase.load() == 1) {
      phase = 2;
      r.generator_cpu_s = thread_cpu_seconds() - generator_cpu_start;
    }
    const bool all_finished = std::all_of(workers.begin(), workers.end(),
                                          [](const auto& wk) { return wk->finished.load(); });
    if ((phase.load() == 2 && all_finished) || now >= give_up_at) break;
    if (generator) generator->step(step);
    next += std::chrono::milliseconds(20) / LoadGenerator::kSlots;
    std::this_thread::sleep_until(next);
  }
  if (generator && opt.realtime) {
    const sched_param normal{};
    pthread_setschedparam(pthread_self(), SCHED_OTHER, &normal);
  }
  if (generator) {
    // Let the sessions read the last packets and the generator what they sent.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& wk : workers) wk->stop = true;
  for (auto& wk : workers) wk->thread.join();
  if (generator) generator->drain();

  double wall_sum = 0;
  std::size_t measured = 0;
  for (auto& wk : workers) {
    if (!wk->finished.load()) {
      std::fprintf(stderr, "a worker did not close its window in time (starved?)\n");
      continue;
    }
    ++measured;
    const Snapshot& a = wk->first;
    const Snapshot& b = wk->last;
    wall_sum += std::chrono::duration<double>(b.at - a.at).count();
    r.cpu_s += b.cpu_s - a.cpu_s;
    r.mix_cpu_s += wk->mix_cpu_s;
    r.late_ticks += b.late_ticks - a.late_ticks;
    r.underruns += b.underruns - a.underruns;
    r.overruns += b.overruns - a.overruns;
    r.heard.frames += b.heard.frames - a.heard.frames;
    r.heard.silent += b.heard.silent - a.heard.silent;
    r.heard.sent += b.heard.sent - a.heard.sent;
    r.heard.sent_silent += b.heard.sent_silent - a.heard.sent_silent;
    r.mixer_ticks += (b.ticks - a.ticks) * wk->mixers.size();
    r.lateness.merge(wk->lateness);
    r.mix.merge(wk->mix);
    r.mix_cpu.merge(wk->mix_cpu);
    r.tick.merge(wk->tick);
    for (const auto& s : wk->sessions) {
      r.rtp_received += s->stats().received;
      r.rtp_sent += s->stats().sent;
    }
  }
  r.wall_s = measured > 0 ? wall_sum / static_cast<double>(measured) : 0;
  if (generator) {
    r.rtp_to_sessions = generator->sent;
    r.rtp_from_sessions = generator->received;
  }
  return r;
}

std::vector<std::size_t> parse_list(const char* text) {
  std::vector<std::size_t> out;
  std::string s = text;
  for (std::size_t at = 0; at <= s.size();) {
    const std::size_t comma = std::min(s.find(',', at), s.size());
    out.push_back(std::strtoul(s.substr(at, comma - at).c_str(), nullptr, 10));
    at = comma + 1;
  }
  return out;
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "%s\nusage: bench_media_conference_mix [--mode mixer|rtp] [--conferences "
               "50,100,200] [--size 10] [--single 250] [--seconds 5] [--workers 2] "
               "[--realtime]\n",
               why);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  std::vector<std::size_t> conferences;
  std::size_t size = 10;
  std::size_t single = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--realtime") {
      opt.realtime = true;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    const char* v = argv[++i];
    if (a == "--mode") {
      if (std::string(v) != "mixer" && std::string(v) != "rtp") usage("--mode: mixer or rtp");
      opt.rtp = std::string(v) == "rtp";
    } else if (a == "--conferences") {
      conferences = parse_list(v);
    } else if (a == "--size") {
      size = std::strtoul(v, nullptr, 10);
    } else if (a == "--single") {
      single = std::strtoul(v, nullptr, 10);
    } else if (a == "--seconds") {
      opt.seconds = std::atof(v);
    } else if (a == "--workers") {
      opt.workers = std::atoi(v);
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (conferences.empty() && single == 0) {
    conferences = {50, 100, 200};
    single = 250;
  }
  // Bounds: every row runs at most 10 minutes, on at most 16 workers, with at most 10,000
  // participants (5,000 RTP sessions: two ports each from a pool of 20,000).
  if (!(opt.seconds > 0 && opt.seconds <= 600)) usage("--seconds: more than 0, at most 600");
  if (opt.workers < 1 || opt.workers > 16) usage("--workers: 1-16");
  const std::size_t max_participants = opt.rtp ? 5000 : 10000;
  std::vector<std::pair<std::size_t, std::size_t>> rows;
  rows.reserve(conferences.size() + 1);
  for (std::size_t c : conferences) rows.emplace_back(c, size);
  if (single > 0) rows.emplace_back(1, single);
  for (const auto& [c, n] : rows) {
    if (c < 1 || n < 1 || c * n > max_participants) {
      usage(("conferences x size: 1 to " + std::to_string(max_participants) + " participants")
                .c_str());
    }
  }
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);

  std::printf(
      "conference mixing, --mode %s: conferences round-robin over %d workers, participants over "
      "all of them, everyone sending a tone; %.0f s measured per row after %.0f s warm-up; "
      "workers %s\n",
      opt.rtp ? "rtp (RtpSessions on loopback, RFC 4733)" : "mixer (stand-in sessions)",
      opt.workers, opt.seconds, kWarmupSeconds, opt.realtime ? "SCHED_FIFO" : "at normal priority");
  std::printf(
      "cpu: the workers' thread time (%%core: of one core, summed over workers; us/p-s: per "
      "participant-second, all of it and in the mixing pass alone); mix: the mixing pass (every "
      "mixer of a worker) in wall time, mcpu: the same in the worker's thread time, tick: the "
      "whole tick, late: timer wake-up after the deadline (all in "
      "us); >20ms: ticks woken more than an interval late; skipped: ticks MediaWorker skipped "
      "(late_ticks: woken more than two intervals late); under/over: mixer underruns/overruns per "
      "1,000 port-ticks; silent: %% of frames a participant heard as silence; rtp only: tap sil: "
      "%% of inbound frames "
      "the sessions gave their taps as silence (the peer's packet was late), loss in/out: RTP "
      "packets lost to/from the sessions over the whole run, gen: the load generator's CPU\n");
  std::printf(
      "%6s %5s %6s | %6s %8s %8s | %7s %7s %7s %8s %8s | %7s %7s | %7s %7s %7s | %5s %7s | %6s %6s "
      "%7s",
      "confs", "size", "parts", "%core", "cpu us", "mix us", "mix p50", "mix p99", "mix max",
      "mcpu p99", "mcpu max", "tck p99", "tck max", "lat p50", "lat p99", "lat max", ">20ms",
      "skipped", "under", "over", "silent");
  if (opt.rtp) std::printf(" | %7s %7s %7s %7s", "tap sil", "loss in", "lossout", "gen %");
  std::printf("\n");
  for (const auto& [c, n] : rows) {
    const Result r = run(c, n, opt);
    if (r.wall_s <= 0) {
      std::printf("%6zu %5zu %6zu | no worker closed its window: starved\n", c, n, c * n);
      continue;
    }
    const double parts = static_cast<double>(c * n);
    const double port_ticks = static_cast<double>(r.mixer_ticks) * static_cast<double>(n);
    const auto per_mille = [&](std::uint64_t v) {
      return port_ticks > 0 ? 1000.0 * static_cast<double>(v) / port_ticks : 0.0;
    };
    std::printf(
        "%6zu %5zu %6zu | %5.1f%% %8.2f %8.2f | %7.0f %7.0f %7.0f %8.0f %8.0f | %7.0f %7.0f | "
        "%7.0f %7.0f "
        "%7.0f | %5llu %7llu | %6.2f %6.2f %6.2f%%",
        c, n, c * n, 100.0 * r.cpu_s / r.wall_s, 1e6 * r.cpu_s / (parts * r.wall_s),
        1e6 * r.mix_cpu_s / (parts * r.wall_s), r.mix.percentile(0.5), r.mix.percentile(0.99),
        r.mix.max(), r.mix_cpu.percentile(0.99), r.mix_cpu.max(), r.tick.percentile(0.99),
        r.tick.max(), r.lateness.percentile(0.5), r.lateness.percentile(0.99), r.lateness.max(),
        static_cast<unsigned long long>(r.lateness.above(20000)),
        static_cast<unsigned long long>(r.late_ticks), per_mille(r.underruns),
        per_mille(r.overruns),
        r.heard.frames
            ? 100.0 * static_cast<double>(r.heard.silent) / static_cast<double>(r.heard.frames)
            : 0.0);
    if (opt.rtp) {
      const auto loss = [](std::uint64_t sent, std::uint64_t got) {
        return sent ? std::max(0.0,
                               100.0 * (1.0 - static_cast<double>(got) / static_cast<double>(sent)))
                    : 0.0;
      };
      std::printf(" | %6.2f%% %6.2f%% %6.2f%% %6.1f%%",
                  r.heard.sent ? 100.0 * static_cast<double>(r.heard.sent_silent) /
                                     static_cast<double>(r.heard.sent)
                               : 0.0,
                  loss(r.rtp_to_sessions, r.rtp_received), loss(r.rtp_sent, r.rtp_from_sessions),
                  100.0 * r.generator_cpu_s / r.wall_s);
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  std::printf(
      "No peer runs in this program: no other conference bridge (Asterisk ConfBridge, "
      "FreeSWITCH mod_conference) is installed on this machine.\n");
  return 0;
}
