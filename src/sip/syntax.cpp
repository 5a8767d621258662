#include "sip/syntax.hpp"

#include "core/text.hpp"

namespace sb::sip {

bool is_token_char(char c) {
  if (is_alnum(c)) return true;
  switch (c) {
    case '-':
    case '.':
    case '!':
    case '%':
    case '*':
    case '_':
    case '+':
    case '`':
    case '\'':
    case '~':
      return true;
    default:
      return false;
  }
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

std::optional<std::uint64_t> parse_uint(std::string_view s, std::uint64_t max) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!is_digit(c)) return std::nullopt;
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (max - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return v;
}

std::optional<std::size_t> quoted_length(std::string_view s) {
  if (s.empty() || s[0] != '"') return std::nullopt;
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      if (++i >= s.size()) return std::nullopt;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::nullopt;
}

std::optional<std::size_t> find_unquoted(std::string_view s, char c, std::size_t from) {
  int angle = 0;
  for (std::size_t i = from; i < s.size(); ++i) {
    const char ch = s[i];
    if (ch == '"') {
      auto len = quoted_length(s.substr(i));
      if (!len) return std::nullopt;
      i += *len - 1;
      continue;
    }
    if (ch == c && angle == 0) return i;
    if (ch == '<') ++angle;
    if (ch == '>' && angle > 0) --angle;
  }
  return std::string_view::npos;
}

std::optional<std::string_view> ValueList::next() {
  if (done_) return std::nullopt;
  auto pos = find_unquoted(rest_, ',');
  if (!pos) {
    bad_ = true;
    done_ = true;
    return std::nullopt;
  }
  std::string_view v;
  if (*pos == std::string_view::npos) {
    v = rest_;
    done_ = true;
  } else {
    v = rest_.substr(0, *pos);
    rest_.remove_prefix(*pos + 1);
  }
  return trim(v);
}

std::optional<Param> ParamList::next() {
  std::string_view s = trim(rest_);
  if (!s.empty() && s[0] == ';') s = trim(s.substr(1));
  if (s.empty()) {
    rest_ = {};
    return std::nullopt;
  }
  auto pos = find_unquoted(s, ';');
  if (!pos) {
    bad_ = true;
    return std::nullopt;
  }
  std::string_view item = s.substr(0, *pos == std::string_view::npos ? s.size() : *pos);
  rest_ = *pos == std::string_view::npos ? std::string_view{} : s.substr(*pos);
  Param p;
  auto eq = item.find('=');
  p.name = trim(item.substr(0, eq));
  if (eq != std::string_view::npos) {
    p.value = trim(item.substr(eq + 1));
    p.has_value = true;
  }
  if (p.name.empty()) {
    bad_ = true;
    return std::nullopt;
  }
  return p;
}

bool valid_params(std::string_view params) {
  std::string_view s = trim(params);
  if (s.empty()) return true;
  if (s[0] != ';') return false;
  ParamList list(s);
  std::size_t seen = 0;
  while (auto p = list.next()) {
    ++seen;
    if (!is_token(p->name)) return false;
    if (p->has_value) {
      if (p->value.empty()) return false;
      if (p->value[0] == '"') {
        auto len = quoted_length(p->value);
        if (!len || *len != p->value.size()) return false;
      } else {
        for (char c : p->value) {
          if (!is_token_char(c) && c != ':' && c != '[' && c != ']') return false;
        }
      }
    }
  }
  // Trailing separators such as ";;" leave the list bad or unconsumed.
  return !list.bad() && seen > 0;
}

std::optional<std::string_view> find_param(std::string_view params, std::string_view name) {
  ParamList list(params);
  while (auto p = list.next()) {
    if (iequals(p->name, name)) {
      std::string_view v = p->value;
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return std::nullopt;
}

std::string unquote(std::string_view q) {
  if (q.size() >= 2 && q.front() == '"' && q.back() == '"') q = q.substr(1, q.size() - 2);
  std::string out;
  out.reserve(q.size());
  for (std::size_t i = 0; i < q.size(); ++i) {
    if (q[i] == '\\' && i + 1 < q.size()) ++i;
    out.push_back(q[i]);
  }
  return out;
}

std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace sb::sip
