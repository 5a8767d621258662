#include "messaging/text.hpp"

#include <gtest/gtest.h>

#include <string>

#include "messaging/messaging_service.hpp"
#include "messaging/multipart.hpp"

namespace sb::messaging {
namespace {

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(Utf8, AcceptsWellFormedAndRefusesTheRest) {
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("héllo wörld ж 😀"));
  EXPECT_FALSE(valid_utf8("\xff"));
  EXPECT_FALSE(valid_utf8("\xc3"));              // truncated
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid_utf8("ab\xe2\x82"));        // truncated at the end
  EXPECT_EQ(characters("héllo ж😀"), 8u);
}

TEST(Segments, Gsm7CountsSeptetsAndItsExtensionTwice) {
  EXPECT_EQ(segments("").count, 1u);
  auto s = segments(repeat("a", 160));
  EXPECT_TRUE(s.gsm7);
  EXPECT_EQ(s.units, 160u);
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(segments(repeat("a", 161)).count, 2u);
  EXPECT_EQ(segments(repeat("a", 306)).count, 2u);
  EXPECT_EQ(segments(repeat("a", 307)).count, 3u);
  // € and [ are in the extension table: two septets each.
  auto ext = segments(repeat("€", 80));
  EXPECT_TRUE(ext.gsm7);
  EXPECT_EQ(ext.units, 160u);
  EXPECT_EQ(ext.count, 1u);
  EXPECT_EQ(segments(repeat("[", 81)).count, 2u);
  EXPECT_TRUE(segments("Ünïcode? no: é è ñ Ä £ ¥ §").gsm7 == false);  // ï is not GSM-7
  EXPECT_TRUE(segments("é è ñ Ä £ ¥ § @ Δ").gsm7);
}

TEST(Segments, Ucs2CountsUtf16Units) {
  auto s = segments(repeat("ж", 70));
  EXPECT_FALSE(s.gsm7);
  EXPECT_EQ(s.count, 1u);
  EXPECT_EQ(segments(repeat("ж", 71)).count, 2u);
  EXPECT_EQ(segments(repeat("ж", 1600)).count, 24u);
  // An emoji is two UTF-16 units.
  auto e = segments(repeat("😀", 35));
  EXPECT_EQ(e.units, 70u);
  EXPECT_EQ(e.count, 1u);
  EXPECT_EQ(segments(repeat("😀", 36)).count, 2u);
}

TEST(OptKeywords, WholeBodyCaseAndSpaceInsensitive) {
  EXPECT_EQ(opt_keyword("STOP"), OptKeyword::kOptOut);
  EXPECT_EQ(opt_keyword("  unsubscribe\r\n"), OptKeyword::kOptOut);
  EXPECT_EQ(opt_keyword("Cancel"), OptKeyword::kOptOut);
  EXPECT_EQ(opt_keyword("start"), OptKeyword::kOptIn);
  EXPECT_EQ(opt_keyword("YES"), OptKeyword::kOptIn);
  EXPECT_EQ(opt_keyword("help"), OptKeyword::kHelp);
  EXPECT_EQ(opt_keyword("please stop"), OptKeyword::kNone);
  EXPECT_EQ(opt_keyword("stopping"), OptKeyword::kNone);
  EXPECT_EQ(opt_out_type(OptKeyword::kOptOut), "STOP");
  EXPECT_EQ(opt_out_type(OptKeyword::kNone), "");
}

TEST(Multipart, SplitsPartsWithTheirTypes) {
  const std::string body =
      "preamble\r\n--b1\r\nContent-Type: text/plain;charset=UTF-8\r\n\r\nhello\r\n"
      "--b1\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x01\x02\r\n--b1--\r\n";
  auto parts = parse_multipart("multipart/mixed; boundary=\"b1\"", body);
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].content_type, "text/plain;charset=UTF-8");
  EXPECT_EQ((*parts)[0].data, "hello");
  EXPECT_EQ((*parts)[1].content_type, "image/png");
  EXPECT_EQ((*parts)[1].data, "\x89PNG\r\n\x01\x02");
  EXPECT_FALSE(parse_multipart("multipart/mixed", body));              // no boundary
  EXPECT_FALSE(parse_multipart("multipart/mixed;boundary=zz", body));  // not in the body
  EXPECT_FALSE(parse_multipart("multipart/mixed;boundary=b1", "--b1\r\nContent-Type: x"));
  EXPECT_EQ(media_type(" Text/Plain ; charset=utf-8"), "text/plain");
  EXPECT_EQ(type_parameter("text/plain; Charset=\"UTF-8\"", "charset"), "UTF-8");
  EXPECT_EQ(type_parameter("text/plain", "charset"), "");
}

// Garbage never crashes the parsers: every prefix of a valid body (a multipart body cut at any
// byte, as a truncated datagram would be) is parsed or refused, and UTF-8 checks hold on it.
TEST(Multipart, EveryTruncationIsParsedOrRefusedNeverCrashes) {
  const std::string body =
      "--b\r\nContent-Type: text/plain\r\n\r\nhé\r\n--b\r\nContent-Type: "
      "image/png\r\n\r\n\x89P\r\n--b--";
  std::size_t refused = 0;
  for (std::size_t n = 0; n < body.size(); ++n) {
    const std::string cut = body.substr(0, n);
    if (!parse_multipart("multipart/mixed;boundary=b", cut)) ++refused;
    (void)valid_utf8(cut);
    (void)segments(valid_utf8(cut) ? cut : std::string());
  }
  EXPECT_GT(refused, body.size() / 2);  // a body cut before its close delimiter is refused
  ASSERT_TRUE(parse_multipart("multipart/mixed;boundary=b", body));
  EXPECT_EQ(parse_multipart("multipart/mixed;boundary=b", body)->size(), 2u);
  EXPECT_FALSE(parse_multipart("multipart/mixed;boundary=" + std::string(71, 'x'), body));
}

TEST(SipOutcome, MapsFinalResponsesToTwilioStatuses) {
  EXPECT_EQ(outcome_of(200).status, "delivered");
  EXPECT_EQ(outcome_of(202).status, "sent");
  EXPECT_EQ(outcome_of(202).error_code, 0);
  EXPECT_EQ(outcome_of(480).status, "undelivered");
  EXPECT_EQ(outcome_of(480).error_code, 30003);
  EXPECT_EQ(outcome_of(408).error_code, 30003);
  EXPECT_EQ(outcome_of(404).error_code, 30005);
  EXPECT_EQ(outcome_of(603).error_code, 30004);
  EXPECT_EQ(outcome_of(415).status, "failed");
  EXPECT_EQ(outcome_of(500).error_code, 30008);
}

}  // namespace
}  // namespace sb::messaging
