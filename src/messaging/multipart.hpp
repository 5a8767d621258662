// multipart/mixed bodies (RFC 2046 §5.1), as SIP MESSAGE carries text with pictures: the parts
// with their own Content-Type, the boundary lines removed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::messaging {

struct BodyPart {
  std::string content_type;  // "text/plain" when the part names none (RFC 2046 §5.1.1)
  std::string data;
};

// The parts of `body` under `content_type` ("multipart/mixed; boundary=..."); nullopt when the
// boundary is missing or the body does not follow it.
std::optional<std::vector<BodyPart>> parse_multipart(std::string_view content_type,
                                                     std::string_view body);

// The media type of a Content-Type value, lower case, without parameters.
std::string media_type(std::string_view content_type);
// A parameter of a Content-Type value ("charset"), unquoted; "" when absent.
std::string type_parameter(std::string_view content_type, std::string_view name);

}  // namespace sb::messaging
