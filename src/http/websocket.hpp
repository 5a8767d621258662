// RFC 6455 framing for the server side of the event streams: frames the server sends (unmasked,
// whole) and an incremental parser of the frames a client sends (masked). The stream endpoint
// writes many pre-serialized events per send with these instead of one library write per frame.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/response.hpp"

namespace sb::http::ws {

enum class Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close status codes (RFC 6455 7.4.1) the server uses.
namespace close_code {
constexpr std::uint16_t kNormal = 1000;
constexpr std::uint16_t kGoingAway = 1001;
constexpr std::uint16_t kProtocolError = 1002;
constexpr std::uint16_t kPolicyViolation = 1008;
constexpr std::uint16_t kTooBig = 1009;
}  // namespace close_code

constexpr std::size_t kMaxHeader = 10;
constexpr std::size_t kMaxControlPayload = 125;

// The header of an unmasked, final frame carrying `payload_size` bytes; returns its length
// (2, 4 or 10).
std::size_t frame_header(Opcode op, std::uint64_t payload_size,
                         std::array<unsigned char, kMaxHeader>& out);

// Appends a whole unmasked final frame to `out`.
void append_frame(std::string& out, Opcode op, std::string_view payload);

// Appends a close frame with `code` and a reason (cut to fit the control-frame limit).
void append_close(std::string& out, std::uint16_t code, std::string_view reason = {});

struct Frame {
  Opcode opcode = Opcode::kText;
  bool fin = true;
  std::string_view payload;  // unmasked, in the caller's buffer
};

// Parses client frames from the front of a buffer. Client frames must be masked, carry no
// reserved bits (no extension is negotiated), use known opcodes, keep control frames whole and
// at most 125 bytes, and continue fragmented messages in order; a violation is a protocol
// error (close 1002), a frame over the payload limit is close 1009.
class FrameParser {
 public:
  enum class Status { kFrame, kNeedMore, kError };

  explicit FrameParser(std::size_t max_payload) : max_payload_(max_payload) {}

  // Reads one frame from `data` (`size` bytes, modified: the payload is unmasked in place). On
  // kFrame, `frame` views the payload and `consumed` is the frame's length. On kError,
  // `error_code` is the close code to send and the connection must end.
  Status next(char* data, std::size_t size, Frame& frame, std::size_t& consumed);

  std::uint16_t error_code() const { return error_code_; }
  std::string_view error() const { return error_; }

 private:
  Status fail(std::uint16_t code, std::string_view why);

  std::size_t max_payload_;
  bool in_message_ = false;  // a fragmented data message has begun
  std::uint16_t error_code_ = 0;
  std::string_view error_;
};

// The code and reason of a close frame's payload; 1005 (no status) for an empty payload.
struct CloseInfo {
  std::uint16_t code = 1005;
  std::string_view reason;
  bool valid = true;  // false for a 1-byte payload or a code a peer may not send
};
CloseInfo parse_close(std::string_view payload);

// The server's answer to an opening handshake (RFC 6455 4.2): 101 with Sec-WebSocket-Accept
// when `req` is a valid upgrade (GET, HTTP/1.1, Connection: Upgrade, Upgrade: websocket, a
// 16-byte key, version 13), else 400, or 426 naming version 13. The caller writes it to the
// connection, whatever it is (plain or TLS), and then speaks frames on a 101.
Response handshake_response(const Request& req);

// base64(SHA-1(key + the RFC 6455 GUID)).
std::string accept_key(std::string_view key);

}  // namespace sb::http::ws
