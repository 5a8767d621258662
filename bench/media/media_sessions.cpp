// How many concurrent G.711 sessions the media engine sustains: N RtpSessions spread over W
// worker threads (one io_context + MediaWorker each), every session playing a looped prompt
// out and receiving 50 packets/s from a loopback load generator on its own thread. Reports,
// per N: p50/p99/max deviation of send intervals from 20 ms (engine side: a probe serviced
// after every session of a worker, i.e. the worst-placed session; and peer side: arrival
// intervals per session, stamped by the kernel on arrival), packets lost, and engine CPU per
// session (the workers' thread CPU time, which includes the kernel's loopback delivery of what
// they send).
//
//   bench_media_sessions [--sessions 1000,2000,5000] [--seconds 10] [--workers 2]
//                        [--telephone-event]   (negotiate RFC 4733: no in-band DTMF detection)
//                        [--realtime]          (worker threads SCHED_FIFO, as media servers run)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "media/rtp_session.hpp"
#include "support/fake_paced_stream.hpp"

namespace asio = boost::asio;
using udp = asio::ip::udp;
using SteadyClock = std::chrono::steady_clock;
using sb::media::RtpSession;

namespace {

// Deviation histogram, 1 µs buckets up to 100 ms.
struct Histogram {
  std::vector<std::uint64_t> buckets = std::vector<std::uint64_t>(100001);
  std::uint64_t count = 0;
  void add(double dev_us) {
    const auto b = static_cast<std::size_t>(std::min(std::abs(dev_us), 100000.0));
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
      if (seen >= target) return static_cast<double>(i);
    }
    return 100000;
  }
  double max() const {
    for (std::size_t i = buckets.size(); i-- > 0;) {
      if (buckets[i]) return static_cast<double>(i);
    }
    return 0;
  }
};

// Serviced after every session of its worker: when it runs, the last session has sent. It
// histograms the deviation of its own tick intervals from 20 ms while `measuring`.
struct Probe {
  sb::testing::FakePacedStream stream;
  Histogram hist;
  SteadyClock::time_point last{};

  void measure(const std::atomic<bool>& measuring) {
    stream.during = [this, &measuring](SteadyClock::time_point) {
      const auto now = SteadyClock::now();
      if (measuring.load(std::memory_order_relaxed) && last != SteadyClock::time_point{}) {
        hist.add(std::chrono::duration<double, std::micro>(now - last).count() - 20000.0);
      }
      last = now;
    };
  }
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

struct Worker {
  asio::io_context io{1};
  std::unique_ptr<sb::media::MediaWorker> media;
  std::vector<std::shared_ptr<RtpSession>> sessions;
  Probe probe;
  std::thread thread;
  double cpu_start = 0, cpu_end = 0;
  std::atomic<bool> mark_start{false}, mark_end{false};
};

struct Result {
  std::size_t sessions = 0;
  Histogram engine, peer;
  double engine_cpu_s = 0, peer_cpu_s = 0, wall_s = 0;
  std::uint64_t sent = 0, received_engine = 0, received_peer = 0, expected_peer = 0;
  std::uint64_t send_errors = 0, late_ticks = 0;
};

Result run(std::size_t n, int workers_n, double seconds, bool telephone_event, bool realtime) {
  Result r;
  r.sessions = n;
  std::atomic<bool> measuring{false};
  std::vector<std::unique_ptr<Worker>> workers;
  sb::media::PortPool pool(20000, 39999);
  // Load generator sockets: sessions are spread over them.
  asio::io_context peer_io;
  constexpr std::size_t kPeerSockets = 64;
  std::vector<udp::socket> peers;
  for (std::size_t i = 0; i < kPeerSockets; ++i) {
    peers.emplace_back(peer_io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    peers.back().non_blocking(true);
    peers.back().set_option(asio::socket_base::receive_buffer_size(4 << 20));
  }
  // A looped 1 s prompt (a chord, so it is not digital silence).
  auto prompt = std::make_shared<std::vector<std::int16_t>>(8000);
  for (std::size_t i = 0; i < prompt->size(); ++i) {
    (*prompt)[i] = static_cast<std::int16_t>(6000 * std::sin(2 * M_PI * 440 * i / 8000.0) +
                                             4000 * std::sin(2 * M_PI * 660 * i / 8000.0));
  }
  std::vector<std::uint16_t> session_ports(n);
  std::vector<int> index_of_port(65536, -1);
  for (int w = 0; w < workers_n; ++w) {
    auto wk = std::make_unique<Worker>();
    wk->media = std::make_unique<sb::media::MediaWorker>(wk->io.get_executor());
    workers.push_back(std::move(wk));
  }
  for (std::size_t i = 0; i < n; ++i) {
    Worker& wk = *workers[i % static_cast<std::size_t>(workers_n)];
    sb::media::SessionParams p;
    p.remote_address = "127.0.0.1";
    p.remote_port = peers[i % kPeerSockets].local_endpoint().port();
    if (telephone_event) p.telephone_event_pt = 101;  // else in-band DTMF detection runs
    auto s = RtpSession::open(*wk.media, pool, "127.0.0.1", p, {});
    if (!s) {
      std::fprintf(stderr, "session %zu: %s\n", i, s.error().message.c_str());
      std::exit(1);
    }
    (*s)->play(
        std::make_unique<sb::media::LoopSource>(std::make_unique<sb::media::PcmSource>(prompt), 0));
    session_ports[i] = (*s)->local_port();
    index_of_port[(*s)->local_port()] = static_cast<int>(i);
    wk.sessions.push_back(std::move(*s));
  }
  for (auto& wk : workers) {
    wk->probe.measure(measuring);
    wk->media->add(&wk->probe.stream);  // after every session
    wk->media->start();
    Worker* raw = wk.get();
    raw->thread = std::thread([raw, realtime] {
      pthread_setname_np(pthread_self(), "media-worker");  // for perf/top
      if (realtime) {
        if (auto s = sb::media::use_realtime_scheduling(); !s) {
          std::fprintf(stderr, "%s; running at normal priority\n", s.error().message.c_str());
        }
      }
      auto guard = asio::make_work_guard(raw->io);
      while (!raw->mark_end.load()) {
        raw->io.run_for(std::chrono::milliseconds(50));
        if (raw->mark_start.exchange(false)) raw->cpu_start = thread_cpu_seconds();
      }
      raw->cpu_end = thread_cpu_seconds();
      raw->media->stop();
      for (auto& s : raw->sessions) s->close();
      raw->io.restart();
      raw->io.poll();
    });
  }
  // The peer: one G.711 packet to every session every 20 ms, sent in kSlots groups spread over
  // the interval (as real peers' packets arrive spread out), with sendmmsg per socket so the
  // load generator stays cheaper than the engine it measures. Arrival times are the kernel's
  // (SO_TIMESTAMPNS), so the peer's own scheduling does not enter the send-interval figures.
  constexpr std::size_t kSlots = 4;
  constexpr unsigned kBatch = 64;
  std::vector<std::uint8_t> payload(160, 0xFF);
  std::vector<std::uint16_t> seq(n, 0);
  std::vector<std::int64_t> last_arrival_ns(n, 0);
  // Loss from the RTP sequence numbers each session's packets carry while measuring (what
  // was sent in the window and did not arrive), not from wall time, which is off by a tick.
  struct SeqSpan {
    bool any = false;
    std::uint16_t last = 0;
    std::int64_t first_ext = 0, last_ext = 0, received = 0;
  };
  std::vector<SeqSpan> spans(n);
  std::vector<std::array<std::uint8_t, 256>> rx(kBatch);
  std::vector<std::array<char, CMSG_SPACE(sizeof(timespec))>> rx_cmsg(kBatch);
  std::vector<sockaddr_in> session_addr(n);
  for (std::size_t i = 0; i < n; ++i) {
    session_addr[i].sin_family = AF_INET;
    session_addr[i].sin_port = htons(session_ports[i]);
    session_addr[i].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  for (auto& sock : peers) {
    const int on = 1;
    setsockopt(sock.native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  }
  // Per socket and slot, the sessions it feeds.
  std::vector<std::vector<std::vector<std::size_t>>> feeds(
      kSlots, std::vector<std::vector<std::size_t>>(kPeerSockets));
  for (std::size_t i = 0; i < n; ++i)
    feeds[(i / kPeerSockets) % kSlots][i % kPeerSockets].push_back(i);
  std::vector<std::array<std::uint8_t, 200>> tx(n);
  std::vector<iovec> tx_iov(n);
  std::vector<mmsghdr> tx_msgs(n);
  auto drain = [&](bool measuring_now) {
    for (auto& sock : peers) {
      for (int calls = 0; calls < 1000; ++calls) {
        mmsghdr msgs[kBatch];
        iovec iov[kBatch];
        sockaddr_in addrs[kBatch];
        for (unsigned k = 0; k < kBatch; ++k) {
          iov[k] = {rx[k].data(), rx[k].size()};
          msgs[k] = {};
          msgs[k].msg_hdr.msg_iov = &iov[k];
          msgs[k].msg_hdr.msg_iovlen = 1;
          msgs[k].msg_hdr.msg_name = &addrs[k];
          msgs[k].msg_hdr.msg_namelen = sizeof(sockaddr_in);
          msgs[k].msg_hdr.msg_control = rx_cmsg[k].data();
          msgs[k].msg_hdr.msg_controllen = rx_cmsg[k].size();
        }
        const int got = recvmmsg(sock.native_handle(), msgs, kBatch, MSG_DONTWAIT, nullptr);
        if (got <= 0) break;
        for (int k = 0; k < got; ++k) {
          const int idx = index_of_port[ntohs(addrs[k].sin_port)];
          if (idx < 0) continue;
          std::int64_t at_ns = 0;
          for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[k].msg_hdr); c;
               c = CMSG_NXTHDR(&msgs[k].msg_hdr, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
              timespec ts{};
              std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
              at_ns = ts.tv_sec * 1000000000LL + ts.tv_nsec;
            }
          }
          auto& last = last_arrival_ns[static_cast<std::size_t>(idx)];
          if (measuring_now && msgs[k].msg_len >= 12) {
            const auto seq = static_cast<std::uint16_t>(rx[k][2] << 8 | rx[k][3]);
            SeqSpan& sp = spans[static_cast<std::size_t>(idx)];
            if (!sp.any) {
              sp = {true, seq, 0, 0, 0};
            } else {
              sp.last_ext += static_cast<std::int16_t>(seq - sp.last);
              sp.last = seq;
            }
            ++sp.received;
          }
          if (measuring_now) {
            ++r.received_peer;
            if (last != 0 && at_ns != 0)
              r.peer.add(static_cast<double>(at_ns - last) / 1e3 - 20000.0);
          }
          last = at_ns;
        }
        if (got < static_cast<int>(kBatch)) break;
      }
    }
  };
  const double warmup = 2.0;
  const auto start = SteadyClock::now();
  auto next = start;
  bool measuring_now = false;
  SteadyClock::time_point measure_start;
  double peer_cpu_start = 0;
  for (std::uint64_t step = 0;; ++step) {
    const double t = std::chrono::duration<double>(SteadyClock::now() - start).count();
    if (!measuring_now && t >= warmup && step % kSlots == 0) {
      measuring_now = true;
      measuring = true;
      for (auto& wk : workers) wk->mark_start = true;
      measure_start = SteadyClock::now();
      peer_cpu_start = thread_cpu_seconds();
      for (auto& wk : workers) {
        for (auto& s : wk->sessions) {
          r.sent -= s->stats().sent;  // counters are read racily; only for a rough total
          r.received_engine -= s->stats().received;
        }
      }
    }
    if (t >= warmup + seconds && step % kSlots == 0) break;
    const std::size_t slot = step % kSlots;
    const auto round = static_cast<std::uint32_t>(step / kSlots);
    for (std::size_t sock = 0; sock < kPeerSockets; ++sock) {
      const auto& ids = feeds[slot][sock];
      for (std::size_t k = 0; k < ids.size(); ++k) {
        const std::size_t i = ids[k];
        sb::media::RtpHeader h;
        h.sequence = seq[i]++;
        h.timestamp = round * 160;
        h.ssrc = static_cast<std::uint32_t>(i + 1);
        const std::size_t len = sb::media::serialize_rtp(h, payload, tx[k]);
        tx_iov[k] = {tx[k].data(), len};
        tx_msgs[k] = {};
        tx_msgs[k].msg_hdr.msg_iov = &tx_iov[k];
        tx_msgs[k].msg_hdr.msg_iovlen = 1;
        tx_msgs[k].msg_hdr.msg_name = &session_addr[i];
        tx_msgs[k].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      }
      for (std::size_t off = 0; off < ids.size();) {
        const int sent = sendmmsg(peers[sock].native_handle(), tx_msgs.data() + off,
                                  static_cast<unsigned>(ids.size() - off), MSG_DONTWAIT);
        if (sent <= 0) break;  // a full buffer: those packets are lost, and counted by the engine
        off += static_cast<std::size_t>(sent);
      }
    }
    drain(measuring_now);
    next += std::chrono::milliseconds(20) / kSlots;
    std::this_thread::sleep_until(next);
  }
  r.peer_cpu_s = thread_cpu_seconds() - peer_cpu_start;
  measuring = false;
  r.wall_s = std::chrono::duration<double>(SteadyClock::now() - measure_start).count();
  r.received_peer = 0;
  for (const SeqSpan& sp : spans) {
    if (!sp.any) continue;
    r.expected_peer += static_cast<std::uint64_t>(sp.last_ext - sp.first_ext + 1);
    r.received_peer += static_cast<std::uint64_t>(sp.received);
  }
  // A session that sent nothing at all while measuring lost a whole window.
  for (const SeqSpan& sp : spans) {
    if (!sp.any) r.expected_peer += static_cast<std::uint64_t>(r.wall_s * 50.0);
  }
  for (auto& wk : workers) {
    for (auto& s : wk->sessions) {
      r.sent += s->stats().sent;
      r.received_engine += s->stats().received;
      r.send_errors += s->stats().send_errors;
    }
  }
  for (auto& wk : workers) wk->mark_end = true;
  for (auto& wk : workers) {
    wk->thread.join();
    r.engine.merge(wk->probe.hist);
    r.engine_cpu_s += wk->cpu_end - wk->cpu_start;
    r.late_ticks += wk->media->stats().late_ticks;
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::size_t> counts = {500, 1000, 2000, 3000, 5000};
  double seconds = 10;
  int workers = 2;
  bool telephone_event = false;
  bool realtime = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--telephone-event") {
      telephone_event = true;
      continue;
    }
    if (a == "--realtime") {
      realtime = true;
      continue;
    }
    if (i + 1 >= argc) break;
    if (a == "--sessions") {
      counts.clear();
      for (char* tok = std::strtok(argv[i + 1], ","); tok; tok = std::strtok(nullptr, ",")) {
        counts.push_back(std::strtoul(tok, nullptr, 10));
      }
    } else if (a == "--seconds") {
      seconds = std::atof(argv[i + 1]);
    } else if (a == "--workers") {
      workers = std::atoi(argv[i + 1]);
    }
    ++i;
  }
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  std::printf(
      "media sessions on %d workers, loopback, %.0f s measured per row (after 2 s warm-up), "
      "DTMF %s, workers %s\n",
      workers, seconds, telephone_event ? "RFC 4733 (no in-band detection)" : "in-band detection",
      realtime ? "SCHED_FIFO" : "at normal priority");
  std::printf("%8s | %10s %10s %10s | %10s %10s %10s | %8s %8s | %9s %11s | %8s | %5s\n",
              "sessions", "eng p50us", "eng p99us", "eng maxus", "peer p50us", "peer p99us",
              "peer maxus", "sent/s", "lost%", "cpu %core", "cpu us/sess/s", "peer cpu", "late");
  for (std::size_t n : counts) {
    Result r = run(n, workers, seconds, telephone_event, realtime);
    const double lost = r.expected_peer ? 100.0 * (1.0 - static_cast<double>(r.received_peer) /
                                                             static_cast<double>(r.expected_peer))
                                        : 0;
    const double cpu_pct = 100.0 * r.engine_cpu_s / r.wall_s;
    std::printf(
        "%8zu | %10.0f %10.0f %10.0f | %10.0f %10.0f %10.0f | %8.0f %7.2f%% | %8.1f%% %11.2f | "
        "%7.1f%% | %5llu\n",
        n, r.engine.percentile(0.5), r.engine.percentile(0.99), r.engine.max(),
        r.peer.percentile(0.5), r.peer.percentile(0.99), r.peer.max(),
        static_cast<double>(r.sent) / r.wall_s, std::max(0.0, lost), cpu_pct,
        // Per session-second of work done (50 packets sent), so a starved run that skipped ticks
        // does not look cheaper than it is.
        r.sent ? 1e6 * r.engine_cpu_s / (static_cast<double>(r.sent) / 50.0) : 0.0,
        100.0 * r.peer_cpu_s / r.wall_s, static_cast<unsigned long long>(r.late_ticks));
    std::fflush(stdout);
  }
  std::printf(
      "Asterisk on this machine (issue #5): about 1,000 concurrent calls before timing slips.\n");
  return 0;
}
