// Parse throughput for a typical INVITE (as a trunk sends it), plus SDP and response building.
#include <benchmark/benchmark.h>

#include "sip/message.hpp"
#include "sip/sdp.hpp"

namespace {

const std::string kInvite =
    "INVITE sip:+15551234567@switchboard.example.com:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 203.0.113.10:5060;branch=z9hG4bK776asdhds;rport\r\n"
    "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKnashds8;received=198.51.100.1\r\n"
    "Max-Forwards: 69\r\n"
    "Record-Route: <sip:203.0.113.10;lr>\r\n"
    "To: <sip:+15551234567@switchboard.example.com>\r\n"
    "From: \"Alice Smith\" <sip:+15550001111@trunk.example.net>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.trunk.example.net\r\n"
    "CSeq: 314159 INVITE\r\n"
    "Contact: <sip:+15550001111@203.0.113.10:5060>\r\n"
    "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE\r\n"
    "Supported: timer, replaces\r\n"
    "Session-Expires: 1800\r\n"
    "User-Agent: Trunk/1.0\r\n"
    "P-Asserted-Identity: <sip:+15550001111@trunk.example.net>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 233\r\n"
    "\r\n"
    "v=0\r\n"
    "o=- 2890844526 2890844526 IN IP4 203.0.113.20\r\n"
    "s=-\r\n"
    "c=IN IP4 203.0.113.20\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n";

void BM_ParseInvite(benchmark::State& state) {
  for (auto _ : state) {
    auto m = sb::sip::Message::parse(kInvite);
    benchmark::DoNotOptimize(m);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(kInvite.size()));
}
BENCHMARK(BM_ParseInvite);

void BM_ParseInviteAndSdp(benchmark::State& state) {
  for (auto _ : state) {
    auto m = sb::sip::Message::parse(kInvite);
    auto sdp = sb::sip::parse_sdp(m->body());
    benchmark::DoNotOptimize(sdp);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseInviteAndSdp);

void BM_Make200(benchmark::State& state) {
  auto m = sb::sip::Message::parse(kInvite);
  for (auto _ : state) {
    auto r = sb::sip::make_response(*m, 200, {}, "abcdef", "Contact: <sip:sb@192.0.2.1>\r\n",
                                    "application/sdp", m->body());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Make200);

}  // namespace

BENCHMARK_MAIN();
