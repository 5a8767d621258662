// Refusal: a SIP final response that refuses a call (status, reason phrase, Retry-After) as the
// call path decides it. SIP status codes travel in this type, never in the Twilio-numbered Error.
#pragma once

#include <string>
#include <utility>

namespace sb::sip {

struct Refusal {
  int status = 500;       // 3xx-6xx
  std::string reason;     // the reason phrase sent ("" for the standard one)
  std::string detail;     // why, for the log; never sent
  int retry_after_s = 0;  // > 0: a Retry-After header (503)

  static Refusal forbidden() { return {403, "Forbidden", {}, 0}; }
  static Refusal not_found() { return {404, "Not Found", {}, 0}; }
  static Refusal unavailable(std::string reason) { return {480, std::move(reason), {}, 0}; }
  static Refusal request_terminated() { return {487, "Request Terminated", {}, 0}; }
  static Refusal not_acceptable(std::string detail) {
    return {488, "Not Acceptable Here", std::move(detail), 0};
  }
  static Refusal server_error(std::string detail) {
    return {500, "Server Internal Error", std::move(detail), 0};
  }
  static Refusal overloaded(std::string detail, int retry_after_s = 0) {
    return {503, "Service Unavailable", std::move(detail), retry_after_s};
  }
  static Refusal busy() { return {486, "Busy Here", {}, 0}; }
  static Refusal decline() { return {603, "Decline", {}, 0}; }
};

}  // namespace sb::sip
