#include "http/websocket.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sb::http::ws {
namespace {

// A client frame as RFC 6455 5.3 says a client sends it: masked with `key`.
std::string client_frame(unsigned first_byte, std::string_view payload,
                         std::array<unsigned char, 4> key = {0x37, 0xfa, 0x21, 0x3d}) {
  std::string f;
  f.push_back(static_cast<char>(first_byte));
  const auto n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xFF));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int i = 7; i >= 0; --i) f.push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  }
  for (auto k : key) f.push_back(static_cast<char>(k));
  for (std::size_t i = 0; i < n; ++i) f.push_back(static_cast<char>(payload[i] ^ key[i % 4]));
  return f;
}

TEST(WebSocket, HeaderLengthsAtTheBoundaries) {
  std::array<unsigned char, kMaxHeader> h;
  EXPECT_EQ(frame_header(Opcode::kText, 0, h), 2u);
  EXPECT_EQ(h[0], 0x81);
  EXPECT_EQ(h[1], 0);
  EXPECT_EQ(frame_header(Opcode::kText, 125, h), 2u);
  EXPECT_EQ(h[1], 125);
  EXPECT_EQ(frame_header(Opcode::kText, 126, h), 4u);
  EXPECT_EQ(h[1], 126);
  EXPECT_EQ(h[2], 0);
  EXPECT_EQ(h[3], 126);
  EXPECT_EQ(frame_header(Opcode::kBinary, 65535, h), 4u);
  EXPECT_EQ(h[0], 0x82);
  EXPECT_EQ(h[2], 0xFF);
  EXPECT_EQ(h[3], 0xFF);
  EXPECT_EQ(frame_header(Opcode::kPing, 65536, h), 10u);
  EXPECT_EQ(h[0], 0x89);
  EXPECT_EQ(h[1], 127);
  const unsigned char want[8] = {0, 0, 0, 0, 0, 1, 0, 0};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(h[2 + i], want[i]) << i;
}

TEST(WebSocket, AppendFrameAndClose) {
  std::string out;
  append_frame(out, Opcode::kText, "Hello");
  EXPECT_EQ(out, std::string("\x81\x05Hello", 7));  // RFC 6455 5.7, unmasked text
  out.clear();
  append_close(out, close_code::kPolicyViolation, "slow consumer");
  ASSERT_EQ(out.size(), 2u + 2 + 13);
  EXPECT_EQ(static_cast<unsigned char>(out[0]), 0x88);
  auto c = parse_close(std::string_view(out).substr(2));
  EXPECT_TRUE(c.valid);
  EXPECT_EQ(c.code, 1008);
  EXPECT_EQ(c.reason, "slow consumer");
  out.clear();
  append_close(out, close_code::kNormal);  // no reason
  EXPECT_EQ(out, std::string("\x88\x02\x03\xe8", 4));
  // A long reason is cut to fit 125 bytes, not across a UTF-8 character ("é" is 2 bytes).
  out.clear();
  std::string reason;
  for (int i = 0; i < 100; ++i) reason += "\xc3\xa9";
  append_close(out, close_code::kGoingAway, reason);
  ASSERT_EQ(static_cast<unsigned char>(out[1]), 124u);  // code + 61 whole characters
  EXPECT_EQ(out.size(), 2u + 124);
}

TEST(WebSocket, ParsesAMaskedFrameOnlyWhenWhole) {
  // RFC 6455 5.7: a masked "Hello" from a client.
  const std::string whole("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  EXPECT_EQ(whole, client_frame(0x81, "Hello"));
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    std::string part = whole.substr(0, cut);
    FrameParser p(1024);
    Frame f;
    std::size_t used = 0;
    EXPECT_EQ(p.next(part.data(), part.size(), f, used), FrameParser::Status::kNeedMore) << cut;
  }
  std::string buf = whole + client_frame(0x89, "hb");
  FrameParser p(1024);
  Frame f;
  std::size_t used = 0;
  ASSERT_EQ(p.next(buf.data(), buf.size(), f, used), FrameParser::Status::kFrame);
  EXPECT_EQ(used, whole.size());
  EXPECT_EQ(f.opcode, Opcode::kText);
  EXPECT_TRUE(f.fin);
  EXPECT_EQ(f.payload, "Hello");
  ASSERT_EQ(p.next(buf.data() + used, buf.size() - used, f, used), FrameParser::Status::kFrame);
  EXPECT_EQ(f.opcode, Opcode::kPing);
  EXPECT_EQ(f.payload, "hb");
}

TEST(WebSocket, ExtendedLengths) {
  for (std::size_t n : {126u, 65535u, 65536u, 70000u}) {
    std::string payload(n, 'x');
    payload.back() = 'y';
    std::string buf = client_frame(0x82, payload);
    FrameParser p(1 << 20);
    Frame f;
    std::size_t used = 0;
    ASSERT_EQ(p.next(buf.data(), buf.size(), f, used), FrameParser::Status::kFrame) << n;
    EXPECT_EQ(used, buf.size());
    EXPECT_EQ(f.payload.size(), n);
    EXPECT_EQ(f.payload.back(), 'y');
  }
}

TEST(WebSocket, FragmentsWithAControlFrameBetween) {
  std::string buf = client_frame(0x01, "Hel") + client_frame(0x89, "") + client_frame(0x80, "lo");
  FrameParser p(1024);
  Frame f;
  std::size_t used = 0, at = 0;
  ASSERT_EQ(p.next(buf.data(), buf.size(), f, used), FrameParser::Status::kFrame);
  EXPECT_FALSE(f.fin);
  EXPECT_EQ(f.payload, "Hel");
  at += used;
  ASSERT_EQ(p.next(buf.data() + at, buf.size() - at, f, used), FrameParser::Status::kFrame);
  EXPECT_EQ(f.opcode, Opcode::kPing);
  at += used;
  ASSERT_EQ(p.next(buf.data() + at, buf.size() - at, f, used), FrameParser::Status::kFrame);
  EXPECT_EQ(f.opcode, Opcode::kContinuation);
  EXPECT_TRUE(f.fin);
  EXPECT_EQ(f.payload, "lo");
}

struct BadFrame {
  const char* name;
  std::string bytes;
  std::uint16_t code;
};

TEST(WebSocket, ProtocolViolationsAreErrors) {
  std::string unmasked("\x81\x02hi", 4);
  std::string huge_len = client_frame(0x82, "");
  huge_len[1] = static_cast<char>(0x80 | 127);
  huge_len.insert(2, std::string("\x80\0\0\0\0\0\0\0", 8));
  const BadFrame cases[] = {
      {"unmasked", unmasked, 1002},
      {"reserved bit", client_frame(0xC1, "hi"), 1002},
      {"unknown opcode", client_frame(0x83, "hi"), 1002},
      {"control opcode 0xB", client_frame(0x8B, ""), 1002},
      {"continuation first", client_frame(0x80, "hi"), 1002},
      {"fragmented ping", client_frame(0x09, "hi"), 1002},
      {"ping over 125", client_frame(0x89, std::string(126, 'p')), 1002},
      {"too big", client_frame(0x81, std::string(2000, 'x')), 1009},
      {"64-bit length with the top bit", huge_len, 1002},
      {"text inside a fragmented message", client_frame(0x01, "a") + client_frame(0x81, "b"), 1002},
  };
  for (const auto& c : cases) {
    std::string buf = c.bytes;
    FrameParser p(1024);
    Frame f;
    std::size_t used = 0, at = 0;
    FrameParser::Status s;
    while ((s = p.next(buf.data() + at, buf.size() - at, f, used)) == FrameParser::Status::kFrame) {
      at += used;
    }
    EXPECT_EQ(s, FrameParser::Status::kError) << c.name;
    EXPECT_EQ(p.error_code(), c.code) << c.name;
    EXPECT_FALSE(p.error().empty()) << c.name;
    // Once failed, it stays failed.
    EXPECT_EQ(p.next(buf.data(), buf.size(), f, used), FrameParser::Status::kError) << c.name;
  }
}

TEST(WebSocket, CloseCodes) {
  EXPECT_EQ(parse_close("").code, 1005);
  EXPECT_TRUE(parse_close("").valid);
  EXPECT_FALSE(parse_close("\x03").valid);
  EXPECT_TRUE(parse_close(std::string("\x03\xe8", 2)).valid);   // 1000
  EXPECT_FALSE(parse_close(std::string("\x03\xed", 2)).valid);  // 1005
  EXPECT_FALSE(parse_close(std::string("\x03\xee", 2)).valid);  // 1006
  EXPECT_FALSE(parse_close(std::string("\x00\x10", 2)).valid);  // 16
  EXPECT_TRUE(parse_close(std::string("\x0f\xa0"
                                      "bye",
                                      5))
                  .valid);  // 4000
  EXPECT_EQ(parse_close(std::string("\x0f\xa0"
                                    "bye",
                                    5))
                .reason,
            "bye");
}

}  // namespace
}  // namespace sb::http::ws

namespace sb::http::ws {
namespace {

Request upgrade_request() {
  Request req{boost::beast::http::verb::get, "/v1/Channels/c/Stream", 11};
  req.set(boost::beast::http::field::host, "127.0.0.1");
  req.set(boost::beast::http::field::connection, "keep-alive, Upgrade");
  req.set(boost::beast::http::field::upgrade, "websocket");
  req.set(boost::beast::http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  req.set(boost::beast::http::field::sec_websocket_version, "13");
  return req;
}

TEST(WebSocketHandshake, AcceptsWithTheRfcExampleKey) {
  // RFC 6455 1.3: this key's accept value.
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  const auto res = handshake_response(upgrade_request());
  EXPECT_EQ(res.result_int(), 101);
  EXPECT_EQ(res[boost::beast::http::field::sec_websocket_accept], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_EQ(res[boost::beast::http::field::upgrade], "websocket");
  EXPECT_EQ(res[boost::beast::http::field::connection], "Upgrade");
}

TEST(WebSocketHandshake, RefusesWhatIsNotAVersion13Upgrade) {
  auto req = upgrade_request();
  req.set(boost::beast::http::field::sec_websocket_version, "8");
  auto res = handshake_response(req);
  EXPECT_EQ(res.result_int(), 426);
  EXPECT_EQ(res[boost::beast::http::field::sec_websocket_version], "13");

  req = upgrade_request();
  req.set(boost::beast::http::field::sec_websocket_key, "c2hvcnQ=");  // 5 bytes
  EXPECT_EQ(handshake_response(req).result_int(), 400);
  req.erase(boost::beast::http::field::sec_websocket_key);
  EXPECT_EQ(handshake_response(req).result_int(), 400);

  req = upgrade_request();
  req.set(boost::beast::http::field::connection, "keep-alive");
  EXPECT_EQ(handshake_response(req).result_int(), 400);
  req.set(boost::beast::http::field::connection, "keep-alive ,\tUPGRADE");  // list, any case
  req.set(boost::beast::http::field::upgrade, "WebSocket");
  EXPECT_EQ(handshake_response(req).result_int(), 101);
  req.set(boost::beast::http::field::connection, "upgrades, \"upgrade\"");  // no such token
  EXPECT_EQ(handshake_response(req).result_int(), 400);

  req = upgrade_request();
  req.method(boost::beast::http::verb::post);
  EXPECT_EQ(handshake_response(req).result_int(), 400);

  req = upgrade_request();
  req.version(10);
  EXPECT_EQ(handshake_response(req).result_int(), 400);
  EXPECT_FALSE(handshake_response(req).keep_alive());
}

}  // namespace
}  // namespace sb::http::ws
