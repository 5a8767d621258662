#include "voice/outbound.hpp"

#include "core/address.hpp"
#include "core/text.hpp"
#include "sip/uri.hpp"

namespace sb::voice {
namespace {

Error unroutable(std::string message) { return Error::bad_request(13224, std::move(message)); }

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// %XX escapes in a URI header value (RFC 3261 §19.1.2: headers are escaped).
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Header fields are tokens; a value must not break the message.
bool safe_header(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '.' || c == '_';
    if (!token) return false;
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

std::string host_of_uri(std::string_view host, std::uint16_t port) {
  std::string out(host);
  if (port != 0) out += ":" + std::to_string(port);
  return out;
}

}  // namespace

bool safe_sip_header(std::string_view name, std::string_view value) {
  return safe_header(name, value);
}

Result<Trunk> trunk_from(const store::SipTrunk& row) {
  Trunk t;
  t.name = row.friendly_name;
  auto where = parse_listen_address(row.address);
  if (!where || where->port == 0) {
    return Error::bad_request(codes::kInvalidParameter,
                              "Address must be host:port, not '" + row.address + "'");
  }
  t.host = where->host;
  t.port = where->port;
  const auto transport = sip::transport_from_name(row.transport);
  if (!transport || row.transport != to_lower(row.transport)) {
    return Error::bad_request(codes::kInvalidParameter, "Transport must be udp, tcp or tls");
  }
  t.transport = *transport;
  t.tls_verify = row.tls_verify;
  if (!row.srtp.empty()) {
    t.srtp = media::parse_srtp_policy(row.srtp);
    if (!t.srtp) {
      return Error::bad_request(codes::kInvalidParameter, "Srtp must be off, optional or required");
    }
  }
  std::string_view rest = row.prefixes;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = trim(rest.substr(0, comma));
    if (!item.empty()) t.prefixes.emplace_back(item);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  t.username = row.username;
  t.password = row.password;
  t.from_domain = row.from_domain;
  if (auto s = validate_trunk(t); !s) {
    return Error::bad_request(codes::kInvalidParameter, s.error().message);
  }
  return t;
}

void TrunkTable::set_configured(std::vector<Trunk> trunks) {
  std::lock_guard lock(mu_);
  configured_ = std::move(trunks);
}

void TrunkTable::put(const std::string& account_sid, const std::string& sid, Trunk trunk) {
  std::lock_guard lock(mu_);
  accounts_[sid] = {account_sid, std::move(trunk)};
}

void TrunkTable::remove(const std::string& sid) {
  std::lock_guard lock(mu_);
  accounts_.erase(sid);
}

std::vector<Trunk> TrunkTable::for_account(const std::string& account_sid) const {
  std::lock_guard lock(mu_);
  std::vector<Trunk> out;
  for (const auto& [sid, entry] : accounts_) {
    if (entry.first == account_sid) out.push_back(entry.second);
  }
  out.insert(out.end(), configured_.begin(), configured_.end());
  return out;
}

std::optional<std::string> caller_user(std::string_view from) {
  std::string_view user = from;
  if (user.starts_with("client:")) {
    user.remove_prefix(7);
  } else if (user.size() > 4 && iequals(user.substr(0, 4), "sip:")) {
    user.remove_prefix(4);
    const auto at = user.find('@');
    if (at == std::string_view::npos) return std::nullopt;
    user = user.substr(0, at);
  }
  if (user.empty() || user.size() > 64) return std::nullopt;
  for (char c : user) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("-_.!~*'()+").find(c) != std::string_view::npos;
    if (!ok) return std::nullopt;
  }
  return std::string(user);
}

bool is_phone_number(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  return all_digits(text) && text.size() <= 15;
}

Status validate_trunk(const Trunk& t) {
  const std::string who = "sip.trunks '" + t.name + "'";
  if (t.name.empty()) return Error::bad_request(0, "sip.trunks: every trunk needs a name");
  if (t.host.empty()) return Error::bad_request(0, who + ": address must be host:port");
  if (t.port == 0) return Error::bad_request(0, who + ": the port must be 1-65535");
  for (const auto& p : t.prefixes) {
    std::string_view digits = p;
    if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
    if (!digits.empty() && !all_digits(digits)) {
      std::string message = who;
      message += ": prefix '";
      message += p;
      message += "' must be digits after an optional +";
      return Error::bad_request(0, std::move(message));
    }
  }
  if (t.password.empty() != t.username.empty()) {
    return Error::bad_request(0, who + ": username and password go together");
  }
  if (t.prefixes.size() > 100) return Error::bad_request(0, who + ": at most 100 prefixes");
  for (const auto& p : t.prefixes) {
    if (p.size() > 16) return Error::bad_request(0, who + ": a prefix has at most 16 digits");
  }
  // They go into SIP headers (From, Authorization): printable text only, bounded.
  struct Field {
    const char* name;
    const std::string* value;
  };
  for (auto [name, value] :
       {Field{"address", &t.host}, Field{"username", &t.username}, Field{"password", &t.password},
        Field{"from_domain", &t.from_domain}}) {
    if (value->size() > 128) return Error::bad_request(0, who + ": " + name + " is too long");
    for (char c : *value) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>') {
        return Error::bad_request(
            0, who + ": " + name + " may hold no spaces, quotes, <> or control characters");
      }
    }
  }
  if (t.register_to && (t.username.empty() || t.password.empty())) {
    return Error::bad_request(0, who + ": register = true needs a username and a password");
  }
  if (t.register_expires < 60 || t.register_expires > 86400) {
    return Error::bad_request(0, who + ": register_expires must be 60 to 86400 seconds");
  }
  return Ok{};
}

std::string status_of_sip_failure(int sip_status) {
  if (sip_status == 486 || sip_status == 600) return "busy";
  if (sip_status == 408 || sip_status == 480 || sip_status == 487) return "no-answer";
  return "failed";
}

Result<Destination> client_destination(std::string_view name,
                                       const std::vector<sip::Binding>& bindings) {
  if (bindings.empty()) return unroutable("Client " + std::string(name) + " is not registered");
  Destination d;
  const sip::Binding& first = bindings.front();
  d.target = first.contact;
  // The next hop is where the REGISTER came from (right behind a NAT; the same TCP connection).
  d.host = first.source.address;
  d.port = first.source.port;
  d.transport = first.source.transport;
  d.connection = first.source.connection;
  for (std::size_t i = 1; i < bindings.size(); ++i) {
    d.forks.emplace_back(bindings[i].contact, bindings[i].source);
  }
  return d;
}

Result<Destination> resolve_destination(std::string_view to, const std::vector<Trunk>& trunks,
                                        std::optional<sip::Credentials> credentials) {
  const std::string_view trimmed = trim(to);
  if (trimmed.empty()) return unroutable("The To address is empty");
  if (trimmed.starts_with("client:")) {
    return unroutable("Client " + std::string(trimmed.substr(7)) + " is not registered");
  }
  const bool sips = trimmed.size() > 5 && iequals(trimmed.substr(0, 5), "sips:");
  if (sips || (trimmed.size() > 4 && iequals(trimmed.substr(0, 4), "sip:"))) {
    auto uri = sip::parse_uri(trimmed);
    if (!uri || !uri->sip || uri->host.empty()) {
      return unroutable("The SIP URI " + std::string(trimmed) + " is not valid");
    }
    Destination d;
    std::string host(uri->host);
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    d.host = host;
    if (auto t = uri->param("transport")) {
      const auto named = sip::transport_from_name(*t);
      if (!named) {
        return unroutable("SIP transport " + std::string(*t) + " is not supported (udp, tcp, tls)");
      }
      d.transport = *named;
    }
    // sips: is TLS on every hop (RFC 3261 §19.1.2, RFC 5630): only TLS reaches it.
    // (";transport=tcp" on a sips: URI is the old spelling of TLS over TCP.)
    if (sips) {
      if (d.transport == sip::Transport::kUdp && uri->param("transport")) {
        return unroutable("A sips: URI cannot be reached over udp");
      }
      d.transport = sip::Transport::kTls;
    }
    d.port = uri->port ? uri->port : (d.transport == sip::Transport::kTls ? 5061 : 5060);
    // The Request-URI keeps user, host, port and parameters; the headers become header fields.
    std::string target = sips ? "sips:" : "sip:";
    if (!uri->user.empty()) target += std::string(uri->user) + "@";
    target += host_of_uri(uri->host, uri->port);
    target += std::string(uri->params);
    d.target = std::move(target);
    std::string_view rest = uri->headers;
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string_view item = rest.substr(0, amp);
      const auto eq = item.find('=');
      const std::string name = unescape(item.substr(0, eq));
      const std::string value = eq == std::string_view::npos ? "" : unescape(item.substr(eq + 1));
      if (!safe_header(name, value)) {
        return unroutable("The SIP URI header '" + name + "' is not a valid header");
      }
      // Only custom X- headers pass (as Twilio's <Sip> does): the rest are ours to write.
      if (name.size() > 2 && (name[0] == 'X' || name[0] == 'x') && name[1] == '-') {
        d.headers.emplace_back(name, value);
      }
      rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    }
    d.credentials = std::move(credentials);
    return d;
  }
  if (!is_phone_number(trimmed)) {
    return unroutable("The number " + std::string(trimmed) +
                      " is not a phone number, a sip: URI or a client: identity");
  }
  // The longest prefix wins; a number is matched with and without its '+'.
  const std::string number(trimmed);
  const std::string bare = number.front() == '+' ? number.substr(1) : number;
  const Trunk* best = nullptr;
  std::size_t best_len = 0;
  for (const auto& t : trunks) {
    std::vector<std::string> prefixes = t.prefixes;
    if (prefixes.empty()) prefixes.emplace_back();
    for (const auto& p : prefixes) {
      const bool plus = !p.empty() && p.front() == '+';
      const bool match = plus ? number.starts_with(p) : bare.starts_with(p);
      const std::size_t len = p.size() - (plus ? 1 : 0) + 1;  // "" still beats no match
      if (match && (!best || len > best_len)) {
        best = &t;
        best_len = len;
      }
    }
  }
  if (!best) return unroutable("No SIP trunk routes the number " + number);
  Destination d;
  d.host = best->host;
  d.port = best->port;
  d.transport = best->transport;
  d.tls_verify = best->tls_verify;
  d.srtp = best->srtp;
  d.target = "sip:" + number + "@" + host_of_uri(best->host, best->port);
  if (best->transport == sip::Transport::kTcp) d.target += ";transport=tcp";
  if (best->transport == sip::Transport::kTls) d.target += ";transport=tls";
  d.from_domain = best->from_domain.empty() ? best->host : best->from_domain;
  if (!best->username.empty()) d.credentials = sip::Credentials{best->username, best->password};
  d.trunk = best->name;
  return d;
}

}  // namespace sb::voice
