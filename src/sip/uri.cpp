#include "sip/uri.hpp"

#include <arpa/inet.h>

#include "sip/syntax.hpp"

namespace sb::sip {
namespace {

Error bad(std::string m) { return Error::bad_request(codes::kInvalidParameter, std::move(m)); }

bool is_unreserved(char c) {
  if (is_alnum(c)) return true;
  switch (c) {
    case '-':
    case '_':
    case '.':
    case '!':
    case '~':
    case '*':
    case '\'':
    case '(':
    case ')':
      return true;
    default:
      return false;
  }
}

// Checks chars are unreserved, escaped (%HH) or in `extra`.
bool valid_chars(std::string_view s, std::string_view extra) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return false;
      if (!is_hex(s[i + 1]) || !is_hex(s[i + 2])) return false;
      i += 2;
      continue;
    }
    if (is_unreserved(c) || extra.find(c) != std::string_view::npos) continue;
    return false;
  }
  return true;
}

// `separator`-separated `name [ "=" value ]` items whose names and values hold unreserved, escaped
// and `extra` characters; a name is never empty, a value may be where `empty_value` says.
bool valid_items(std::string_view list, char separator, std::string_view extra, bool value_required,
                 bool empty_value) {
  for (;;) {
    const auto end = list.find(separator);
    const std::string_view item = list.substr(0, end);
    const auto eq = item.find('=');
    const std::string_view name = item.substr(0, eq);
    if (name.empty() || !valid_chars(name, extra)) return false;
    if (eq == std::string_view::npos) {
      if (value_required) return false;
    } else {
      const std::string_view value = item.substr(eq + 1);
      if ((value.empty() && !empty_value) || !valid_chars(value, extra)) return false;
    }
    if (end == std::string_view::npos) return true;
    list.remove_prefix(end + 1);
  }
}

// RFC 3261 §25.1, the URI's own grammar (wider than a header parameter's token, and without
// quoted strings): uri-parameters = *( ";" pname [ "=" pvalue ] ), pname and pvalue
// 1*paramchar; headers = "?" hname "=" hvalue *( "&" hname "=" hvalue ), hvalue may be empty.
bool valid_uri_params(std::string_view params) {
  return params.starts_with(';') &&
         valid_items(params.substr(1), ';', "[]/:&+$", /*value_required=*/false,
                     /*empty_value=*/false);
}
bool valid_uri_headers(std::string_view headers) {
  return valid_items(headers, '&', "[]/?:+$", /*value_required=*/true, /*empty_value=*/true);
}

// hostname = *( domainlabel "." ) toplabel [ "." ], each label alphanumerics with inner '-'.
// A name whose last label is all digits can only be an IPv4address: four octets up to 255
// (RFC 5954 §4.1). Other labels may start with a digit (RFC 1123) where RFC 3261 wants a letter.
bool valid_name_or_ipv4(std::string_view h) {
  const bool final_dot = h.ends_with('.');
  if (final_dot) h.remove_suffix(1);
  std::size_t labels = 0;
  std::size_t octets = 0;
  bool last_numeric = false;
  for (;;) {
    const auto dot = h.find('.');
    const std::string_view label = h.substr(0, dot);
    if (label.empty() || label.front() == '-' || label.back() == '-') return false;
    last_numeric = true;
    for (char c : label) {
      if (!is_alnum(c) && c != '-') return false;
      last_numeric = last_numeric && is_digit(c);
    }
    ++labels;
    if (last_numeric && parse_uint(label, 255) && label.size() <= 3) ++octets;
    if (dot == std::string_view::npos) break;
    h.remove_prefix(dot + 1);
  }
  return !last_numeric || (labels == 4 && octets == 4 && !final_dot);
}

bool valid_host(std::string_view h) {
  if (h.empty()) return false;
  if (h.front() == '[') {
    // IPv6reference = "[" IPv6address "]": the text forms of RFC 4291 §2.2 (no zone), which is
    // what inet_pton reads.
    if (h.size() < 3 || h.back() != ']' || h.size() - 2 >= INET6_ADDRSTRLEN) return false;
    const std::string text(h.substr(1, h.size() - 2));
    in6_addr address{};
    return inet_pton(AF_INET6, text.c_str(), &address) == 1;
  }
  return valid_name_or_ipv4(h);
}

}  // namespace

std::optional<std::string_view> Uri::param(std::string_view name) const {
  return find_param(params, name);
}

bool Uri::is_sips() const { return iequals(scheme, "sips"); }

std::string Uri::host_port() const {
  std::string out(host);
  if (port != 0) out.append(":").append(std::to_string(port));
  return out;
}

Result<Uri> parse_uri(std::string_view text) {
  Uri u;
  u.raw = text;
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return bad("URI without scheme");
  u.scheme = text.substr(0, colon);
  if (!is_alpha(u.scheme[0])) return bad("Bad URI scheme");
  for (char c : u.scheme) {
    if (!is_alnum(c) && c != '+' && c != '-' && c != '.') return bad("Bad URI scheme");
  }
  std::string_view rest = text.substr(colon + 1);
  if (rest.empty()) return bad("Empty URI");
  for (char c : rest) {
    if (is_lws(c) || c == '<' || c == '>' || c == '"' || static_cast<unsigned char>(c) < 0x20) {
      return bad("Bad character in URI");
    }
  }
  if (!iequals(u.scheme, "sip") && !iequals(u.scheme, "sips")) return u;
  u.sip = true;

  // '@' cannot appear unescaped in headers or params, so it alone ends the userinfo (whose
  // user part may itself hold '?', ',' and ';').
  const auto at = rest.find('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto pc = userinfo.find(':');
    u.user = userinfo.substr(0, pc);
    if (pc != std::string_view::npos) u.password = userinfo.substr(pc + 1);
    if (u.user.empty()) return bad("Empty URI user");
    if (!valid_chars(u.user, "&=+$,;?/")) return bad("Bad URI user");
    if (!valid_chars(u.password, "&=+$,")) return bad("Bad URI password");
  }
  const auto q = rest.find('?');
  if (q != std::string_view::npos) {
    u.headers = rest.substr(q + 1);
    rest = rest.substr(0, q);
    if (!valid_uri_headers(u.headers)) return bad("Bad URI headers");
  }
  const auto semi = rest.find(';');
  std::string_view hostport = rest.substr(0, semi);
  if (semi != std::string_view::npos) {
    u.params = rest.substr(semi);
    if (!valid_uri_params(u.params)) return bad("Bad URI parameters");
  }
  std::size_t port_colon = std::string_view::npos;
  if (!hostport.empty() && hostport.front() == '[') {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) return bad("Bad IPv6 reference");
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') return bad("Bad URI host");
      port_colon = close + 1;
    }
  } else {
    port_colon = hostport.find(':');
  }
  u.host = hostport.substr(0, port_colon);
  if (!valid_host(u.host)) return bad("Bad URI host");
  if (port_colon != std::string_view::npos) {
    auto port = parse_uint(hostport.substr(port_colon + 1), 65535);
    if (!port || *port == 0) return bad("Bad URI port");
    u.port = static_cast<std::uint16_t>(*port);
  }
  return u;
}

std::optional<std::string_view> NameAddr::param(std::string_view name) const {
  return find_param(params, name);
}

std::string_view NameAddr::tag() const { return param("tag").value_or(std::string_view{}); }

Result<NameAddr> parse_name_addr(std::string_view value) {
  NameAddr na;
  std::string_view s = trim(value);
  if (s.empty()) return bad("Empty address");
  if (s == "*") {
    na.star = true;
    return na;
  }
  std::string_view uri_text;
  std::string_view after;
  if (s[0] == '"') {
    auto len = quoted_length(s);
    if (!len) return bad("Unterminated quoted display name");
    na.display_name = s.substr(1, *len - 2);
    na.quoted = true;
    s = trim(s.substr(*len));
    if (s.empty() || s[0] != '<') return bad("Display name without <URI>");
  }
  const auto lt = s.find('<');
  if (lt != std::string_view::npos) {
    if (!na.quoted) {
      // display-name = *(token LWS): only token characters and whitespace.
      std::string_view dn = trim(s.substr(0, lt));
      for (char c : dn) {
        if (!is_token_char(c) && !is_lws(c)) return bad("Display name must be quoted");
      }
      na.display_name = dn;
    }
    const auto gt = s.find('>', lt);
    if (gt == std::string_view::npos) return bad("Unterminated <URI>");
    uri_text = s.substr(lt + 1, gt - lt - 1);
    if (uri_text.empty() || is_lws(uri_text.front()) || is_lws(uri_text.back())) {
      return bad("Whitespace inside <URI>");
    }
    after = s.substr(gt + 1);
  } else {
    // addr-spec: parameters after ';' belong to the header, and the URI cannot hold ',', '?'
    // or ';' (RFC 3261 §20).
    const auto semi = s.find(';');
    uri_text = trim(s.substr(0, semi));
    if (uri_text.find_first_of("?, \t\"") != std::string_view::npos) {
      return bad("URI with '?' or ',' must be enclosed in <>");
    }
    after = semi == std::string_view::npos ? std::string_view{} : s.substr(semi);
  }
  auto uri = parse_uri(uri_text);
  if (!uri) return uri.error();
  na.uri = *uri;
  after = trim(after);
  if (!after.empty()) {
    if (after[0] != ';' || !valid_params(after)) return bad("Bad header parameters");
    na.params = after;
  }
  return na;
}

}  // namespace sb::sip
