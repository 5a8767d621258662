#include "sip/request_check.hpp"

namespace sb::sip {
namespace {

bool body_type_ok(std::string_view method, std::string_view type) {
  type = trim(type.substr(0, type.find(';')));
  if (iequals(type, "application/sdp")) return true;
  if (method == "MESSAGE") return true;  // what a message may carry is the messaging layer's call
  if (method == "INFO") {
    return iequals(type, "application/dtmf-relay") || iequals(type, "application/dtmf");
  }
  return false;
}

}  // namespace

bool is_known_method(std::string_view m) {
  for (std::string_view k :
       {"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "INFO", "UPDATE", "REGISTER", "PRACK",
        "SUBSCRIBE", "NOTIFY", "REFER", "MESSAGE", "PUBLISH"}) {
    if (m == k) return true;
  }
  return false;
}

bool is_allowed_method(std::string_view m) {
  for (std::string_view k :
       {"INVITE", "ACK", "CANCEL", "BYE", "OPTIONS", "INFO", "UPDATE", "REGISTER", "MESSAGE"}) {
    if (m == k) return true;
  }
  return false;
}

std::optional<std::string> check_request(const Message& rq, std::string_view to_tag) {
  const std::string allow = "Allow: " + std::string(kAllowedMethods) + "\r\n";
  if (!is_known_method(rq.method())) return make_response(rq, 501, {}, to_tag, allow);
  if (!is_allowed_method(rq.method())) return make_response(rq, 405, {}, to_tag, allow);
  if (rq.method() == "ACK" || rq.method() == "CANCEL") return std::nullopt;
  if (!rq.uri().sip && !iequals(rq.uri().scheme, "tel")) return make_response(rq, 416, {}, to_tag);
  std::string unsupported;
  rq.for_each_value(Hdr::kRequire, [&](std::string_view opt) {
    if (!iequals(opt, kSupportedExtensions)) {
      if (!unsupported.empty()) unsupported += ", ";
      unsupported += opt;
    }
  });
  if (!unsupported.empty()) {
    return make_response(rq, 420, {}, to_tag, "Unsupported: " + unsupported + "\r\n");
  }
  if (!rq.body().empty()) {
    const auto type = rq.header(Hdr::kContentType);
    if (!type || !body_type_ok(rq.method(), *type)) {
      return make_response(rq, 415, {}, to_tag, "Accept: application/sdp\r\n");
    }
    if (const auto enc = rq.header(Hdr::kContentEncoding); enc && !iequals(*enc, "identity")) {
      return make_response(rq, 415, {}, to_tag, "Accept-Encoding: identity\r\n");
    }
  }
  if (rq.method() == "INVITE" || rq.method() == "OPTIONS") {
    bool any = false;
    bool sdp = false;
    rq.for_each_value(Hdr::kAccept, [&](std::string_view v) {
      any = true;
      v = trim(v.substr(0, v.find(';')));
      if (iequals(v, "application/sdp") || iequals(v, "application/*") || v == "*/*") sdp = true;
    });
    if (any && !sdp) return make_response(rq, 406, {}, to_tag, "Accept: application/sdp\r\n");
  }
  return std::nullopt;
}

}  // namespace sb::sip
