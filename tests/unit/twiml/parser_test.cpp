#include "twiml/parser.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "twiml/wait_document.hpp"

namespace sb::twiml {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

// ---------- helpers ----------

Document parse_body(const std::string& body) { return parse("<Response>" + body + "</Response>"); }

std::vector<int> codes(const Document& doc) {
  std::vector<int> out;
  for (const auto& d : doc.diagnostics) out.push_back(d.code);
  return out;
}

const Diagnostic* find(const Document& doc, int code) {
  for (const auto& d : doc.diagnostics) {
    if (d.code == code) return &d;
  }
  return nullptr;
}

// The one diagnostic with `code`; fails the test when it is missing.
Diagnostic expect_one(const Document& doc, int code, Level level) {
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

// Copies, so that they may be called on a temporary Document.
template <typename T>
T verb(const Document& doc, std::size_t i = 0) {
  const T empty{};
  if (i >= doc.verbs.size()) {
    ADD_FAILURE() << "no verb " << i << " (have " << doc.verbs.size() << ")";
    return empty;
  }
  if (!std::holds_alternative<T>(doc.verbs[i])) {
    ADD_FAILURE() << "verb " << i << " has another type (index " << doc.verbs[i].index() << ")";
    return empty;
  }
  return std::get<T>(doc.verbs[i]);
}

template <typename T>
T target(const Dial& d, std::size_t i = 0) {
  const T empty{};
  if (i >= d.targets.size() || !std::holds_alternative<T>(d.targets[i])) {
    ADD_FAILURE() << "no target " << i << " of that type (have " << d.targets.size() << ")";
    return empty;
  }
  return std::get<T>(d.targets[i]);
}

// A warning-only document: still ok(), one verb, and exactly one diagnostic with `code`.
template <typename T>
T warned(const Document& doc, int code) {
  EXPECT_TRUE(doc.ok());
  expect_one(doc, code, Level::kWarning);
  return verb<T>(doc);
}

// ---------- the document ----------

TEST(TwimlDocument, ValidDocumentHasNoDiagnostics) {
  const Document doc = parse(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<Response>\n  <Say>Hello</Say>\n  <Hangup/>\n</Response>\n");
  EXPECT_TRUE(doc.ok());
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  ASSERT_EQ(doc.verbs.size(), 2u);
  EXPECT_EQ(verb<Say>(doc, 0).text, "Hello");
  verb<Hangup>(doc, 1);
}

TEST(TwimlDocument, EmptyResponseIsValid) {
  const Document doc = parse("<Response/>");
  EXPECT_TRUE(doc.ok());
  EXPECT_TRUE(doc.verbs.empty());
  EXPECT_TRUE(doc.diagnostics.empty());
}

TEST(TwimlDocument, EmptyBodyIs12100) {
  for (const char* body : {"", "   \n\t "}) {
    const Document doc = parse(body);
    EXPECT_FALSE(doc.ok());
    const Diagnostic d = expect_one(doc, 12100, Level::kError);
    EXPECT_THAT(d.message, HasSubstr("empty"));
    EXPECT_TRUE(doc.verbs.empty());
  }
}

TEST(TwimlDocument, MalformedXmlIs12100WithDescriptionAndPosition) {
  const Document doc = parse("<Response>\n  <Say>hi</Say>\n  <Play>unclosed\n</Response>");
  EXPECT_FALSE(doc.ok());
  EXPECT_TRUE(doc.verbs.empty());
  const Diagnostic d = expect_one(doc, 12100, Level::kError);
  EXPECT_THAT(d.message,
              HasSubstr("the end tag </Response> does not match the open element <Play>"));
  EXPECT_EQ(d.line, 4);
  EXPECT_EQ(d.column, 1);
  EXPECT_THAT(d.message, HasSubstr("line 4, column 1"));
}

TEST(TwimlDocument, UnquotedAttributeIs12100) {
  const Document doc = parse("<Response><Pause length=5/></Response>");
  expect_one(doc, 12100, Level::kError);
  EXPECT_TRUE(doc.verbs.empty());
}

TEST(TwimlDocument, OversizeDocumentIs12100) {
  ParseLimits limits;
  limits.max_bytes = 100;
  const std::string body = "<Response><Say>" + std::string(200, 'a') + "</Say></Response>";
  const Document doc = parse(body, limits);
  const Diagnostic d = expect_one(doc, 12100, Level::kError);
  EXPECT_THAT(d.message, HasSubstr("larger than 100 bytes"));
  EXPECT_TRUE(doc.verbs.empty());
  // Exactly at the limit is fine.
  const std::string fits = "<Response><Say>" + std::string(100 - 32, 'a') + "</Say></Response>";
  ASSERT_EQ(fits.size(), 100u);
  EXPECT_TRUE(parse(fits, limits).ok());
}

TEST(TwimlDocument, TooManyVerbsIs12100) {
  ParseLimits limits;
  limits.max_verbs = 3;
  EXPECT_TRUE(parse("<Response><Pause/><Pause/><Pause/></Response>", limits).ok());
  const Document doc = parse("<Response><Pause/><Pause/><Pause/><Pause/></Response>", limits);
  const Diagnostic d = expect_one(doc, 12100, Level::kError);
  EXPECT_THAT(d.message, HasSubstr("more than 3 elements"));
  EXPECT_EQ(d.column, 35);  // the fourth <Pause/>
  EXPECT_TRUE(doc.verbs.empty());
}

TEST(TwimlDocument, NestingTooDeepIs12100) {
  ParseLimits limits;
  limits.max_depth = 3;  // Response > Gather > Say
  EXPECT_TRUE(parse("<Response><Gather><Say>hi</Say></Gather></Response>", limits).ok());
  const Document doc =
      parse("<Response><Gather><Say><emphasis>hi</emphasis></Say></Gather></Response>", limits);
  const Diagnostic d = expect_one(doc, 12100, Level::kError);
  EXPECT_THAT(d.message, HasSubstr("deeper than 3"));
  EXPECT_TRUE(doc.verbs.empty());
}

TEST(TwimlDocument, RootMustBeResponse12102) {
  const Document doc = parse("<Reply><Say>hi</Say></Reply>");
  EXPECT_FALSE(doc.ok());
  EXPECT_TRUE(doc.verbs.empty());
  const Diagnostic d = expect_one(doc, 12102, Level::kError);
  EXPECT_EQ(d.line, 1);
  EXPECT_EQ(d.column, 1);
  const Diagnostic lower =
      expect_one(parse("<response><Say>hi</Say></response>"), 12102, Level::kError);
  EXPECT_THAT(lower.message, HasSubstr("case-sensitive"));
}

TEST(TwimlDocument, InvalidVersionIs12101) {
  EXPECT_TRUE(parse("<Response version=\"2010-04-01\"><Hangup/></Response>").ok());
  EXPECT_TRUE(parse("<Response version=\"2008-08-01\"><Hangup/></Response>").ok());
  const Document doc = parse("<Response version=\"2011-01-01\"><Hangup/></Response>");
  EXPECT_FALSE(doc.ok());
  const Diagnostic d = expect_one(doc, 12101, Level::kError);
  EXPECT_EQ(d.column, 11);  // the attribute
}

TEST(TwimlDocument, DeclarationMustComeFirst) {
  EXPECT_TRUE(parse("<?xml version=\"1.0\"?><Response/>").ok());
  EXPECT_TRUE(parse("\xEF\xBB\xBF<?xml version=\"1.0\"?><Response/>").ok());  // UTF-8 BOM
  const Document doc = parse("\n  <?xml version=\"1.0\"?><Response/>");
  const Diagnostic d = expect_one(doc, 12100, Level::kError);
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 3);
}

TEST(TwimlDocument, MoreThanOneRootIs12100) {
  expect_one(parse("<Response/><Response/>"), 12100, Level::kError);
  expect_one(parse("<Response/>trailing text"), 12100, Level::kError);
  expect_one(parse("<Response/>x"), 12100, Level::kError);  // a single trailing character
  expect_one(parse("x<Response/>"), 12100, Level::kError);
}

TEST(TwimlDocument, NonUtf8EncodingDeclarationWarns) {
  const Document doc = parse("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Response/>");
  EXPECT_TRUE(doc.ok());
  expect_one(doc, 12200, Level::kWarning);
}

TEST(TwimlDocument, UnknownVerbIs12200AndSkipped) {
  const Document doc = parse_body("<Say>a</Say><Dance/><Say>b</Say>");
  EXPECT_TRUE(doc.ok());
  const Diagnostic d = expect_one(doc, 12200, Level::kWarning);
  EXPECT_THAT(d.message, HasSubstr("<Dance>"));
  ASSERT_EQ(doc.verbs.size(), 2u);
  EXPECT_EQ(verb<Say>(doc, 1).text, "b");
}

TEST(TwimlDocument, WrongCaseVerbIs12200AndNotExecuted) {
  const Document doc = parse_body("<say>hello</say><HANGUP/>");
  EXPECT_TRUE(doc.ok());
  EXPECT_TRUE(doc.verbs.empty());
  ASSERT_EQ(doc.diagnostics.size(), 2u);
  EXPECT_EQ(doc.diagnostics[0].code, 12200);
  EXPECT_THAT(doc.diagnostics[0].message, HasSubstr("did you mean <Say>"));
  EXPECT_THAT(doc.diagnostics[1].message, HasSubstr("did you mean <Hangup>"));
}

TEST(TwimlDocument, UnsupportedTwilioVerbIs12200) {
  const Document doc = parse_body("<Pay/><Hangup/>");
  const Diagnostic d = expect_one(doc, 12200, Level::kWarning);
  EXPECT_THAT(d.message, HasSubstr("not supported"));
  ASSERT_EQ(doc.verbs.size(), 1u);
}

TEST(TwimlDocument, UnknownAndWrongCaseAttributesAre12200AndIgnored) {
  const Document doc = parse_body("<Say Voice=\"alice\" colour=\"red\">hi</Say>");
  EXPECT_TRUE(doc.ok());
  ASSERT_EQ(doc.diagnostics.size(), 2u);
  EXPECT_EQ(doc.diagnostics[0].code, 12200);
  EXPECT_THAT(doc.diagnostics[0].message, HasSubstr("did you mean 'voice'"));
  EXPECT_EQ(doc.diagnostics[1].code, 12200);
  EXPECT_THAT(doc.diagnostics[1].message, HasSubstr("unknown attribute 'colour'"));
  EXPECT_EQ(verb<Say>(doc).voice, "man");  // the wrong-case attribute did not apply
}

TEST(TwimlDocument, NamespaceAttributesAndCommentsAreAccepted) {
  const Document doc =
      parse("<Response xmlns=\"http://www.twilio.com/\"><!-- greet --><Say>hi</Say></Response>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  EXPECT_EQ(doc.verbs.size(), 1u);
}

TEST(TwimlDocument, TextOutsideVerbsWarns) {
  const Document doc = parse_body("stray<Hangup/>");
  expect_one(doc, 12200, Level::kWarning);
  EXPECT_EQ(doc.verbs.size(), 1u);
}

TEST(TwimlDocument, NestedResponseIsAnUnknownVerb) {
  const Document doc = parse_body("<Response><Say>x</Say></Response>");
  expect_one(doc, 12200, Level::kWarning);
  EXPECT_TRUE(doc.verbs.empty());
}

TEST(TwimlDocument, EntitiesAndCdataAreDecoded) {
  const Document doc = parse_body("<Say>Tom &amp; Jerry &#x263A;<![CDATA[ <ok> ]]></Say>");
  EXPECT_EQ(verb<Say>(doc).text, "Tom & Jerry \xE2\x98\xBA <ok>");
}

// ---------- well-formedness: pugixml alone accepts all of these ----------

struct XmlCase {
  const char* name;
  const char* xml;
  int column;  // all on line 1
  const char* says;
};

void PrintTo(const XmlCase& c, std::ostream* os) { *os << c.name; }

class TwimlNotWellFormed : public ::testing::TestWithParam<XmlCase> {};

TEST_P(TwimlNotWellFormed, Is12100AtItsPositionWithNoVerbs) {
  const XmlCase& c = GetParam();
  const Document doc = parse(c.xml);
  EXPECT_FALSE(doc.ok());
  EXPECT_TRUE(doc.verbs.empty());
  const Diagnostic d = expect_one(doc, 12100, Level::kError);
  EXPECT_EQ(d.line, 1) << d.message;
  EXPECT_EQ(d.column, c.column) << d.message;
  EXPECT_THAT(d.message, HasSubstr(c.says));
  EXPECT_THAT(d.message, HasSubstr("Document parse failure: "));
  EXPECT_THAT(d.message, HasSubstr("at line 1, column " + std::to_string(c.column)));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, TwimlNotWellFormed,
    ::testing::Values(
        XmlCase{"bare_ampersand", "<Response><Say>Tom & Jerry</Say></Response>", 20, "a bare '&'"},
        XmlCase{"ampersand_without_semicolon", "<Response><Say>Tom &amp Jerry</Say></Response>", 20,
                "';' missing"},
        XmlCase{"undefined_entity", "<Response><Say>&nbsp;</Say></Response>", 16,
                "undefined entity '&nbsp;'"},
        XmlCase{"nul_character_reference", "<Response><Say>&#0;</Say></Response>", 16,
                "not an XML character"},
        XmlCase{"surrogate_character_reference", "<Response><Say>&#xD800;</Say></Response>", 16,
                "not an XML character"},
        XmlCase{"huge_character_reference", "<Response><Say>&#99999999999;</Say></Response>", 16,
                "not an XML character"},
        XmlCase{"less_than_in_attribute", "<Response><Say voice=\"a<b\">x</Say></Response>", 24,
                "'<' is not allowed in an attribute value"},
        XmlCase{"ampersand_in_attribute", "<Response><Gather action=\"/next?a=1&b=2\"/></Response>",
                36, "';' missing"},
        XmlCase{"duplicate_attribute",
                "<Response><Say voice=\"alice\" voice=\"man\">x</Say></Response>", 30,
                "duplicate attribute 'voice' in <Say>"},
        XmlCase{"mismatched_end_tag", "<Response><Say>x</Play></Response>", 17,
                "</Play> does not match the open element <Say>"},
        XmlCase{"element_after_root", "<Response/><Response/>", 12, "more than one root element"},
        XmlCase{"text_after_root", "<Response/>trailing", 12, "text after the root element"},
        XmlCase{"text_before_root", "x<Response/>", 1, "text before the root element"},
        XmlCase{"cdata_end_in_text", "<Response><Say>a ]]> b</Say></Response>", 18,
                "']]>' is not allowed in text"},
        XmlCase{"double_dash_in_comment", "<Response><!-- a -- b --></Response>", 18,
                "'--' is not allowed inside a comment"},
        XmlCase{"comment_ending_in_dash", "<Response><!-- a ---></Response>", 18,
                "'--' is not allowed inside a comment"},
        XmlCase{"control_character",
                "<Response><Say>a\x01"
                "b</Say></Response>",
                17, "U+0001 is not allowed"},
        XmlCase{"latin1_byte", "<Response><Say>caf\xE9</Say></Response>", 19, "not valid UTF-8"},
        XmlCase{"overlong_utf8", "<Response><Say>\xC0\xBC</Say></Response>", 16, "not valid UTF-8"},
        XmlCase{"encoded_surrogate", "<Response><Say>\xED\xA0\x80</Say></Response>", 16,
                "not valid UTF-8"},
        XmlCase{"declaration_without_version", "<?xml encoding=\"UTF-8\"?><Response/>", 6,
                "needs a version"},
        XmlCase{"declaration_version_2", "<?xml version=\"2.0\"?><Response/>", 1,
                "version must be 1.x"},
        XmlCase{"declaration_unknown_pseudo_attribute",
                "<?xml version=\"1.0\" foo=\"bar\"?><Response/>", 21, "ends with '?>'"},
        XmlCase{"reserved_pi_target", "<Response><?XML x?></Response>", 11, "'XML' is reserved"},
        XmlCase{"doctype", "<!DOCTYPE Response><Response/>", 1,
                "DOCTYPE declaration is not allowed"},
        XmlCase{"missing_space_between_attributes",
                "<Response><Say voice=\"alice\"loop=\"2\">x</Say></Response>", 29,
                "expected an attribute, '>' or '/>' in <Say>"},
        XmlCase{"less_than_in_text", "<Response><Say>1 < 2</Say></Response>", 18,
                "'<' must start a tag"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(TwimlDocument, DuplicateAttributeIs12100NotAWarning) {
  const Document doc =
      parse("<Response>\n<Say voice=\"alice\" voice=\"woman\">hi</Say></Response>");
  const Diagnostic d = expect_one(doc, 12100, Level::kError);
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 20);
  EXPECT_TRUE(doc.verbs.empty());
}

TEST(TwimlDocument, UnclosedElementIs12100AtTheEnd) {
  const Document doc = parse("<Response>\n  <Say>unclosed");
  const Diagnostic d = expect_one(doc, 12100, Level::kError);
  EXPECT_THAT(d.message, HasSubstr("the document ends inside <Say> (</Say> expected)"));
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 16);
}

TEST(TwimlDocument, EverythingXmlAllowsIsAccepted) {
  const Document doc = parse(
      "\xEF\xBB\xBF<?xml version='1.0' encoding=\"utf-8\" standalone='yes' ?>\n"
      "<?xml-stylesheet href=\"a\"?><!-- before -->\n"
      "<Response >\n"
      "  <Say voice='alice' >&lt;&gt;&amp;&apos;&quot; &#65;&#x42; 3 > 2 ]] "
      "<![CDATA[& <]]><!----><?note x?></Say >\n"
      "  <Play loop=\"2\">http://a.example/x.wav?a=1&amp;b=2</Play>\n"
      "  <Pause length=\"1\"></Pause>\n"
      "</Response >\n<!-- after --><?after?>\n");
  EXPECT_TRUE(doc.ok());
  EXPECT_TRUE(doc.diagnostics.empty()) << doc.diagnostics[0].message;
  ASSERT_EQ(doc.verbs.size(), 3u);
  EXPECT_EQ(verb<Say>(doc, 0).text, "<>&'\" AB 3 > 2 ]] & <");
  EXPECT_EQ(verb<Play>(doc, 1).url, "http://a.example/x.wav?a=1&b=2");
}

// ---------- positions ----------

TEST(TwimlPositions, VerbsRecordLineAndColumn) {
  const Document doc = parse(
      "<Response>\n"
      "  <Say>one</Say>\n"
      "    <Pause length=\"2\"/><Hangup/>\n"
      "</Response>");
  ASSERT_EQ(doc.verbs.size(), 3u);
  EXPECT_EQ(verb<Say>(doc, 0).at.line, 2);
  EXPECT_EQ(verb<Say>(doc, 0).at.column, 3);
  EXPECT_EQ(verb<Pause>(doc, 1).at.line, 3);
  EXPECT_EQ(verb<Pause>(doc, 1).at.column, 5);
  EXPECT_EQ(verb<Hangup>(doc, 2).at.line, 3);
  EXPECT_EQ(verb<Hangup>(doc, 2).at.column, 24);
}

TEST(TwimlPositions, AttributeDiagnosticsPointAtTheAttribute) {
  const Document doc = parse("<Response>\n  <Pause  length=\"x\"/>\n</Response>");
  const Diagnostic d = expect_one(doc, 13910, Level::kWarning);
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 11);
}

TEST(TwimlPositions, ColumnsCountCharactersAndCrlfEndsLines) {
  const Document doc = parse("<Response>\r\n<Say>h\xC3\xA9llo</Say><Dance/>\r\n</Response>");
  const Diagnostic d = expect_one(doc, 12200, Level::kWarning);
  EXPECT_EQ(d.line, 2);
  EXPECT_EQ(d.column, 17);  // "<Say>héllo</Say>" is 16 characters (17 bytes)
}

TEST(TwimlPositions, NestedPromptsAndDiagnosticsInsideGather) {
  const Document doc = parse(
      "<Response>\n"
      "  <Gather>\n"
      "    <Say loop=\"x\">hi</Say>\n"
      "  </Gather>\n"
      "</Response>");
  const Gather& g = verb<Gather>(doc);
  EXPECT_EQ(g.at.line, 2);
  ASSERT_EQ(g.prompts.size(), 1u);
  EXPECT_EQ(std::get<Say>(g.prompts[0]).at.line, 3);
  EXPECT_EQ(std::get<Say>(g.prompts[0]).at.column, 5);
  const Diagnostic d = expect_one(doc, 13322, Level::kWarning);
  EXPECT_EQ(d.line, 3);
  EXPECT_EQ(d.column, 10);
}

TEST(TwimlPositions, DiagnosticsAreInSourceOrder) {
  const Document doc =
      parse_body("<Pause length=\"x\"/><Say loop=\"y\">a</Say><Play loop=\"z\">u</Play>");
  EXPECT_THAT(codes(doc), ElementsAre(13910, 13510, 13410));
}

// ---------- Say ----------

TEST(TwimlSay, Defaults) {
  const Say& s = verb<Say>(parse_body("<Say>Hello   there\n  friend</Say>"));
  EXPECT_EQ(s.text, "Hello there friend");
  EXPECT_EQ(s.voice, "man");
  EXPECT_EQ(s.language, "en-US");
  EXPECT_EQ(s.loop, 1);
}

TEST(TwimlSay, Attributes) {
  const Document doc = parse_body(
      "<Say voice=\"alice\" language=\"en-GB\" loop=\"3\">a</Say>"
      "<Say voice=\"Polly.Joanna-Neural\" loop=\"0\">b</Say>"
      "<Say voice=\"Google.en-US-Standard-C\" language=\"cmn-Hans-CN\">c</Say>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  EXPECT_EQ(verb<Say>(doc, 0).voice, "alice");
  EXPECT_EQ(verb<Say>(doc, 0).language, "en-GB");
  EXPECT_EQ(verb<Say>(doc, 0).loop, 3);
  EXPECT_EQ(verb<Say>(doc, 1).voice, "Polly.Joanna-Neural");
  EXPECT_EQ(verb<Say>(doc, 1).loop, 0);
  EXPECT_EQ(verb<Say>(doc, 2).voice, "Google.en-US-Standard-C");
  EXPECT_EQ(verb<Say>(doc, 2).language, "cmn-Hans-CN");
}

TEST(TwimlSay, InvalidLoopIs13510AndFallsBack) {
  for (const char* loop : {"-1", "abc", "1.5", ""}) {
    const Say& s =
        warned<Say>(parse_body(std::string("<Say loop=\"") + loop + "\">a</Say>"), 13510);
    EXPECT_EQ(s.loop, 1) << loop;
  }
}

TEST(TwimlSay, LoopAboveMaximumIsClamped) {
  EXPECT_EQ(warned<Say>(parse_body("<Say loop=\"5000\">a</Say>"), 13510).loop, 1000);
  EXPECT_EQ(verb<Say>(parse_body("<Say loop=\"1000\">a</Say>")).loop, 1000);
}

TEST(TwimlSay, InvalidVoiceIs13511) {
  EXPECT_EQ(warned<Say>(parse_body("<Say voice=\"robot\">a</Say>"), 13511).voice, "man");
  warned<Say>(parse_body("<Say voice=\"Polly.\">a</Say>"), 13511);
}

TEST(TwimlSay, InvalidLanguageIs13512) {
  EXPECT_EQ(warned<Say>(parse_body("<Say language=\"english\">a</Say>"), 13512).language, "en-US");
  warned<Say>(parse_body("<Say language=\"en_US\">a</Say>"), 13512);
}

TEST(TwimlSay, EmptyTextIs13520WarningAndTheSayIsDropped) {
  for (const char* body : {"<Say/>", "<Say>   </Say>", "<Say loop=\"0\"></Say>"}) {
    const Document doc = parse_body(std::string(body) + "<Hangup/>");
    EXPECT_TRUE(doc.ok()) << body;
    expect_one(doc, 13520, Level::kWarning);
    ASSERT_EQ(doc.verbs.size(), 1u) << body;
    verb<Hangup>(doc);
  }
}

TEST(TwimlSay, SsmlIsFlattenedToText) {
  const Document doc = parse_body(
      "<Say>Hello<break time=\"1s\"/>world <prosody rate=\"slow\">slowly</prosody> "
      "<sub alias=\"World Wide Web\">WWW</sub></Say>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  EXPECT_EQ(verb<Say>(doc).text, "Hello world slowly World Wide Web");
}

TEST(TwimlSay, UnknownSsmlElementWarns) {
  const Document doc = parse_body("<Say>a <shout>b</shout></Say>");
  expect_one(doc, 12200, Level::kWarning);
  EXPECT_EQ(verb<Say>(doc).text, "a b");
}

// ---------- Play ----------

TEST(TwimlPlay, UrlDefaultsAndAttributes) {
  const Document doc = parse_body(
      "<Play>https://example.com/a.wav</Play>"
      "<Play loop=\"0\">/relative.mp3</Play>"
      "<Play digits=\"wwww3\"/>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  EXPECT_EQ(verb<Play>(doc, 0).url, "https://example.com/a.wav");
  EXPECT_EQ(verb<Play>(doc, 0).loop, 1);
  EXPECT_TRUE(verb<Play>(doc, 0).digits.empty());
  EXPECT_EQ(verb<Play>(doc, 1).loop, 0);
  EXPECT_EQ(verb<Play>(doc, 2).digits, "wwww3");
  EXPECT_TRUE(verb<Play>(doc, 2).url.empty());
}

TEST(TwimlPlay, InvalidLoopIs13410) {
  EXPECT_EQ(warned<Play>(parse_body("<Play loop=\"-2\">a.wav</Play>"), 13410).loop, 1);
}

TEST(TwimlPlay, NothingToPlayIsDropped) {
  const Document doc = parse_body("<Play/>");
  expect_one(doc, 12200, Level::kWarning);
  EXPECT_TRUE(doc.verbs.empty());
}

TEST(TwimlPlay, InvalidDigitsWarn) {
  const Play& p = warned<Play>(parse_body("<Play digits=\"12x\">a.wav</Play>"), 12200);
  EXPECT_TRUE(p.digits.empty());
  EXPECT_EQ(p.url, "a.wav");
}

TEST(TwimlPlay, InvalidDigitsAloneIsOneWarningSayingItIsSkipped) {
  const Document doc = parse_body("<Play digits=\"12q\"/>");
  EXPECT_TRUE(doc.ok());
  ASSERT_EQ(doc.diagnostics.size(), 1u) << ::testing::PrintToString(codes(doc));
  EXPECT_EQ(doc.diagnostics[0].code, 12200);
  EXPECT_NE(doc.diagnostics[0].message.find("\"12q\""), std::string::npos);
  EXPECT_NE(doc.diagnostics[0].message.find("nothing to play, skipped"), std::string::npos);
  EXPECT_TRUE(doc.verbs.empty());
}

TEST(TwimlRedirect, EmptyOrNonHttpUrlWarns) {
  const Redirect& empty = warned<Redirect>(parse_body("<Redirect></Redirect>"), 12200);
  EXPECT_TRUE(empty.url.empty());
  const Redirect& ftp = warned<Redirect>(parse_body("<Redirect>ftp://x/y</Redirect>"), 11100);
  EXPECT_EQ(ftp.url, "ftp://x/y");
  EXPECT_TRUE(parse_body("<Redirect>/next</Redirect>").diagnostics.empty());
  EXPECT_TRUE(parse_body("<Redirect>https://app.test/next</Redirect>").diagnostics.empty());
}

TEST(TwimlUrls, ActionsMustBeHttpUrls) {
  const Gather& g = warned<Gather>(parse_body("<Gather action=\"ftp://x\"/>"), 11100);
  EXPECT_TRUE(g.action.empty());
  EXPECT_EQ(warned<Record>(parse_body("<Record action=\"mailto:a@b\"/>"), 11100).action, "");
  EXPECT_EQ(verb<Gather>(parse_body("<Gather action=\"/next?x=1\"/>")).action, "/next?x=1");
  EXPECT_TRUE(parse_body("<Gather action=\"https://app.test/g\"/>").diagnostics.empty());
}

// ---------- Pause ----------

TEST(TwimlPause, DefaultAndLength) {
  const Document doc = parse_body("<Pause/><Pause length=\"10\"/>");
  EXPECT_TRUE(doc.diagnostics.empty());
  EXPECT_EQ(verb<Pause>(doc, 0).length, 1);
  EXPECT_EQ(verb<Pause>(doc, 1).length, 10);
}

TEST(TwimlPause, InvalidLengthIs13910) {
  for (const char* len : {"0", "-3", "two", "99999999999999999999"}) {
    EXPECT_EQ(
        warned<Pause>(parse_body(std::string("<Pause length=\"") + len + "\"/>"), 13910).length, 1)
        << len;
  }
}

TEST(TwimlPause, ContentWarns) { warned<Pause>(parse_body("<Pause>5</Pause>"), 12200); }

// ---------- Gather ----------

TEST(TwimlGather, Defaults) {
  const Document doc = parse_body("<Gather/>");
  EXPECT_TRUE(doc.diagnostics.empty());
  const Gather& g = verb<Gather>(doc);
  EXPECT_THAT(g.input, ElementsAre("dtmf"));
  EXPECT_EQ(g.action, "");
  EXPECT_EQ(g.method, "POST");
  EXPECT_EQ(g.timeout, 5);
  EXPECT_EQ(g.finish_on_key, "#");
  EXPECT_FALSE(g.num_digits.has_value());
  EXPECT_FALSE(g.action_on_empty_result);
  EXPECT_EQ(g.partial_result_callback_method, "POST");
  EXPECT_EQ(g.language, "en-US");
  EXPECT_EQ(g.speech_timeout, "");
  EXPECT_TRUE(g.profanity_filter);
  EXPECT_TRUE(g.prompts.empty());
}

TEST(TwimlGather, Attributes) {
  const Document doc = parse_body(
      "<Gather input=\"dtmf speech\" action=\"/next\" method=\"get\" timeout=\"10\" "
      "finishOnKey=\"*\" numDigits=\"4\" actionOnEmptyResult=\"TRUE\" "
      "partialResultCallback=\"/partial\" partialResultCallbackMethod=\"Get\" language=\"es-ES\" "
      "hints=\"sales, support\" speechTimeout=\"auto\" speechModel=\"phone_call\" "
      "profanityFilter=\"false\" bargeIn=\"false\" enhanced=\"true\" maxSpeechTime=\"30\"/>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  const Gather& g = verb<Gather>(doc);
  EXPECT_THAT(g.input, ElementsAre("dtmf", "speech"));
  EXPECT_EQ(g.action, "/next");
  EXPECT_EQ(g.method, "GET");
  EXPECT_EQ(g.timeout, 10);
  EXPECT_EQ(g.finish_on_key, "*");
  EXPECT_EQ(g.num_digits, 4);
  EXPECT_TRUE(g.action_on_empty_result);
  EXPECT_EQ(g.partial_result_callback, "/partial");
  EXPECT_EQ(g.partial_result_callback_method, "GET");
  EXPECT_EQ(g.language, "es-ES");
  EXPECT_EQ(g.hints, "sales, support");
  EXPECT_EQ(g.speech_timeout, "auto");
  EXPECT_EQ(g.speech_model, "phone_call");
  EXPECT_FALSE(g.profanity_filter);
}

TEST(TwimlGather, EmptyFinishOnKeyDisablesIt) {
  EXPECT_EQ(verb<Gather>(parse_body("<Gather finishOnKey=\"\"/>")).finish_on_key, "");
}

TEST(TwimlGather, NumericSpeechTimeout) {
  EXPECT_EQ(verb<Gather>(parse_body("<Gather speechTimeout=\"3\"/>")).speech_timeout, "3");
}

TEST(TwimlGather, InvalidFinishOnKeyIs13310) {
  for (const char* key : {"ab", "x", "##"}) {
    EXPECT_EQ(
        warned<Gather>(parse_body(std::string("<Gather finishOnKey=\"") + key + "\"/>"), 13310)
            .finish_on_key,
        "#");
  }
}

TEST(TwimlGather, InvalidMethodIs13312) {
  EXPECT_EQ(warned<Gather>(parse_body("<Gather method=\"PUT\"/>"), 13312).method, "POST");
  EXPECT_EQ(warned<Gather>(parse_body("<Gather partialResultCallbackMethod=\"x\"/>"), 13312)
                .partial_result_callback_method,
            "POST");
}

TEST(TwimlGather, InvalidTimeoutIs13313) {
  EXPECT_EQ(warned<Gather>(parse_body("<Gather timeout=\"0\"/>"), 13313).timeout, 5);
  EXPECT_EQ(warned<Gather>(parse_body("<Gather timeout=\"soon\"/>"), 13313).timeout, 5);
}

TEST(TwimlGather, InvalidNumDigitsIs13314) {
  EXPECT_FALSE(warned<Gather>(parse_body("<Gather numDigits=\"0\"/>"), 13314).num_digits);
  EXPECT_FALSE(warned<Gather>(parse_body("<Gather numDigits=\"four\"/>"), 13314).num_digits);
}

TEST(TwimlGather, InvalidSpeechTimeoutIs13327) {
  EXPECT_EQ(warned<Gather>(parse_body("<Gather speechTimeout=\"later\"/>"), 13327).speech_timeout,
            "");
  warned<Gather>(parse_body("<Gather speechTimeout=\"-1\"/>"), 13327);
}

TEST(TwimlGather, InvalidMaxSpeechTimeIs13328) {
  warned<Gather>(parse_body("<Gather maxSpeechTime=\"x\"/>"), 13328);
}

TEST(TwimlGather, InvalidInputTokenWarnsAndDefaultsToDtmf) {
  EXPECT_THAT(warned<Gather>(parse_body("<Gather input=\"voice\"/>"), 12200).input,
              ElementsAre("dtmf"));
  EXPECT_THAT(warned<Gather>(parse_body("<Gather input=\"speech,voice\"/>"), 12200).input,
              ElementsAre("speech"));
}

TEST(TwimlGather, InvalidBooleansWarn) {
  EXPECT_TRUE(
      warned<Gather>(parse_body("<Gather profanityFilter=\"yes\"/>"), 12200).profanity_filter);
  EXPECT_FALSE(warned<Gather>(parse_body("<Gather actionOnEmptyResult=\"1\"/>"), 12200)
                   .action_on_empty_result);
  warned<Gather>(parse_body("<Gather bargeIn=\"no\"/>"), 12200);
}

TEST(TwimlGather, NestedPromptsInOrder) {
  const Document doc = parse_body(
      "<Gather numDigits=\"1\">"
      "<Say voice=\"alice\">Press one</Say><Pause length=\"2\"/><Play loop=\"2\">m.wav</Play>"
      "</Gather>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  const Gather& g = verb<Gather>(doc);
  ASSERT_EQ(g.prompts.size(), 3u);
  EXPECT_EQ(std::get<Say>(g.prompts[0]).text, "Press one");
  EXPECT_EQ(std::get<Say>(g.prompts[0]).voice, "alice");
  EXPECT_EQ(std::get<Pause>(g.prompts[1]).length, 2);
  EXPECT_EQ(std::get<Play>(g.prompts[2]).url, "m.wav");
  EXPECT_EQ(std::get<Play>(g.prompts[2]).loop, 2);
}

TEST(TwimlGather, InvalidNestedVerbIs13320AndDropped) {
  const Document doc = parse_body("<Gather><Say>a</Say><Dial>123</Dial><Hangup/></Gather>");
  EXPECT_TRUE(doc.ok());
  EXPECT_THAT(codes(doc), ElementsAre(13320, 13320));
  ASSERT_EQ(doc.verbs.size(), 1u);
  EXPECT_EQ(verb<Gather>(doc).prompts.size(), 1u);
}

TEST(TwimlGather, WrongCaseNestedVerbIs12200) {
  const Document doc = parse_body("<Gather><say>a</say></Gather>");
  expect_one(doc, 12200, Level::kWarning);
  EXPECT_TRUE(verb<Gather>(doc).prompts.empty());
}

TEST(TwimlGather, NestedSayInvalidVoiceIs13321) {
  const Document doc = parse_body("<Gather><Say voice=\"robot\">a</Say></Gather>");
  expect_one(doc, 13321, Level::kWarning);
  EXPECT_EQ(find(doc, 13511), nullptr);
  EXPECT_EQ(std::get<Say>(verb<Gather>(doc).prompts.at(0)).voice, "man");
}

TEST(TwimlGather, NestedSayInvalidLoopIs13322) {
  const Document doc = parse_body("<Gather><Say loop=\"-1\">a</Say></Gather>");
  expect_one(doc, 13322, Level::kWarning);
  EXPECT_EQ(find(doc, 13510), nullptr);
  EXPECT_EQ(std::get<Say>(verb<Gather>(doc).prompts.at(0)).loop, 1);
}

TEST(TwimlGather, NestedEmptySayIsDropped) {
  const Document doc = parse_body("<Gather><Say/></Gather>");
  expect_one(doc, 13520, Level::kWarning);
  EXPECT_TRUE(verb<Gather>(doc).prompts.empty());
}

// ---------- Record ----------

TEST(TwimlRecord, Defaults) {
  const Record& r = verb<Record>(parse_body("<Record/>"));
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.timeout, 5);
  EXPECT_EQ(r.finish_on_key, "1234567890*#");
  EXPECT_EQ(r.max_length, 3600);
  EXPECT_TRUE(r.play_beep);
  EXPECT_EQ(r.trim, "trim-silence");
  EXPECT_EQ(r.recording_status_callback_method, "POST");
  EXPECT_THAT(r.recording_status_callback_event, ElementsAre("completed"));
  EXPECT_FALSE(r.transcribe);
}

TEST(TwimlRecord, Attributes) {
  const Document doc = parse_body(
      "<Record action=\"/done\" method=\"GET\" timeout=\"0\" finishOnKey=\"#*\" maxLength=\"20\" "
      "playBeep=\"false\" trim=\"do-not-trim\" recordingStatusCallback=\"/rec\" "
      "recordingStatusCallbackMethod=\"get\" recordingStatusCallbackEvent=\"in-progress "
      "completed\" "
      "transcribe=\"true\" transcribeCallback=\"/tx\"/>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  const Record& r = verb<Record>(doc);
  EXPECT_EQ(r.action, "/done");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.timeout, 0);
  EXPECT_EQ(r.finish_on_key, "#*");
  EXPECT_EQ(r.max_length, 20);
  EXPECT_FALSE(r.play_beep);
  EXPECT_EQ(r.trim, "do-not-trim");
  EXPECT_EQ(r.recording_status_callback, "/rec");
  EXPECT_EQ(r.recording_status_callback_method, "GET");
  EXPECT_THAT(r.recording_status_callback_event, ElementsAre("in-progress", "completed"));
  EXPECT_TRUE(r.transcribe);
  EXPECT_EQ(r.transcribe_callback, "/tx");
}

TEST(TwimlRecord, StatusCallbackEventsMayBeCommaSeparated) {
  EXPECT_THAT(
      verb<Record>(parse_body("<Record recordingStatusCallbackEvent=\"absent,completed\"/>"))
          .recording_status_callback_event,
      ElementsAre("absent", "completed"));
}

TEST(TwimlRecord, AttributeErrors) {
  EXPECT_EQ(warned<Record>(parse_body("<Record method=\"DELETE\"/>"), 13610).method, "POST");
  EXPECT_EQ(warned<Record>(parse_body("<Record timeout=\"-5\"/>"), 13611).timeout, 5);
  EXPECT_EQ(warned<Record>(parse_body("<Record maxLength=\"0\"/>"), 13612).max_length, 3600);
  EXPECT_EQ(warned<Record>(parse_body("<Record finishOnKey=\"x\"/>"), 13613).finish_on_key,
            "1234567890*#");
  EXPECT_FALSE(warned<Record>(parse_body("<Record transcribe=\"maybe\"/>"), 13614).transcribe);
  EXPECT_TRUE(warned<Record>(parse_body("<Record playBeep=\"loud\"/>"), 13616).play_beep);
  EXPECT_THAT(warned<Record>(parse_body("<Record recordingStatusCallbackEvent=\"done\"/>"), 13621)
                  .recording_status_callback_event,
              ElementsAre("completed"));
  EXPECT_EQ(warned<Record>(parse_body("<Record trim=\"some\"/>"), 12200).trim, "trim-silence");
}

// ---------- Dial ----------

TEST(TwimlDial, BareTextIsANumber) {
  const Document doc = parse_body("<Dial>415-123-4567</Dial>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  EXPECT_EQ(target<DialNumber>(verb<Dial>(doc)).number, "4151234567");
  EXPECT_EQ(target<DialNumber>(verb<Dial>(parse_body("<Dial> +1 (415) 555-1212 </Dial>"))).number,
            "+14155551212");
  EXPECT_EQ(target<DialNumber>(verb<Dial>(parse_body("<Dial>alice</Dial>"))).number, "alice");
}

TEST(TwimlDial, Defaults) {
  const Dial& d = verb<Dial>(parse_body("<Dial>1000</Dial>"));
  EXPECT_EQ(d.method, "POST");
  EXPECT_EQ(d.timeout, 30);
  EXPECT_EQ(d.time_limit, 14400);
  EXPECT_EQ(d.caller_id, "");
  EXPECT_FALSE(d.hangup_on_star);
  EXPECT_EQ(d.record, "do-not-record");
  EXPECT_THAT(d.recording_status_callback_event, ElementsAre("completed"));
  EXPECT_EQ(d.trim, "do-not-trim");
  EXPECT_FALSE(d.answer_on_bridge);
  EXPECT_FALSE(d.sequential);
  EXPECT_EQ(d.refer_method, "POST");
}

TEST(TwimlDial, Attributes) {
  const Document doc = parse_body(
      "<Dial action=\"/after\" method=\"GET\" timeout=\"12\" timeLimit=\"600\" "
      "callerId=\"+15551230000\" hangupOnStar=\"true\" record=\"record-from-ringing-dual\" "
      "recordingStatusCallback=\"/rs\" recordingStatusCallbackMethod=\"GET\" "
      "recordingStatusCallbackEvent=\"in-progress completed absent\" trim=\"trim-silence\" "
      "answerOnBridge=\"true\" ringTone=\"uk\" sequential=\"true\" referUrl=\"/refer\" "
      "referMethod=\"GET\" recordingTrack=\"inbound\">1000</Dial>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  const Dial& d = verb<Dial>(doc);
  EXPECT_EQ(d.action, "/after");
  EXPECT_EQ(d.method, "GET");
  EXPECT_EQ(d.timeout, 12);
  EXPECT_EQ(d.time_limit, 600);
  EXPECT_EQ(d.caller_id, "+15551230000");
  EXPECT_TRUE(d.hangup_on_star);
  EXPECT_EQ(d.record, "record-from-ringing-dual");
  EXPECT_EQ(d.recording_status_callback, "/rs");
  EXPECT_EQ(d.recording_status_callback_method, "GET");
  EXPECT_THAT(d.recording_status_callback_event, ElementsAre("in-progress", "completed", "absent"));
  EXPECT_EQ(d.trim, "trim-silence");
  EXPECT_TRUE(d.answer_on_bridge);
  EXPECT_EQ(d.ring_tone, "uk");
  EXPECT_TRUE(d.sequential);
  EXPECT_EQ(d.refer_url, "/refer");
  EXPECT_EQ(d.refer_method, "GET");
}

TEST(TwimlDial, LegacyBooleanRecord) {
  EXPECT_EQ(verb<Dial>(parse_body("<Dial record=\"true\">1</Dial>")).record, "record-from-answer");
  EXPECT_EQ(verb<Dial>(parse_body("<Dial record=\"false\">1</Dial>")).record, "do-not-record");
}

TEST(TwimlDial, InvalidMethodIs13210) {
  EXPECT_EQ(warned<Dial>(parse_body("<Dial method=\"PATCH\">1</Dial>"), 13210).method, "POST");
}

TEST(TwimlDial, InvalidTimeoutIs13212) {
  EXPECT_EQ(warned<Dial>(parse_body("<Dial timeout=\"0\">1</Dial>"), 13212).timeout, 30);
  EXPECT_EQ(warned<Dial>(parse_body("<Dial timeout=\"abc\">1</Dial>"), 13212).timeout, 30);
  EXPECT_EQ(warned<Dial>(parse_body("<Dial timeout=\"601\">1</Dial>"), 13212).timeout, 600);
}

TEST(TwimlDial, InvalidHangupOnStarIs13213) {
  EXPECT_FALSE(
      warned<Dial>(parse_body("<Dial hangupOnStar=\"yes\">1</Dial>"), 13213).hangup_on_star);
  EXPECT_TRUE(verb<Dial>(parse_body("<Dial hangupOnStar=\"True\">1</Dial>")).hangup_on_star);
}

TEST(TwimlDial, CallerIdForms) {
  EXPECT_EQ(verb<Dial>(parse_body("<Dial callerId=\"+1 555-123-0000\">1</Dial>")).caller_id,
            "+15551230000");
  EXPECT_EQ(verb<Dial>(parse_body("<Dial callerId=\"client:alice\">1</Dial>")).caller_id,
            "client:alice");
  EXPECT_EQ(verb<Dial>(parse_body("<Dial callerId=\"sip:a@b.example\">1</Dial>")).caller_id,
            "sip:a@b.example");
}

TEST(TwimlDial, InvalidCallerIdIs13214) {
  EXPECT_EQ(warned<Dial>(parse_body("<Dial callerId=\"not a number\">1</Dial>"), 13214).caller_id,
            "");
  warned<Dial>(parse_body("<Dial callerId=\"+1234567890123456789\">1</Dial>"), 13214);
}

TEST(TwimlDial, InvalidNestedElementIs13215) {
  const Document doc = parse_body("<Dial><Say>hi</Say><Number>1000</Number></Dial>");
  const Dial& d = warned<Dial>(doc, 13215);
  ASSERT_EQ(d.targets.size(), 1u);
  EXPECT_EQ(target<DialNumber>(d).number, "1000");
}

TEST(TwimlDial, InvalidTimeLimitIs13216) {
  EXPECT_EQ(warned<Dial>(parse_body("<Dial timeLimit=\"-1\">1</Dial>"), 13216).time_limit, 14400);
  EXPECT_EQ(warned<Dial>(parse_body("<Dial timeLimit=\"100000\">1</Dial>"), 13216).time_limit,
            86400);
}

TEST(TwimlDial, InvalidRecordIs13217) {
  EXPECT_EQ(warned<Dial>(parse_body("<Dial record=\"always\">1</Dial>"), 13217).record,
            "do-not-record");
}

TEST(TwimlDial, InvalidRingToneIs13220) {
  EXPECT_EQ(warned<Dial>(parse_body("<Dial ringTone=\"mars\">1</Dial>"), 13220).ring_tone, "");
}

TEST(TwimlDial, EmptyDialWarns13223) {
  const Dial& d = warned<Dial>(parse_body("<Dial/>"), 13223);
  EXPECT_TRUE(d.targets.empty());
}

TEST(TwimlDial, NumberNoun) {
  const Document doc = parse_body(
      "<Dial><Number sendDigits=\"wwww1928\" url=\"/whisper\" method=\"GET\" "
      "statusCallback=\"/status\" statusCallbackMethod=\"GET\" "
      "statusCallbackEvent=\"initiated ringing answered completed\" byoc=\"BY123\" "
      "machineDetection=\"Enable\">+14155551212</Number></Dial>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  const DialNumber& n = target<DialNumber>(verb<Dial>(doc));
  EXPECT_EQ(n.number, "+14155551212");
  EXPECT_EQ(n.send_digits, "wwww1928");
  EXPECT_EQ(n.url, "/whisper");
  EXPECT_EQ(n.method, "GET");
  EXPECT_EQ(n.status_callback, "/status");
  EXPECT_EQ(n.status_callback_method, "GET");
  EXPECT_THAT(n.status_callback_event,
              ElementsAre("initiated", "ringing", "answered", "completed"));
  EXPECT_EQ(n.byoc, "BY123");
}

TEST(TwimlDial, NumberInvalidMethodIs13221) {
  EXPECT_EQ(target<DialNumber>(
                warned<Dial>(parse_body("<Dial><Number method=\"PUT\">1</Number></Dial>"), 13221))
                .method,
            "POST");
  warned<Dial>(parse_body("<Dial><Number statusCallbackMethod=\"x\">1</Number></Dial>"), 13221);
}

TEST(TwimlDial, NumberInvalidSendDigitsIs13222) {
  EXPECT_EQ(
      target<DialNumber>(
          warned<Dial>(parse_body("<Dial><Number sendDigits=\"12x\">1</Number></Dial>"), 13222))
          .send_digits,
      "");
}

TEST(TwimlDial, InvalidPhoneNumberFormatIs13223) {
  for (const char* number : {"call me", "12345678901234567", "+1+2", "a@b"}) {
    const Document doc = parse_body(std::string("<Dial><Number>") + number + "</Number></Dial>");
    EXPECT_TRUE(doc.ok());
    // One for the number, one because nothing is left to dial.
    EXPECT_THAT(codes(doc), ElementsAre(13223, 13223)) << number;
    EXPECT_TRUE(verb<Dial>(doc).targets.empty()) << number;
  }
  const Document bare = parse_body("<Dial>ring ring</Dial>");
  EXPECT_THAT(codes(bare), ElementsAre(13223, 13223));
}

TEST(TwimlDial, SipNoun) {
  const Document doc = parse_body(
      "<Dial><Sip username=\"u\" password=\"p\" url=\"/w\" method=\"GET\" "
      "statusCallback=\"/s\" statusCallbackMethod=\"GET\" statusCallbackEvent=\"answered\">"
      "sip:alice@example.com;transport=tcp</Sip></Dial>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  const DialSip& s = target<DialSip>(verb<Dial>(doc));
  EXPECT_EQ(s.uri, "sip:alice@example.com;transport=tcp");
  EXPECT_EQ(s.username, "u");
  EXPECT_EQ(s.password, "p");
  EXPECT_EQ(s.url, "/w");
  EXPECT_EQ(s.method, "GET");
  EXPECT_EQ(s.status_callback, "/s");
  EXPECT_EQ(s.status_callback_method, "GET");
  EXPECT_THAT(s.status_callback_event, ElementsAre("answered"));
}

TEST(TwimlDial, SipInvalidUriIs13243AndMethodIs13241) {
  const Document doc = parse_body("<Dial><Sip>alice@example.com</Sip></Dial>");
  expect_one(doc, 13243, Level::kWarning);
  EXPECT_TRUE(verb<Dial>(doc).targets.empty());
  warned<Dial>(parse_body("<Dial><Sip method=\"x\">sip:a@b</Sip></Dial>"), 13241);
}

TEST(TwimlDial, ClientNoun) {
  const Document doc = parse_body(
      "<Dial><Client url=\"/w\" method=\"GET\" statusCallback=\"/s\" "
      "statusCallbackEvent=\"ringing completed\">jenny</Client>"
      "<Client><Identity>bob</Identity></Client></Dial>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  const Dial& d = verb<Dial>(doc);
  ASSERT_EQ(d.targets.size(), 2u);
  EXPECT_EQ(target<DialClient>(d, 0).identity, "jenny");
  EXPECT_EQ(target<DialClient>(d, 0).url, "/w");
  EXPECT_EQ(target<DialClient>(d, 0).method, "GET");
  EXPECT_EQ(target<DialClient>(d, 0).status_callback, "/s");
  EXPECT_THAT(target<DialClient>(d, 0).status_callback_event, ElementsAre("ringing", "completed"));
  EXPECT_EQ(target<DialClient>(d, 1).identity, "bob");
}

TEST(TwimlDial, ClientWithoutIdentityIsDropped) {
  const Document doc = parse_body("<Dial><Client/></Dial>");
  EXPECT_NE(find(doc, 12200), nullptr);
  EXPECT_TRUE(verb<Dial>(doc).targets.empty());
}

TEST(TwimlDial, ConferenceNoun) {
  const Document doc = parse_body(
      "<Dial><Conference muted=\"true\" beep=\"onEnter\" startConferenceOnEnter=\"false\" "
      "endConferenceOnExit=\"true\" waitUrl=\"http://example.com/hold\" waitMethod=\"GET\" "
      "maxParticipants=\"10\" record=\"record-from-start\" region=\"ie1\" trim=\"do-not-trim\" "
      "coach=\"CA123\" statusCallback=\"/cs\" statusCallbackMethod=\"GET\" "
      "statusCallbackEvent=\"start end join\" recordingStatusCallback=\"/crs\" "
      "recordingStatusCallbackMethod=\"GET\" jitterBufferSize=\"small\" "
      "participantLabel=\"agent\">Room 1234</Conference></Dial>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  const DialConference& c = target<DialConference>(verb<Dial>(doc));
  EXPECT_EQ(c.name, "Room 1234");
  EXPECT_TRUE(c.muted);
  EXPECT_EQ(c.beep, "onEnter");
  EXPECT_FALSE(c.start_conference_on_enter);
  EXPECT_TRUE(c.end_conference_on_exit);
  EXPECT_EQ(c.wait_url, "http://example.com/hold");
  EXPECT_EQ(c.wait_method, "GET");
  EXPECT_EQ(c.max_participants, 10);
  EXPECT_EQ(c.record, "record-from-start");
  EXPECT_EQ(c.region, "ie1");
  EXPECT_EQ(c.trim, "do-not-trim");
  EXPECT_EQ(c.coach, "CA123");
  EXPECT_EQ(c.status_callback, "/cs");
  EXPECT_EQ(c.status_callback_method, "GET");
  EXPECT_THAT(c.status_callback_event, ElementsAre("start", "end", "join"));
  EXPECT_EQ(c.recording_status_callback, "/crs");
  EXPECT_EQ(c.recording_status_callback_method, "GET");
  EXPECT_EQ(c.jitter_buffer_size, "small");
  EXPECT_EQ(c.participant_label, "agent");
}

TEST(TwimlDial, ConferenceDefaults) {
  const DialConference& c =
      target<DialConference>(verb<Dial>(parse_body("<Dial><Conference>r</Conference></Dial>")));
  EXPECT_FALSE(c.muted);
  EXPECT_EQ(c.beep, "true");
  EXPECT_TRUE(c.start_conference_on_enter);
  EXPECT_FALSE(c.end_conference_on_exit);
  EXPECT_EQ(c.wait_method, "POST");
  EXPECT_EQ(c.max_participants, 250);
  EXPECT_EQ(c.record, "do-not-record");
  EXPECT_EQ(c.trim, "trim-silence");
  EXPECT_EQ(c.jitter_buffer_size, "large");
}

std::string conference(const std::string& attrs, const std::string& name = "room") {
  return "<Dial><Conference " + attrs + ">" + name + "</Conference></Dial>";
}

TEST(TwimlDial, ConferenceAttributeErrors) {
  EXPECT_FALSE(
      target<DialConference>(warned<Dial>(parse_body(conference("muted=\"y\"")), 13230)).muted);
  {
    const Document doc = parse_body(conference("endConferenceOnExit=\"y\""));
    EXPECT_FALSE(doc.ok());  // an ERROR on Twilio
    expect_one(doc, 13231, Level::kError);
  }
  EXPECT_TRUE(target<DialConference>(
                  warned<Dial>(parse_body(conference("startConferenceOnEnter=\"n\"")), 13232))
                  .start_conference_on_enter);
  EXPECT_EQ(
      target<DialConference>(warned<Dial>(parse_body(conference("waitUrl=\"ftp://x/y\"")), 13233))
          .wait_url,
      "");
  warned<Dial>(parse_body(conference("waitUrl=\"has space\"")), 13233);
  EXPECT_EQ(
      target<DialConference>(warned<Dial>(parse_body(conference("waitMethod=\"PUT\"")), 13234))
          .wait_method,
      "POST");
  EXPECT_EQ(
      target<DialConference>(warned<Dial>(parse_body(conference("beep=\"loud\"")), 13235)).beep,
      "true");
  {
    const Document doc = parse_body(conference("trim=\"sometimes\""));
    expect_one(doc, 13239, Level::kError);
  }
  EXPECT_EQ(
      target<DialConference>(warned<Dial>(parse_body(conference("maxParticipants=\"1\"")), 12200))
          .max_participants,
      250);
}

TEST(TwimlDial, ConferenceEmptyWaitUrlMeansNoMusic) {
  const Document doc = parse_body(conference("waitUrl=\"\""));
  EXPECT_TRUE(doc.diagnostics.empty());
}

TEST(TwimlDial, ConferenceTrimAcceptsBooleans) {
  EXPECT_EQ(target<DialConference>(verb<Dial>(parse_body(conference("trim=\"false\"")))).trim,
            "do-not-trim");
}

TEST(TwimlDial, ConferenceInvalidNameIs13237) {
  for (const std::string& name : {std::string(""), std::string(129, 'n')}) {
    const Document doc = parse_body(conference("", name));
    EXPECT_THAT(codes(doc), ElementsAre(13223, 13237));  // and nothing left to dial
    EXPECT_TRUE(verb<Dial>(doc).targets.empty());
  }
  EXPECT_TRUE(parse_body(conference("", std::string(128, 'n'))).diagnostics.empty());
}

TEST(TwimlDial, QueueNoun) {
  const Document doc = parse_body(
      "<Dial><Queue url=\"/about-to-connect\" method=\"GET\" reservationSid=\"WR1\" "
      "postWorkActivitySid=\"WA1\">support</Queue></Dial>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  const DialQueue& q = target<DialQueue>(verb<Dial>(doc));
  EXPECT_EQ(q.name, "support");
  EXPECT_EQ(q.url, "/about-to-connect");
  EXPECT_EQ(q.method, "GET");
  EXPECT_EQ(q.reservation_sid, "WR1");
  EXPECT_EQ(q.post_work_activity_sid, "WA1");
}

TEST(TwimlDial, SeveralNounsKeepTheirOrder) {
  const Dial& d = verb<Dial>(
      parse_body("<Dial sequential=\"true\"><Number>+15550001111</Number><Sip>sip:b@c</Sip>"
                 "<Client>x</Client></Dial>"));
  ASSERT_EQ(d.targets.size(), 3u);
  EXPECT_TRUE(std::holds_alternative<DialNumber>(d.targets[0]));
  EXPECT_TRUE(std::holds_alternative<DialSip>(d.targets[1]));
  EXPECT_TRUE(std::holds_alternative<DialClient>(d.targets[2]));
}

TEST(TwimlDial, WrongCaseAndUnsupportedNouns) {
  const Document doc = parse_body("<Dial><number>1</number><Application>AP1</Application></Dial>");
  // Sorted by position: the empty-Dial warning sits on <Dial> itself.
  ASSERT_EQ(codes(doc), (std::vector<int>{13223, 12200, 12200}));
  EXPECT_THAT(doc.diagnostics[1].message, HasSubstr("did you mean <Number>"));
  EXPECT_THAT(doc.diagnostics[2].message, HasSubstr("not supported"));
}

// ---------- Hangup, Leave, Redirect, Reject ----------

TEST(TwimlSimpleVerbs, HangupAndLeave) {
  const Document doc = parse_body("<Hangup/><Leave/>");
  EXPECT_TRUE(doc.diagnostics.empty());
  verb<Hangup>(doc, 0);
  verb<Leave>(doc, 1);
  expect_one(parse_body("<Hangup reason=\"x\"/>"), 12200, Level::kWarning);
  expect_one(parse_body("<Hangup><Say>x</Say></Hangup>"), 12200, Level::kWarning);
}

TEST(TwimlSimpleVerbs, Redirect) {
  const Document doc = parse_body("<Redirect method=\"get\">/next.xml</Redirect><Redirect/>");
  // The empty one still runs (the current document again), with a warning that says so.
  expect_one(doc, 12200, Level::kWarning);
  EXPECT_EQ(doc.diagnostics.size(), 1u);
  EXPECT_EQ(verb<Redirect>(doc, 0).url, "/next.xml");
  EXPECT_EQ(verb<Redirect>(doc, 0).method, "GET");
  EXPECT_EQ(verb<Redirect>(doc, 1).url, "");
  EXPECT_EQ(verb<Redirect>(doc, 1).method, "POST");
}

TEST(TwimlSimpleVerbs, RedirectInvalidMethodIs13710) {
  EXPECT_EQ(warned<Redirect>(parse_body("<Redirect method=\"PUT\">/x</Redirect>"), 13710).method,
            "POST");
}

TEST(TwimlSimpleVerbs, Reject) {
  EXPECT_EQ(verb<Reject>(parse_body("<Reject/>")).reason, "rejected");
  EXPECT_EQ(verb<Reject>(parse_body("<Reject reason=\"busy\"/>")).reason, "busy");
  EXPECT_EQ(warned<Reject>(parse_body("<Reject reason=\"nope\"/>"), 12200).reason, "rejected");
}

// ---------- Enqueue, Refer ----------

TEST(TwimlEnqueue, NameAttributesAndTask) {
  const Document doc = parse_body(
      "<Enqueue action=\"/left\" method=\"GET\" waitUrl=\"/wait\" waitUrlMethod=\"GET\" "
      "workflowSid=\"WW1\">support<Task priority=\"5\" timeout=\"200\">{\"lang\":\"fr\"}</Task>"
      "</Enqueue>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  const Enqueue& e = verb<Enqueue>(doc);
  EXPECT_EQ(e.queue_name, "support");
  EXPECT_EQ(e.action, "/left");
  EXPECT_EQ(e.method, "GET");
  EXPECT_EQ(e.wait_url, "/wait");
  EXPECT_EQ(e.wait_url_method, "GET");
  EXPECT_EQ(e.workflow_sid, "WW1");
  EXPECT_EQ(e.task, "{\"lang\":\"fr\"}");
}

TEST(TwimlEnqueue, AttributeErrorsAreErrors) {
  expect_one(parse_body("<Enqueue method=\"PUT\">q</Enqueue>"), 14201, Level::kError);
  expect_one(parse_body("<Enqueue waitUrl=\"gopher://x/y\">q</Enqueue>"), 14202, Level::kError);
  expect_one(parse_body("<Enqueue action=\"a b\">q</Enqueue>"), 14203, Level::kError);
  expect_one(parse_body("<Enqueue waitUrlMethod=\"x\">q</Enqueue>"), 14206, Level::kError);
  EXPECT_FALSE(parse_body("<Enqueue method=\"PUT\">q</Enqueue>").ok());
}

TEST(TwimlEnqueue, NeedsAQueueNameOrWorkflow) {
  const Document doc = parse_body("<Enqueue/>");
  expect_one(doc, 12200, Level::kWarning);
  EXPECT_TRUE(doc.verbs.empty());
  EXPECT_EQ(verb<Enqueue>(parse_body("<Enqueue workflowSid=\"WW1\"/>")).workflow_sid, "WW1");
}

TEST(TwimlRefer, SipTarget) {
  const Document doc =
      parse_body("<Refer action=\"/done\" method=\"GET\"><Sip>sip:alice@example.com</Sip></Refer>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  const Refer& r = verb<Refer>(doc);
  EXPECT_EQ(r.sip_uri, "sip:alice@example.com");
  EXPECT_EQ(r.action, "/done");
  EXPECT_EQ(r.method, "GET");
}

TEST(TwimlRefer, WithoutSipIsDropped) {
  const Document doc = parse_body("<Refer/>");
  expect_one(doc, 12200, Level::kWarning);
  EXPECT_TRUE(doc.verbs.empty());
}

// ---------- Sms, Message ----------

TEST(TwimlMessage, Sms) {
  const Document doc = parse_body(
      "<Sms to=\"+15551234567\" from=\"+15557654321\" action=\"/sent\" method=\"GET\" "
      "statusCallback=\"https://example.com/st\">Your code is 1234</Sms>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  const Message& m = verb<Message>(doc);
  EXPECT_TRUE(m.legacy_sms);
  EXPECT_EQ(m.body, "Your code is 1234");
  EXPECT_EQ(m.to, "+15551234567");
  EXPECT_EQ(m.from, "+15557654321");
  EXPECT_EQ(m.action, "/sent");
  EXPECT_EQ(m.method, "GET");
  EXPECT_EQ(m.status_callback, "https://example.com/st");
}

TEST(TwimlMessage, MessageWithBodyAndSenderId) {
  const Document doc = parse_body("<Message from=\"ACME\"><Body>Hello\nthere</Body></Message>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  const Message& m = verb<Message>(doc);
  EXPECT_FALSE(m.legacy_sms);
  EXPECT_EQ(m.body, "Hello\nthere");
  EXPECT_EQ(m.from, "ACME");
  EXPECT_EQ(m.method, "POST");
}

TEST(TwimlMessage, AttributeErrors) {
  for (const auto& [body, code] : std::vector<std::pair<std::string, int>>{
           {"<Sms to=\"nobody\">hi</Sms>", 14101},
           {"<Sms from=\"not-a-sender!\">hi</Sms>", 14102},
           {"<Sms></Sms>", 14103},
           {"<Sms>" + std::string(1601, 'x') + "</Sms>", 14103}}) {
    const Document doc = parse_body(body);
    EXPECT_TRUE(doc.ok());
    expect_one(doc, code, Level::kWarning);
    EXPECT_TRUE(doc.verbs.empty()) << "not sent: " << code;
  }
  EXPECT_EQ(warned<Message>(parse_body("<Sms method=\"PUT\">hi</Sms>"), 14104).method, "POST");
  EXPECT_EQ(warned<Message>(parse_body("<Sms statusCallback=\"mailto:x\">hi</Sms>"), 14105)
                .status_callback,
            "");
  EXPECT_EQ(verb<Message>(parse_body("<Sms>" + std::string(1600, 'x') + "</Sms>")).body.size(),
            1600u);
}

TEST(TwimlMessage, MediaIsNotSupported) {
  const Document doc =
      parse_body("<Message><Body>hi</Body><Media>https://x/y.png</Media></Message>");
  EXPECT_THAT(expect_one(doc, 12200, Level::kWarning).message, HasSubstr("Media"));
  EXPECT_EQ(verb<Message>(doc).body, "hi");
}

// ---------- Connect, Start, Stop ----------

TEST(TwimlStreams, ConnectStreamWithParameters) {
  const Document doc = parse_body(
      "<Connect action=\"/after\" method=\"GET\">"
      "<Stream url=\"wss://media.example.com/s\" name=\"bot\" track=\"inbound_track\" "
      "statusCallback=\"/st\" statusCallbackMethod=\"GET\">"
      "<Parameter name=\"lang\" value=\"fr\"/><Parameter name=\"empty\"/>"
      "</Stream></Connect>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  const Connect& c = verb<Connect>(doc);
  EXPECT_EQ(c.action, "/after");
  EXPECT_EQ(c.method, "GET");
  ASSERT_TRUE(c.stream.has_value());
  EXPECT_EQ(c.stream->url, "wss://media.example.com/s");
  EXPECT_EQ(c.stream->name, "bot");
  EXPECT_EQ(c.stream->track, "inbound_track");
  EXPECT_EQ(c.stream->status_callback, "/st");
  EXPECT_EQ(c.stream->status_callback_method, "GET");
  EXPECT_THAT(c.stream->parameters, ElementsAre(Pair("lang", "fr"), Pair("empty", "")));
}

TEST(TwimlStreams, ConnectWithUnsupportedNounIsDropped) {
  const Document doc = parse_body("<Connect><Room>r</Room></Connect><Hangup/>");
  EXPECT_TRUE(doc.ok());
  EXPECT_THAT(codes(doc), ElementsAre(12200, 12200));
  ASSERT_EQ(doc.verbs.size(), 1u);
  verb<Hangup>(doc);
}

TEST(TwimlStreams, StreamNeedsAnAbsoluteWebSocketUrl) {
  for (const char* url : {"https://x/y", "/relative", ""}) {
    const Document doc =
        parse_body(std::string("<Connect><Stream url=\"") + url + "\"/></Connect>");
    EXPECT_NE(find(doc, 12200), nullptr) << url;
    EXPECT_TRUE(doc.verbs.empty()) << url;
  }
}

TEST(TwimlStreams, StartStreams) {
  const Document doc = parse_body(
      "<Start><Stream name=\"a\" url=\"wss://x/a\" track=\"both_tracks\"/>"
      "<Stream url=\"ws://x/b\"/></Start>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  const Start& s = verb<Start>(doc);
  ASSERT_EQ(s.streams.size(), 2u);
  EXPECT_EQ(s.streams[0].name, "a");
  EXPECT_EQ(s.streams[0].track, "both_tracks");
  EXPECT_EQ(s.streams[1].url, "ws://x/b");
  EXPECT_EQ(s.streams[1].track, "inbound_track");
}

TEST(TwimlStreams, StartInvalidNounIs14300) {
  const Document doc = parse_body("<Start><Say>x</Say></Start>");
  EXPECT_FALSE(doc.ok());
  expect_one(doc, 14300, Level::kError);
}

TEST(TwimlStreams, StartUnsupportedNounWarns) {
  const Document doc = parse_body("<Start><Siprec connectorName=\"c\"/></Start>");
  EXPECT_TRUE(doc.ok());
  expect_one(doc, 12200, Level::kWarning);
  EXPECT_TRUE(doc.verbs.empty());
}

TEST(TwimlStreams, StopStreamByName) {
  const Document doc = parse_body("<Stop><Stream name=\"a\"/><Stream name=\"b\"/></Stop>");
  EXPECT_TRUE(doc.diagnostics.empty()) << ::testing::PrintToString(codes(doc));
  EXPECT_THAT(verb<Stop>(doc).stream_names, ElementsAre("a", "b"));
}

TEST(TwimlStreams, StopInvalidNounIs14300) {
  const Document doc = parse_body("<Stop><Play>x</Play></Stop>");
  EXPECT_FALSE(doc.ok());
  expect_one(doc, 14300, Level::kError);
}

TEST(TwimlStreams, StopStreamWithoutNameWarns) {
  const Document doc = parse_body("<Stop><Stream/></Stop>");
  expect_one(doc, 12200, Level::kWarning);
  EXPECT_TRUE(doc.verbs.empty());
}

// ---------- wait URL documents (13238) ----------

TEST(TwimlWaitDocument, OnlySayPlayPauseRedirect) {
  Document ok = parse_body("<Say>hold on</Say><Play>m.mp3</Play><Pause/><Redirect>/w</Redirect>");
  check_wait_document(ok);
  EXPECT_TRUE(ok.ok());
  Document bad = parse_body("<Say>x</Say>\n<Dial>1</Dial><Gather/><Hangup/><Record/>");
  check_wait_document(bad);
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(codes(bad), ElementsAre(13238, 13238, 13238, 13238));
  EXPECT_THAT(bad.diagnostics[0].message, HasSubstr("<Dial>"));
}

// ---------- hostile input ----------

void expect_well_formed_result(const Document& doc) {
  for (const auto& d : doc.diagnostics) {
    EXPECT_GT(d.code, 0);
    EXPECT_FALSE(d.message.empty());
    EXPECT_LE(d.message.size(), 400u) << d.message.substr(0, 100);
  }
  if (find(doc, 12100) != nullptr) {
    EXPECT_TRUE(doc.verbs.empty());
  }
}

TEST(TwimlHostile, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  for (int i = 0; i < 2000; ++i) {
    std::string input(rng() % 300, '\0');
    for (char& c : input) c = static_cast<char>(rng() % 256);
    if (i % 2 == 0) input = "<Response>" + input;
    const Document doc = parse(input);
    expect_well_formed_result(doc);
  }
}

TEST(TwimlHostile, MutatedDocumentsNeverCrash) {
  const std::string seed =
      "<?xml version=\"1.0\"?><Response><Gather input=\"speech dtmf\" numDigits=\"3\">"
      "<Say voice=\"alice\" loop=\"2\">Hi <break/> there</Say><Play>a.wav</Play></Gather>"
      "<Dial callerId=\"+1555\" timeout=\"10\"><Number sendDigits=\"1w2\">+1555</Number>"
      "<Conference beep=\"false\">r</Conference></Dial><Sms to=\"+1\">x</Sms>"
      "<Start><Stream url=\"wss://x\"><Parameter name=\"a\" value=\"b\"/></Stream></Start>"
      "</Response>";
  std::mt19937 rng(777);
  std::string alphabet = "<>/=\"' &;#!?[]-:abcSayDialx\xff\n";
  alphabet.push_back('\0');
  for (int i = 0; i < 3000; ++i) {
    std::string input = seed;
    const int edits = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = rng() % input.size();
      switch (rng() % 3) {
        case 0:
          input[at] = alphabet[rng() % alphabet.size()];
          break;
        case 1:
          input.erase(at, 1 + rng() % 8);
          break;
        default:
          input.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
      }
      if (input.empty()) input = "<";
    }
    if (i % 10 == 0) input.resize(rng() % input.size());
    expect_well_formed_result(parse(input));
  }
}

TEST(TwimlHostile, DeepNestingIsRejectedWithoutRecursion) {
  ParseLimits limits;
  limits.max_bytes = 4 * 1024 * 1024;
  std::string deep = "<Response>";
  for (int i = 0; i < 200000; ++i) deep += "<a>";
  for (int i = 0; i < 200000; ++i) deep += "</a>";
  deep += "</Response>";
  const Document doc = parse(deep, limits);
  expect_one(doc, 12100, Level::kError);
  EXPECT_TRUE(doc.verbs.empty());
  // Unclosed deep nesting is a plain parse failure.
  expect_one(parse(std::string(20000, '<')), 12100, Level::kError);
}

TEST(TwimlHostile, DeepSsmlWithinTheLimitIsFine) {
  std::string say = "<Say>";
  for (int i = 0; i < 6; ++i) say += "<emphasis>";
  say += "deep";
  for (int i = 0; i < 6; ++i) say += "</emphasis>";
  say += "</Say>";
  EXPECT_EQ(verb<Say>(parse_body(say)).text, "deep");  // Response(1) Say(2) + 6 = 8 levels
}

TEST(TwimlHostile, HugeAttributeValueIsQuotedShortly) {
  const Document doc = parse_body("<Pause length=\"" + std::string(60000, '9') + "x\"/>");
  const Diagnostic d = expect_one(doc, 13910, Level::kWarning);
  EXPECT_LT(d.message.size(), 300u);
  EXPECT_EQ(verb<Pause>(doc).length, 1);
}

TEST(TwimlHostile, ManyBadAttributesAreCapped) {
  std::string say = "<Say";
  for (int i = 0; i < 4000; ++i) say += " a" + std::to_string(i) + "=\"\"";
  say += ">hi</Say>";
  const Document doc = parse_body(say);
  EXPECT_TRUE(doc.ok());
  ASSERT_EQ(doc.diagnostics.size(), 501u);
  EXPECT_THAT(doc.diagnostics.back().message, HasSubstr("3500 further warnings"));
}

TEST(TwimlHostile, ErrorsAreNeverDroppedByTheCap) {
  std::string body;
  for (int i = 0; i < 600; ++i) body += "<Pause length=\"x\"/>";
  body += "<Start><Bogus/></Start>";
  const Document doc = parse_body(body);
  EXPECT_FALSE(doc.ok());
  EXPECT_NE(find(doc, 14300), nullptr);
}

TEST(TwimlHostile, DoctypesAndTheirEntitiesAreRefused) {
  const Document doc = parse(
      "<!DOCTYPE Response [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]>"
      "<Response><Say>&b;</Say></Response>");
  expect_well_formed_result(doc);
  EXPECT_THAT(expect_one(doc, 12100, Level::kError).message, HasSubstr("DOCTYPE"));
  EXPECT_TRUE(doc.verbs.empty());
}

TEST(TwimlHostile, HugeNamesAreClippedInMessages) {
  const std::string name(30000, 'V');
  const Document doc = parse_body("<" + name + "/><Say " + name + "=\"1\">x</Say>");
  ASSERT_EQ(doc.diagnostics.size(), 2u);
  for (const auto& d : doc.diagnostics) EXPECT_LT(d.message.size(), 300u);
}

TEST(TwimlHostile, EmbeddedNulBytes) {
  const std::string input("<Response><Say>a\0b</Say></Response>", 35);
  expect_well_formed_result(parse(input));
}

}  // namespace
}  // namespace sb::twiml
