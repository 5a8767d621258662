#include "messaging/multipart.hpp"

#include "core/text.hpp"

namespace sb::messaging {

std::string media_type(std::string_view content_type) {
  std::string out(trim(content_type.substr(0, content_type.find(';'))));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string type_parameter(std::string_view content_type, std::string_view name) {
  std::size_t at = content_type.find(';');
  while (at != std::string_view::npos) {
    const std::size_t next = content_type.find(';', at + 1);
    std::string_view param = content_type.substr(
        at + 1, next == std::string_view::npos ? std::string_view::npos : next - at - 1);
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && iequals(trim(param.substr(0, eq)), name)) {
      std::string_view value = trim(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        value = value.substr(1, value.size() - 2);
      }
      return std::string(value);
    }
    at = next;
  }
  return "";
}

std::optional<std::vector<BodyPart>> parse_multipart(std::string_view content_type,
                                                     std::string_view body) {
  const std::string boundary = type_parameter(content_type, "boundary");
  if (boundary.empty() || boundary.size() > 70) return std::nullopt;
  const std::string delimiter = "--" + boundary;
  std::size_t at = body.find(delimiter);
  if (at == std::string_view::npos) return std::nullopt;
  std::vector<BodyPart> parts;
  while (true) {
    at += delimiter.size();
    if (body.substr(at, 2) == "--") return parts;  // the close delimiter
    const std::size_t line_end = body.find("\r\n", at);
    if (line_end == std::string_view::npos) return std::nullopt;
    const std::size_t start = line_end + 2;
    const std::size_t end = body.find("\r\n" + delimiter, start);
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view part = body.substr(start, end - start);
    BodyPart out;
    out.content_type = "text/plain";
    const std::size_t headers_end = part.find("\r\n\r\n");
    std::string_view headers;
    if (part.substr(0, 2) == "\r\n") {
      part.remove_prefix(2);  // no headers at all
    } else if (headers_end != std::string_view::npos) {
      headers = part.substr(0, headers_end);
      part.remove_prefix(headers_end + 4);
    } else {
      return std::nullopt;
    }
    while (!headers.empty()) {
      const std::size_t eol = headers.find("\r\n");
      const std::string_view line = headers.substr(0, eol);
      const std::size_t colon = line.find(':');
      if (colon != std::string_view::npos && iequals(trim(line.substr(0, colon)), "Content-Type")) {
        out.content_type = std::string(trim(line.substr(colon + 1)));
      }
      if (eol == std::string_view::npos) break;
      headers.remove_prefix(eol + 2);
    }
    out.data = std::string(part);
    parts.push_back(std::move(out));
    at = end + 2;
  }
}

}  // namespace sb::messaging
