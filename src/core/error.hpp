// Errors as values, numbered as Twilio numbers them, with the HTTP status they map to.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace sb {

// Twilio error codes used across modules (see shared/TWILIO-COMPAT.md).
namespace codes {
inline constexpr int kInvalidParameter = 20001;
inline constexpr int kAuthenticationFailed = 20003;
inline constexpr int kMethodNotAllowed = 20004;
inline constexpr int kNotFound = 20404;
inline constexpr int kTooManyRequests = 20429;
inline constexpr int kInvalidPhoneNumber = 21401;
inline constexpr int kInvalidUrl = 21402;
inline constexpr int kInvalidMethod = 21403;
inline constexpr int kVoiceFallbackWithoutUrl = 21405;
inline constexpr int kSmsFallbackWithoutUrl = 21406;
inline constexpr int kPhoneNumberTaken = 21422;
inline constexpr int kInvalidCallbackUrl = 21502;
inline constexpr int kInternal = 20500;
inline constexpr int kServiceUnavailable = 20503;
}  // namespace codes

struct Error {
  int code = codes::kInternal;  // Twilio error number
  int status = 500;             // HTTP status
  std::string message;

  static Error bad_request(int code, std::string message) {
    return {code, 400, std::move(message)};
  }
  static Error not_found(std::string message) {
    return {codes::kNotFound, 404, std::move(message)};
  }
  static Error internal(std::string message) { return {codes::kInternal, 500, std::move(message)}; }
};

std::string more_info_url(int code);

// A value or an Error; the C++23 std::expected shape, small enough to own.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;

}  // namespace sb
