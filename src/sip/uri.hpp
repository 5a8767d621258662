// SIP URIs (RFC 3261 §19.1) and name-addr / addr-spec values (From, To, Contact, Route).
// Everything is a view into the parsed text; escapes are kept as written (unescape on use).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace sb::sip {

struct Uri {
  std::string_view scheme;  // as written; compare with iequals
  std::string_view user;    // escaped form; may contain ';' (RFC 4475 3.1.1.9)
  std::string_view password;
  std::string_view host;     // IPv6 references keep their brackets
  std::uint16_t port = 0;    // 0 when absent
  std::string_view params;   // ";a=b;lr" (leading ';' kept), empty when none
  std::string_view headers;  // after '?', empty when none
  std::string_view raw;      // the whole URI
  bool sip = false;          // scheme is sip or sips (host/user parsed)

  std::optional<std::string_view> param(std::string_view name) const;
  bool is_sips() const;
  // "host[:port]", as used for a transport destination.
  std::string host_port() const;
};

// Parses an absolute URI. sip/sips are fully checked (user, host, port, params, headers);
// other schemes only need `scheme ":" 1*uric-no-space` (the caller decides: 416).
Result<Uri> parse_uri(std::string_view text);

struct NameAddr {
  std::string_view display_name;  // raw: quotes stripped, quoted-pairs kept
  bool quoted = false;
  Uri uri;
  std::string_view params;  // header parameters after the URI (";tag=x"), may be empty
  bool star = false;        // Contact: *

  std::optional<std::string_view> param(std::string_view name) const;
  std::string_view tag() const;  // "" if none
};

// One value of From / To / Contact / Route / Record-Route.
Result<NameAddr> parse_name_addr(std::string_view value);

}  // namespace sb::sip
