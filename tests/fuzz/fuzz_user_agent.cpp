// libFuzzer target: arbitrary datagrams into a UserAgent (transactions, dialogs, CANCEL,
// auth) with a fake sender and clock. The input is split on "\x00\x00" into several messages
// so that sequences (INVITE, then CANCEL/ACK/BYE for the same dialog) are explored.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sip/user_agent.hpp"

using namespace sb::sip;

namespace {
struct NullSender : Sender {
  std::size_t bytes = 0;
  void send(const Endpoint&, std::string_view b) override { bytes += b.size(); }
};
struct Answering : CallEvents {
  UserAgent* ua = nullptr;
  int n = 0;
  void on_incoming(const IncomingCall& c) override {
    if (++n % 2)
      (void)ua->answer(c.call, "v=0\r\n");
    else
      (void)ua->ringing(c.call);
  }
  std::optional<std::string> on_reoffer(CallHandle, std::string_view) override {
    return std::string("v=0\r\n");
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  NullSender sender;
  Answering events;
  UaConfig cfg;
  UserAgent ua(cfg, sender, events);
  events.ua = &ua;
  const Endpoint src{"192.0.2.9", 5060, Transport::kUdp, 0};
  Millis now{0};
  for (int i = 0; i < 16 && !in.empty(); ++i) {
    const auto cut = in.find(std::string_view("\0\0", 2));
    ua.on_message(in.substr(0, cut), src, now);
    now += Millis(300);
    ua.on_tick(now);
    if (cut == std::string_view::npos) break;
    in.remove_prefix(cut + 2);
  }
  ua.on_tick(now + Millis(64000));
  return 0;
}
