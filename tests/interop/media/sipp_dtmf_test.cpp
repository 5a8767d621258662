// sipp itself as the RTP sender: a sipp UAC calls a minimal UAS in this test, whose 200 OK's
// SDP points at a real RtpSession on a running MediaWorker; sipp then plays sipp's own
// RFC 2833 DTMF captures (play_pcap_audio) to that port, and the digits must arrive with
// their durations. Loopback only; sipp and the io run are both bounded, and sipp is killed
// if it is still running when the test ends.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "media/rtp_session.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

namespace sb::media {
namespace {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using namespace std::chrono_literals;

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// sipp's UAC: INVITE with an SDP offer (PCMU + telephone-event 101), ACK, the captures played
// one after another from the media address learnt from our answer, then BYE.
std::string uac_scenario(const std::vector<std::string>& pcaps) {
  std::string s = R"(<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="rfc2833 pcap to an RtpSession">
  <send retrans="500"><![CDATA[
INVITE sip:dtmf@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:dtmf@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:sipp@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=sipp 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
]]></send>
  <recv response="100" optional="true"/>
  <recv response="200"/>
  <send><![CDATA[
ACK sip:dtmf@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
)";
  for (const auto& pcap : pcaps) {
    s += "  <nop><action><exec play_pcap_audio=\"" + pcap + "\"/></action></nop>\n";
    s += "  <pause milliseconds=\"400\"/>\n";  // each capture lasts 140 ms
  }
  s += R"(  <send retrans="500"><![CDATA[
BYE sip:dtmf@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200"/>
</scenario>
)";
  return s;
}

// Just enough of a UAS for one call from sipp: 200 OK with our SDP to the INVITE (and its
// retransmissions), 200 OK to BYE. Headers are copied from the request, as RFC 3261 §8.2.6
// asks of a response.
class MiniUas {
 public:
  MiniUas(asio::io_context& io, std::uint16_t rtp_port)
      : socket_(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), rtp_port_(rtp_port) {
    receive();
  }
  std::uint16_t port() const { return socket_.local_endpoint().port(); }
  bool answered() const { return answered_; }
  bool bye() const { return bye_; }

 private:
  static std::string header(const std::string& msg, std::string_view name, char compact) {
    std::istringstream in(msg);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) break;
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string key = line.substr(0, colon);
      while (!key.empty() && key.back() == ' ') key.pop_back();
      const bool match =
          (key.size() == 1 && std::tolower(key[0]) == compact) ||
          std::equal(key.begin(), key.end(), name.begin(), name.end(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); });
      if (match) return line;
    }
    return {};
  }

  void respond(const std::string& request, const std::string& body) {
    std::string to = header(request, "To", 't');
    if (to.find(";tag=") == std::string::npos) to += ";tag=rtpsession";
    std::string r = "SIP/2.0 200 OK\r\n";
    r += header(request, "Via", 'v') + "\r\n";
    r += header(request, "From", 'f') + "\r\n";
    r += to + "\r\n";
    r += header(request, "Call-ID", 'i') + "\r\n";
    r += header(request, "CSeq", '\0') + "\r\n";
    r += "Contact: <sip:dtmf@127.0.0.1:" + std::to_string(port()) + ">\r\n";
    if (!body.empty()) r += "Content-Type: application/sdp\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    boost::system::error_code ec;
    socket_.send_to(asio::buffer(r), from_, 0, ec);
  }

  void receive() {
    socket_.async_receive_from(asio::buffer(buffer_), from_,
                               [this](const boost::system::error_code& ec, std::size_t n) {
                                 if (ec) return;
                                 handle({buffer_.data(), n});
                                 receive();
                               });
  }

  void handle(const std::string& msg) {
    if (msg.rfind("INVITE ", 0) == 0) {
      const std::string sdp =
          "v=0\r\no=switchboard 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
          "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
          std::to_string(rtp_port_) +
          " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
          "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n";
      respond(msg, sdp);
      answered_ = true;
    } else if (msg.rfind("BYE ", 0) == 0) {
      respond(msg, {});
      bye_ = true;
    }
  }

  udp::socket socket_;
  std::uint16_t rtp_port_;
  udp::endpoint from_;
  std::array<char, 4096> buffer_{};
  bool answered_ = false;
  bool bye_ = false;
};

// A child process, killed and reaped if it is still running when this goes away.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& output) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ > 0 && !status_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  // The exit status once it has ended (polled, never blocks).
  std::optional<int> status() {
    if (!status_ && pid_ > 0) {
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) == pid_) status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    }
    return status_;
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

std::uint16_t free_udp_port_pair() {
  asio::io_context io;
  for (int attempt = 0; attempt < 50; ++attempt) {
    udp::socket a(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto port = a.local_endpoint().port();
    if (port % 2 != 0 || port > 65000) continue;
    boost::system::error_code ec;
    udp::socket b(io);
    b.open(udp::v4(), ec);
    if (!ec)
      b.bind({asio::ip::make_address("127.0.0.1"), static_cast<std::uint16_t>(port + 2)}, ec);
    if (!ec) return port;
  }
  return 0;
}

TEST(SippMedia, SippPlaysRfc2833PcapsIntoAnRtpSessionAndTheDigitsArrive) {
  const std::string sipp = env_or("SB_SIPP", "sipp");
  const std::string pcap_dir = env_or("SB_PCAP_DIR", "/usr/share/sip-tester");
  const std::vector<std::string> pcaps = {pcap_dir + "/dtmf_2833_1.pcap",
                                          pcap_dir + "/dtmf_2833_5.pcap",
                                          pcap_dir + "/dtmf_2833_pound.pcap"};
  for (const auto& p : pcaps) {
    if (!std::filesystem::exists(p)) GTEST_SKIP() << "no capture at " << p;
  }

  asio::io_context io;
  MediaWorker worker(io.get_executor());
  PortPool pool(44000, 44099);
  worker.start();
  std::vector<DtmfEvent> events;
  SessionParams params;
  params.remote_address = "127.0.0.1";
  params.remote_port = 9;  // until sipp's packets arrive: the session latches onto them
  params.telephone_event_pt = 101;
  auto session = RtpSession::open(worker, pool, "127.0.0.1", params,
                                  {.on_dtmf = [&](const DtmfEvent& e) { events.push_back(e); }});
  ASSERT_TRUE(session) << session.error().message;
  MiniUas uas(io, (*session)->local_port());

  testing::TempDir dir;
  const std::string scenario = dir.file("uac.xml");
  std::ofstream(scenario) << uac_scenario(pcaps);
  const std::uint16_t media_port = free_udp_port_pair();
  ASSERT_NE(media_port, 0);
  Child child({sipp,
               "127.0.0.1:" + std::to_string(uas.port()),
               "-sf",
               scenario,
               "-m",
               "1",
               "-i",
               "127.0.0.1",
               "-mi",
               "127.0.0.1",
               "-mp",
               std::to_string(media_port),
               "-nostdin",
               "-timeout",
               "20",
               "-timeout_error",
               "-max_recv_loops",
               "1000",
               "-trace_err",
               "-error_file",
               dir.file("sipp.err")},
              dir.file("sipp.out"));
  ASSERT_TRUE(child.started()) << "could not run " << sipp;

  const auto deadline = std::chrono::steady_clock::now() + 25s;
  while (!child.status() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(10ms);
  }
  io.restart();
  io.run_for(100ms);  // the tick after the last packet
  auto log = [&] {
    std::ifstream out(dir.file("sipp.out")), err(dir.file("sipp.err"));
    std::stringstream s;
    s << out.rdbuf() << err.rdbuf();
    std::string text = s.str();
    return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
  };
  ASSERT_TRUE(child.status()) << "sipp did not finish in 25 s\n" << log();
  EXPECT_EQ(*child.status(), 0) << log();
  EXPECT_TRUE(uas.answered());
  EXPECT_TRUE(uas.bye());

  std::string begun, ended;
  for (const auto& e : events) {
    (e.end ? ended : begun).push_back(e.digit);
    EXPECT_FALSE(e.inband);
    if (e.end) {
      EXPECT_EQ(e.duration_ms, 280u) << e.digit;  // 0x8c0 samples in each capture
    }
  }
  EXPECT_EQ(begun, "15#") << log();
  EXPECT_EQ(ended, "15#");
  EXPECT_EQ((*session)->stats().dtmf_digits, 3u);
  EXPECT_GE((*session)->stats().received, 30u);  // 10 packets a capture
  EXPECT_EQ((*session)->stats().latched, 1u);    // onto sipp's media address
  ASSERT_TRUE((*session)->send_endpoint());
  EXPECT_EQ((*session)->send_endpoint()->port(), media_port);  // sipp sends from -mp
  (*session)->close();
  worker.stop();
  io.restart();
  io.run_for(50ms);
}

}  // namespace
}  // namespace sb::media
