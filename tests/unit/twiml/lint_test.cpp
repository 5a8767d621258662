#include "twiml/lint.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support/temp_dir.hpp"

namespace sb::twiml {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class LintTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& content) {
    const std::string path = dir_.file(name);
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  int lint(const std::vector<std::string>& files, const std::string& stdin_text = "",
           const ParseLimits& limits = {}, Dialect dialect = Dialect::kVoice) {
    std::istringstream in(stdin_text);
    out_.str("");
    return lint_files(files, out_, in, limits, dialect);
  }

  std::string output() const { return out_.str(); }

  sb::testing::TempDir dir_;
  std::ostringstream out_;
};

TEST(LintFormat, CompilerStyleLine) {
  const Diagnostic d{13212, Level::kWarning, 3, 7, "Dial: Invalid timeout value"};
  EXPECT_EQ(format_diagnostic("app.xml", d),
            "app.xml:3:7: warning 13212: Dial: Invalid timeout value");
  const Diagnostic e{12100, Level::kError, 1, 1, "Document parse failure"};
  EXPECT_EQ(format_diagnostic("-", e), "-:1:1: error 12100: Document parse failure");
}

TEST_F(LintTest, CleanDocumentExitsZero) {
  const std::string f = write("ok.xml", "<Response><Say>Hi</Say></Response>");
  EXPECT_EQ(lint({f}), kLintClean);
  EXPECT_EQ(output(), "1 document checked: 0 errors, 0 warnings\n");
}

TEST_F(LintTest, WarningsPrintWithPositionAndStillExitZero) {
  const std::string f =
      write("warn.xml", "<Response>\n  <say>hi</say>\n  <Pause length=\"x\"/>\n</Response>");
  EXPECT_EQ(lint({f}), kLintClean);
  EXPECT_THAT(output(), HasSubstr(f + ":2:3: warning 12200: <say> is not a TwiML verb"));
  EXPECT_THAT(output(), HasSubstr(f + ":3:10: warning 13910: Pause: Invalid length value"));
  EXPECT_THAT(output(), HasSubstr("1 document checked: 0 errors, 2 warnings\n"));
}

TEST_F(LintTest, ErrorsExitOne) {
  const std::string f = write("bad.xml", "<Response><Say>unclosed</Response>");
  EXPECT_EQ(lint({f}), kLintErrors);
  EXPECT_THAT(output(), HasSubstr(f + ":1:"));
  EXPECT_THAT(output(), HasSubstr(": error 12100: Document parse failure"));
  EXPECT_THAT(output(), HasSubstr("1 error, 0 warnings"));
}

TEST_F(LintTest, NotWellFormedXmlIsAnErrorAtItsLineAndColumn) {
  const std::string f =
      write("amp.xml", "<Response>\n  <Say>Tom & Jerry</Say>\n  <Hangup/>\n</Response>\n");
  EXPECT_EQ(lint({f}), kLintErrors);
  EXPECT_THAT(output(), HasSubstr(f + ":2:12: error 12100: Document parse failure: a bare '&'"));
  EXPECT_THAT(output(), HasSubstr("1 document checked: 1 error, 0 warnings\n"));

  const std::string dup =
      write("dup.xml", "<Response>\n<Pause length=\"1\" length=\"2\"/>\n</Response>");
  EXPECT_EQ(lint({dup}), kLintErrors);
  EXPECT_THAT(output(), HasSubstr(dup + ":2:19: error 12100: Document parse failure: duplicate "
                                        "attribute 'length' in <Pause>"));
}

TEST_F(LintTest, RootNotResponseExitsOne) {
  const std::string f = write("root.xml", "<Reply/>");
  EXPECT_EQ(lint({f}), kLintErrors);
  EXPECT_THAT(output(), HasSubstr(f + ":1:1: error 12102:"));
}

TEST_F(LintTest, UnreadableFileExitsTwoAndOtherFilesAreStillChecked) {
  const std::string good = write("good.xml", "<Response/>");
  const std::string bad = write("bad.xml", "<Reply/>");
  const std::string missing = dir_.file("missing.xml");
  EXPECT_EQ(lint({good, missing, bad}), kLintUnreadable);
  EXPECT_THAT(output(), HasSubstr(missing + ": cannot read: No such file or directory"));
  EXPECT_THAT(output(), HasSubstr(bad + ":1:1: error 12102:"));
  EXPECT_THAT(output(), HasSubstr("2 documents checked: 1 error, 0 warnings, 1 unreadable file\n"));
}

TEST_F(LintTest, DirectoryIsUnreadable) {
  EXPECT_EQ(lint({dir_.path().string()}), kLintUnreadable);
  EXPECT_THAT(output(), HasSubstr("cannot read: is a directory"));
}

TEST_F(LintTest, DashReadsStandardInput) {
  EXPECT_EQ(lint({"-"}, "<Response>\n<Dance/>\n</Response>"), kLintClean);
  EXPECT_THAT(output(), HasSubstr("<stdin>:2:1: warning 12200: unknown verb <Dance>"));
  EXPECT_EQ(lint({"-"}, "not xml"), kLintErrors);
  EXPECT_THAT(output(), HasSubstr("<stdin>:1:1: error 12100:"));
}

TEST_F(LintTest, SummaryCountsEveryDocument) {
  const std::string a = write("a.xml", "<Response><Pause length=\"0\"/></Response>");
  const std::string b = write("b.xml", "<Response><Start><Bogus/></Start></Response>");
  const std::string c = write("c.xml", "<Response><Hangup/></Response>");
  EXPECT_EQ(lint({a, b, c}), kLintErrors);
  EXPECT_THAT(output(), HasSubstr("3 documents checked: 1 error, 1 warning\n"));
  EXPECT_THAT(output(), Not(HasSubstr(c + ":")));
}

TEST_F(LintTest, OversizeInputIsReadOnlyUpToTheLimit) {
  ParseLimits limits;
  limits.max_bytes = 64;
  EXPECT_EQ(lint({"-"}, "<Response>" + std::string(100000, ' ') + "</Response>", limits),
            kLintErrors);
  EXPECT_THAT(output(), HasSubstr("error 12100: Document parse failure: the document is larger "
                                  "than 64 bytes"));
}

// ---------- --messaging ----------

TEST_F(LintTest, MessagingDialectPrintsEveryDiagnosticExactly) {
  const std::string f = write("reply.xml",
                              "<Response>\n"
                              "  <Say>Hi</Say>\n"
                              "  <Message method=\"PUT\"></Message>\n"
                              "</Response>\n");
  EXPECT_EQ(lint({f}, "", {}, Dialect::kMessaging), kLintErrors);
  EXPECT_EQ(output(), f +
                          ":2:3: error 12200: invalid verb for messaging <Say> (a voice verb; "
                          "messaging TwiML has <Message> and <Redirect>)\n" +
                          f +
                          ":3:3: error 14103: Message: Invalid Body (empty, and no <Media>): "
                          "nothing to send\n" +
                          f +
                          ":3:12: warning 14104: Message: Invalid method value \"PUT\" (must "
                          "be GET or POST); using POST\n"
                          "1 document checked: 2 errors, 1 warning\n");

  // The same file as voice TwiML: <Say> is fine there, and the <Message> codes are warnings.
  EXPECT_EQ(lint({f}), kLintClean);
  EXPECT_THAT(output(), Not(HasSubstr(": error ")));
  EXPECT_THAT(output(), HasSubstr("1 document checked: 0 errors, 2 warnings\n"));
}

TEST_F(LintTest, MessagingDialectCleanReplyAndStandardInput) {
  // Media is messaging TwiML's (the voice parser warns that it does not send it).
  const std::string ok = write(
      "ok.xml", "<Response><Message><Body>Hi</Body><Media>/a.png</Media></Message></Response>");
  EXPECT_EQ(lint({ok}, "", {}, Dialect::kMessaging), kLintClean);
  EXPECT_EQ(output(), "1 document checked: 0 errors, 0 warnings\n");

  EXPECT_EQ(lint({"-"}, "<Response>\n<Message>a</Message>\n<Message>", {}, Dialect::kMessaging),
            kLintErrors);
  EXPECT_THAT(output(), HasSubstr("<stdin>:3:10: error 12100: Document parse failure"));
}

}  // namespace
}  // namespace sb::twiml
