// SIP messages (RFC 3261 §7): a parser that indexes headers into one owned buffer (no
// allocation per header), accessors for the core headers, a writer for outgoing messages,
// Content-Length framing for streams, and responses built from requests (including the 400
// with a reason phrase that a malformed request gets).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "sip/syntax.hpp"
#include "sip/uri.hpp"

namespace sb::sip {

// Headers the stack looks at; everything else is kOther and found by name.
enum class Hdr : std::uint8_t {
  kOther,
  kVia,
  kFrom,
  kTo,
  kCallId,
  kCSeq,
  kContact,
  kContentLength,
  kContentType,
  kContentEncoding,
  kMaxForwards,
  kRoute,
  kRecordRoute,
  kAuthorization,
  kProxyAuthorization,
  kWwwAuthenticate,
  kProxyAuthenticate,
  kRequire,
  kProxyRequire,
  kSupported,
  kUnsupported,
  kAllow,
  kAccept,
  kExpires,
  kSubject,
  kEvent,
  kSessionExpires,
  kMinSe,
  kReferTo,
  kUserAgent,
  kReason,
};

// Maps a header name (full or compact, any case) to its id.
Hdr header_id(std::string_view name);
std::string_view header_name(Hdr id);  // canonical full name ("" for kOther)

struct Limits {
  std::size_t max_message = 65535;  // bytes, start line to end of body
  std::size_t max_headers = 100;    // header fields (<= Message::kMaxHeaders)
  std::size_t max_header_bytes = 16384;
};

struct HeaderField {
  Hdr id = Hdr::kOther;
  std::string_view name;
  std::string_view value;  // trimmed; folded lines keep their CRLF (treated as LWS)
};

// Why a message was refused: the SIP status to answer with, when one can be formed.
struct ParseError {
  int status = 400;
  std::string reason;
  bool is_request = false;  // a response can only be sent for a request
};

struct CSeq {
  std::uint32_t number = 0;
  std::string_view method;
};

struct Via {
  std::string_view protocol;   // "SIP/2.0"
  std::string_view transport;  // "UDP", "TCP", ...
  std::string_view host;
  std::uint16_t port = 0;
  std::string_view params;
  std::string_view branch() const;
  std::optional<std::string_view> param(std::string_view name) const;
};
Result<Via> parse_via(std::string_view value);
Result<CSeq> parse_cseq(std::string_view value);

class Message {
 public:
  static constexpr std::size_t kMaxHeaders = 128;

  // Parses one complete message. For datagrams, bytes past Content-Length are ignored and a
  // missing Content-Length means "the rest"; Content-Length beyond the data is an error.
  // The bytes are copied once into a buffer shared by copies of the Message; every accessor
  // is a view into it.
  static std::optional<Message> parse(std::string_view bytes, ParseError* error = nullptr,
                                      const Limits& limits = {});

  bool is_request() const { return request_; }
  std::string_view method() const { return method_; }     // requests
  std::string_view request_uri() const { return ruri_; }  // requests
  int status() const { return status_; }                  // responses
  std::string_view reason() const { return reason_; }     // responses
  // The CSeq method for responses, the request method for requests.
  std::string_view transaction_method() const { return request_ ? method_ : cseq_.method; }

  std::size_t header_count() const { return count_; }
  const HeaderField& header_at(std::size_t i) const { return fields_[i]; }
  // First field with this id / name (case-insensitive, compact forms understood).
  std::optional<std::string_view> header(Hdr id) const;
  std::optional<std::string_view> header(std::string_view name) const;
  std::size_t count(Hdr id) const;
  // Calls f(value) for each non-empty comma-separated value across all fields with this id.
  template <typename F>
  void for_each_value(Hdr id, F&& f) const;

  std::string_view body() const { return body_; }
  std::string_view raw() const { return raw_; }  // exactly the message's bytes

  // Core headers, validated by parse().
  std::string_view call_id() const { return call_id_; }
  const CSeq& cseq() const { return cseq_; }
  const Via& top_via() const { return via_; }
  const NameAddr& from() const { return from_; }
  const NameAddr& to() const { return to_; }
  const Uri& uri() const { return uri_; }             // parsed Request-URI (requests)
  int max_forwards() const { return max_forwards_; }  // -1 when absent

 private:
  bool index(ParseError& e, const Limits& limits);
  bool validate(ParseError& e);

  std::shared_ptr<const std::string> buf_;
  std::string_view raw_;
  bool request_ = false;
  std::string_view method_, ruri_, version_, reason_, body_, call_id_;
  std::string_view headers_end_;  // rest of the buffer after the blank line
  int status_ = 0;
  std::size_t count_ = 0;
  std::array<HeaderField, kMaxHeaders> fields_{};
  CSeq cseq_;
  Via via_;
  NameAddr from_, to_;
  Uri uri_;
  int max_forwards_ = -1;
};

// Builds outgoing messages; Content-Length is always written.
class MessageWriter {
 public:
  MessageWriter& request_line(std::string_view method, std::string_view uri);
  MessageWriter& status_line(int status, std::string_view reason);
  MessageWriter& header(std::string_view name, std::string_view value);
  MessageWriter& header(Hdr id, std::string_view value) { return header(header_name(id), value); }
  // Ends the headers with Content-Type (if a body) and Content-Length, then the body.
  std::string finish(std::string_view content_type = {}, std::string_view body = {});

 private:
  std::string out_;
};

// Default reason phrase for a status code ("" for unknown codes).
std::string_view reason_phrase(int status);

// A response to `request` (RFC 3261 §8.2.6): Via, From, To (with `to_tag` added when the
// request's To has none), Call-ID, CSeq copied; `extra` is raw "Name: value\r\n" lines.
std::string make_response(const Message& request, int status, std::string_view reason = {},
                          std::string_view to_tag = {}, std::string_view extra = {},
                          std::string_view content_type = {}, std::string_view body = {});

// For a request that failed to parse: a response built from whatever Via, From, To, Call-ID
// and CSeq lines can be found, or nullopt when none can be formed (drop it).
std::optional<std::string> make_error_response(std::string_view bytes, const ParseError& error);

// Splits a TCP byte stream into messages by Content-Length (RFC 3261 §18.3).
class StreamFramer {
 public:
  explicit StreamFramer(Limits limits = {}) : limits_(limits) {}
  void append(std::string_view bytes) { buf_.append(bytes); }
  enum class State { kMessage, kNeedMore, kError };
  // kMessage: `out` holds one complete message's bytes. kError: framing is lost (bad or
  // oversize Content-Length): the connection must be closed.
  State next(std::string& out, std::string* reason = nullptr);
  std::size_t buffered() const { return buf_.size(); }

 private:
  Limits limits_;
  std::string buf_;
};

template <typename F>
void Message::for_each_value(Hdr id, F&& f) const {
  for (std::size_t i = 0; i < count_; ++i) {
    if (fields_[i].id != id) continue;
    ValueList list(fields_[i].value);
    while (auto v = list.next())
      if (!v->empty()) f(*v);
  }
}
}  // namespace sb::sip
