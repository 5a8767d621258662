// Real-time media interop on loopback: pcap replay (sipp's RFC 2833 and G.711 captures) into
// RtpSessions on a running MediaWorker, playback captured by a UDP peer, recordings compared
// with what was sent (samples, and sox statistics). Every run is bounded by io.run_for.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "media/g711.hpp"
#include "media/rtp_session.hpp"
#include "support/temp_dir.hpp"

namespace sb::media {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using namespace std::chrono_literals;

struct PcapPacket {
  double time = 0;                // seconds from the first packet
  std::vector<std::uint8_t> rtp;  // UDP payload
};

// Classic pcap, Ethernet link type, IPv4/UDP.
std::vector<PcapPacket> read_pcap(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> d{std::istreambuf_iterator<char>(in), {}};
  std::vector<PcapPacket> out;
  auto u32 = [&](std::size_t o) {
    return std::uint32_t{d[o]} | std::uint32_t{d[o + 1]} << 8 | std::uint32_t{d[o + 2]} << 16 |
           std::uint32_t{d[o + 3]} << 24;
  };
  if (d.size() < 24 || u32(0) != 0xa1b2c3d4 || u32(20) != 1) return out;
  std::size_t off = 24;
  double first = -1;
  while (off + 16 <= d.size()) {
    const double t = u32(off) + u32(off + 4) / 1e6;
    const std::size_t len = u32(off + 8);
    off += 16;
    if (off + len > d.size()) break;
    const std::uint8_t* p = d.data() + off;
    off += len;
    if (len < 14 + 20 + 8 || p[12] != 0x08 || p[13] != 0x00) continue;  // IPv4 only
    const std::size_t ihl = (p[14] & 15u) * 4;
    if (p[14 + 9] != 17 || len < 14 + ihl + 8) continue;  // UDP
    const std::uint8_t* udp_hdr = p + 14 + ihl;
    if (first < 0) first = t;
    out.push_back({t - first, {udp_hdr + 8, p + len}});
  }
  return out;
}

std::string pcap_dir() {
  const char* d = std::getenv("SB_PCAP_DIR");
  return d ? d : "/usr/share/sip-tester";
}

// Sends packets at their capture times from a loopback socket, on the io's timer.
class Replay {
 public:
  Replay(asio::io_context& io, std::vector<PcapPacket> packets, udp::endpoint to)
      : socket_(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        timer_(io),
        packets_(std::move(packets)),
        to_(to),
        start_(std::chrono::steady_clock::now() + 20ms) {
    next();
  }
  bool done() const { return index_ == packets_.size(); }
  std::uint16_t port() const { return socket_.local_endpoint().port(); }
  udp::socket& socket() { return socket_; }

 private:
  void next() {
    if (done()) return;
    timer_.expires_at(
        start_ + std::chrono::microseconds(static_cast<std::int64_t>(packets_[index_].time * 1e6)));
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      boost::system::error_code send_ec;
      socket_.send_to(asio::buffer(packets_[index_].rtp), to_, 0, send_ec);
      ++index_;
      next();
    });
  }
  udp::socket socket_;
  asio::steady_timer timer_;
  std::vector<PcapPacket> packets_;
  udp::endpoint to_;
  std::chrono::steady_clock::time_point start_;
  std::size_t index_ = 0;
};

class MediaInterop : public ::testing::Test {
 protected:
  MediaInterop() : worker(io.get_executor()), pool(43000, 43999) { worker.start(); }
  ~MediaInterop() override {
    for (auto& s : sessions) s->close();
    worker.stop();
    io.restart();
    io.run_for(50ms);
  }
  std::shared_ptr<RtpSession> open(SessionParams p, RtpSession::Callbacks cb = {}) {
    auto s = RtpSession::open(worker, pool, "127.0.0.1", p, std::move(cb));
    EXPECT_TRUE(s) << s.error().message;
    if (!s) return nullptr;
    sessions.push_back(*s);
    return *s;
  }
  // Runs the io until `done` or the bound passes.
  template <typename Pred>
  bool run_until(Pred done, std::chrono::milliseconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(10ms);
    }
    return done();
  }

  asio::io_context io;
  MediaWorker worker;
  PortPool pool;
  std::vector<std::shared_ptr<RtpSession>> sessions;
};

TEST_F(MediaInterop, SippRfc2833PcapsDeliverEveryDigit) {
  const std::string names[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "star", "pound"};
  const std::string digits = "0123456789*#";
  int replayed = 0;
  for (std::size_t i = 0; i < 12; ++i) {
    const std::string path = pcap_dir() + "/dtmf_2833_" + names[i] + ".pcap";
    auto packets = read_pcap(path);
    if (packets.empty()) GTEST_SKIP() << "no pcap at " << path;
    std::vector<DtmfEvent> events;
    SessionParams p;
    p.remote_address = "127.0.0.1";
    p.remote_port = 9;  // discard: the session latches onto the replayer anyway
    p.telephone_event_pt = 101;
    auto s = open(p, {.on_dtmf = [&](const DtmfEvent& e) { events.push_back(e); }});
    ASSERT_TRUE(s);
    Replay replay(io, std::move(packets), {asio::ip::make_address("127.0.0.1"), s->local_port()});
    ASSERT_TRUE(run_until([&] { return replay.done() && events.size() >= 2; }, 3000ms))
        << "digit " << digits[i] << ": " << events.size() << " events";
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].digit, digits[i]);
    EXPECT_FALSE(events[0].end);
    EXPECT_EQ(events[1].digit, digits[i]);
    EXPECT_TRUE(events[1].end);
    EXPECT_EQ(events[1].duration_ms, 280u);  // 0x8c0 samples in the capture
    EXPECT_EQ(s->stats().dtmf_digits, 1u);
    s->close();
    ++replayed;
  }
  EXPECT_EQ(replayed, 12);
}

// The G.711 A-law capture, recorded by the session: the WAV holds exactly the decoded audio.
TEST_F(MediaInterop, RecordedPcapAudioMatchesTheSentSamples) {
  auto packets = read_pcap(pcap_dir() + "/g711a.pcap");
  if (packets.empty()) GTEST_SKIP() << "no g711a.pcap";
  packets.resize(std::min<std::size_t>(packets.size(), 100));  // 3 s of 30 ms packets
  std::vector<std::int16_t> sent;
  for (const auto& pkt : packets) {
    RtpPacketView v;
    ASSERT_EQ(parse_rtp(pkt.rtp, v), RtpParseError::kNone);
    std::vector<std::int16_t> pcm(v.payload.size());
    decode(Codec::kPcma, v.payload, pcm);
    sent.insert(sent.end(), pcm.begin(), pcm.end());
  }
  testing::TempDir dir;
  std::optional<RecordingResult> result;
  SessionParams p;
  p.remote_address = "127.0.0.1";
  p.remote_port = 9;
  p.codec = Codec::kPcma;
  p.payload_type = 8;
  p.ptime = 30;
  auto s = open(p, {.on_recording = [&](const RecordingResult& r) { result = r; }});
  ASSERT_TRUE(s->start_recording(
      {.path = dir.file("in.wav"), .silence_timeout_s = 0, .trim_silence = false}));
  Replay replay(io, std::move(packets), {asio::ip::make_address("127.0.0.1"), s->local_port()});
  ASSERT_TRUE(run_until([&] { return replay.done(); }, 6000ms));
  run_until([] { return false; }, 200ms);  // drain the jitter buffer
  // 30 ms packets read on a 20 ms tick: the RFC 3550 jitter comes from the kernel's arrival
  // stamps, not from when the tick read them (that would alternate 20/40 ms: about 80).
  EXPECT_LT(s->sequence().jitter(), 40u);
  s->stop_recording();
  ASSERT_TRUE(result);
  SF_INFO info{};
  SNDFILE* f = sf_open(dir.file("in.wav").c_str(), SFM_READ, &info);
  ASSERT_NE(f, nullptr);
  std::vector<std::int16_t> rec(static_cast<std::size_t>(info.frames));
  sf_readf_short(f, rec.data(), info.frames);
  sf_close(f);
  // The recording is the sent audio after the jitter-buffer delay: find where a loud stretch
  // of the sent audio starts in the recording and compare everything from there.
  std::size_t probe = 0;
  while (probe < sent.size() && std::abs(sent[probe]) < 1000) ++probe;
  ASSERT_LT(probe + 800, sent.size()) << "capture has no speech";
  std::optional<std::size_t> offset;
  for (std::size_t o = 0; o + 800 <= rec.size() && !offset; ++o) {
    if (std::equal(sent.begin() + static_cast<std::ptrdiff_t>(probe),
                   sent.begin() + static_cast<std::ptrdiff_t>(probe + 800),
                   rec.begin() + static_cast<std::ptrdiff_t>(o))) {
      offset = o - std::min(o, probe);
    }
  }
  ASSERT_TRUE(offset) << "sent audio not found in the recording";
  std::size_t compared = 0, equal = 0;
  for (std::size_t i = 0; i < sent.size() && *offset + i < rec.size(); ++i, ++compared) {
    equal += rec[*offset + i] == sent[i];
  }
  EXPECT_GT(compared, sent.size() * 9 / 10);
  EXPECT_EQ(equal, compared);  // no loss on loopback: sample-exact
}

// Audio the engine plays, captured on loopback, decodes to the expected samples.
TEST_F(MediaInterop, CapturedPlaybackDecodesToTheSource) {
  udp::socket peer(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  peer.non_blocking(true);
  SessionParams p;
  p.remote_address = "127.0.0.1";
  p.remote_port = peer.local_endpoint().port();
  auto s = open(p);
  auto pcm = std::make_shared<std::vector<std::int16_t>>(8000);
  for (std::size_t i = 0; i < pcm->size(); ++i) {
    (*pcm)[i] = static_cast<std::int16_t>(12000 * std::sin(2 * M_PI * 523.25 * i / 8000.0) +
                                          3000 * std::sin(2 * M_PI * 97 * i / 8000.0));
  }
  bool finished = false;
  s->play(std::make_unique<PcmSource>(pcm), {}, [&](PlaybackEnd) { finished = true; });
  std::vector<std::int16_t> captured;
  std::vector<double> arrivals;
  std::array<std::uint8_t, 2048> buf{};
  ASSERT_TRUE(run_until(
      [&] {
        for (;;) {
          udp::endpoint from;
          boost::system::error_code ec;
          const std::size_t n = peer.receive_from(asio::buffer(buf), from, 0, ec);
          if (ec) break;
          RtpPacketView v;
          if (parse_rtp({buf.data(), n}, v) != RtpParseError::kNone) continue;
          std::vector<std::int16_t> dec(v.payload.size());
          decode(Codec::kPcmu, v.payload, dec);
          captured.insert(captured.end(), dec.begin(), dec.end());
          arrivals.push_back(std::chrono::duration<double, std::milli>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count());
        }
        return finished && captured.size() >= pcm->size();
      },
      3000ms));
  for (std::size_t i = 0; i < pcm->size(); ++i) {
    ASSERT_EQ(captured[i], ulaw_to_linear(linear_to_ulaw((*pcm)[i]))) << i;
  }
  // 50 packets over about a second of wall time: paced, not burst.
  ASSERT_GE(arrivals.size(), 50u);
  EXPECT_GT(arrivals[49] - arrivals[0], 900.0);
}

// A recorded WAV holds the audio that was sent, by sox's own statistics.
TEST_F(MediaInterop, RecordingMatchesSentToneBySoxStats) {
  const char* sox = std::getenv("SB_SOX");
  if (!sox || !*sox) GTEST_SKIP() << "sox not found";
  testing::TempDir dir;
  std::optional<RecordingResult> result;
  SessionParams p;
  p.remote_address = "127.0.0.1";
  p.remote_port = 9;
  auto s = open(p, {.on_recording = [&](const RecordingResult& r) { result = r; }});
  ASSERT_TRUE(s->start_recording({.path = dir.file("tone.wav"), .silence_timeout_s = 0}));
  // 2 s of 440 Hz sent as PCMU in real time.
  std::vector<PcapPacket> packets;
  ToneSource tone(ToneSpec{{{440, 0, -6, 2000}}, 1});
  std::vector<std::int16_t> frame(160);
  std::vector<std::uint8_t> enc(160);
  for (int i = 0; i < 100; ++i) {
    tone.read(frame);
    encode(Codec::kPcmu, frame, enc);
    RtpHeader h;
    h.sequence = static_cast<std::uint16_t>(1000 + i);
    h.timestamp = static_cast<std::uint32_t>(i * 160);
    h.ssrc = 77;
    std::vector<std::uint8_t> pkt(kMaxRtpPacketSize);
    pkt.resize(serialize_rtp(h, enc, pkt));
    packets.push_back({i * 0.02, pkt});
  }
  Replay replay(io, std::move(packets), {asio::ip::make_address("127.0.0.1"), s->local_port()});
  ASSERT_TRUE(run_until([&] { return replay.done(); }, 5000ms));
  run_until([] { return false; }, 200ms);
  s->stop_recording();
  ASSERT_TRUE(result);
  const std::string cmd = std::string(sox) + " " + dir.file("tone.wav") + " -n stat 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string out;
  char line[256];
  while (fgets(line, sizeof line, pipe)) out += line;
  pclose(pipe);
  auto value = [&](const std::string& key) {
    const auto pos = out.find(key);
    if (pos == std::string::npos) return -1.0;
    return std::atof(out.c_str() + out.find(':', pos) + 1);
  };
  // Silence trimmed at both ends; the loss concealment fades out over up to 60 ms after the
  // last packet, and that fade counts as audio.
  EXPECT_NEAR(value("Length (seconds)"), 2.03, 0.04) << out;
  EXPECT_NEAR(value("Rough   frequency"), 440, 15) << out;
  EXPECT_NEAR(value("RMS     amplitude"), std::pow(10.0, (-6 - 3.14) / 20.0), 0.02) << out;
}

}  // namespace
}  // namespace sb::media
