// parse_uri and parse_name_addr against RFC 3261 §19.1 and §25.1 (SIP and SIPS URIs, other
// schemes, name-addr / addr-spec) and the URI cases of the RFC 4475 torture messages.
#include "sip/uri.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sip/message.hpp"
#include "sip/syntax.hpp"
#include "support/rfc4475.hpp"

namespace sb::sip {
namespace {

using testing::read_rfc4475_case;

// The Request-URI as written on the request line (between the first SP and " SIP/2.0").
std::string request_uri(const std::string& bytes) {
  const auto line = bytes.substr(0, bytes.find("\r\n"));
  const auto first = line.find(' ');
  const auto version = line.rfind(" SIP/2.0");
  return line.substr(first + 1, version - first - 1);
}

// The value of the first unfolded header line `name: value` (for messages that do not parse).
std::string field(const std::string& bytes, const std::string& name) {
  const auto at = bytes.find("\r\n" + name + ":");
  if (at == std::string::npos) return {};
  const auto start = at + 2 + name.size() + 1;
  return std::string(
      trim(std::string_view(bytes).substr(start, bytes.find("\r\n", start) - start)));
}

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// One part of a URI that must parse; else why it did not, so that a failure says so.
std::string part(std::string_view text, std::string_view Uri::*member) {
  auto u = parse_uri(text);
  return u ? std::string((*u).*member) : "refused: " + u.error().message;
}

// ---- user, password, host, port ---------------------------------------------------------------

TEST(Uri, RfcExamplesParseIntoTheirParts) {  // RFC 3261 §19.1.3
  auto u = parse_uri("sip:alice@atlanta.com");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->sip);
  EXPECT_FALSE(u->is_sips());
  EXPECT_EQ(u->scheme, "sip");
  EXPECT_EQ(u->user, "alice");
  EXPECT_EQ(u->password, "");
  EXPECT_EQ(u->host, "atlanta.com");
  EXPECT_EQ(u->port, 0);
  EXPECT_EQ(u->params, "");
  EXPECT_EQ(u->headers, "");

  u = parse_uri("sip:alice:secretword@atlanta.com;transport=tcp");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "alice");
  EXPECT_EQ(u->password, "secretword");
  EXPECT_EQ(u->params, ";transport=tcp");
  EXPECT_EQ(u->param("transport"), "tcp");

  u = parse_uri("sips:alice@atlanta.com?subject=project%20x&priority=urgent");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->is_sips());
  EXPECT_EQ(u->host, "atlanta.com");
  EXPECT_EQ(u->headers, "subject=project%20x&priority=urgent");

  u = parse_uri("sip:+1-212-555-1212:1234@gateway.com;user=phone");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "+1-212-555-1212");
  EXPECT_EQ(u->password, "1234");
  EXPECT_EQ(u->param("user"), "phone");

  EXPECT_EQ(part("sips:1212@gateway.com", &Uri::user), "1212");
  EXPECT_EQ(part("sip:alice@192.0.2.4", &Uri::host), "192.0.2.4");

  u = parse_uri("sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "");
  EXPECT_EQ(u->host, "atlanta.com");
  EXPECT_EQ(u->param("method"), "REGISTER");
  EXPECT_EQ(u->headers, "to=alice%40atlanta.com");
  EXPECT_EQ(unescape(u->headers), "to=alice@atlanta.com");

  u = parse_uri("sip:alice;day=tuesday@atlanta.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "alice;day=tuesday");  // ';' belongs to the user before '@'
  EXPECT_EQ(u->host, "atlanta.com");
  EXPECT_EQ(u->params, "");
}

TEST(Uri, UserAndPasswordCharacters) {
  // user-unreserved: & = + $ , ; ? /   and unreserved marks - _ . ! ~ * ' ( )
  EXPECT_EQ(part("sip:a&b=c+d$e,f;g?h/i-j_k.l!m~n*o'p(q)r@host", &Uri::user),
            "a&b=c+d$e,f;g?h/i-j_k.l!m~n*o'p(q)r");
  // password allows & = + $ , and may be empty
  EXPECT_EQ(part("sip:user:&=+$,-_.!~*'()@host", &Uri::password), "&=+$,-_.!~*'()");
  EXPECT_EQ(part("sip:alice:@host", &Uri::password), "");

  EXPECT_FALSE(parse_uri("sip:@host"));       // user = 1*( ... )
  EXPECT_FALSE(parse_uri("sip::pw@host"));    // empty user before a password
  EXPECT_FALSE(parse_uri("sip:a#b@host"));    // '#' must be escaped
  EXPECT_FALSE(parse_uri("sip:a[b@host"));    // not in a user
  EXPECT_FALSE(parse_uri("sip:a:b:c@host"));  // ':' cannot appear in a password
  EXPECT_FALSE(parse_uri("sip:a:p;w@host"));  // nor ';'
  EXPECT_FALSE(parse_uri("sip:a:p?w@host"));  // nor '?'
  EXPECT_FALSE(parse_uri("sip:al\x7f@host"));
  EXPECT_FALSE(parse_uri("sip:al\xc3\xa9@host"));  // UTF-8 must be escaped
}

TEST(Uri, TelephoneSubscriberUsers) {
  auto u = parse_uri("sip:+15551234567@gw.example.com;user=phone");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "+15551234567");
  EXPECT_EQ(u->param("user"), "phone");
  // A telephone-subscriber with its own parameters: they stay in the user part.
  u = parse_uri("sip:+1-212-555-1212;isub=1411;postd=pp22@gw.example.com;user=phone");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "+1-212-555-1212;isub=1411;postd=pp22");
  EXPECT_EQ(u->params, ";user=phone");
  // "#" escaped, as §19.1.2 requires
  EXPECT_EQ(unescape(part("sip:*67%23@gw.example.com", &Uri::user)), "*67#");
  EXPECT_EQ(unescape(part("sip:(555)%20123-4567@gw.example.com", &Uri::user)), "(555) 123-4567");
}

TEST(Uri, HostForms) {
  auto u = parse_uri("sip:bob@Biloxi.Example.COM");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "Biloxi.Example.COM");  // as written; hosts compare case-insensitively
  EXPECT_TRUE(iequals(u->host, "biloxi.example.com"));
  // A fully qualified name's final dot.
  EXPECT_EQ(part("sip:bob@biloxi.example.com.", &Uri::host), "biloxi.example.com.");
  EXPECT_EQ(part("sip:bob@localhost", &Uri::host), "localhost");
  EXPECT_EQ(part("sip:bob@chair-dnrc.example.com", &Uri::host), "chair-dnrc.example.com");
  EXPECT_EQ(part("sip:bob@3com.example", &Uri::host), "3com.example");  // a digit first
  EXPECT_EQ(part("sip:10.0.0.1", &Uri::host), "10.0.0.1");
  EXPECT_EQ(part("sip:10.0.0.1", &Uri::user), "");

  EXPECT_FALSE(parse_uri("sip:bob@"));
  EXPECT_FALSE(parse_uri("sip:bob@exa_mple.com"));
  EXPECT_FALSE(parse_uri("sip:bob@exa mple.com"));
  EXPECT_FALSE(parse_uri("sip:bob@exa%41mple.com"));  // no escapes in a host
  EXPECT_FALSE(parse_uri("sip:bob@host@other"));
}

TEST(Uri, HostnamesFollowTheLabelGrammar) {
  // hostname = *( domainlabel "." ) toplabel [ "." ]; a label is alphanumerics with inner '-'.
  EXPECT_FALSE(parse_uri("sip:bob@a..b"));
  EXPECT_FALSE(parse_uri("sip:bob@.example.com"));
  EXPECT_FALSE(parse_uri("sip:bob@."));
  EXPECT_FALSE(parse_uri("sip:bob@-example.com"));
  EXPECT_FALSE(parse_uri("sip:bob@example-.com"));
  EXPECT_FALSE(parse_uri("sip:bob@example.-com"));
  EXPECT_FALSE(parse_uri("sip:bob@-"));
  EXPECT_TRUE(parse_uri("sip:bob@a-b.c--d.example"));
  EXPECT_TRUE(parse_uri("sip:bob@x"));
}

TEST(Uri, Ipv4AddressesHaveFourOctets) {
  // A name whose last label is numeric can only be an IPv4address: four decimal octets.
  EXPECT_TRUE(parse_uri("sip:bob@0.0.0.0"));
  EXPECT_TRUE(parse_uri("sip:bob@255.255.255.255"));
  EXPECT_FALSE(parse_uri("sip:bob@256.1.1.1"));  // RFC 5954 §4.1: dec-octet
  EXPECT_FALSE(parse_uri("sip:bob@1.2.3"));
  EXPECT_FALSE(parse_uri("sip:bob@1.2.3.4.5"));
  EXPECT_FALSE(parse_uri("sip:bob@1.2.3.4."));
  EXPECT_FALSE(parse_uri("sip:bob@1.2.3.0004"));
  EXPECT_FALSE(parse_uri("sip:bob@12345"));
  EXPECT_FALSE(parse_uri("sip:bob@example.123"));
}

TEST(Uri, Ipv6References) {
  auto u = parse_uri("sip:bob@[2001:db8::1]");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "[2001:db8::1]");
  EXPECT_EQ(u->port, 0);
  u = parse_uri("sips:[2001:DB8:0:0:0:0:0:1]:5061;transport=tcp");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "");
  EXPECT_EQ(u->host, "[2001:DB8:0:0:0:0:0:1]");
  EXPECT_EQ(u->port, 5061);
  EXPECT_EQ(u->param("transport"), "tcp");
  u = parse_uri("sip:[::1]");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "[::1]");
  u = parse_uri("sip:bob@[::ffff:192.0.2.1]:5060");  // hexpart ":" IPv4address
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "[::ffff:192.0.2.1]");

  EXPECT_FALSE(parse_uri("sip:bob@[2001:db8::1"));    // unterminated
  EXPECT_FALSE(parse_uri("sip:bob@[2001:db8::1]x"));  // junk after ']'
  EXPECT_FALSE(parse_uri("sip:bob@[2001:db8::1]:"));  // empty port
  EXPECT_FALSE(parse_uri("sip:bob@[]"));
  EXPECT_FALSE(parse_uri("sip:bob@2001:db8::1"));  // not in brackets
  EXPECT_FALSE(parse_uri("sip:bob@[2001:db8::g]"));
  EXPECT_FALSE(parse_uri("sip:bob@[fe80::1%25eth0]"));  // no zone in RFC 3261
}

TEST(Uri, Ipv6ReferencesHoldAnIpv6Address) {
  EXPECT_FALSE(parse_uri("sip:bob@[1]"));
  EXPECT_FALSE(parse_uri("sip:bob@[:]"));
  EXPECT_FALSE(parse_uri("sip:bob@[:::]"));
  EXPECT_FALSE(parse_uri("sip:bob@[1:2:3:4:5:6:7:8:9]"));
  EXPECT_FALSE(parse_uri("sip:bob@[12345::1]"));
  EXPECT_FALSE(parse_uri("sip:bob@[1::2::3]"));
  EXPECT_FALSE(parse_uri("sip:bob@[192.0.2.1]"));
  EXPECT_FALSE(parse_uri("sip:bob@[...]"));
}

TEST(Uri, PortBounds) {
  auto u = parse_uri("sip:bob@host:1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 1);
  u = parse_uri("sip:bob@host:65535");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 65535);
  u = parse_uri("sip:bob@host:05060");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 5060);
  EXPECT_FALSE(parse_uri("sip:bob@host:65536"));
  EXPECT_FALSE(parse_uri("sip:bob@host:99999999999999999999999"));
  EXPECT_FALSE(parse_uri("sip:bob@host:0"));  // 0 stands for "no port" in Uri
  EXPECT_FALSE(parse_uri("sip:bob@host:"));
  EXPECT_FALSE(parse_uri("sip:bob@host:-1"));
  EXPECT_FALSE(parse_uri("sip:bob@host:+5"));
  EXPECT_FALSE(parse_uri("sip:bob@host:50a"));
  EXPECT_FALSE(parse_uri("sip:bob@host:5060:5060"));
}

TEST(Uri, HostPortIsTheTransportDestination) {
  EXPECT_EQ(parse_uri("sip:bob@host.example:5070;transport=tcp")->host_port(), "host.example:5070");
  EXPECT_EQ(parse_uri("sip:bob@host.example")->host_port(), "host.example");
  EXPECT_EQ(parse_uri("sip:[2001:db8::1]:5060")->host_port(), "[2001:db8::1]:5060");
}

// ---- parameters and headers -------------------------------------------------------------------

TEST(Uri, WellKnownParameters) {
  auto u = parse_uri(
      "sip:bob@biloxi.com;transport=udp;user=ip;method=INVITE;ttl=15;maddr=239.255.255.1;lr");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->param("transport"), "udp");
  EXPECT_EQ(u->param("user"), "ip");
  EXPECT_EQ(u->param("method"), "INVITE");
  EXPECT_EQ(u->param("ttl"), "15");
  EXPECT_EQ(u->param("maddr"), "239.255.255.1");
  EXPECT_EQ(u->param("lr"), "");  // valueless: present, empty
  EXPECT_FALSE(u->param("received"));
  for (const char* transport : {"udp", "tcp", "sctp", "tls", "ws", "wss", "x-other"}) {
    EXPECT_EQ(parse_uri(std::string("sip:h;transport=") + transport)->param("transport"),
              transport);
  }
  u = parse_uri("sip:bob@host;maddr=[2001:db8::1]");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->param("maddr"), "[2001:db8::1]");
}

TEST(Uri, ParameterNamesCompareCaseInsensitively) {
  auto u = parse_uri("SIP:bob@host;Transport=TCP;LR");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->sip);                      // the scheme too
  EXPECT_EQ(u->param("transport"), "TCP");  // the value as written
  EXPECT_EQ(u->param("TRANSPORT"), "TCP");
  EXPECT_EQ(u->param("lr"), "");
  EXPECT_TRUE(parse_uri("SiPs:bob@host")->is_sips());
}

TEST(Uri, EscapedParametersStayEscaped) {
  auto u = parse_uri("sip:bob@host;n%61me=v%61lue%25%34%31");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->param("n%61me"), "v%61lue%25%34%31");
  EXPECT_EQ(unescape(*u->param("n%61me")), "value%41");  // one pass, never twice
  EXPECT_FALSE(parse_uri("sip:bob@host;name=%4"));
  EXPECT_FALSE(parse_uri("sip:bob@host;name=%zz"));
  EXPECT_FALSE(parse_uri("sip:bob@host;%=1"));
}

TEST(Uri, UnknownAndValuelessParameters) {
  auto u = parse_uri("sip:bob@host;unknownparam;foo=bar;ob;x-y.z=1!~*'()");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->params, ";unknownparam;foo=bar;ob;x-y.z=1!~*'()");
  EXPECT_EQ(u->param("unknownparam"), "");
  EXPECT_EQ(u->param("foo"), "bar");
  EXPECT_EQ(u->param("ob"), "");
  EXPECT_EQ(u->param("x-y.z"), "1!~*'()");
  u = parse_uri("sip:bob@host;lr;lr=on");  // the first of a repeated name
  ASSERT_TRUE(u);
  EXPECT_EQ(u->param("lr"), "");
}

// paramchar = param-unreserved / unreserved / escaped; param-unreserved = [ ] / : & + $
TEST(Uri, ParametersTakeEveryParamchar) {
  auto u = parse_uri("sip:bob@host;x=a/b;y=$1&2;z=a+b;w=[v]:1;k/e:y[1]&$+=v");
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->param("x"), "a/b");
  EXPECT_EQ(u->param("y"), "$1&2");
  EXPECT_EQ(u->param("z"), "a+b");
  EXPECT_EQ(u->param("w"), "[v]:1");
  EXPECT_EQ(u->param("k/e:y[1]&$+"), "v");
}

TEST(Uri, MalformedParametersAreRefused) {
  EXPECT_FALSE(parse_uri("sip:bob@host;"));  // empty parameter
  EXPECT_FALSE(parse_uri("sip:bob@host;;lr"));
  EXPECT_FALSE(parse_uri("sip:bob@host;lr;"));
  EXPECT_FALSE(parse_uri("sip:bob@host;=x"));       // no name
  EXPECT_FALSE(parse_uri("sip:bob@host;x="));       // pvalue = 1*paramchar
  EXPECT_FALSE(parse_uri("sip:bob@host;x=a=b"));    // '=' is no paramchar
  EXPECT_FALSE(parse_uri("sip:bob@host;x=\"q\""));  // no quoted strings in a URI
  EXPECT_FALSE(parse_uri("sip:bob@host;x=a b"));
  EXPECT_FALSE(parse_uri("sip:bob@host;x=a,b"));
  EXPECT_FALSE(parse_uri("sip:bob@host; lr"));  // RFC 4475 3.1.2.8
}

TEST(Uri, Headers) {
  auto u = parse_uri("sip:bob@host;lr?subject=project%20x&priority=urgent");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->params, ";lr");
  EXPECT_EQ(u->headers, "subject=project%20x&priority=urgent");
  u = parse_uri("sip:bob@host?subject=");  // hvalue may be empty
  ASSERT_TRUE(u);
  EXPECT_EQ(u->headers, "subject=");
  u = parse_uri("sip:bob@host?to=a?b:c[d]/e+$");  // hnv-unreserved in names and values
  ASSERT_TRUE(u);
  EXPECT_EQ(u->headers, "to=a?b:c[d]/e+$");
  EXPECT_FALSE(parse_uri("sip:bob@host?a=<b>"));
  EXPECT_FALSE(parse_uri("sip:bob@host?a=b c"));
  EXPECT_FALSE(parse_uri("sip:bob@host?a=b;c"));  // ';' must be escaped in a header
  EXPECT_FALSE(parse_uri("sip:bob@host?a=%2"));
}

// headers = "?" header *( "&" header ); header = hname "=" hvalue; hname = 1*( ... )
TEST(Uri, HeadersFollowTheirGrammar) {
  EXPECT_FALSE(parse_uri("sip:bob@host?"));
  EXPECT_FALSE(parse_uri("sip:bob@host?subject"));
  EXPECT_FALSE(parse_uri("sip:bob@host?=x"));
  EXPECT_FALSE(parse_uri("sip:bob@host?a=b&"));
  EXPECT_FALSE(parse_uri("sip:bob@host?a=b&&c=d"));
  EXPECT_FALSE(parse_uri("sip:bob@host?a=b=c"));
}

// ---- other schemes and garbage ------------------------------------------------------------------

TEST(Uri, OtherSchemesNeedOnlyASchemeAndText) {
  for (const char* text :
       {"tel:+1-201-555-0123", "tel:7042;phone-context=example.com", "mailto:alice@example.com",
        "urn:service:sos", "http://www.example.com", "isbn:2983792873", "name:John_Smith"}) {
    auto u = parse_uri(text);
    ASSERT_TRUE(u) << text;
    EXPECT_FALSE(u->sip) << text;
    EXPECT_EQ(u->raw, text);
    EXPECT_EQ(u->user, "");
    EXPECT_EQ(u->host, "");
  }
  EXPECT_EQ(parse_uri("TEL:+1555")->scheme, "TEL");
  EXPECT_FALSE(parse_uri("1tel:+1555"));  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  EXPECT_FALSE(parse_uri("te_l:+1555"));
  EXPECT_FALSE(parse_uri("tel:"));
  EXPECT_FALSE(parse_uri("tel:+1 555"));
  EXPECT_FALSE(parse_uri("tel:<+1555>"));
}

TEST(Uri, RefusesGarbageWithoutCrashing) {
  const std::vector<std::string> garbage = {
      "",           "sip",        "sip:",      "SIP:",     ":",
      ":sip",       "sip::",      "sip:@",     "sip:@:",   "sip:[",
      "sip:]",      "sip:[]:",    "sip:;",     "sip:?",    "sip:;?",
      "sip:a@b@c",  "sip:%",      "sip:%%%",   "sip:a%@b", "sip:\r\n",
      "sip:a\tb",   "sips:@[::1", "<sip:a@b>", "sip:a@b>", std::string("sip:a\0b@h", 9),
      "sip:\"a\"@b"};
  for (const auto& text : garbage) {
    auto u = parse_uri(text);
    EXPECT_FALSE(u) << text;
    if (!u) {
      EXPECT_EQ(u.error().status, 400) << text;
    }
  }
}

TEST(Uri, HugeInputs) {
  // The message layer bounds sizes; here a long URI must parse in one pass and not crash.
  const std::string user(1 << 20, 'u');
  auto u = parse_uri("sip:" + user + "@host");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user.size(), user.size());
  std::string many = "sip:host";
  for (int i = 0; i < 100000; ++i) many += ";p" + std::to_string(i);
  u = parse_uri(many);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->param("p99999"), "");
  EXPECT_FALSE(parse_uri("sip:host" + std::string(1 << 20, ';')));
  EXPECT_FALSE(parse_uri("sip:" + std::string(1 << 20, '[')));
  EXPECT_FALSE(parse_uri("sip:h:" + std::string(1 << 20, '9')));
  EXPECT_FALSE(parse_uri("sip:" + std::string(1 << 20, '%')));
}

TEST(Uri, KeepsTheTextItWasGiven) {
  // Uri is a set of views into its text: `raw` is the whole URI, byte for byte.
  for (const char* text :
       {"sip:alice@atlanta.com", "sips:alice:pw@[2001:db8::1]:5061;transport=tcp;lr?subject=x",
        "sip:%61lice@h;n%61me=v", "tel:+1555"}) {
    auto u = parse_uri(text);
    ASSERT_TRUE(u) << text;
    EXPECT_EQ(u->raw, text);
    EXPECT_EQ(u->raw.data(), text);  // a view, not a copy
  }
}

// ---- name-addr / addr-spec ----------------------------------------------------------------------

TEST(NameAddr, DisplayNamesQuotedAndNot) {
  auto a = parse_name_addr("\"Alice Liddell\" <sip:alice@atlanta.com>;tag=1928301774");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->quoted);
  EXPECT_EQ(a->display_name, "Alice Liddell");
  EXPECT_EQ(a->uri.user, "alice");
  EXPECT_EQ(a->tag(), "1928301774");
  a = parse_name_addr("Bob <sip:bob@biloxi.com>");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->quoted);
  EXPECT_EQ(a->display_name, "Bob");
  EXPECT_EQ(a->tag(), "");
  a = parse_name_addr("<sip:carol@chicago.com>");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->display_name, "");
  a = parse_name_addr("\"a <b> ; c\" <sip:x@y>");  // <, > and ; inside quotes are text
  ASSERT_TRUE(a);
  EXPECT_EQ(a->display_name, "a <b> ; c");
  EXPECT_EQ(a->uri.host, "y");
}

TEST(NameAddr, AddrSpecParametersBelongToTheHeader) {  // RFC 3261 §20.10
  auto a = parse_name_addr("sip:carol@chicago.com;tag=887s;lr");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->uri.params, "");
  EXPECT_EQ(a->params, ";tag=887s;lr");
  EXPECT_EQ(a->tag(), "887s");
  EXPECT_EQ(a->param("lr"), "");
  a = parse_name_addr("<sip:carol@chicago.com;lr>;tag=887s");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->uri.param("lr"), "");
  EXPECT_FALSE(a->param("lr"));
  EXPECT_EQ(a->tag(), "887s");
  a = parse_name_addr("<sip:a@b> ; tag = x ; q=0.5");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->tag(), "x");
  EXPECT_EQ(a->param("q"), "0.5");
  a = parse_name_addr("<sip:a@b>;+sip.instance=\"<urn:uuid:0001>\"");  // quoted gen-value
  ASSERT_TRUE(a);
  EXPECT_EQ(a->param("+sip.instance"), "<urn:uuid:0001>");
}

TEST(NameAddr, StarAndOtherSchemes) {
  EXPECT_TRUE(parse_name_addr("*")->star);
  EXPECT_TRUE(parse_name_addr("  *  ")->star);
  auto a = parse_name_addr("<tel:+15551234>;tag=t");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->uri.sip);
  EXPECT_EQ(a->uri.scheme, "tel");
  EXPECT_EQ(a->tag(), "t");
}

TEST(NameAddr, RefusesMalformedValues) {
  for (const char* value :
       {"", "   ", "\"unterminated <sip:a@b>", "\"a\" sip:b@c", "Bell, Alex <sip:a@b>",
        "< sip:a@b >", "<sip:a@b", "<>", "sip:a@b?Route=x", "sip:a@b, sip:c@d", "<sip:a@b> junk",
        "<sip:a@b>;;", "<sip:a@b>;tag=", "<sip:a@b>;=x", "<sip:a@[::1>"}) {
    EXPECT_FALSE(parse_name_addr(value)) << value;
  }
}

// ---- RFC 4475 ---------------------------------------------------------------------------------

TEST(Rfc4475Uris, EscapesAreKeptAndDecodeOnce) {  // 3.1.1.3 valid-esc01
  const std::string bytes = read_rfc4475_case("valid-esc01.sip");
  const std::string ruri_text = request_uri(bytes);  // Uri views into it
  auto ruri = parse_uri(ruri_text);
  ASSERT_TRUE(ruri);
  EXPECT_EQ(ruri->user, "sips%3Auser%40example.com");
  EXPECT_EQ(unescape(ruri->user), "sips:user@example.com");
  EXPECT_EQ(ruri->host, "example.net");
  auto m = Message::parse(bytes);
  ASSERT_TRUE(m);
  EXPECT_EQ(unescape(m->to().uri.user), "user");
  EXPECT_EQ(unescape(m->from().uri.user), "I have spaces");
  auto contact = parse_name_addr(*m->header(Hdr::kContact));
  ASSERT_TRUE(contact);
  EXPECT_EQ(unescape(contact->uri.user), "caller");
  EXPECT_EQ(contact->uri.params, ";%6C%72;n%61me=v%61lue%25%34%31");
  EXPECT_EQ(unescape(*contact->uri.param("n%61me")), "value%41");
}

TEST(Rfc4475Uris, EscapedNullsAreData) {  // 3.1.1.4 valid-escnull
  auto m = Message::parse(read_rfc4475_case("valid-escnull.sip"));
  ASSERT_TRUE(m);
  EXPECT_EQ(unescape(m->to().uri.user), std::string("null-\0-null", 11));
  std::vector<std::string> users;
  m->for_each_value(Hdr::kContact, [&](std::string_view v) {
    auto c = parse_name_addr(v);
    ASSERT_TRUE(c) << v;
    users.push_back(unescape(c->uri.user));
  });
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0], std::string(1, '\0'));
  EXPECT_EQ(users[1], std::string(2, '\0'));
}

TEST(Rfc4475Uris, PercentThatIsNotAnEscape) {  // 3.1.1.5 valid-esc02
  auto m = Message::parse(read_rfc4475_case("valid-esc02.sip"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->to().display_name, "%Z%45");  // a display name is not a URI: no escapes
  EXPECT_EQ(m->to().uri.host, "example.com");
  EXPECT_EQ(m->uri().host, "registrar.example.com");
}

TEST(Rfc4475Uris, SemicolonsInTheUserPart) {  // 3.1.1.9 valid-semiuri
  const std::string u_text = request_uri(read_rfc4475_case("valid-semiuri.sip"));
  auto u = parse_uri(u_text);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "user;par=u%40example.net");
  EXPECT_EQ(unescape(u->user), "user;par=u@example.net");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->params, "");
}

TEST(Rfc4475Uris, TortuousInviteUris) {  // 3.1.1.1 valid-wsinv
  const std::string bytes = read_rfc4475_case("valid-wsinv.sip");
  const std::string ruri_text = request_uri(bytes);  // Uri views into it
  auto ruri = parse_uri(ruri_text);
  ASSERT_TRUE(ruri);
  EXPECT_EQ(ruri->host, "chair-dnrc.example.com");
  EXPECT_EQ(ruri->param("unknownparam"), "");
  auto m = Message::parse(bytes);
  ASSERT_TRUE(m);
  EXPECT_EQ(unquote("\"" + std::string(m->from().display_name) + "\""), "J Rosenberg \\\"");
  auto route = parse_name_addr(*m->header(Hdr::kRoute));
  ASSERT_TRUE(route);
  EXPECT_EQ(route->uri.host, "services.example.com");
  EXPECT_EQ(route->uri.param("lr"), "");
  EXPECT_EQ(route->uri.param("unknownwith"), "value");
  EXPECT_EQ(route->uri.param("unknown-no-value"), "");
}

TEST(Rfc4475Uris, WideRangeOfValidCharacters) {  // 3.1.1.2 valid-intmeth
  const std::string u_text = request_uri(read_rfc4475_case("valid-intmeth.sip"));
  auto u = parse_uri(u_text);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  EXPECT_EQ(u->password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  EXPECT_EQ(u->host, "example.com");
}

TEST(Rfc4475Uris, LongValuesAndNoSpaceBeforeTheAngle) {  // 3.1.1.7, 3.1.1.6
  auto m = Message::parse(read_rfc4475_case("valid-longreq.sip"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->to().uri.port, 6000);
  const Uri& to = m->to().uri;
  EXPECT_EQ(to.param("unknownparam1"), "very" + repeat("long", 20) + "value");
  EXPECT_EQ(to.param("longparam" + repeat("name", 25)), "shortvalue");
  EXPECT_EQ(to.param("very" + repeat("long", 25) + "ParameterNameWithNoValue"), "");
  auto lws = Message::parse(read_rfc4475_case("valid-lwsdisp.sip"));
  ASSERT_TRUE(lws);
  EXPECT_EQ(lws->from().display_name, "caller");
  EXPECT_EQ(lws->from().uri.user, "caller");
}

TEST(Rfc4475Uris, MalformedRequestUris) {  // 3.1.2.7, 3.1.2.8
  EXPECT_FALSE(parse_uri(request_uri(read_rfc4475_case("invalid-ltgtruri.sip"))));
  EXPECT_FALSE(parse_uri(request_uri(read_rfc4475_case("invalid-lwsruri.sip"))));
}

TEST(Rfc4475Uris, EscapedHeadersInUris) {  // 3.1.2.11, 3.3.14, 3.1.2.13
  // The URI grammar allows headers; the Request-URI may not carry them (the message layer
  // refuses), a Contact may.
  const std::string ruri_text = request_uri(read_rfc4475_case("invalid-escruri.sip"));
  auto ruri = parse_uri(ruri_text);
  ASSERT_TRUE(ruri);
  EXPECT_EQ(unescape(ruri->headers), "Route=<sip:example.com>");
  auto m = Message::parse(read_rfc4475_case("semantic-regescrt.sip"));
  ASSERT_TRUE(m);
  auto contact = parse_name_addr(*m->header(Hdr::kContact));
  ASSERT_TRUE(contact);
  EXPECT_EQ(unescape(contact->uri.headers), "Route=<sip:sip.example.com>");
  // Without <>, a URI with headers is refused: '?' is not allowed in an addr-spec.
  const std::string badct = field(read_rfc4475_case("invalid-regbadct.sip"), "Contact");
  EXPECT_EQ(badct, "sip:user@example.com?Route=%3Csip:sip.example.com%3E");
  EXPECT_FALSE(parse_name_addr(badct));
}

TEST(Rfc4475Uris, MalformedNameAddrs) {  // 3.1.2.14, 3.1.2.15, 3.1.2.6
  const std::string badaspec = field(read_rfc4475_case("invalid-badaspec.sip"), "To");
  EXPECT_EQ(badaspec, "\"Watson, Thomas\" < sip:t.watson@example.org >");
  EXPECT_FALSE(parse_name_addr(badaspec));
  const std::string baddn = field(read_rfc4475_case("invalid-baddn.sip"), "From");
  EXPECT_EQ(baddn, "Bell, Alexander <sip:a.g.bell@example.com>;tag=43");
  EXPECT_FALSE(parse_name_addr(baddn));
  const std::string quotbal = field(read_rfc4475_case("invalid-quotbal.sip"), "To");
  EXPECT_EQ(quotbal, "\"Mr. J. User <sip:j.user@example.com>");
  EXPECT_FALSE(parse_name_addr(quotbal));
}

TEST(Rfc4475Uris, UnknownSchemes) {  // 3.3.2, 3.3.3, 3.3.4
  const std::string unk_text = request_uri(read_rfc4475_case("semantic-unkscm.sip"));
  auto unk = parse_uri(unk_text);
  ASSERT_TRUE(unk);
  EXPECT_FALSE(unk->sip);
  EXPECT_EQ(unk->scheme, "nobodyKnowsThisScheme");
  const std::string novel_text = request_uri(read_rfc4475_case("semantic-novelsc.sip"));
  auto novel = parse_uri(novel_text);
  ASSERT_TRUE(novel);
  EXPECT_FALSE(novel->sip);
  EXPECT_EQ(novel->scheme, "soap.beep");
  auto m = Message::parse(read_rfc4475_case("semantic-unksm2.sip"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->to().uri.scheme, "isbn");
  EXPECT_EQ(m->from().uri.scheme, "http");
  EXPECT_EQ(m->from().tag(), "3234233");
  auto contact = parse_name_addr(*m->header(Hdr::kContact));
  ASSERT_TRUE(contact);
  EXPECT_EQ(contact->uri.raw, "name:John_Smith");
  EXPECT_FALSE(contact->uri.sip);
}

}  // namespace
}  // namespace sb::sip
