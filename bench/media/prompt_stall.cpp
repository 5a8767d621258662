// Does a slow <Play> or <Say> on one call slip the other calls' audio? N RtpSessions on one
// MediaWorker (one io_context on its own thread, the real 20 ms timer, real loopback sockets)
// play a looped prompt to a peer that stamps every packet's arrival (SO_TIMESTAMPNS). Meanwhile
// one call loads a large prompt, in one of two ways:
//   blocking  what UrlAudioLoader::load did after its fetch before 3f3935b: cache lookup,
//             decode (libsndfile + resampling to 8 kHz) and cache write, on the worker's loop;
//   pool      UrlAudioLoader::load today (a scripted fetcher hands it the same bytes): the cache
//             I/O and decoding on a BlockingPool, the result posted back to the worker;
//   none      no load: what the machine itself does to the tick (the baseline).
// Reported per mode: the worker's largest tick lateness and skipped ticks, the peer-side send
// interval deviation from 20 ms (p50 / p99 / max over every session's packets), and how long
// the load took. A second table: how long quick <Say>s wait while one slow synthesis (a fake
// engine that takes 2 s) runs, with one synthesis thread (the old daemon's wiring) and with the
// Synthesizer's default pool; and how many syntheses 20 identical concurrent <Say>s cost.
//
//   bench_media_prompt_stall [--sessions 200] [--seconds 6] [--prompt-seconds 120] [--runs 3]
//                            [--realtime]   (the worker thread SCHED_FIFO, as `--realtime` runs it)
#include <netinet/in.h>
#include <sndfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/time.hpp"
#include "media/audio_file.hpp"
#include "media/media_cache.hpp"
#include "media/offload.hpp"
#include "media/rtp_session.hpp"
#include "media/tts.hpp"
#include "media/url_audio.hpp"
#include "support/fake_media_fetcher.hpp"
#include "support/fake_tts_engine.hpp"

namespace asio = boost::asio;
using udp = asio::ip::udp;
using SteadyClock = std::chrono::steady_clock;
namespace media = sb::media;

namespace {

// |deviation| histogram, 10 µs buckets up to 5 s.
struct Histogram {
  std::vector<std::uint64_t> buckets = std::vector<std::uint64_t>(500001);
  std::uint64_t count = 0;
  void add(double dev_us) {
    ++buckets[static_cast<std::size_t>(std::min(std::abs(dev_us) / 10.0, 500000.0))];
    ++count;
  }
  double percentile(double p) const {
    const auto target = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(count)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      seen += buckets[i];
      if (seen >= target && target > 0) return static_cast<double>(i) * 10;
    }
    return 0;
  }
  double max() const {
    for (std::size_t i = buckets.size(); i-- > 0;) {
      if (buckets[i]) return static_cast<double>(i) * 10;
    }
    return 0;
  }
};

// A WAV of `seconds` at 48 kHz stereo (a tone), as a fetched body.
std::string big_wav(int seconds, const std::filesystem::path& dir) {
  const auto path = dir / "prompt.wav";
  SF_INFO info{};
  info.samplerate = 48000;
  info.channels = 2;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
  std::vector<short> frames(48000 * 2);
  for (int s = 0; s < seconds; ++s) {
    for (int i = 0; i < 48000; ++i) {
      const auto v =
          static_cast<short>(8000 * std::sin(2 * M_PI * 440 * (s * 48000 + i) / 48000.0));
      frames[2 * i] = frames[2 * i + 1] = v;
    }
    sf_writef_short(f, frames.data(), 48000);
  }
  sf_close(f);
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct Row {
  double tick_max_ms = 0;
  std::uint64_t late_ticks = 0;
  Histogram peer;
  std::vector<double> load_ms;
  bool load_ok = true;
};

enum class Mode { kNone, kBlocking, kPool };

Row run(Mode mode, std::size_t sessions, double seconds, int loads, const std::string& body,
        const std::filesystem::path& dir, bool realtime) {
  Row row;
  asio::io_context io(1);
  media::MediaWorker worker(io.get_executor());
  media::PortPool ports(42000, 43999);
  sb::SystemClock clock;
  media::MediaCache cache(dir / "cache", clock);
  media::BlockingPool files({.threads = media::default_blocking_threads(2), .max_queued = 256});
  // Bodies copied beforehand: a real fetch assembles its body on the worker a chunk at a time
  // as it arrives, so a 23 MB copy on the loop here would be the bench's own stall.
  sb::testing::FakeMediaFetcher fetcher;
  for (int i = 0; mode == Mode::kPool && i < loads; ++i) {
    media::MediaResponse r;
    r.status = 200;
    r.body = body;
    r.content_type = "audio/wav";
    r.cache_control = "max-age=60";
    fetcher.replies.emplace_back(std::move(r));
  }
  media::UrlAudioLoader loader(fetcher, cache, files);

  constexpr std::size_t kPeers = 8;
  std::vector<udp::socket> peers;
  for (std::size_t i = 0; i < kPeers; ++i) {
    peers.emplace_back(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    peers.back().non_blocking(true);
    peers.back().set_option(asio::socket_base::receive_buffer_size(4 << 20));
    const int on = 1;
    setsockopt(peers.back().native_handle(), SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  }
  auto prompt = std::make_shared<std::vector<std::int16_t>>(8000);
  for (std::size_t i = 0; i < prompt->size(); ++i)
    (*prompt)[i] = static_cast<std::int16_t>(6000 * std::sin(2 * M_PI * 440 * i / 8000.0));
  std::vector<std::shared_ptr<media::RtpSession>> open;
  std::vector<int> index_of_port(65536, -1);
  for (std::size_t i = 0; i < sessions; ++i) {
    media::SessionParams p;
    p.remote_address = "127.0.0.1";
    p.remote_port = peers[i % kPeers].local_endpoint().port();
    auto s = media::RtpSession::open(worker, ports, "127.0.0.1", p, {});
    if (!s) {
      std::fprintf(stderr, "session %zu: %s\n", i, s.error().message.c_str());
      std::exit(1);
    }
    (*s)->play(std::make_unique<media::LoopSource>(std::make_unique<media::PcmSource>(prompt), 0));
    index_of_port[(*s)->local_port()] = static_cast<int>(i);
    open.push_back(std::move(*s));
  }
  // The peer sockets are read here, not by the io_context: release them from it.
  std::vector<int> peer_fds;
  for (auto& p : peers) peer_fds.push_back(p.release());

  auto guard = asio::make_work_guard(io);
  worker.start();
  std::thread loop([&] {
    if (realtime) {
      if (auto s = media::use_realtime_scheduling(); !s) {
        std::fprintf(stderr, "%s; running at normal priority\n", s.error().message.c_str());
      }
    }
    io.run();
  });

  std::vector<std::int64_t> last_ns(sessions, 0);
  bool measuring = false;
  auto drain = [&] {
    for (int fd : peer_fds) {
      for (;;) {
        std::array<std::uint8_t, 256> buf{};
        sockaddr_in from{};
        iovec iov{buf.data(), buf.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
        msghdr h{};
        h.msg_name = &from;
        h.msg_namelen = sizeof from;
        h.msg_iov = &iov;
        h.msg_iovlen = 1;
        h.msg_control = control;
        h.msg_controllen = sizeof control;
        if (recvmsg(fd, &h, MSG_DONTWAIT) < 0) break;
        const int idx = index_of_port[ntohs(from.sin_port)];
        if (idx < 0) continue;
        std::int64_t at = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec ts{};
            std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
            at = ts.tv_sec * 1000000000LL + ts.tv_nsec;
          }
        }
        auto& last = last_ns[static_cast<std::size_t>(idx)];
        if (measuring && last != 0 && at != 0) {
          row.peer.add(static_cast<double>(at - last) / 1e3 - 20000.0);
        }
        last = at;
      }
    }
  };

  // One load: timed from the post to the moment its result is back on the worker.
  std::atomic<int> loads_done{0};
  std::vector<double> durations(static_cast<std::size_t>(loads), 0);
  auto start_load = [&](int k) {
    const auto t0 = SteadyClock::now();
    const std::string url = "http://bench/prompt-" + std::to_string(k) + ".wav";
    if (mode == Mode::kBlocking) {
      asio::post(io, [&, k, t0, url] {
        // The old path, on the loop: lookup (a miss), decode, cache write.
        (void)cache.lookup(url);
        const auto* data = reinterpret_cast<const std::uint8_t*>(body.data());
        auto pcm = media::decode_audio({data, body.size()});
        if (pcm) cache.store(url, *pcm, "", media::parse_cache_control("max-age=60"));
        if (!pcm) row.load_ok = false;
        durations[static_cast<std::size_t>(k)] =
            std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
        ++loads_done;
      });
    } else {
      auto go = [](media::UrlAudioLoader& l, std::string u, SteadyClock::time_point t0, double* out,
                   bool* ok, std::atomic<int>* done) -> asio::awaitable<void> {
        auto load = l.load(std::move(u));
        auto pcm = co_await std::move(load);
        if (!pcm) *ok = false;
        *out = std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
        ++*done;
      };
      asio::co_spawn(
          io,
          go(loader, url, t0, &durations[static_cast<std::size_t>(k)], &row.load_ok, &loads_done),
          asio::detached);
    }
  };

  const auto begin = SteadyClock::now();
  const double warmup = 1.0;
  int started = 0;
  for (;;) {
    const double t = std::chrono::duration<double>(SteadyClock::now() - begin).count();
    if (!measuring && t >= warmup) measuring = true;
    // Loads spread over the measured window, one after another.
    if (mode != Mode::kNone && measuring && started < loads && loads_done.load() == started &&
        t >= warmup + 0.5 + started * (seconds - 1.0) / loads) {
      start_load(started++);
    }
    if (t >= warmup + seconds && loads_done.load() == started) break;
    drain();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  measuring = false;
  asio::post(io, [&] {
    worker.stop();
    for (auto& s : open) s->close();
  });
  guard.reset();
  loop.join();
  for (int fd : peer_fds) ::close(fd);
  row.tick_max_ms = static_cast<double>(worker.stats().max_lateness.count()) / 1000.0;
  row.late_ticks = worker.stats().late_ticks;
  row.load_ms = durations;
  return row;
}

// ---- Say ----

struct SayRow {
  double quick_p50_ms = 0, quick_max_ms = 0;
  int identical_syntheses = 0;
};

SayRow run_say(unsigned threads, const std::filesystem::path& dir) {
  SayRow row;
  sb::SystemClock clock;
  std::filesystem::remove_all(dir / "tts");
  media::MediaCache cache(dir / "tts", clock);
  auto engine = std::make_unique<sb::testing::FakeTtsEngine>(8000);
  // A slow engine for the one "slow" text (a long sentence in an external engine).
  engine->before_answer = [](const media::SpeechRequest& r) {
    if (r.text.rfind("slow", 0) == 0) std::this_thread::sleep_for(std::chrono::seconds(2));
  };
  sb::testing::FakeTtsEngine* raw = engine.get();
  std::vector<std::unique_ptr<media::TtsEngine>> engines;
  engines.push_back(std::move(engine));
  media::Synthesizer synth(std::move(engines), cache, {.threads = threads});
  asio::io_context io;
  std::vector<double> quick(10, -1);
  auto say = [](media::Synthesizer& s, std::string text, SteadyClock::time_point t0,
                double* out) -> asio::awaitable<void> {
    media::SpeechRequest request{std::move(text), "", "en-US"};
    auto speak = s.speak_async(std::move(request));
    (void)co_await std::move(speak);
    if (out) *out = std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
  };
  double slow_ms = 0;
  asio::co_spawn(io, say(synth, "slow: please hold", SteadyClock::now(), &slow_ms), asio::detached);
  io.run_for(std::chrono::milliseconds(100));  // the slow synthesis is under way
  const auto t0 = SteadyClock::now();
  for (std::size_t i = 0; i < quick.size(); ++i) {
    asio::co_spawn(io, say(synth, "quick " + std::to_string(i), t0, &quick[i]), asio::detached);
  }
  io.restart();
  io.run();
  std::sort(quick.begin(), quick.end());
  row.quick_p50_ms = quick[quick.size() / 2];
  row.quick_max_ms = quick.back();
  // 20 calls start the same (uncached) prompt at once.
  const int before = raw->calls();
  for (int i = 0; i < 20; ++i) {
    asio::co_spawn(io, say(synth, "Welcome to the bench", SteadyClock::now(), nullptr),
                   asio::detached);
  }
  io.restart();
  io.run();
  row.identical_syntheses = raw->calls() - before;
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t sessions = 200;
  double seconds = 6;
  int prompt_seconds = 120;
  int runs = 3;
  bool realtime = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--realtime") {
      realtime = true;
      continue;
    }
    if (i + 1 >= argc) break;
    if (a == "--sessions") sessions = std::strtoul(argv[i + 1], nullptr, 10);
    if (a == "--seconds") seconds = std::atof(argv[i + 1]);
    if (a == "--prompt-seconds") prompt_seconds = std::atoi(argv[i + 1]);
    if (a == "--runs") runs = std::atoi(argv[i + 1]);
    ++i;
  }
  const auto dir =
      std::filesystem::temp_directory_path() / ("sb-prompt-stall-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string body = big_wav(prompt_seconds, dir);
  std::printf(
      "%zu sessions on one MediaWorker, %.0f s measured per run, %d runs per mode; one call "
      "loads a %d s 48 kHz stereo WAV (%.1f MB) 3 times per run; worker %s\n",
      sessions, seconds, runs, prompt_seconds, static_cast<double>(body.size()) / 1e6,
      realtime ? "SCHED_FIFO" : "at normal priority");
  std::printf("%-9s | %12s %6s | %10s %10s %10s | %s\n", "mode", "tick max ms", "late",
              "peer p50us", "peer p99us", "peer maxus", "load ms (each)");
  for (int r = 0; r < runs; ++r) {
    for (Mode mode : {Mode::kNone, Mode::kBlocking, Mode::kPool}) {
      std::filesystem::remove_all(dir / "cache");
      Row row = run(mode, sessions, seconds, 3, body, dir, realtime);
      std::string loads;
      for (double ms : row.load_ms) loads += std::to_string(static_cast<int>(ms)) + " ";
      std::printf("%-9s | %12.1f %6llu | %10.0f %10.0f %10.0f | %s%s\n",
                  mode == Mode::kNone       ? "none"
                  : mode == Mode::kBlocking ? "blocking"
                                            : "pool",
                  row.tick_max_ms, static_cast<unsigned long long>(row.late_ticks),
                  row.peer.percentile(0.5), row.peer.percentile(0.99), row.peer.max(),
                  loads.c_str(), row.load_ok ? "" : "(a load failed)");
      std::fflush(stdout);
    }
  }
  std::printf("\nSay: 10 quick <Say>s issued while a 2 s synthesis runs; 20 identical at once\n");
  std::printf("%-28s | %14s %14s | %s\n", "synthesis threads", "quick p50 ms", "quick max ms",
              "syntheses for 20 identical");
  for (unsigned threads : {1u, media::default_blocking_threads()}) {
    SayRow row = run_say(threads, dir);
    std::printf(
        "%-28s | %14.1f %14.1f | %d\n",
        (std::to_string(threads) + (threads == 1 ? " (the old daemon's)" : " (default)")).c_str(),
        row.quick_p50_ms, row.quick_max_ms, row.identical_syntheses);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
