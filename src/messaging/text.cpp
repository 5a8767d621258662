#include "messaging/text.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "core/text.hpp"

namespace sb::messaging {
namespace {

// Decodes the code point at `i` of well-formed UTF-8, advancing `i`.
char32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto b = static_cast<unsigned char>(s[i]);
  int extra = 0;
  char32_t cp = 0;
  if (b < 0x80) {
    cp = b;
  } else if ((b & 0xE0) == 0xC0) {
    cp = b & 0x1F;
    extra = 1;
  } else if ((b & 0xF0) == 0xE0) {
    cp = b & 0x0F;
    extra = 2;
  } else {
    cp = b & 0x07;
    extra = 3;
  }
  ++i;
  for (int k = 0; k < extra && i < s.size(); ++k, ++i) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
  }
  return cp;
}

// GSM 03.38's basic alphabet (one septet each) beyond ASCII letters and digits.
constexpr std::u32string_view kGsmBasic =
    U"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà";
// Its extension table (an escape and a septet: two each).
constexpr std::u32string_view kGsmExtension = U"^{}\\[~]|€\f";

bool alnum_ascii(char32_t c) {
  return (c >= U'0' && c <= U'9') || (c >= U'A' && c <= U'Z') || (c >= U'a' && c <= U'z');
}

}  // namespace

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    int extra = 0;
    char32_t min = 0;
    char32_t cp = 0;
    if (b >= 0xC2 && b <= 0xDF) {
      extra = 1, min = 0x80, cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      extra = 2, min = 0x800, cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      extra = 3, min = 0x10000, cp = b & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

std::size_t characters(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

Segments segments(std::string_view text) {
  Segments out;
  std::size_t septets = 0;
  std::size_t utf16 = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    const char32_t cp = next_code_point(text, i);
    utf16 += cp > 0xFFFF ? 2 : 1;
    if (alnum_ascii(cp) || kGsmBasic.find(cp) != std::u32string_view::npos) {
      septets += 1;
    } else if (kGsmExtension.find(cp) != std::u32string_view::npos) {
      septets += 2;
    } else {
      out.gsm7 = false;
    }
  }
  out.units = out.gsm7 ? septets : utf16;
  const std::size_t single = out.gsm7 ? 160 : 70;
  const std::size_t part = out.gsm7 ? 153 : 67;
  out.count = out.units <= single ? 1 : (out.units + part - 1) / part;
  return out;
}

OptKeyword opt_keyword(std::string_view body) {
  const std::string_view word = trim(body);
  if (word.size() > 12) return OptKeyword::kNone;
  for (std::string_view k :
       {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}) {
    if (iequals(word, k)) return OptKeyword::kOptOut;
  }
  for (std::string_view k : {"START", "YES", "UNSTOP"}) {
    if (iequals(word, k)) return OptKeyword::kOptIn;
  }
  for (std::string_view k : {"HELP", "INFO"}) {
    if (iequals(word, k)) return OptKeyword::kHelp;
  }
  return OptKeyword::kNone;
}

std::string_view opt_out_type(OptKeyword keyword) {
  switch (keyword) {
    case OptKeyword::kOptOut:
      return "STOP";
    case OptKeyword::kOptIn:
      return "START";
    case OptKeyword::kHelp:
      return "HELP";
    case OptKeyword::kNone:
      break;
  }
  return "";
}

}  // namespace sb::messaging
