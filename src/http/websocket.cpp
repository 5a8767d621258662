#include "http/websocket.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <boost/beast/http/rfc7230.hpp>
#include <cstring>

#include "http/base64.hpp"

namespace sb::http::ws {

std::size_t frame_header(Opcode op, std::uint64_t payload_size,
                         std::array<unsigned char, kMaxHeader>& out) {
  out[0] = static_cast<unsigned char>(0x80 | static_cast<unsigned>(op));
  if (payload_size < 126) {
    out[1] = static_cast<unsigned char>(payload_size);
    return 2;
  }
  if (payload_size <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<unsigned char>(payload_size >> 8);
    out[3] = static_cast<unsigned char>(payload_size);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i) {
    out[2 + i] = static_cast<unsigned char>(payload_size >> (56 - 8 * i));
  }
  return 10;
}

void append_frame(std::string& out, Opcode op, std::string_view payload) {
  std::array<unsigned char, kMaxHeader> h;
  const auto n = frame_header(op, payload.size(), h);
  out.append(reinterpret_cast<const char*>(h.data()), n);
  out.append(payload);
}

void append_close(std::string& out, std::uint16_t code, std::string_view reason) {
  char payload[kMaxControlPayload];
  payload[0] = static_cast<char>(code >> 8);
  payload[1] = static_cast<char>(code & 0xFF);
  // Cut the reason at a UTF-8 character boundary so the frame stays valid text.
  std::size_t n = std::min(reason.size(), kMaxControlPayload - 2);
  while (n > 0 && n < reason.size() && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80) {
    --n;
  }
  if (n > 0) std::memcpy(payload + 2, reason.data(), n);
  append_frame(out, Opcode::kClose, std::string_view(payload, n + 2));
}

FrameParser::Status FrameParser::fail(std::uint16_t code, std::string_view why) {
  error_code_ = code;
  error_ = why;
  return Status::kError;
}

FrameParser::Status FrameParser::next(char* data, std::size_t size, Frame& frame,
                                      std::size_t& consumed) {
  if (error_code_ != 0) return Status::kError;
  if (size < 2) return Status::kNeedMore;
  const auto* b = reinterpret_cast<const unsigned char*>(data);
  const bool fin = (b[0] & 0x80) != 0;
  if ((b[0] & 0x70) != 0) return fail(close_code::kProtocolError, "reserved bits set");
  const unsigned op = b[0] & 0x0F;
  const bool control = (op & 0x08) != 0;
  switch (op) {
    case 0x0:
      if (!in_message_) return fail(close_code::kProtocolError, "continuation without a message");
      break;
    case 0x1:
    case 0x2:
      if (in_message_) {
        return fail(close_code::kProtocolError, "new message inside a fragmented one");
      }
      break;
    case 0x8:
    case 0x9:
    case 0xA:
      break;
    default:
      return fail(close_code::kProtocolError, "unknown opcode");
  }
  if ((b[1] & 0x80) == 0) return fail(close_code::kProtocolError, "client frame not masked");
  std::uint64_t len = b[1] & 0x7F;
  std::size_t pos = 2;
  if (len == 126) {
    if (size < 4) return Status::kNeedMore;
    len = (std::uint64_t{b[2]} << 8) | b[3];
    pos = 4;
  } else if (len == 127) {
    if (size < 10) return Status::kNeedMore;
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | b[2 + i];
    if (len >> 63) return fail(close_code::kProtocolError, "payload length out of range");
    pos = 10;
  }
  if (control && (!fin || len > kMaxControlPayload)) {
    return fail(close_code::kProtocolError, "control frame fragmented or over 125 bytes");
  }
  if (len > max_payload_) return fail(close_code::kTooBig, "frame too big");
  if (size < pos + 4) return Status::kNeedMore;
  unsigned char mask[4];
  std::memcpy(mask, b + pos, 4);
  pos += 4;
  if (size - pos < len) return Status::kNeedMore;
  char* payload = data + pos;
  for (std::size_t i = 0; i < len; ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i & 3]);
  if (!control) in_message_ = !fin;
  frame.opcode = static_cast<Opcode>(op);
  frame.fin = fin;
  frame.payload = std::string_view(payload, static_cast<std::size_t>(len));
  consumed = pos + static_cast<std::size_t>(len);
  return Status::kFrame;
}

CloseInfo parse_close(std::string_view payload) {
  CloseInfo c;
  if (payload.empty()) return c;
  if (payload.size() == 1) {
    c.valid = false;
    return c;
  }
  c.code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                      static_cast<unsigned char>(payload[1]));
  c.reason = payload.substr(2);
  const auto k = c.code;
  c.valid = (k >= 1000 && k <= 1003) || (k >= 1007 && k <= 1014) || (k >= 3000 && k <= 4999);
  return c;
}

std::string accept_key(std::string_view key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input(key);
  input.append(kGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

Response handshake_response(const Request& req) {
  namespace bhttp = boost::beast::http;
  const auto refuse = [&req](bhttp::status status, std::string_view why) {
    Response res{status, req.version()};
    res.set(bhttp::field::content_type, "text/plain");
    res.body() = std::string(why) + "\n";
    res.keep_alive(false);
    return res;
  };
  if (req.method() != bhttp::verb::get || req.version() < 11) {
    return refuse(bhttp::status::bad_request, "A WebSocket handshake is a GET over HTTP/1.1");
  }
  // RFC 7230 token lists, matched case-insensitively.
  if (!bhttp::token_list{req[bhttp::field::connection]}.exists("upgrade") ||
      !bhttp::token_list{req[bhttp::field::upgrade]}.exists("websocket")) {
    return refuse(bhttp::status::bad_request, "Connection: Upgrade and Upgrade: websocket needed");
  }
  if (req[bhttp::field::sec_websocket_version] != "13") {
    auto res = refuse(bhttp::status::upgrade_required, "Only WebSocket version 13 is spoken");
    res.set(bhttp::field::sec_websocket_version, "13");
    return res;
  }
  const std::string_view key = req[bhttp::field::sec_websocket_key];
  const auto raw = base64_decode(key);
  if (!raw || raw->size() != 16) {
    return refuse(bhttp::status::bad_request, "Sec-WebSocket-Key must be 16 bytes in base64");
  }
  Response res{bhttp::status::switching_protocols, req.version()};
  res.set(bhttp::field::upgrade, "websocket");
  res.set(bhttp::field::connection, "Upgrade");
  res.set(bhttp::field::sec_websocket_accept, accept_key(key));
  return res;
}

}  // namespace sb::http::ws
