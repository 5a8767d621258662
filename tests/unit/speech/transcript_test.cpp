#include "speech/transcript.hpp"

#include <gtest/gtest.h>

#include "speech/endpointer.hpp"

namespace sb::speech {
namespace {

using Strings = std::vector<std::string>;

TEST(Hints, SplitOnCommasAndTrimmed) {
  EXPECT_EQ(parse_hints("yes, no ,  billing department,,"),
            (Strings{"yes", "no", "billing department"}));
  EXPECT_EQ(parse_hints(""), Strings{});
  EXPECT_EQ(parse_hints(" , "), Strings{});
  EXPECT_EQ(parse_hints(std::string(101, 'a') + ",ok"), Strings{"ok"});
  std::string many;
  for (int i = 0; i < 600; ++i) many += "w,";
  EXPECT_EQ(parse_hints(many).size(), kMaxHints);
}

TEST(Hints, WordsOfAPhrase) {
  EXPECT_EQ(words_of("Don't stop!  Now"), (Strings{"don't", "stop", "now"}));
  EXPECT_EQ(words_of("$OOV_CLASS_DIGIT_SEQUENCE"), (Strings{"oov", "class", "digit", "sequence"}));
  EXPECT_EQ(words_of(""), Strings{});
}

TEST(Profanity, MaskedAsTwilioDoes) {
  EXPECT_EQ(mask_profanities("what the fuck is this shit"), "what the f*** is this s***");
  EXPECT_EQ(mask_profanities("Fucking hell"), "F****** hell");
  EXPECT_EQ(mask_profanities("shitake mushrooms and scunthorpe"),
            "shitake mushrooms and scunthorpe");
  EXPECT_EQ(mask_profanities(""), "");
}

TEST(SpeechTimeout, AutoAndSeconds) {
  EXPECT_EQ(speech_timeout_ms("auto"), kAutoSpeechTimeoutMs);
  EXPECT_EQ(speech_timeout_ms("3"), 3000);
  EXPECT_EQ(speech_timeout_ms("0"), -1);
  EXPECT_EQ(speech_timeout_ms("61"), -1);
  EXPECT_EQ(speech_timeout_ms("2.5"), -1);
  EXPECT_EQ(speech_timeout_ms(""), -1);
}

}  // namespace
}  // namespace sb::speech
