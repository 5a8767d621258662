#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "twiml/messaging_document.hpp"

namespace sb::twiml {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

MessagingDocument parse_body(const std::string& body) {
  return parse_messaging("<Response>" + body + "</Response>");
}

std::vector<int> codes(const MessagingDocument& doc) {
  std::vector<int> out;
  for (const auto& d : doc.diagnostics) out.push_back(d.code);
  return out;
}

// The one diagnostic with `code`; fails the test when there is not exactly one, or its level
// differs.
Diagnostic expect_one(const MessagingDocument& doc, int code, Level level) {
  int count = 0;
  Diagnostic found;
  for (const auto& d : doc.diagnostics) {
    if (d.code == code) {
      ++count;
      found = d;
    }
  }
  EXPECT_EQ(count, 1) << "diagnostic " << code << " in " << ::testing::PrintToString(codes(doc));
  EXPECT_EQ(found.level, level) << code << ": " << found.message;
  return found;
}

// Copies, so that they may be called on a temporary document.
template <typename T>
T verb(const MessagingDocument& doc, std::size_t i = 0) {
  if (i >= doc.verbs.size()) {
    ADD_FAILURE() << "no verb " << i << " (have " << doc.verbs.size() << ")";
    return T{};
  }
  if (!std::holds_alternative<T>(doc.verbs[i])) {
    ADD_FAILURE() << "verb " << i << " has another type";
    return T{};
  }
  return std::get<T>(doc.verbs[i]);
}

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// ---------- whole documents ----------

TEST(MessagingTwiml, FullDocumentParsesToExactFields) {
  const MessagingDocument doc = parse_messaging(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Response>\n"
      "  <Message to=\"+15551230000\" from=\"ACME\" statusCallback=\"https://cb.example/st\">"
      "Thanks, we got it</Message>\n"
      "  <Message method=\"get\">\n"
      "    <Body>Your photo:</Body>\n"
      "    <Body>two lines</Body>\n"
      "    <Media>https://cdn.example/a.jpg</Media>\n"
      "    <Media>/media/b.png</Media>\n"
      "  </Message>\n"
      "  <Redirect method=\"GET\">/next?step=2</Redirect>\n"
      "</Response>\n");
  EXPECT_TRUE(doc.ok());
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  ASSERT_EQ(doc.verbs.size(), 3u);

  const MessageVerb first = verb<MessageVerb>(doc, 0);
  EXPECT_EQ(first.to, "+15551230000");
  EXPECT_EQ(first.from, "ACME");
  EXPECT_EQ(first.action, "");
  EXPECT_EQ(first.method, "");  // POST by default
  EXPECT_EQ(first.status_callback, "https://cb.example/st");
  EXPECT_EQ(first.body, "Thanks, we got it");
  EXPECT_TRUE(first.media.empty());
  EXPECT_EQ(first.line, 3);

  const MessageVerb second = verb<MessageVerb>(doc, 1);
  EXPECT_EQ(second.to, "");
  EXPECT_EQ(second.from, "");
  EXPECT_EQ(second.method, "GET");
  EXPECT_EQ(second.status_callback, "");
  EXPECT_EQ(second.body, "Your photo:\ntwo lines");  // <Body> nouns joined as the voice parser
  EXPECT_THAT(second.media, ElementsAre("https://cdn.example/a.jpg", "/media/b.png"));
  EXPECT_EQ(second.line, 4);

  const MessagingRedirect redirect = verb<MessagingRedirect>(doc, 2);
  EXPECT_EQ(redirect.url, "/next?step=2");
  EXPECT_EQ(redirect.method, "GET");
  EXPECT_EQ(redirect.line, 10);
}

TEST(MessagingTwiml, EmptyResponseIsAValidReplyWithNothingToSend) {
  for (const char* xml : {"<Response/>", "<Response>\n  <!-- nothing -->\n</Response>"}) {
    const MessagingDocument doc = parse_messaging(xml);
    EXPECT_TRUE(doc.ok()) << xml;
    EXPECT_TRUE(doc.verbs.empty()) << xml;
    EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  }
}

TEST(MessagingTwiml, MalformedXmlIs12100WithLineAndColumn) {
  const MessagingDocument doc =
      parse_messaging("<Response>\n  <Message>hi</Message>\n  <Message>unclosed\n</Response>");
  EXPECT_FALSE(doc.ok());
  EXPECT_TRUE(doc.verbs.empty());
  const Diagnostic d = expect_one(doc, 12100, Level::kError);
  EXPECT_EQ(d.line, 4);
  EXPECT_EQ(d.column, 1);
  EXPECT_THAT(d.message, HasSubstr("does not match the open element <Message>"));
  EXPECT_THAT(d.message, HasSubstr("line 4, column 1"));

  const MessagingDocument amp =
      parse_messaging("<Response>\n<Message>Tom & Jerry</Message>\n</Response>");
  const Diagnostic a = expect_one(amp, 12100, Level::kError);
  EXPECT_EQ(a.line, 2);
  EXPECT_EQ(a.column, 14);
}

TEST(MessagingTwiml, RootMustBeResponse) {
  const MessagingDocument doc =
      parse_messaging("<MessagingResponse><Message>hi</Message></MessagingResponse>");
  EXPECT_FALSE(doc.ok());
  EXPECT_TRUE(doc.verbs.empty());
  EXPECT_THAT(expect_one(doc, 12102, Level::kError).message, HasSubstr("<MessagingResponse>"));
}

TEST(MessagingTwiml, InvalidVersionIs12101) {
  const MessagingDocument doc =
      parse_messaging("<Response version=\"2001\"><Message>hi</Message></Response>");
  EXPECT_FALSE(doc.ok());
  expect_one(doc, 12101, Level::kError);
}

TEST(MessagingTwiml, TextOutsideAVerbWarns) {
  const MessagingDocument doc = parse_body("stray<Message>hi</Message>");
  EXPECT_TRUE(doc.ok());
  EXPECT_THAT(expect_one(doc, 12200, Level::kWarning).message, HasSubstr("text outside a verb"));
  EXPECT_EQ(doc.verbs.size(), 1u);
}

// ---------- verbs ----------

TEST(MessagingVerbs, VoiceVerbIsAnError) {
  const MessagingDocument doc = parse_messaging("<Response>\n  <Say>Hello</Say>\n</Response>");
  EXPECT_FALSE(doc.ok());
  EXPECT_TRUE(doc.verbs.empty());
  const Diagnostic d = expect_one(doc, 12200, Level::kError);
  EXPECT_THAT(d.message, HasSubstr("invalid verb for messaging <Say>"));
  EXPECT_THAT(d.message, HasSubstr("a voice verb"));
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 3);

  for (const char* voice_only : {"<Sms>hi</Sms>", "<Hangup/>", "<Play>/a.mp3</Play>"}) {
    const MessagingDocument v = parse_body(voice_only);
    EXPECT_FALSE(v.ok()) << voice_only;
    EXPECT_THAT(expect_one(v, 12200, Level::kError).message, HasSubstr("a voice verb"));
  }
}

TEST(MessagingVerbs, WrongCaseAndUnknownVerbsAreErrors) {
  const MessagingDocument wrong_case = parse_body("<message>hi</message>");
  EXPECT_FALSE(wrong_case.ok());
  EXPECT_THAT(expect_one(wrong_case, 12200, Level::kError).message,
              HasSubstr("did you mean <Message>?"));
  EXPECT_TRUE(wrong_case.verbs.empty());

  const MessagingDocument unknown = parse_body("<Dance/>");
  EXPECT_FALSE(unknown.ok());
  EXPECT_THAT(expect_one(unknown, 12200, Level::kError).message,
              HasSubstr("invalid verb for messaging <Dance>"));
}

TEST(MessagingVerbs, TenMessagesAreSentAnEleventhIsWarning14109AndSkipped) {
  const MessagingDocument ten = parse_body(repeat("<Message>hi</Message>", 10));
  EXPECT_TRUE(ten.ok()) << ::testing::PrintToString(codes(ten));
  EXPECT_TRUE(ten.diagnostics.empty());
  EXPECT_EQ(ten.verbs.size(), kMaxMessagesPerResponse);

  const MessagingDocument twenty =
      parse_messaging("<Response>\n" + repeat("<Message>hi</Message>\n", 20) + "</Response>");
  EXPECT_TRUE(twenty.ok());  // Twilio sends the first ten and logs a warning
  EXPECT_EQ(twenty.verbs.size(), kMaxMessagesPerResponse);
  const Diagnostic d = expect_one(twenty, 14109, Level::kWarning);
  EXPECT_EQ(d.line, 12);  // the eleventh
  EXPECT_THAT(d.message, HasSubstr("at most 10 <Message> verbs per response"));
}

TEST(MessagingVerbs, UnreachableVerbsAfterAMessageActionWarnAndAreNotKept) {
  const MessagingDocument doc = parse_messaging(
      "<Response>\n"
      "  <Message action=\"/status\">first</Message>\n"
      "  <Message>never sent</Message>\n"
      "  <Redirect>/elsewhere</Redirect>\n"
      "</Response>");
  EXPECT_TRUE(doc.ok());
  ASSERT_EQ(doc.verbs.size(), 1u);
  EXPECT_EQ(verb<MessageVerb>(doc).action, "/status");
  EXPECT_EQ(verb<MessageVerb>(doc).body, "first");
  ASSERT_EQ(doc.diagnostics.size(), 2u) << ::testing::PrintToString(codes(doc));
  for (std::size_t i = 0; i < 2; ++i) {
    const Diagnostic& d = doc.diagnostics[i];
    EXPECT_EQ(d.code, 12200);
    EXPECT_EQ(d.level, Level::kWarning);
    EXPECT_EQ(d.line, static_cast<int>(3 + i));
    EXPECT_THAT(d.message, HasSubstr("unreachable after the <Message action> at line 2"));
  }
}

TEST(MessagingVerbs, UnreachableVerbsAfterARedirectWarn) {
  const MessagingDocument doc = parse_messaging(
      "<Response>\n<Message>one</Message>\n<Redirect>/next</Redirect>\n<Message>two</Message>\n"
      "</Response>");
  EXPECT_TRUE(doc.ok());
  ASSERT_EQ(doc.verbs.size(), 2u);
  EXPECT_EQ(verb<MessagingRedirect>(doc, 1).url, "/next");
  const Diagnostic d = expect_one(doc, 12200, Level::kWarning);
  EXPECT_EQ(d.line, 4);
  EXPECT_THAT(d.message, HasSubstr("unreachable after the <Redirect> at line 3"));
}

TEST(MessagingVerbs, AMessageWithoutActionDoesNotEndTheFlow) {
  const MessagingDocument doc =
      parse_body("<Message action=\"\">one</Message><Message>two</Message>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  EXPECT_EQ(doc.verbs.size(), 2u);
}

TEST(MessagingVerbs, UnreachableVerbsAreStillChecked) {
  const MessagingDocument doc =
      parse_body("<Redirect>/next</Redirect><Message></Message><Say>hi</Say>");
  EXPECT_FALSE(doc.ok());
  EXPECT_TRUE(doc.verbs.size() == 1 && std::holds_alternative<MessagingRedirect>(doc.verbs[0]));
  // The empty Message: its own error, then the unreachable warning; then the voice verb.
  ASSERT_THAT(codes(doc), ElementsAre(14103, 12200, 12200));
  EXPECT_EQ(doc.diagnostics[0].level, Level::kError);
  EXPECT_EQ(doc.diagnostics[1].level, Level::kWarning);
  EXPECT_THAT(doc.diagnostics[1].message, HasSubstr("unreachable"));
  EXPECT_EQ(doc.diagnostics[2].level, Level::kError);
  EXPECT_THAT(doc.diagnostics[2].message, HasSubstr("invalid verb for messaging <Say>"));
}

// ---------- Message ----------

TEST(MessagingMessageVerb, EmptyBodyWithoutMediaIs14103) {
  for (const char* body : {"<Message/>", "<Message>  \n </Message>", "<Message><Body/></Message>",
                           "<Message><Body> </Body><Body></Body></Message>"}) {
    const MessagingDocument doc = parse_body(body);
    EXPECT_FALSE(doc.ok()) << body;
    EXPECT_THAT(expect_one(doc, 14103, Level::kError).message, HasSubstr("empty")) << body;
  }
  // Media alone is a message.
  const MessagingDocument media_only = parse_body("<Message><Media>/a.png</Media></Message>");
  EXPECT_TRUE(media_only.diagnostics.empty()) << ::testing::PrintToString(codes(media_only));
  EXPECT_EQ(verb<MessageVerb>(media_only).body, "");
  EXPECT_THAT(verb<MessageVerb>(media_only).media, ElementsAre("/a.png"));
}

TEST(MessagingMessageVerb, BodyNounsJoinWithLineBreaksSkippingEmptyOnes) {
  const MessagingDocument doc =
      parse_body("<Message><Body>a</Body><Body/><Body> </Body><Body>b</Body></Message>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  EXPECT_EQ(verb<MessageVerb>(doc).body, "a\nb");
}

TEST(MessagingMessageVerb, BodyLimitCountsCodePointsNotBytes) {
  // 1600 two-byte characters: 3200 bytes, within the limit.
  const MessagingDocument fits = parse_body("<Message>" + repeat("é", 1600) + "</Message>");
  EXPECT_TRUE(fits.ok()) << ::testing::PrintToString(codes(fits));
  EXPECT_EQ(verb<MessageVerb>(fits).body.size(), 3200u);

  const MessagingDocument over = parse_body("<Message>" + repeat("é", 1601) + "</Message>");
  EXPECT_FALSE(over.ok());
  EXPECT_THAT(expect_one(over, 14103, Level::kError).message,
              HasSubstr("1601 characters; at most 1600"));

  // The limit holds for the joined <Body> nouns: 800 + '\n' + 800.
  const MessagingDocument joined =
      parse_body("<Message><Body>" + std::string(800, 'x') + "</Body><Body>" +
                 std::string(800, 'y') + "</Body></Message>");
  EXPECT_FALSE(joined.ok());
  EXPECT_THAT(expect_one(joined, 14103, Level::kError).message, HasSubstr("1601 characters"));
}

TEST(MessagingMessageVerb, TenMediaAreAllowedAnEleventhIs21623) {
  const MessagingDocument ten =
      parse_body("<Message>" + repeat("<Media>https://m.example/p.jpg</Media>", 10) + "</Message>");
  EXPECT_TRUE(ten.diagnostics.empty()) << ::testing::PrintToString(codes(ten));
  EXPECT_EQ(verb<MessageVerb>(ten).media.size(), kMaxMediaPerMessage);

  const MessagingDocument eleven = parse_messaging(
      "<Response><Message>\n" + repeat("<Media>https://m.example/p.jpg</Media>\n", 11) +
      "</Message></Response>");
  EXPECT_FALSE(eleven.ok());
  const Diagnostic d = expect_one(eleven, 21623, Level::kError);
  EXPECT_EQ(d.line, 12);
  EXPECT_THAT(d.message, HasSubstr("more than 10 <Media>"));
}

TEST(MessagingMessageVerb, EmptyOrMalformedMediaUrlIs11100) {
  for (const char* media : {"<Media/>", "<Media>  </Media>", "<Media>ftp://files.example/a</Media>",
                            "<Media>https:///no-host</Media>"}) {
    const MessagingDocument doc = parse_body(std::string("<Message>hi") + media + "</Message>");
    EXPECT_FALSE(doc.ok()) << media;
    expect_one(doc, 11100, Level::kError);
    EXPECT_TRUE(verb<MessageVerb>(doc).media.empty()) << media;
  }
}

TEST(MessagingMessageVerb, InvalidMethodIs14104AndTheDefaultStays) {
  const MessagingDocument doc =
      parse_messaging("<Response>\n<Message method=\"PUT\">hi</Message>\n</Response>");
  EXPECT_TRUE(doc.ok());  // a warning, as on Twilio and in the voice parser
  const Diagnostic d = expect_one(doc, 14104, Level::kWarning);
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 10);
  EXPECT_THAT(d.message,
              HasSubstr("Invalid method value \"PUT\" (must be GET or POST); using POST"));
  EXPECT_EQ(verb<MessageVerb>(doc).method, "");

  EXPECT_EQ(verb<MessageVerb>(parse_body("<Message method=\"post\">hi</Message>")).method, "POST");
}

TEST(MessagingMessageVerb, ActionAndStatusCallbackMustBeHttpUrls) {
  const MessagingDocument doc = parse_body(
      "<Message action=\"mailto:a@b\" statusCallback=\"ftp://x/y\">hi</Message>"
      "<Message>still reachable</Message>");
  EXPECT_TRUE(doc.ok());
  expect_one(doc, 11100, Level::kWarning);
  expect_one(doc, 14105, Level::kWarning);
  EXPECT_EQ(verb<MessageVerb>(doc).action, "");
  EXPECT_EQ(verb<MessageVerb>(doc).status_callback, "");
  EXPECT_EQ(doc.verbs.size(), 2u);  // the ignored action does not end the flow

  const MessagingDocument good = parse_body(
      "<Message action=\"https://app.example/sms?x=1\" statusCallback=\"/st\">hi</Message>");
  EXPECT_TRUE(good.diagnostics.empty()) << ::testing::PrintToString(codes(good));
  EXPECT_EQ(verb<MessageVerb>(good).action, "https://app.example/sms?x=1");
  EXPECT_EQ(verb<MessageVerb>(good).status_callback, "/st");
}

TEST(MessagingMessageVerb, LineBreakInToOrFromIsAnError) {
  const MessagingDocument to = parse_body("<Message to=\"+1555&#10;Bcc: x\">hi</Message>");
  EXPECT_FALSE(to.ok());
  EXPECT_THAT(expect_one(to, 14101, Level::kError).message, HasSubstr("line break"));
  EXPECT_EQ(verb<MessageVerb>(to).to, "");

  const MessagingDocument from = parse_body("<Message from=\"ACME&#13;\">hi</Message>");
  EXPECT_FALSE(from.ok());
  expect_one(from, 14102, Level::kError);

  // A raw line break in an attribute is normalised to a space by XML: one line, accepted.
  const MessagingDocument raw = parse_body("<Message to=\"whatsapp:+1555\n0001\">hi</Message>");
  EXPECT_TRUE(raw.diagnostics.empty()) << ::testing::PrintToString(codes(raw));
  EXPECT_EQ(verb<MessageVerb>(raw).to, "whatsapp:+1555 0001");

  // NUL cannot be written in XML at all.
  expect_one(parse_body("<Message to=\"a&#0;b\">hi</Message>"), 12100, Level::kError);
}

TEST(MessagingMessageVerb, TextBesideBodyIsIgnoredWithAWarning) {
  const MessagingDocument doc = parse_body("<Message>loose<Body>kept</Body></Message>");
  EXPECT_TRUE(doc.ok());
  EXPECT_THAT(expect_one(doc, 12200, Level::kWarning).message, HasSubstr("outside <Body>"));
  EXPECT_EQ(verb<MessageVerb>(doc).body, "kept");
}

TEST(MessagingMessageVerb, UnknownAttributesAndChildrenWarn) {
  const MessagingDocument doc =
      parse_body("<Message To=\"+1555\" priority=\"high\">hi<Subject>x</Subject></Message>");
  EXPECT_TRUE(doc.ok());
  EXPECT_THAT(codes(doc), ElementsAre(12200, 12200, 12200));
  EXPECT_THAT(doc.diagnostics[0].message, HasSubstr("did you mean 'to'?"));
  EXPECT_THAT(doc.diagnostics[2].message, HasSubstr("unexpected element <Subject>"));
  EXPECT_EQ(verb<MessageVerb>(doc).to, "");
  EXPECT_EQ(verb<MessageVerb>(doc).body, "hi");
}

// ---------- Redirect ----------

TEST(MessagingRedirectVerb, EmptyUrlIsAnError) {
  const MessagingDocument doc = parse_body("<Redirect/>");
  EXPECT_FALSE(doc.ok());
  EXPECT_THAT(expect_one(doc, 12200, Level::kError).message, HasSubstr("no URL"));
}

TEST(MessagingRedirectVerb, MalformedUrlIs11100AndMethodIs13710) {
  const MessagingDocument bad = parse_body("<Redirect>mailto:a@b</Redirect>");
  EXPECT_FALSE(bad.ok());
  expect_one(bad, 11100, Level::kError);

  const MessagingDocument method = parse_body("<Redirect method=\"DELETE\">/next</Redirect>");
  EXPECT_TRUE(method.ok());
  expect_one(method, 13710, Level::kWarning);
  EXPECT_EQ(verb<MessagingRedirect>(method).method, "POST");
  EXPECT_EQ(verb<MessagingRedirect>(method).url, "/next");
}

// ---------- limits ----------

TEST(MessagingTwiml, ParseLimitsApply) {
  ParseLimits limits;
  limits.max_bytes = 32;
  const MessagingDocument big = parse_messaging(
      "<Response><Message>" + std::string(40, 'a') + "</Message></Response>", limits);
  EXPECT_THAT(expect_one(big, 12100, Level::kError).message, HasSubstr("larger than 32 bytes"));

  limits = ParseLimits{};
  limits.max_verbs = 3;
  const MessagingDocument many =
      parse_messaging("<Response>" + repeat("<Message>hi</Message>", 4) + "</Response>", limits);
  EXPECT_THAT(expect_one(many, 12100, Level::kError).message, HasSubstr("more than 3 elements"));
  EXPECT_TRUE(many.verbs.empty());
}

}  // namespace
}  // namespace sb::twiml
