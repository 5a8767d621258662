// libFuzzer target: the SIP message parser, URI/name-addr parsing, response building, request
// checks and stream framing. Any crash, leak or sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sip/message.hpp"
#include "sip/request_check.hpp"

using namespace sb::sip;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  ParseError e;
  auto m = Message::parse(in, &e);
  if (!m) {
    (void)make_error_response(in, e);
  } else {
    std::size_t n = 0;
    for (Hdr id : {Hdr::kVia, Hdr::kContact, Hdr::kRoute, Hdr::kRecordRoute, Hdr::kRequire,
                   Hdr::kAccept, Hdr::kSupported}) {
      m->for_each_value(id, [&](std::string_view v) {
        n += v.size();
        if (id == Hdr::kContact || id == Hdr::kRoute) (void)parse_name_addr(v);
        if (id == Hdr::kVia) (void)parse_via(v);
      });
    }
    (void)m->header("X-Unknown");
    (void)m->from().tag();
    (void)m->uri().param("transport");
    (void)unescape(m->uri().user);
    if (m->is_request()) {
      (void)check_request(*m, "fuzz");
      auto r =
          make_response(*m, 200, {}, "tag", "Contact: <sip:a@b>\r\n", "application/sdp", "v=0");
      if (!Message::parse(r)) __builtin_trap();  // our own responses must parse
    }
  }
  // Stream framing, with the input fed in two pieces.
  StreamFramer f;
  f.append(in.substr(0, size / 2));
  std::string msg;
  for (int i = 0; i < 4 && f.next(msg) == StreamFramer::State::kMessage; ++i)
    (void)Message::parse(msg);
  f.append(in.substr(size / 2));
  for (int i = 0; i < 16 && f.next(msg) == StreamFramer::State::kMessage; ++i)
    (void)Message::parse(msg);
  return 0;
}
