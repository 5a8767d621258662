#include "sip/message.hpp"

#include <utility>

namespace sb::sip {
namespace {

struct HeaderName {
  std::string_view full;
  char compact;
  Hdr id;
};

constexpr HeaderName kHeaders[] = {
    {"Via", 'v', Hdr::kVia},
    {"From", 'f', Hdr::kFrom},
    {"To", 't', Hdr::kTo},
    {"Call-ID", 'i', Hdr::kCallId},
    {"CSeq", 0, Hdr::kCSeq},
    {"Contact", 'm', Hdr::kContact},
    {"Content-Length", 'l', Hdr::kContentLength},
    {"Content-Type", 'c', Hdr::kContentType},
    {"Content-Encoding", 'e', Hdr::kContentEncoding},
    {"Max-Forwards", 0, Hdr::kMaxForwards},
    {"Route", 0, Hdr::kRoute},
    {"Record-Route", 0, Hdr::kRecordRoute},
    {"Authorization", 0, Hdr::kAuthorization},
    {"Proxy-Authorization", 0, Hdr::kProxyAuthorization},
    {"WWW-Authenticate", 0, Hdr::kWwwAuthenticate},
    {"Proxy-Authenticate", 0, Hdr::kProxyAuthenticate},
    {"Require", 0, Hdr::kRequire},
    {"Proxy-Require", 0, Hdr::kProxyRequire},
    {"Supported", 'k', Hdr::kSupported},
    {"Unsupported", 0, Hdr::kUnsupported},
    {"Allow", 0, Hdr::kAllow},
    {"Accept", 0, Hdr::kAccept},
    {"Expires", 0, Hdr::kExpires},
    {"Subject", 's', Hdr::kSubject},
    {"Event", 'o', Hdr::kEvent},
    {"Session-Expires", 'x', Hdr::kSessionExpires},
    {"Min-SE", 0, Hdr::kMinSe},
    {"Refer-To", 'r', Hdr::kReferTo},
    {"User-Agent", 0, Hdr::kUserAgent},
    {"Reason", 0, Hdr::kReason},
};

ParseError err(bool is_request, int status, std::string reason) {
  return ParseError{status, std::move(reason), is_request};
}

bool valid_version(std::string_view v) {
  // "SIP/" 1*DIGIT "." 1*DIGIT
  if (v.size() < 7 || v.substr(0, 4) != "SIP/") return false;
  v.remove_prefix(4);
  const auto dot = v.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == v.size()) return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i != dot && !is_digit(v[i])) return false;
  }
  return true;
}

}  // namespace

Hdr header_id(std::string_view name) {
  if (name.size() == 1) {
    char c = name[0];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    for (const auto& h : kHeaders) {
      if (h.compact == c) return h.id;
    }
    return Hdr::kOther;
  }
  for (const auto& h : kHeaders) {
    if (h.full.size() == name.size() && iequals(h.full, name)) return h.id;
  }
  return Hdr::kOther;
}

std::string_view header_name(Hdr id) {
  for (const auto& h : kHeaders) {
    if (h.id == id) return h.full;
  }
  return {};
}

std::string_view Via::branch() const { return find_param(params, "branch").value_or(""); }
std::optional<std::string_view> Via::param(std::string_view name) const {
  return find_param(params, name);
}

Result<Via> parse_via(std::string_view value) {
  auto bad = [](std::string m) { return Error::bad_request(codes::kInvalidParameter, m); };
  // sent-protocol = name LWS? "/" LWS? version LWS? "/" LWS? transport
  std::string_view s = trim(value);
  std::string_view parts[3];
  for (int i = 0; i < 3; ++i) {
    s = trim(s);
    std::size_t n = 0;
    while (n < s.size() && is_token_char(s[n])) ++n;
    parts[i] = s.substr(0, n);
    if (parts[i].empty()) return bad("Malformed Via sent-protocol");
    s = trim(s.substr(n));
    if (i < 2) {
      if (s.empty() || s[0] != '/') return bad("Malformed Via sent-protocol");
      s.remove_prefix(1);
    }
  }
  if (!iequals(parts[0], "SIP") || parts[1] != "2.0") return bad("Unsupported Via protocol");
  Via via;
  via.protocol = "SIP/2.0";
  via.transport = parts[2];
  const auto semi = s.find(';');
  std::string_view hostport = trim(s.substr(0, semi));
  if (semi != std::string_view::npos) {
    via.params = s.substr(semi);
    if (!valid_params(via.params)) return bad("Malformed Via parameters");
  }
  if (hostport.empty()) return bad("Via without sent-by");
  std::size_t colon = std::string_view::npos;
  if (hostport[0] == '[') {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos) return bad("Malformed Via host");
    if (close + 1 < hostport.size()) colon = close + 1;
  } else {
    colon = hostport.find(':');
  }
  via.host = trim(hostport.substr(0, colon));
  for (char c : via.host) {
    if (!is_alnum(c) && c != '.' && c != '-' && c != '[' && c != ']' && c != ':') {
      return bad("Malformed Via host");
    }
  }
  if (via.host.empty()) return bad("Malformed Via host");
  if (colon != std::string_view::npos) {
    if (hostport[colon] != ':') return bad("Malformed Via host");
    auto port = parse_uint(trim(hostport.substr(colon + 1)), 65535);
    if (!port) return bad("Malformed Via port");
    via.port = static_cast<std::uint16_t>(*port);
  }
  return via;
}

Result<CSeq> parse_cseq(std::string_view value) {
  auto bad = [](std::string m) { return Error::bad_request(codes::kInvalidParameter, m); };
  std::string_view s = trim(value);
  std::size_t n = 0;
  while (n < s.size() && is_digit(s[n])) ++n;
  auto num = parse_uint(s.substr(0, n), 0xffffffffULL);
  if (!num) return bad(n > 0 ? "CSeq number too large" : "Malformed CSeq");
  std::string_view rest = s.substr(n);
  if (rest.empty() || !is_lws(rest[0])) return bad("Malformed CSeq");
  rest = trim(rest);
  if (!is_token(rest)) return bad("Malformed CSeq method");
  return CSeq{static_cast<std::uint32_t>(*num), rest};
}

std::optional<std::string_view> Message::header(Hdr id) const {
  for (std::size_t i = 0; i < count_; ++i) {
    if (fields_[i].id == id) return fields_[i].value;
  }
  return std::nullopt;
}

std::optional<std::string_view> Message::header(std::string_view name) const {
  const Hdr id = header_id(name);
  if (id != Hdr::kOther) return header(id);
  for (std::size_t i = 0; i < count_; ++i) {
    if (fields_[i].id == Hdr::kOther && iequals(fields_[i].name, name)) return fields_[i].value;
  }
  return std::nullopt;
}

std::size_t Message::count(Hdr id) const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    if (fields_[i].id == id) ++n;
  }
  return n;
}

std::optional<Message> Message::parse(std::string_view bytes, ParseError* error,
                                      const Limits& limits) {
  ParseError local;
  ParseError& e = error ? *error : local;
  Message m;
  if (bytes.size() > limits.max_message) {
    e = err(bytes.substr(0, 4) != "SIP/", 513, "Message Too Large");
    return std::nullopt;
  }
  m.buf_ = std::make_shared<const std::string>(bytes);
  if (!m.index(e, limits) || !m.validate(e)) return std::nullopt;
  return m;
}

bool Message::index(ParseError& e, const Limits& limits) {
  const std::string_view all(*buf_);
  const auto line_end = all.find("\r\n");
  if (line_end == std::string_view::npos) {
    e = err(false, 400, "Missing start line");
    return false;
  }
  const std::string_view start = all.substr(0, line_end);
  request_ = start.substr(0, 4) != "SIP/";
  if (request_) {
    const auto p1 = start.find(' ');
    const auto p2 = p1 == std::string_view::npos ? p1 : start.find(' ', p1 + 1);
    if (p2 == std::string_view::npos) {
      e = err(true, 400, "Malformed Request-Line");
      return false;
    }
    method_ = start.substr(0, p1);
    ruri_ = start.substr(p1 + 1, p2 - p1 - 1);
    version_ = start.substr(p2 + 1);
    if (!is_token(method_)) {
      e = err(true, 400, "Malformed Request-Line method");
      return false;
    }
    if (ruri_.empty() || !valid_version(version_)) {
      e = err(true, 400, "Malformed Request-Line");
      return false;
    }
  } else {
    // "SIP/2.0" SP 3DIGIT SP Reason-Phrase
    const auto p1 = start.find(' ');
    if (p1 == std::string_view::npos || start.size() < p1 + 4) {
      e = err(false, 400, "Malformed Status-Line");
      return false;
    }
    version_ = start.substr(0, p1);
    const std::string_view code = start.substr(p1 + 1, 3);
    auto status = parse_uint(code, 999);
    if (!valid_version(version_) || !status || *status < 100 || *status > 699 ||
        (start.size() > p1 + 4 && start[p1 + 4] != ' ')) {
      e = err(false, 400, "Malformed Status-Line");
      return false;
    }
    status_ = static_cast<int>(*status);
    reason_ = start.size() > p1 + 5 ? start.substr(p1 + 5) : std::string_view{};
  }

  std::size_t pos = line_end + 2;
  for (;;) {
    const auto eol = all.find("\r\n", pos);
    if (eol == std::string_view::npos) {
      e = err(request_, 400, "Missing blank line after headers");
      return false;
    }
    if (eol > limits.max_header_bytes) {
      e = err(request_, 400, "Header section too large");
      return false;
    }
    const std::string_view line = all.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t') {  // folded continuation
      if (count_ == 0) {
        e = err(request_, 400, "Continuation line before any header");
        return false;
      }
      HeaderField& f = fields_[count_ - 1];
      f.value = trim(std::string_view(f.value.data(), line.data() + line.size() - f.value.data()));
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      e = err(request_, 400, "Malformed header line");
      return false;
    }
    const std::string_view name = trim(line.substr(0, colon));
    if (!is_token(name)) {
      e = err(request_, 400, "Malformed header name");
      return false;
    }
    if (count_ >= kMaxHeaders || count_ >= limits.max_headers) {
      e = err(request_, 400, "Too many header fields");
      return false;
    }
    HeaderField& f = fields_[count_++];
    f.id = header_id(name);
    f.name = name;
    f.value = trim(line.substr(colon + 1));
    if (f.value.empty()) f.value = line.substr(line.size());  // anchor at end of line
  }
  headers_end_ = all.substr(pos);
  return true;
}

bool Message::validate(ParseError& e) {
  const bool rq = request_;
  // Framing first: a bad Content-Length means the datagram cannot be trusted.
  const std::size_t cl_count = count(Hdr::kContentLength);
  if (cl_count > 1) {
    e = err(rq, 400, "Multiple Content-Length values");
    return false;
  }
  if (cl_count == 1) {
    auto cl = parse_uint(*header(Hdr::kContentLength), 0xffffffffULL);
    if (!cl) {
      e = err(rq, 400, "Malformed Content-Length");
      return false;
    }
    if (*cl > headers_end_.size()) {
      e = err(rq, 400, "Content-Length larger than message");
      return false;
    }
    body_ = headers_end_.substr(0, *cl);
  } else {
    body_ = headers_end_;
  }
  raw_ = std::string_view(*buf_).substr(0, body_.data() + body_.size() - buf_->data());

  if (rq && version_ != "SIP/2.0") {
    e = err(rq, 505, "Version Not Supported");
    return false;
  }
  if (!rq && version_ != "SIP/2.0") {
    e = err(rq, 505, "Version Not Supported");
    return false;
  }
  struct Required {
    Hdr id;
    const char* name;
  };
  for (const Required r :
       {Required{Hdr::kVia, "Via"}, Required{Hdr::kFrom, "From"}, Required{Hdr::kTo, "To"},
        Required{Hdr::kCallId, "Call-ID"}, Required{Hdr::kCSeq, "CSeq"}}) {
    const std::size_t n = count(r.id);
    if (n == 0) {
      e = err(rq, 400, std::string("Missing ") + r.name + " header");
      return false;
    }
    if (n > 1 && r.id != Hdr::kVia) {
      e = err(rq, 400, std::string("Multiple ") + r.name + " headers");
      return false;
    }
  }
  call_id_ = *header(Hdr::kCallId);
  if (call_id_.empty() || call_id_.find_first_of(" \t\r\n,") != std::string_view::npos) {
    e = err(rq, 400, "Malformed Call-ID");
    return false;
  }
  auto cseq = parse_cseq(*header(Hdr::kCSeq));
  if (!cseq) {
    e = err(rq, 400, cseq.error().message);
    return false;
  }
  cseq_ = *cseq;
  if (rq && cseq_.method != method_) {
    e = err(rq, 400, "CSeq method does not match Request-Line");
    return false;
  }
  bool first_via = true;
  bool via_ok = true;
  for (std::size_t i = 0; i < count_ && via_ok; ++i) {
    if (fields_[i].id != Hdr::kVia) continue;
    ValueList list(fields_[i].value);
    while (auto v = list.next()) {
      auto via = parse_via(*v);
      if (!via) {
        via_ok = false;
        break;
      }
      if (first_via) via_ = *via;
      first_via = false;
    }
    if (list.bad()) via_ok = false;
  }
  if (!via_ok) {
    e = err(rq, 400, "Malformed Via header");
    return false;
  }
  auto from = parse_name_addr(*header(Hdr::kFrom));
  if (!from) {
    e = err(rq, 400, "Malformed From header: " + from.error().message);
    return false;
  }
  from_ = *from;
  auto to = parse_name_addr(*header(Hdr::kTo));
  if (!to) {
    e = err(rq, 400, "Malformed To header: " + to.error().message);
    return false;
  }
  to_ = *to;
  if (from_.star || to_.star) {
    e = err(rq, 400, "Malformed From or To header");
    return false;
  }
  for (Hdr id : {Hdr::kContact, Hdr::kRoute, Hdr::kRecordRoute}) {
    bool ok = true;
    for (std::size_t i = 0; i < count_ && ok; ++i) {
      if (fields_[i].id != id) continue;
      ValueList list(fields_[i].value);
      while (auto v = list.next()) {
        if (!parse_name_addr(*v)) ok = false;
      }
      if (list.bad()) ok = false;
    }
    if (!ok) {
      e = err(rq, 400, std::string("Malformed ") + std::string(header_name(id)) + " header");
      return false;
    }
  }
  const std::size_t mf_count = count(Hdr::kMaxForwards);
  if (mf_count > 1) {
    e = err(rq, 400, "Multiple Max-Forwards headers");
    return false;
  }
  if (mf_count == 1) {
    auto mf = parse_uint(*header(Hdr::kMaxForwards), 255);
    if (!mf) {
      e = err(rq, 400, "Malformed Max-Forwards");
      return false;
    }
    max_forwards_ = static_cast<int>(*mf);
  }
  if (auto exp = header(Hdr::kExpires); exp && !parse_uint(*exp, 0xffffffffULL)) {
    e = err(rq, 400, "Malformed Expires");
    return false;
  }
  if (count(Hdr::kContentType) > 1) {
    e = err(rq, 400, "Multiple Content-Type headers");
    return false;
  }
  if (rq) {
    auto uri = parse_uri(ruri_);
    if (!uri) {
      e = err(rq, 400, "Malformed Request-URI");
      return false;
    }
    uri_ = *uri;
    if (uri_.sip && !uri_.headers.empty()) {
      e = err(rq, 400, "Request-URI must not contain headers");
      return false;
    }
  }
  return true;
}

MessageWriter& MessageWriter::request_line(std::string_view method, std::string_view uri) {
  out_.reserve(1024);
  out_.append(method).append(" ").append(uri).append(" SIP/2.0\r\n");
  return *this;
}

MessageWriter& MessageWriter::status_line(int status, std::string_view reason) {
  out_.reserve(1024);
  if (reason.empty()) reason = reason_phrase(status);
  out_.append("SIP/2.0 ").append(std::to_string(status)).append(" ");
  for (char c : reason) out_.push_back(c == '\r' || c == '\n' ? ' ' : c);
  out_.append("\r\n");
  return *this;
}

MessageWriter& MessageWriter::header(std::string_view name, std::string_view value) {
  out_.append(name).append(": ").append(value).append("\r\n");
  return *this;
}

std::string MessageWriter::finish(std::string_view content_type, std::string_view body) {
  if (!body.empty() && !content_type.empty()) header("Content-Type", content_type);
  out_.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  out_.append(body);
  return std::move(out_);
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Trying";
    case 180:
      return "Ringing";
    case 181:
      return "Call Is Being Forwarded";
    case 182:
      return "Queued";
    case 183:
      return "Session Progress";
    case 200:
      return "OK";
    case 202:
      return "Accepted";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 407:
      return "Proxy Authentication Required";
    case 408:
      return "Request Timeout";
    case 413:
      return "Request Entity Too Large";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Unsupported URI Scheme";
    case 420:
      return "Bad Extension";
    case 422:
      return "Session Interval Too Small";
    case 480:
      return "Temporarily Unavailable";
    case 481:
      return "Call/Transaction Does Not Exist";
    case 482:
      return "Loop Detected";
    case 483:
      return "Too Many Hops";
    case 486:
      return "Busy Here";
    case 487:
      return "Request Terminated";
    case 488:
      return "Not Acceptable Here";
    case 491:
      return "Request Pending";
    case 500:
      return "Server Internal Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Server Time-out";
    case 505:
      return "Version Not Supported";
    case 513:
      return "Message Too Large";
    case 600:
      return "Busy Everywhere";
    case 603:
      return "Decline";
    case 604:
      return "Does Not Exist Anywhere";
    case 606:
      return "Not Acceptable";
    default:
      return "";
  }
}

namespace {
void append_to(MessageWriter& w, std::string_view to, std::string_view to_tag) {
  if (!to_tag.empty() &&
      !find_param(to.substr(to.find('>') == std::string_view::npos ? 0 : to.find('>')), "tag")) {
    std::string v(to);
    v.append(";tag=").append(to_tag);
    w.header("To", v);
  } else {
    w.header("To", to);
  }
}
}  // namespace

std::string make_response(const Message& request, int status, std::string_view reason,
                          std::string_view to_tag, std::string_view extra,
                          std::string_view content_type, std::string_view body) {
  MessageWriter w;
  w.status_line(status, reason);
  for (std::size_t i = 0; i < request.header_count(); ++i) {
    if (request.header_at(i).id == Hdr::kVia) w.header("Via", request.header_at(i).value);
  }
  w.header("From", *request.header(Hdr::kFrom));
  append_to(w, *request.header(Hdr::kTo), status == 100 ? std::string_view{} : to_tag);
  w.header("Call-ID", request.call_id());
  w.header("CSeq", *request.header(Hdr::kCSeq));
  std::string out = w.finish(content_type, body);
  if (!extra.empty()) {
    // Insert extra header lines before Content-Type/Content-Length (after CSeq).
    const auto pos = out.find("\r\nContent-");
    out.insert(pos + 2, extra);
  }
  return out;
}

std::optional<std::string> make_error_response(std::string_view bytes, const ParseError& error) {
  if (!error.is_request) return std::nullopt;
  const auto line_end = bytes.find("\r\n");
  if (line_end == std::string_view::npos) return std::nullopt;
  constexpr std::size_t kMaxVias = 32;
  std::array<std::string_view, kMaxVias> vias{};
  std::size_t via_count = 0;
  std::string_view from, to, call_id, cseq;
  std::string_view* last = nullptr;
  std::size_t pos = line_end + 2;
  while (pos < bytes.size()) {
    auto eol = bytes.find("\r\n", pos);
    if (eol == std::string_view::npos) eol = bytes.size();
    const std::string_view line = bytes.substr(pos, eol - pos);
    pos = eol + 2;
    if (line.empty()) break;
    if (line[0] == ' ' || line[0] == '\t') {
      if (last) *last = std::string_view(last->data(), line.data() + line.size() - last->data());
      continue;
    }
    last = nullptr;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view value = trim(line.substr(colon + 1));
    std::string_view* slot = nullptr;
    switch (header_id(trim(line.substr(0, colon)))) {
      case Hdr::kVia:
        if (via_count < kMaxVias) slot = &vias[via_count++];
        break;
      case Hdr::kFrom:
        slot = from.empty() ? &from : nullptr;
        break;
      case Hdr::kTo:
        slot = to.empty() ? &to : nullptr;
        break;
      case Hdr::kCallId:
        slot = call_id.empty() ? &call_id : nullptr;
        break;
      case Hdr::kCSeq:
        slot = cseq.empty() ? &cseq : nullptr;
        break;
      default:
        break;
    }
    if (slot) {
      *slot = value.empty() ? line.substr(line.size()) : value;
      last = slot;
    }
  }
  if (via_count == 0) return std::nullopt;  // nowhere to send it
  auto one_line = [](std::string_view v) {
    std::string s;
    for (char c : trim(v)) s.push_back(c == '\r' || c == '\n' ? ' ' : c);
    return s;
  };
  MessageWriter w;
  w.status_line(error.status, error.reason);
  for (std::size_t i = 0; i < via_count; ++i) w.header("Via", one_line(vias[i]));
  if (!from.empty()) w.header("From", one_line(from));
  if (!to.empty()) w.header("To", one_line(to));
  if (!call_id.empty()) w.header("Call-ID", one_line(call_id));
  if (!cseq.empty()) w.header("CSeq", one_line(cseq));
  return w.finish();
}

StreamFramer::State StreamFramer::next(std::string& out, std::string* reason) {
  auto fail = [&](const char* r) {
    if (reason) *reason = r;
    return State::kError;
  };
  std::size_t skip = 0;  // keep-alive CRLFs between messages (RFC 5626 §3.5.1)
  while (skip + 1 < buf_.size() && buf_[skip] == '\r' && buf_[skip + 1] == '\n') skip += 2;
  if (skip) buf_.erase(0, skip);
  const auto end = buf_.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (buf_.size() > limits_.max_header_bytes) return fail("Header section too large");
    return State::kNeedMore;
  }
  if (end > limits_.max_header_bytes) return fail("Header section too large");
  std::string_view head(buf_.data(), end + 2);
  std::optional<std::uint64_t> length;
  std::size_t pos = head.find("\r\n") + 2;
  while (pos < head.size()) {
    auto eol = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 2;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || line[0] == ' ' || line[0] == '\t') continue;
    if (header_id(trim(line.substr(0, colon))) != Hdr::kContentLength) continue;
    if (length) return fail("Multiple Content-Length values");
    length = parse_uint(trim(line.substr(colon + 1)), limits_.max_message);
    if (!length) return fail("Malformed Content-Length");
  }
  const std::size_t total = end + 4 + static_cast<std::size_t>(length.value_or(0));
  if (total > limits_.max_message) return fail("Message Too Large");
  if (buf_.size() < total) return State::kNeedMore;
  out.assign(buf_, 0, total);
  buf_.erase(0, total);
  return State::kMessage;
}

}  // namespace sb::sip
