// X-Twilio-Signature: signing our webhook requests and validating signatures the way Twilio's
// official helper libraries do (URL with or without its port, JSON bodies via `bodySHA256`).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb::http {

using SignedParams = std::vector<std::pair<std::string, std::string>>;

// base64(HMAC-SHA1(auth_token, url + k1 v1 + k2 v2 …)) with the POST parameters sorted by key and,
// for a repeated key, its values sorted too. GET requests pass no parameters (they are in `url`).
std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             const SignedParams& post_params);

// True when `signature` matches `url` as given, with its scheme's default port added when it
// has none, or with its port removed when it has one (what the official validators try).
// Constant-time comparison.
bool validate_twilio_signature(std::string_view auth_token, std::string_view url,
                               const SignedParams& post_params, std::string_view signature);

// Lowercase hex SHA-256 of a request body, the value of the `bodySHA256` query parameter.
std::string twilio_body_sha256(std::string_view body);

// `url` with `bodySHA256=<hex>` appended to its query (before any fragment), for signing a
// request whose body is JSON: such requests sign the URL only.
std::string append_body_sha256(std::string_view url, std::string_view body);

// The JSON-body variant: the URL (which carries `bodySHA256`) is signed without parameters, and
// the body must hash to the `bodySHA256` value. False when the parameter is missing.
bool validate_twilio_signature_with_body(std::string_view auth_token, std::string_view url,
                                         std::string_view body, std::string_view signature);

}  // namespace sb::http
