#include "speech/recognizers.hpp"

#include <gtest/gtest.h>

#include "speech/pocketsphinx_engine.hpp"

namespace sb::speech {
namespace {

// An engine that is only a name: picking never starts a recognition.
class NamedEngine final : public SpeechRecognizer {
 public:
  explicit NamedEngine(std::string name) : name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  std::shared_ptr<Recognition> start(RecognitionOptions, asio::any_io_executor,
                                     RecognitionCallbacks) override {
    return nullptr;
  }

 private:
  std::string name_;
};

std::vector<std::unique_ptr<SpeechRecognizer>> engines(std::initializer_list<const char*> names) {
  std::vector<std::unique_ptr<SpeechRecognizer>> out;
  for (const char* n : names) out.push_back(std::make_unique<NamedEngine>(n));
  return out;
}

TEST(Recognizers, ModelThenAccountThenDefault) {
  SpeechConfig config;
  config.default_engine = "pocketsphinx";
  config.by_model = {{"phone_call", "vosk"}, {"numbers_and_commands", "pocketsphinx"}};
  config.by_account = {{"AC1", "vosk"}};
  Recognizers r(config, engines({"pocketsphinx", "vosk"}));
  EXPECT_EQ(r.pick("AC2", "")->name(), "pocketsphinx");
  EXPECT_EQ(r.pick("AC2", "phone_call")->name(), "vosk");
  EXPECT_EQ(r.pick("AC1", "")->name(), "vosk");
  EXPECT_EQ(r.pick("AC1", "numbers_and_commands")->name(), "pocketsphinx");
  EXPECT_EQ(r.pick("AC1", "unmapped_model")->name(), "vosk");
}

TEST(Recognizers, MissingEnginesFallThroughToNothing) {
  SpeechConfig config;
  config.default_engine = "vosk";
  config.by_account = {{"AC1", "pocketsphinx"}};
  Recognizers r(config, engines({"pocketsphinx"}));
  EXPECT_EQ(r.pick("AC1", "")->name(), "pocketsphinx");
  EXPECT_EQ(r.pick("AC2", ""), nullptr);
}

TEST(Recognizers, EmbeddedEngineWithoutItsModelIsNotPicked) {
  SpeechConfig config;
  config.model_dir = "/nonexistent";
  auto r = Recognizers::create(config);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE((*r)->find("pocketsphinx"), nullptr);
  EXPECT_EQ((*r)->pick("AC1", ""), nullptr);
}

TEST(Recognizers, CreatesVoskOnlyWithAUrl) {
  auto without = Recognizers::create({});
  ASSERT_TRUE(without);
  EXPECT_EQ((*without)->find("vosk"), nullptr);
  EXPECT_EQ((*without)->pick("AC1", "")->name(), "pocketsphinx");
  SpeechConfig config;
  config.vosk_url = "ws://127.0.0.1:2700";
  config.by_model = {{"phone_call", "vosk"}};
  auto with = Recognizers::create(config);
  ASSERT_TRUE(with) << with.error().message;
  EXPECT_EQ((*with)->pick("AC1", "phone_call")->name(), "vosk");
}

TEST(Recognizers, RefusesBadConfiguration) {
  SpeechConfig unknown;
  unknown.by_account = {{"AC1", "whisper"}};
  EXPECT_FALSE(Recognizers::create(unknown));
  SpeechConfig vosk_without_url;
  vosk_without_url.default_engine = "vosk";
  EXPECT_FALSE(Recognizers::create(vosk_without_url));
  SpeechConfig bad_url;
  bad_url.vosk_url = "http://asr";
  EXPECT_FALSE(Recognizers::create(bad_url));
  SpeechConfig threads;
  threads.threads = 0;
  const auto r = Recognizers::create(threads);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, codes::kInvalidParameter);
}

}  // namespace
}  // namespace sb::speech
