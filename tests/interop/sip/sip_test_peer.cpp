// A minimal UAS / UAC built on sb_sip, for interop tests with sipp and the call-rate bench.
//   sip_test_peer uas [--port N] [--ring] [--answer-ms N|-1] [--bye-ms N] [--calls N]
//                     [--max-seconds N] [--realm R --user U --password P]
//   sip_test_peer uac --peer HOST:PORT [--tcp] [--user U --password P] [--hold-ms N]
//                     [--target URI] [--calls N] [--max-seconds N]
// Prints "READY <udp-port> <tcp-port>" once listening; exits 0 when the expected number of
// calls completed, 1 on failure or timeout.
#include <boost/asio.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include "sip/stack.hpp"

namespace asio = boost::asio;
using namespace sb::sip;

namespace {

const std::string kSdp =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n";

struct Options {
  std::string mode;
  int port = 0;
  bool ring = false;
  int answer_ms = 0;
  int bye_ms = -1;
  long calls = 1;
  int max_seconds = 30;
  int hold_ms = 200;
  std::string peer;
  std::string target;  // Request-URI; default sip:service@<peer>
  bool tcp = false;
  std::string realm, user, password;
};

struct Peer : CallEvents {
  Options opt;
  asio::io_context& io;
  SipStack* stack = nullptr;
  long ended = 0, failed = 0, started = 0;
  explicit Peer(asio::io_context& i) : io(i) {}

  void later(int ms, std::function<void()> f) {
    if (ms <= 0) {
      f();
      return;
    }
    auto t = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(ms));
    t->async_wait([t, f = std::move(f)](boost::system::error_code ec) {
      if (!ec) f();
    });
  }
  void on_incoming(const IncomingCall& c) override {
    const CallHandle h = c.call;
    if (opt.ring) stack->ua().ringing(h);
    if (opt.answer_ms >= 0) later(opt.answer_ms, [this, h] { stack->ua().answer(h, kSdp); });
  }
  void on_answered(CallHandle h, std::string_view) override {
    if (opt.mode == "uac")
      later(opt.hold_ms, [this, h] { stack->ua().hangup(h); });
    else if (opt.bye_ms >= 0)
      later(opt.bye_ms, [this, h] { stack->ua().hangup(h); });
  }
  void on_ended(CallHandle, EndReason r) override {
    ++ended;
    std::cerr << "ended " << to_string(r) << "\n";
    check_done();
    if (opt.mode == "uac" && started < opt.calls) place();
  }
  void on_failed(CallHandle, int status, std::string_view reason) override {
    ++failed;
    std::cerr << "failed " << status << " " << reason << "\n";
    if (opt.mode == "uac") io.stop();
  }
  void check_done() {
    // Linger briefly so the last responses and the peer's final ACK are exchanged before our
    // sockets close (a TCP peer counts an early close as a failed call).
    if (ended >= opt.calls) later(300, [this] { io.stop(); });
  }
  void place() {
    const auto colon = opt.peer.rfind(':');
    OutboundCall o;
    o.next_hop = {opt.peer.substr(0, colon),
                  static_cast<std::uint16_t>(std::atoi(opt.peer.c_str() + colon + 1)),
                  opt.tcp ? Transport::kTcp : Transport::kUdp, 0};
    o.target = !opt.target.empty() ? opt.target
                                   : "sip:service@" + opt.peer + (opt.tcp ? ";transport=tcp" : "");
    o.from = "sip:switchboard@127.0.0.1";
    o.sdp_offer = kSdp;
    if (!opt.user.empty()) o.credentials = Credentials{opt.user, opt.password};
    ++started;
    if (!stack->ua().call(o)) {
      ++failed;
      io.stop();
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: sip_test_peer uas|uac [options]\n";
    return 2;
  }
  Options opt;
  opt.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--port")
      opt.port = std::atoi(next().c_str());
    else if (a == "--ring")
      opt.ring = true;
    else if (a == "--answer-ms")
      opt.answer_ms = std::atoi(next().c_str());
    else if (a == "--bye-ms")
      opt.bye_ms = std::atoi(next().c_str());
    else if (a == "--calls")
      opt.calls = std::atol(next().c_str());
    else if (a == "--max-seconds")
      opt.max_seconds = std::atoi(next().c_str());
    else if (a == "--hold-ms")
      opt.hold_ms = std::atoi(next().c_str());
    else if (a == "--peer")
      opt.peer = next();
    else if (a == "--target")
      opt.target = next();
    else if (a == "--tcp")
      opt.tcp = true;
    else if (a == "--realm")
      opt.realm = next();
    else if (a == "--user")
      opt.user = next();
    else if (a == "--password")
      opt.password = next();
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  asio::io_context io(1);
  Peer peer(io);
  peer.opt = opt;
  UaConfig cfg;
  cfg.host = "127.0.0.1";
  if (!opt.realm.empty()) {
    cfg.auth_realm = opt.realm;
    cfg.password_lookup = [u = opt.user,
                           p = opt.password](std::string_view user) -> std::optional<std::string> {
      if (user == u) return p;
      return std::nullopt;
    };
  }
  SipStack stack(io, cfg, peer);
  peer.stack = &stack;
  auto u = stack.listen_udp("127.0.0.1", static_cast<std::uint16_t>(opt.port));
  auto t = stack.listen_tcp("127.0.0.1", static_cast<std::uint16_t>(opt.port));
  if (!u || !t) {
    std::cerr << "listen failed\n";
    return 1;
  }
  stack.start();
  std::printf("READY %u %u\n", u->port, t->port);
  std::fflush(stdout);
  asio::steady_timer deadline(io, std::chrono::seconds(opt.max_seconds));
  bool timed_out = false;
  deadline.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      timed_out = true;
      io.stop();
    }
  });
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code, int) { io.stop(); });
  if (opt.mode == "uac") peer.place();
  io.run();
  const auto& s = stack.ua().stats();
  std::fprintf(stderr,
               "summary: ended=%ld failed=%ld received=%llu malformed=%llu calls_in=%llu "
               "calls_out=%llu timed_out=%d\n",
               peer.ended, peer.failed, static_cast<unsigned long long>(s.received),
               static_cast<unsigned long long>(s.malformed),
               static_cast<unsigned long long>(s.calls_in),
               static_cast<unsigned long long>(s.calls_out), timed_out ? 1 : 0);
  stack.stop();
  return (peer.failed == 0 && peer.ended >= opt.calls && !timed_out) ? 0 : 1;
}
