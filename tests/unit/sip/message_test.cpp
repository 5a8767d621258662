// Parser, serializer, framing and the RFC 4475 torture messages.
#include "sip/message.hpp"

#include <gtest/gtest.h>

#include "sip/request_check.hpp"
#include "support/rfc4475.hpp"

namespace sb::sip {
namespace {

std::string read_case(const std::string& name) { return testing::read_rfc4475_case(name); }

int status_of(std::string_view response) {
  auto m = Message::parse(response);
  EXPECT_TRUE(m.has_value()) << response;
  return m ? m->status() : 0;
}

constexpr std::string_view kInvite =
    "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds, SIP/2.0/TCP p2:5070\r\n"
    "v: SIP/2.0/UDP p3;branch=z9hG4bKthird\r\n"
    "Max-Forwards: 70\r\n"
    "To: Bob <sip:bob@biloxi.example.com>\r\n"
    "f: \"Alice \\\"A\\\"\" <sip:alice@atlanta.example.com>;tag=1928301774\r\n"
    "i: a84b4c76e66710@pc33.atlanta.example.com\r\n"
    "CSeq: 314159 INVITE\r\n"
    "m: <sip:alice@pc33.atlanta.example.com>, <sip:a2@h>;q=0.5\r\n"
    "Contact: sip:a3@h3\r\n"
    "c: application/sdp\r\n"
    "l: 4\r\n"
    "\r\n"
    "v=0\r\nextra";

TEST(Message, ParsesCoreHeadersCompactFormsAndMultipleValues) {
  auto m = Message::parse(kInvite);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->is_request());
  EXPECT_EQ(m->method(), "INVITE");
  EXPECT_EQ(m->uri().user, "bob");
  EXPECT_EQ(m->uri().host, "biloxi.example.com");
  EXPECT_EQ(m->call_id(), "a84b4c76e66710@pc33.atlanta.example.com");
  EXPECT_EQ(m->cseq().number, 314159u);
  EXPECT_EQ(m->cseq().method, "INVITE");
  EXPECT_EQ(m->top_via().branch(), "z9hG4bK776asdhds");
  EXPECT_EQ(m->top_via().transport, "UDP");
  EXPECT_EQ(m->from().display_name, "Alice \\\"A\\\"");
  EXPECT_EQ(unquote("\"" + std::string(m->from().display_name) + "\""), "Alice \"A\"");
  EXPECT_EQ(m->from().tag(), "1928301774");
  EXPECT_EQ(m->to().display_name, "Bob");
  EXPECT_EQ(m->to().tag(), "");
  EXPECT_EQ(m->max_forwards(), 70);
  EXPECT_EQ(m->body(), "v=0\r");
  EXPECT_EQ(m->header(Hdr::kContentType).value(), "application/sdp");
  EXPECT_EQ(m->header("content-type").value(), "application/sdp");
  EXPECT_EQ(m->header("c").value(), "application/sdp");
  int vias = 0, contacts = 0;
  m->for_each_value(Hdr::kVia, [&](std::string_view) { ++vias; });
  m->for_each_value(Hdr::kContact, [&](std::string_view) { ++contacts; });
  EXPECT_EQ(vias, 3);
  EXPECT_EQ(contacts, 3);
  // Copies share the buffer: views stay valid after the original is gone.
  std::optional<Message> copy;
  {
    Message tmp = *m;
    copy = std::move(tmp);
  }
  m.reset();
  EXPECT_EQ(copy->from().tag(), "1928301774");
}

TEST(Message, ParsesResponses) {
  auto m = Message::parse(
      "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\n"
      "To: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->is_request());
  EXPECT_EQ(m->status(), 180);
  EXPECT_EQ(m->reason(), "Ringing");
  EXPECT_EQ(m->transaction_method(), "INVITE");
  EXPECT_EQ(m->to().tag(), "2");
}

TEST(Message, RefusesOversizeAndTooManyHeaders) {
  ParseError e;
  std::string big(kInvite);
  big.insert(big.find("\r\n\r\n"), "\r\nX-Pad: " + std::string(70000, 'a'));
  EXPECT_FALSE(Message::parse(big, &e));
  EXPECT_EQ(e.status, 513);
  Limits limits;
  limits.max_headers = 5;
  EXPECT_FALSE(Message::parse(kInvite, &e, limits));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.reason, "Too many header fields");
}

TEST(Message, MalformedRequestGets400WithReason) {
  std::string bad(kInvite);
  bad.replace(bad.find("CSeq: 314159 INVITE"), 19, "CSeq: 314159 BYE");
  ParseError e;
  ASSERT_FALSE(Message::parse(bad, &e));
  EXPECT_TRUE(e.is_request);
  auto resp = make_error_response(bad, e);
  ASSERT_TRUE(resp);
  auto r = Message::parse(*resp);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status(), 400);
  EXPECT_EQ(r->reason(), "CSeq method does not match Request-Line");
  EXPECT_EQ(r->count(Hdr::kVia), 2u);  // two Via fields copied
  EXPECT_EQ(r->call_id(), "a84b4c76e66710@pc33.atlanta.example.com");
}

TEST(Message, MakeResponseCopiesHeadersAndAddsToTag) {
  auto m = Message::parse(kInvite);
  ASSERT_TRUE(m);
  auto r = Message::parse(
      make_response(*m, 200, {}, "abc", "Contact: <sip:bob@h>\r\n", "application/sdp", "v=0\r\n"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status(), 200);
  EXPECT_EQ(r->reason(), "OK");
  EXPECT_EQ(r->to().tag(), "abc");
  EXPECT_EQ(r->from().tag(), "1928301774");
  EXPECT_EQ(r->count(Hdr::kVia), 2u);  // both Via fields, three values
  EXPECT_EQ(r->header(Hdr::kContact).value(), "<sip:bob@h>");
  EXPECT_EQ(r->body(), "v=0\r\n");
  // 100 Trying never carries a To tag.
  auto t = Message::parse(make_response(*m, 100, {}, "abc"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->to().tag(), "");
}

TEST(StreamFramer, SplitsByContentLengthAcrossReads) {
  StreamFramer f;
  const std::string one(kInvite.substr(0, kInvite.size() - 6));  // body "v=0\r" exactly
  std::string msg;
  f.append("\r\n\r\n");  // keep-alives
  f.append(one.substr(0, 100));
  EXPECT_EQ(f.next(msg), StreamFramer::State::kNeedMore);
  f.append(one.substr(100));
  f.append(one);
  ASSERT_EQ(f.next(msg), StreamFramer::State::kMessage);
  EXPECT_EQ(msg, one);
  ASSERT_EQ(f.next(msg), StreamFramer::State::kMessage);
  EXPECT_EQ(msg, one);
  EXPECT_EQ(f.next(msg), StreamFramer::State::kNeedMore);
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(StreamFramer, BadContentLengthLosesFraming) {
  StreamFramer f;
  std::string msg, reason;
  f.append("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: -5\r\n\r\n");
  EXPECT_EQ(f.next(msg, &reason), StreamFramer::State::kError);
  EXPECT_EQ(reason, "Malformed Content-Length");
  StreamFramer g;
  g.append("OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 1\r\n\r\nab");
  EXPECT_EQ(g.next(msg, &reason), StreamFramer::State::kError);
  StreamFramer h;
  h.append(std::string(20000, 'a'));
  EXPECT_EQ(h.next(msg, &reason), StreamFramer::State::kError);
}

TEST(Uri, ParsesSipUriParts) {
  auto u = parse_uri("sips:alice:pw@[2001:db8::1]:5061;transport=tcp;lr?subject=x");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->is_sips());
  EXPECT_EQ(u->user, "alice");
  EXPECT_EQ(u->password, "pw");
  EXPECT_EQ(u->host, "[2001:db8::1]");
  EXPECT_EQ(u->port, 5061);
  EXPECT_EQ(u->param("transport").value(), "tcp");
  EXPECT_EQ(u->param("lr").value(), "");
  EXPECT_FALSE(u->param("maddr"));
  EXPECT_EQ(u->headers, "subject=x");
  EXPECT_FALSE(parse_uri("sip:a@b:99999"));
  EXPECT_FALSE(parse_uri("sip:a@b c"));
  EXPECT_FALSE(parse_uri("sip:a%2@b"));
  EXPECT_TRUE(parse_uri("tel:+15551234"));
  EXPECT_EQ(unescape("sips%3Auser%40example.com"), "sips:user@example.com");
}

TEST(NameAddr, FormsAndErrors) {
  auto a = parse_name_addr("sip:a@b;tag=x");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->tag(), "x");
  EXPECT_EQ(a->uri.params, "");
  auto b = parse_name_addr("<sip:a@b;lr>;tag=y");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->uri.param("lr").value(), "");
  EXPECT_EQ(b->tag(), "y");
  auto c = parse_name_addr("Joe  Smith<sip:a@b>");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->display_name, "Joe  Smith");
  EXPECT_FALSE(parse_name_addr("\"unterminated <sip:a@b>"));
  EXPECT_FALSE(parse_name_addr("Bell, Alex <sip:a@b>"));
  EXPECT_FALSE(parse_name_addr("< sip:a@b >"));
  EXPECT_FALSE(parse_name_addr("sip:a@b?Route=x"));
  EXPECT_FALSE(parse_name_addr("<sip:a@b>;;"));
  EXPECT_TRUE(parse_name_addr("*")->star);
}

// --- RFC 4475 ---------------------------------------------------------------------------

enum class Expect {
  kProcess,   // parses; check_request lets it through
  kRefuse,    // parses; check_request answers with `status`
  kError,     // fails to parse; answered with `status` (400/505) and a reason
  kResponse,  // a response that parses (no reply to a response)
  kDrop,      // a response that fails to parse: dropped, nothing sent
};

struct Case {
  const char* file;
  Expect expect;
  int status;
};

class Rfc4475 : public ::testing::TestWithParam<Case> {};

TEST_P(Rfc4475, BehavesAsIndexSays) {
  const Case c = GetParam();
  const std::string bytes = read_case(c.file);
  ASSERT_FALSE(bytes.empty());
  ParseError e;
  auto m = Message::parse(bytes, &e);
  switch (c.expect) {
    case Expect::kProcess: {
      ASSERT_TRUE(m) << e.reason;
      auto refusal = check_request(*m, "tag1");
      EXPECT_FALSE(refusal) << *refusal;
      break;
    }
    case Expect::kRefuse: {
      ASSERT_TRUE(m) << e.reason;
      auto refusal = check_request(*m, "tag1");
      ASSERT_TRUE(refusal);
      EXPECT_EQ(status_of(*refusal), c.status);
      break;
    }
    case Expect::kError: {
      ASSERT_FALSE(m);
      EXPECT_TRUE(e.is_request);
      EXPECT_EQ(e.status, c.status);
      EXPECT_FALSE(e.reason.empty());
      auto resp = make_error_response(bytes, e);
      ASSERT_TRUE(resp);
      // The response copies the request's (possibly malformed) headers verbatim.
      EXPECT_EQ(resp->substr(0, resp->find("\r\n")),
                "SIP/2.0 " + std::to_string(c.status) + " " + e.reason);
      EXPECT_NE(resp->find("\r\nVia: "), std::string::npos);
      EXPECT_TRUE(resp->ends_with("Content-Length: 0\r\n\r\n"));
      break;
    }
    case Expect::kResponse:
      ASSERT_TRUE(m) << e.reason;
      EXPECT_FALSE(m->is_request());
      break;
    case Expect::kDrop:
      ASSERT_FALSE(m);
      EXPECT_FALSE(make_error_response(bytes, e));
      break;
  }
}

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string n = info.param.file;
  n = n.substr(0, n.find('.'));
  for (char& ch : n)
    if (ch == '-') ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Torture, Rfc4475,
                         ::testing::Values(Case{"valid-wsinv.sip", Expect::kProcess, 0},
                                           Case{"valid-intmeth.sip", Expect::kRefuse, 501},
                                           Case{"valid-esc01.sip", Expect::kProcess, 0},
                                           Case{"valid-escnull.sip", Expect::kProcess, 0},
                                           Case{"valid-esc02.sip", Expect::kRefuse, 501},
                                           Case{"valid-lwsdisp.sip", Expect::kProcess, 0},
                                           Case{"valid-longreq.sip", Expect::kProcess, 0},
                                           Case{"valid-dblreq.sip", Expect::kProcess, 0},
                                           Case{"valid-semiuri.sip", Expect::kProcess, 0},
                                           Case{"valid-transports.sip", Expect::kProcess, 0},
                                           // MESSAGE is served (what its body may be is
                                           // the messaging layer's call: 415 there)
                                           Case{"valid-mpart01.sip", Expect::kProcess, 0},
                                           Case{"valid-unreason.sip", Expect::kResponse, 0},
                                           Case{"valid-noreason.sip", Expect::kResponse, 0},
                                           Case{"invalid-badinv01.sip", Expect::kError, 400},
                                           Case{"invalid-clerr.sip", Expect::kError, 400},
                                           Case{"invalid-ncl.sip", Expect::kError, 400},
                                           Case{"invalid-scalar02.sip", Expect::kError, 400},
                                           Case{"invalid-scalarlg.sip", Expect::kDrop, 0},
                                           Case{"invalid-quotbal.sip", Expect::kError, 400},
                                           Case{"invalid-ltgtruri.sip", Expect::kError, 400},
                                           Case{"invalid-lwsruri.sip", Expect::kError, 400},
                                           Case{"invalid-lwsstart.sip", Expect::kError, 400},
                                           Case{"invalid-trws.sip", Expect::kError, 400},
                                           Case{"invalid-escruri.sip", Expect::kError, 400},
                                           Case{"invalid-baddate.sip", Expect::kProcess,
                                                0},  // Date is not interpreted
                                           Case{"invalid-regbadct.sip", Expect::kError, 400},
                                           Case{"invalid-badaspec.sip", Expect::kError, 400},
                                           Case{"invalid-baddn.sip", Expect::kError, 400},
                                           Case{"invalid-badvers.sip", Expect::kError, 505},
                                           Case{"invalid-mismatch01.sip", Expect::kError, 400},
                                           Case{"invalid-mismatch02.sip", Expect::kError, 400},
                                           Case{"invalid-bigcode.sip", Expect::kDrop, 0},
                                           Case{"semantic-badbranch.sip", Expect::kProcess, 0},
                                           Case{"semantic-insuf.sip", Expect::kError, 400},
                                           Case{"semantic-unkscm.sip", Expect::kRefuse, 416},
                                           Case{"semantic-novelsc.sip", Expect::kRefuse, 416},
                                           Case{"semantic-unksm2.sip", Expect::kProcess, 0},
                                           Case{"semantic-bext01.sip", Expect::kRefuse, 420},
                                           Case{"semantic-invut.sip", Expect::kRefuse, 415},
                                           Case{"semantic-regaut01.sip", Expect::kProcess, 0},
                                           Case{"semantic-multi01.sip", Expect::kError, 400},
                                           Case{"semantic-mcl01.sip", Expect::kError, 400},
                                           Case{"semantic-bcast.sip", Expect::kResponse, 0},
                                           Case{"semantic-zeromf.sip", Expect::kProcess, 0},
                                           Case{"semantic-cparam01.sip", Expect::kProcess, 0},
                                           Case{"semantic-cparam02.sip", Expect::kProcess, 0},
                                           Case{"semantic-regescrt.sip", Expect::kProcess, 0},
                                           Case{"semantic-sdp01.sip", Expect::kRefuse, 406},
                                           Case{"semantic-inv2543.sip", Expect::kProcess, 0}),
                         case_name);

TEST(Rfc4475Details, FieldsComeOutRight) {
  auto ws = Message::parse(read_case("valid-wsinv.sip"));
  ASSERT_TRUE(ws);
  EXPECT_EQ(ws->to().tag(), "1918181833n");
  EXPECT_EQ(ws->from().tag(), "98asjd8");
  EXPECT_EQ(ws->max_forwards(), 68);
  EXPECT_EQ(ws->cseq().number, 9u);
  EXPECT_EQ(ws->top_via().branch(), "390skdjuw");
  EXPECT_EQ(ws->body().size(), 150u);
  int vias = 0;
  ws->for_each_value(Hdr::kVia, [&](std::string_view) { ++vias; });
  EXPECT_EQ(vias, 3);

  auto semi = Message::parse(read_case("valid-semiuri.sip"));
  ASSERT_TRUE(semi);
  EXPECT_EQ(unescape(semi->uri().user), "user;par=u@example.net");

  auto esc02 = Message::parse(read_case("valid-esc02.sip"));
  ASSERT_TRUE(esc02);
  EXPECT_EQ(esc02->count(Hdr::kContact), 2u);

  auto null = Message::parse(read_case("valid-escnull.sip"));
  ASSERT_TRUE(null);
  EXPECT_EQ(null->count(Hdr::kContact), 2u);
  EXPECT_EQ(unescape(null->to().uri.user), std::string("null-\0-null", 11));

  auto dbl = Message::parse(read_case("valid-dblreq.sip"));
  ASSERT_TRUE(dbl);
  EXPECT_EQ(dbl->method(), "REGISTER");
  EXPECT_TRUE(dbl->body().empty());
  EXPECT_EQ(dbl->raw().find("INVITE"), std::string_view::npos);

  auto mpart = Message::parse(read_case("valid-mpart01.sip"));
  ASSERT_TRUE(mpart);
  EXPECT_EQ(mpart->body().size(), std::stoul(std::string(*mpart->header(Hdr::kContentLength))));

  auto cp1 = Message::parse(read_case("semantic-cparam01.sip"));
  ASSERT_TRUE(cp1);
  auto c1 = parse_name_addr(*cp1->header(Hdr::kContact));
  ASSERT_TRUE(c1);
  EXPECT_TRUE(c1->param("unknownparam"));
  EXPECT_FALSE(c1->uri.param("unknownparam"));
  auto cp2 = Message::parse(read_case("semantic-cparam02.sip"));
  ASSERT_TRUE(cp2);
  auto c2 = parse_name_addr(*cp2->header(Hdr::kContact));
  ASSERT_TRUE(c2);
  EXPECT_TRUE(c2->uri.param("unknownparam"));
  EXPECT_FALSE(c2->param("unknownparam"));
  auto esc = Message::parse(read_case("semantic-regescrt.sip"));
  ASSERT_TRUE(esc);
  auto c3 = parse_name_addr(*esc->header(Hdr::kContact));
  ASSERT_TRUE(c3);
  EXPECT_FALSE(c3->uri.headers.empty());

  auto zero = Message::parse(read_case("semantic-zeromf.sip"));
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->max_forwards(), 0);

  auto allow = check_request(*Message::parse(read_case("valid-intmeth.sip")), "t");
  ASSERT_TRUE(allow);
  EXPECT_NE(allow->find("Allow: INVITE"), std::string::npos);
  auto bext = check_request(*Message::parse(read_case("semantic-bext01.sip")), "t");
  ASSERT_TRUE(bext);
  EXPECT_NE(bext->find("Unsupported: nothingSupportsThis, nothingSupportsThisEither"),
            std::string::npos);
}

}  // namespace
}  // namespace sb::sip
