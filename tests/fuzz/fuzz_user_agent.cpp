// libFuzzer target: arbitrary datagrams into a UserAgent (transactions, dialogs, CANCEL,
// auth) with a fake sender and clock. The input is split on "\x00\x00" into several messages
// so that sequences (INVITE, then CANCEL/ACK/BYE for the same dialog) are explored.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sip/user_agent.hpp"
#include "support/fake_call_events.hpp"
#include "support/fake_sender.hpp"

using namespace sb::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  sb::testing::FakeSender sender;
  sb::testing::FakeCallEvents events;
  UaConfig cfg;
  UserAgent ua(cfg, sender, events);
  // Every other call is answered, the others ring; every re-INVITE is accepted.
  events.when_incoming = [&ua, n = 0](const IncomingCall& c) mutable {
    if (++n % 2)
      (void)ua.answer(c.call, "v=0\r\n");
    else
      (void)ua.ringing(c.call);
  };
  events.reoffer_answer = "v=0\r\n";
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
