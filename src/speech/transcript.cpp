#include "speech/transcript.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace sb::speech {
namespace {

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '\''; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

// The words a recognizer's vocabulary spells that Twilio's filter masks; inflections listed, as
// the recognizers return whole dictionary words.
constexpr std::array<std::string_view, 24> kProfanities = {
    "asshole",      "assholes",      "bastard", "bastards", "bitch",    "bitches",
    "bullshit",     "cunt",          "cunts",   "dick",     "dickhead", "fuck",
    "fucked",       "fucker",        "fuckers", "fuckin",   "fucking",  "fucks",
    "motherfucker", "motherfuckers", "shit",    "shits",    "shitty",   "whore",
};

bool profane(std::string_view word) {
  std::string lower(word);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(kProfanities.begin(), kProfanities.end(), lower) != kProfanities.end();
}

}  // namespace

std::vector<std::string> parse_hints(std::string_view hints) {
  std::vector<std::string> out;
  while (!hints.empty() && out.size() < kMaxHints) {
    const auto comma = hints.find(',');
    const std::string_view phrase = trim(hints.substr(0, comma));
    if (!phrase.empty() && phrase.size() <= kMaxHintPhraseChars) out.emplace_back(phrase);
    if (comma == std::string_view::npos) break;
    hints.remove_prefix(comma + 1);
  }
  return out;
}

std::vector<std::string> words_of(std::string_view phrase) {
  std::vector<std::string> out;
  std::string word;
  for (char c : phrase) {
    if (word_char(c)) {
      word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!word.empty()) {
      out.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

std::string mask_profanities(std::string_view text) {
  std::string out(text);
  std::size_t i = 0;
  while (i < out.size()) {
    if (!word_char(out[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < out.size() && word_char(out[end])) ++end;
    if (profane(std::string_view(out).substr(i, end - i))) {
      std::fill(out.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                out.begin() + static_cast<std::ptrdiff_t>(end), '*');
    }
    i = end;
  }
  return out;
}

}  // namespace sb::speech
