// libFuzzer target: SDP parsing, serialization and offer/answer (plain and with SRTP keys).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sip/sdp.hpp"

using namespace sb::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto sdp = parse_sdp(in);
  if (!sdp) return 0;
  // What we serialize must parse back.
  if (!parse_sdp(to_string(*sdp))) __builtin_trap();
  LocalMedia local;
  local.address = "192.0.2.1";
  local.port = 4000;
  if (auto ans = make_answer(*sdp, local, {})) {
    auto text = to_string(ans->sdp);
    auto back = parse_sdp(text);
    if (!back) __builtin_trap();
    (void)apply_answer(*sdp, *back);
  }
  (void)apply_answer(make_offer(local, {}), *sdp);
  // The same with SRTP keys (a=crypto matched by suite and tag), optional and required.
  local.crypto = {"1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR",
                  "2 AES_CM_128_HMAC_SHA1_32 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR"};
  for (const bool required : {false, true}) {
    local.require_srtp = required;
    if (auto ans = make_answer(*sdp, local, {})) {
      if (ans->audio.secure &&
          (ans->audio.local_crypto.empty() || ans->audio.remote_crypto.empty())) {
        __builtin_trap();
      }
      if (!parse_sdp(to_string(ans->sdp))) __builtin_trap();
    }
    (void)apply_answer(make_offer(local, {}), *sdp);
  }
  return 0;
}
