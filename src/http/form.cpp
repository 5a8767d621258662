#include "http/form.hpp"

#include "core/text.hpp"

namespace sb::http {
namespace {

std::optional<std::string> decode_component(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;  // "%" or "%4" at the end
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

Error form_error(std::string message) {
  return Error::bad_request(codes::kInvalidParameter, std::move(message));
}

}  // namespace

std::optional<std::string_view> Form::get(std::string_view key) const {
  for (const auto& [k, v] : fields_) {
    if (k == key) return std::string_view(v);
  }
  return std::nullopt;
}

std::vector<std::string_view> Form::get_all(std::string_view key) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : fields_) {
    if (k == key) out.emplace_back(v);
  }
  return out;
}

Result<Form> parse_form(std::string_view text, const FormLimits& limits) {
  Form form;
  std::size_t count = 0;
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2" is tolerated, as browsers produce it
    if (++count > limits.max_fields) {
      return form_error("Too many parameters: at most " + std::to_string(limits.max_fields));
    }
    const auto eq = pair.find('=');
    const std::string_view raw_key = pair.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto key = decode_component(raw_key);
    if (!key) return form_error("Malformed percent-encoding in a parameter name");
    if (key->empty()) return form_error("A parameter has an empty name");
    if (key->size() > limits.max_key_bytes) {
      return form_error("Parameter name longer than " + std::to_string(limits.max_key_bytes) +
                        " bytes");
    }
    auto value = decode_component(raw_value);
    if (!value) return form_error("Malformed percent-encoding in parameter " + *key);
    if (value->size() > limits.max_value_bytes) {
      return form_error("Parameter " + *key + " is longer than " +
                        std::to_string(limits.max_value_bytes) + " bytes");
    }
    form.add(std::move(*key), std::move(*value));
  }
  return form;
}

std::string percent_decode_or_empty(std::string_view text) {
  auto out = decode_component(text);
  return out ? *out : std::string();
}

std::string form_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace sb::http
