#include "sip/sdp.hpp"

#include <charconv>

#include "sip/syntax.hpp"

namespace sb::sip {
namespace {

Error bad(std::string m) { return Error::bad_request(codes::kInvalidParameter, std::move(m)); }

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::optional<Direction> direction_attr(std::string_view a) {
  if (a == "sendrecv") return Direction::kSendRecv;
  if (a == "sendonly") return Direction::kSendOnly;
  if (a == "recvonly") return Direction::kRecvOnly;
  if (a == "inactive") return Direction::kInactive;
  return std::nullopt;
}

bool is_null_address(std::string_view a) { return a == "0.0.0.0" || a == "::"; }

bool same_codec(const Codec& a, const Codec& b) {
  return iequals(a.name, b.name) && a.clock_rate == b.clock_rate;
}

bool is_dtmf(const Codec& c) { return iequals(c.name, "telephone-event") && c.clock_rate == 8000; }

Codec static_codec(int pt) {
  if (pt == 0) return {0, "PCMU", 8000, {}};
  if (pt == 8) return {8, "PCMA", 8000, {}};
  if (pt == 3) return {3, "GSM", 8000, {}};
  if (pt == 9) return {9, "G722", 8000, {}};
  if (pt == 18) return {18, "G729", 8000, {}};
  return {pt, "", 8000, {}};
}

bool valid_address(std::string_view a) {
  if (a.empty() || a.size() > 255) return false;
  for (char c : a) {
    if (!is_alnum(c) && c != '.' && c != ':' && c != '-') return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(Direction d) {
  switch (d) {
    case Direction::kSendRecv:
      return "sendrecv";
    case Direction::kSendOnly:
      return "sendonly";
    case Direction::kRecvOnly:
      return "recvonly";
    case Direction::kInactive:
      return "inactive";
  }
  return "sendrecv";
}

Direction reverse(Direction d) {
  if (d == Direction::kSendOnly) return Direction::kRecvOnly;
  if (d == Direction::kRecvOnly) return Direction::kSendOnly;
  return d;
}

const std::string& SessionDescription::address_of(const MediaDescription& m) const {
  return m.connection.empty() ? connection : m.connection;
}

Direction SessionDescription::direction_of(const MediaDescription& m) const {
  return m.direction.value_or(direction.value_or(Direction::kSendRecv));
}

Result<SessionDescription> parse_sdp(std::string_view text, const SdpLimits& limits) {
  if (text.size() > limits.max_bytes) return bad("SDP too large");
  SessionDescription sdp;
  std::size_t lines = 0;
  bool saw_v = false, saw_o = false;
  MediaDescription* m = nullptr;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (++lines > limits.max_lines) return bad("SDP has too many lines");
    if (line.size() < 2 || line[1] != '=' || !is_alpha(line[0])) return bad("Malformed SDP line");
    const char type = line[0];
    const std::string_view value = line.substr(2);
    if (!saw_v) {
      if (type != 'v' || value != "0") return bad("SDP must start with v=0");
      saw_v = true;
      continue;
    }
    switch (type) {
      case 'o': {
        auto f = split_ws(value);
        if (f.size() != 6) return bad("Malformed o= line");
        sdp.origin_user = std::string(f[0]);
        auto id = parse_uint(f[1], UINT64_MAX);
        auto ver = parse_uint(f[2], UINT64_MAX);
        if (!id || !ver) return bad("Malformed o= line");
        sdp.session_id = *id;
        sdp.session_version = *ver;
        sdp.origin_address = std::string(f[5]);
        saw_o = true;
        break;
      }
      case 's':
        sdp.session_name = std::string(value);
        break;
      case 'c': {
        auto f = split_ws(value);
        if (f.size() != 3 || f[0] != "IN" || (f[1] != "IP4" && f[1] != "IP6")) {
          return bad("Malformed c= line");
        }
        std::string_view addr = f[2].substr(0, f[2].find('/'));  // drop multicast TTL
        if (!valid_address(addr)) return bad("Malformed c= address");
        (m ? m->connection : sdp.connection) = std::string(addr);
        break;
      }
      case 'm': {
        if (sdp.media.size() >= limits.max_media) return bad("SDP has too many media");
        auto f = split_ws(value);
        if (f.size() < 4) return bad("Malformed m= line");
        MediaDescription md;
        md.media = std::string(f[0]);
        auto port = parse_uint(f[1].substr(0, f[1].find('/')), 65535);
        if (!port) return bad("Malformed m= port");
        md.port = static_cast<std::uint16_t>(*port);
        md.proto = std::string(f[2]);
        if (f.size() - 3 > limits.max_formats) return bad("Too many formats");
        const bool rtp = md.proto.find("RTP/") != std::string::npos;
        for (std::size_t i = 3; i < f.size(); ++i) {
          md.formats.emplace_back(f[i]);
          if (rtp) {
            auto pt = parse_uint(f[i], 127);
            if (!pt) return bad("Malformed RTP payload type");
            md.codecs.push_back(static_codec(static_cast<int>(*pt)));
          }
        }
        sdp.media.push_back(std::move(md));
        m = &sdp.media.back();
        break;
      }
      case 'a': {
        const auto colon = value.find(':');
        const std::string_view name = value.substr(0, colon);
        const std::string_view arg =
            colon == std::string_view::npos ? std::string_view{} : value.substr(colon + 1);
        if (auto d = direction_attr(name)) {
          (m ? m->direction : sdp.direction) = *d;
          break;
        }
        if (!m) break;  // other session-level attributes are not needed
        if (name == "rtpmap" || name == "fmtp") {
          const auto sp = arg.find(' ');
          auto pt = parse_uint(arg.substr(0, sp), 127);
          if (!pt || sp == std::string_view::npos) return bad("Malformed a=" + std::string(name));
          for (auto& c : m->codecs) {
            if (c.payload_type != static_cast<int>(*pt)) continue;
            std::string_view rest = trim(arg.substr(sp + 1));
            if (name == "fmtp") {
              c.fmtp = std::string(rest);
              continue;
            }
            const auto slash = rest.find('/');
            if (slash == std::string_view::npos) return bad("Malformed a=rtpmap");
            c.name = std::string(rest.substr(0, slash));
            std::string_view rate = rest.substr(slash + 1);
            rate = rate.substr(0, rate.find('/'));
            auto r = parse_uint(rate, 1000000);
            if (!r || *r == 0) return bad("Malformed a=rtpmap clock rate");
            c.clock_rate = static_cast<int>(*r);
          }
        } else if (name == "ptime") {
          auto p = parse_uint(trim(arg), 1000);
          if (!p || *p == 0) return bad("Malformed a=ptime");
          m->ptime = static_cast<int>(*p);
        } else {
          m->other_attributes.emplace_back(value);
        }
        break;
      }
      default:
        break;  // i=, u=, e=, p=, b=, t=, r=, z=, k=: not needed for audio
    }
  }
  if (!saw_v) return bad("Empty SDP");
  if (!saw_o) return bad("SDP without o= line");
  for (const auto& md : sdp.media) {
    if (md.port != 0 && sdp.address_of(md).empty()) return bad("SDP media without c= line");
  }
  return sdp;
}

std::string to_string(const SessionDescription& sdp) {
  const bool v6 = sdp.origin_address.find(':') != std::string::npos;
  std::string out;
  out.reserve(256);
  out += "v=0\r\n";
  out += "o=" + sdp.origin_user + " " + std::to_string(sdp.session_id) + " " +
         std::to_string(sdp.session_version) + (v6 ? " IN IP6 " : " IN IP4 ") + sdp.origin_address +
         "\r\n";
  out += "s=" + sdp.session_name + "\r\n";
  auto conn = [](const std::string& a) {
    return std::string("c=IN ") + (a.find(':') != std::string::npos ? "IP6 " : "IP4 ") + a + "\r\n";
  };
  if (!sdp.connection.empty()) out += conn(sdp.connection);
  out += "t=0 0\r\n";
  if (sdp.direction) out += "a=" + std::string(to_string(*sdp.direction)) + "\r\n";
  for (const auto& m : sdp.media) {
    out += "m=" + m.media + " " + std::to_string(m.port) + " " + m.proto;
    for (const auto& f : m.formats) out += " " + f;
    out += "\r\n";
    if (!m.connection.empty()) out += conn(m.connection);
    for (const auto& c : m.codecs) {
      if (c.name.empty()) continue;
      out += "a=rtpmap:" + std::to_string(c.payload_type) + " " + c.name + "/" +
             std::to_string(c.clock_rate) + "\r\n";
      if (!c.fmtp.empty()) {
        out += "a=fmtp:" + std::to_string(c.payload_type) + " " + c.fmtp + "\r\n";
      }
    }
    if (m.ptime) out += "a=ptime:" + std::to_string(*m.ptime) + "\r\n";
    for (const auto& a : m.other_attributes) out += "a=" + a + "\r\n";
    if (m.direction) out += "a=" + std::string(to_string(*m.direction)) + "\r\n";
  }
  return out;
}

namespace {

constexpr std::string_view kSavp = "RTP/SAVP";
constexpr std::string_view kCryptoPrefix = "crypto:";

// "tag suite key-params ..." -> (tag, suite); nullopt when malformed.
std::optional<std::pair<std::string_view, std::string_view>> crypto_tag_suite(std::string_view v) {
  const auto sp1 = v.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0) return std::nullopt;
  const auto sp2 = v.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return std::nullopt;
  return std::pair{v.substr(0, sp1), v.substr(sp1 + 1, sp2 - sp1 - 1)};
}

std::vector<std::string_view> crypto_lines(const MediaDescription& m) {
  std::vector<std::string_view> out;
  for (const auto& a : m.other_attributes) {
    if (a.size() > kCryptoPrefix.size() &&
        iequals(a.substr(0, kCryptoPrefix.size()), kCryptoPrefix)) {
      out.push_back(std::string_view(a).substr(kCryptoPrefix.size()));
    }
  }
  return out;
}

// Our value for an offered a=crypto value of the same suite, with the offer's tag; "" if none.
std::string answer_crypto(const LocalMedia& local, std::string_view offered) {
  const auto theirs = crypto_tag_suite(offered);
  if (!theirs) return {};
  for (const auto& mine : local.crypto) {
    const auto ours = crypto_tag_suite(mine);
    if (ours && ours->second == theirs->second) {
      return std::string(theirs->first) + " " + std::string(theirs->second) +
             mine.substr(ours->first.size() + 1 + ours->second.size());
    }
  }
  return {};
}

}  // namespace

SessionDescription make_offer(const LocalMedia& local, const AudioCapabilities& caps) {
  SessionDescription sdp;
  sdp.session_id = local.session_id;
  sdp.session_version = local.session_version;
  sdp.origin_address = local.address;
  sdp.connection = local.address;
  MediaDescription m;
  m.media = "audio";
  m.port = local.port;
  m.proto = "RTP/AVP";
  if (local.require_srtp && !local.crypto.empty()) {
    m.proto = kSavp;
    for (const auto& c : local.crypto) m.other_attributes.push_back("crypto:" + c);
  }
  m.codecs = caps.codecs;
  if (caps.telephone_event) {
    m.codecs.push_back({caps.telephone_event_pt, "telephone-event", 8000, "0-16"});
  }
  for (const auto& c : m.codecs) m.formats.push_back(std::to_string(c.payload_type));
  m.ptime = caps.ptime;
  m.direction = local.direction;
  sdp.media.push_back(std::move(m));
  return sdp;
}

Result<Answer> make_answer(const SessionDescription& offer, const LocalMedia& local,
                           const AudioCapabilities& caps) {
  Answer ans;
  SessionDescription& sdp = ans.sdp;
  sdp.session_id = local.session_id;
  sdp.session_version = local.session_version;
  sdp.origin_address = local.address;
  sdp.connection = local.address;
  bool accepted = false;
  // Why no stream was taken, when the reason is the media's security rather than codecs.
  std::string refused;
  for (std::size_t i = 0; i < offer.media.size(); ++i) {
    const MediaDescription& om = offer.media[i];
    MediaDescription am;
    am.media = om.media;
    am.proto = om.proto;
    am.port = 0;
    std::optional<Codec> chosen;
    std::optional<Codec> dtmf;
    bool usable = !accepted && om.media == "audio" && om.port != 0;
    std::string our_crypto;
    std::string their_crypto;
    if (usable && om.proto == "RTP/AVP" && local.require_srtp) {
      refused = "SRTP is required (media.srtp) and the offer's audio is plain RTP/AVP";
      usable = false;
    } else if (usable && om.proto == kSavp) {
      if (local.crypto.empty()) {
        refused = "the offer's audio is SRTP (RTP/SAVP) and media.srtp is off";
        usable = false;
      }
      for (const auto offered : crypto_lines(om)) {
        if (!usable) break;
        our_crypto = answer_crypto(local, offered);
        if (!our_crypto.empty()) {
          their_crypto = std::string(offered);
          break;
        }
      }
      if (usable && our_crypto.empty()) {
        refused = "no offered SRTP crypto suite is supported (AES_CM_128_HMAC_SHA1_80, _32)";
        usable = false;
      }
    } else if (om.proto != "RTP/AVP") {
      usable = false;
    }
    if (usable) {
      for (const auto& oc : om.codecs) {
        if (!chosen) {
          for (const auto& mine : caps.codecs) {
            if (same_codec(oc, mine)) chosen = oc;
          }
        }
        if (!dtmf && caps.telephone_event && is_dtmf(oc)) dtmf = oc;
      }
    }
    if (!chosen) {
      // Rejected stream: port 0, formats echoed (RFC 3264 §6).
      am.formats = om.formats;
      if (am.formats.empty()) am.formats.emplace_back("0");
      sdp.media.push_back(std::move(am));
      continue;
    }
    accepted = true;
    const std::string& remote_addr = offer.address_of(om);
    Direction offered = offer.direction_of(om);
    const bool null_addr = is_null_address(remote_addr);
    if (null_addr) {
      // RFC 2543 hold: the peer receives nothing.
      if (offered == Direction::kSendRecv) offered = Direction::kSendOnly;
      if (offered == Direction::kRecvOnly) offered = Direction::kInactive;
    }
    // Our direction: the reverse of the offer's, narrowed by what we want locally.
    Direction ours = reverse(offered);
    auto can_send = [](Direction d) {
      return d == Direction::kSendRecv || d == Direction::kSendOnly;
    };
    auto can_recv = [](Direction d) {
      return d == Direction::kSendRecv || d == Direction::kRecvOnly;
    };
    const bool send = can_send(ours) && can_send(local.direction);
    const bool recv = can_recv(ours) && can_recv(local.direction);
    ours = send && recv ? Direction::kSendRecv
           : send       ? Direction::kSendOnly
           : recv       ? Direction::kRecvOnly
                        : Direction::kInactive;
    am.port = local.port;
    am.codecs.push_back(*chosen);
    if (dtmf) am.codecs.push_back(*dtmf);
    for (const auto& c : am.codecs) am.formats.push_back(std::to_string(c.payload_type));
    am.ptime = om.ptime.value_or(caps.ptime);
    am.direction = ours;
    if (!our_crypto.empty()) am.other_attributes.push_back("crypto:" + our_crypto);
    sdp.media.push_back(std::move(am));

    AudioSession& a = ans.audio;
    a.secure = !our_crypto.empty();
    a.local_crypto = std::move(our_crypto);
    a.remote_crypto = std::move(their_crypto);
    a.remote_address = remote_addr;
    a.remote_port = om.port;
    a.codec = *chosen;
    if (dtmf) a.telephone_event_pt = dtmf->payload_type;
    a.ptime = om.ptime.value_or(caps.ptime);
    a.direction = ours;
    a.remote_hold = offered == Direction::kSendOnly || offered == Direction::kInactive;
    a.media_index = i;
  }
  if (!accepted) {
    return Error::bad_request(codes::kInvalidParameter, refused.empty()
                                                            ? "No acceptable audio"
                                                            : "No acceptable audio: " + refused);
  }
  return ans;
}

Result<AudioSession> apply_answer(const SessionDescription& offer,
                                  const SessionDescription& answer) {
  if (answer.media.size() != offer.media.size()) {
    return bad("Answer has a different number of m= lines");
  }
  for (std::size_t i = 0; i < answer.media.size(); ++i) {
    const auto& am = answer.media[i];
    const auto& om = offer.media[i];
    if (am.media != "audio" || am.port == 0) continue;
    AudioSession a;
    a.media_index = i;
    a.remote_address = answer.address_of(am);
    a.remote_port = am.port;
    bool have = false;
    for (const auto& ac : am.codecs) {
      bool offered = false;
      for (const auto& oc : om.codecs) {
        if (same_codec(oc, ac)) offered = true;
      }
      if (!offered) continue;
      if (is_dtmf(ac)) {
        a.telephone_event_pt = ac.payload_type;
      } else if (!have) {
        a.codec = ac;
        have = true;
      }
    }
    if (!have) return bad("Answer selects no offered codec");
    a.ptime = am.ptime.value_or(om.ptime.value_or(20));
    Direction theirs = answer.direction_of(am);
    if (is_null_address(a.remote_address) && theirs == Direction::kSendRecv) {
      theirs = Direction::kSendOnly;
    }
    a.direction = reverse(theirs);
    const Direction mine = offer.direction_of(om);
    if (mine == Direction::kSendOnly && a.direction == Direction::kSendRecv) {
      a.direction = Direction::kSendOnly;
    }
    a.remote_hold = theirs == Direction::kSendOnly || theirs == Direction::kInactive;
    if (om.proto == kSavp) {
      // Their a=crypto answers one of ours: same tag, same suite (RFC 4568 §7.1.2).
      if (am.proto != kSavp) return bad("Answer to an RTP/SAVP offer is not RTP/SAVP");
      for (const auto answered : crypto_lines(am)) {
        const auto theirs_ts = crypto_tag_suite(answered);
        if (!theirs_ts) continue;
        for (const auto offered : crypto_lines(om)) {
          const auto ours_ts = crypto_tag_suite(offered);
          if (ours_ts && *ours_ts == *theirs_ts) {
            a.secure = true;
            a.local_crypto = std::string(offered);
            a.remote_crypto = std::string(answered);
            break;
          }
        }
        if (a.secure) break;
      }
      if (!a.secure) return bad("Answer's a=crypto matches none of the offered suites");
    }
    return a;
  }
  return bad("Answer accepts no audio stream");
}

}  // namespace sb::sip
