// libFuzzer target: the WebSocket frame parser of the event streams (what a client sends), fed
// the input in two reads as a connection would, and the close-payload parser. Any crash, leak or
// sanitizer report is a bug, as is a frame that breaks the parser's own promises.
#include <cstddef>
#include <cstdint>
#include <string>

#include "http/websocket.hpp"

using namespace sb::http::ws;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t first_read = data[0] % (size + 1);
  std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  FrameParser parser(4096);
  std::string buf;
  std::size_t fed = 0;
  for (int read = 0; read < 2; ++read) {
    const std::size_t n = read == 0 ? std::min(first_read, in.size()) : in.size() - fed;
    buf.append(in, fed, n);
    fed += n;
    std::size_t at = 0;
    for (;;) {
      Frame f;
      std::size_t used = 0;
      const auto s = parser.next(buf.data() + at, buf.size() - at, f, used);
      if (s != FrameParser::Status::kFrame) {
        if (s == FrameParser::Status::kError && parser.error_code() != close_code::kTooBig &&
            parser.error_code() != close_code::kProtocolError) {
          __builtin_trap();
        }
        break;
      }
      if (used == 0 || used > buf.size() - at) __builtin_trap();
      if (f.payload.data() < buf.data() + at ||
          f.payload.data() + f.payload.size() > buf.data() + at + used)
        __builtin_trap();
      const bool control = (static_cast<unsigned>(f.opcode) & 0x8) != 0;
      if (control && (f.payload.size() > kMaxControlPayload || !f.fin)) __builtin_trap();
      if (f.payload.size() > 4096) __builtin_trap();
      if (f.opcode == Opcode::kClose) {
        auto c = parse_close(f.payload);
        std::string echo;
        append_close(echo, c.valid ? c.code : close_code::kProtocolError, c.reason);
        if (echo.size() > 2 + kMaxControlPayload) __builtin_trap();
      }
      at += used;
    }
    buf.erase(0, at);
  }
  return 0;
}
