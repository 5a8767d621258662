#include "http/signature.hpp"

#include <gtest/gtest.h>

namespace sb::http {
namespace {

// Twilio's published example (shared/TWILIO-COMPAT.md).
constexpr const char* kToken = "12345";
constexpr const char* kUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";
SignedParams published_params() {
  return {{"CallSid", "CA1234567890ABCDE"},
          {"Caller", "+12349013030"},
          {"Digits", "1234"},
          {"From", "+12349013030"},
          {"To", "+18005551212"}};
}
constexpr const char* kSignature = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";

TEST(TwilioSignature, PublishedVector) {
  EXPECT_EQ(twilio_signature(kToken, kUrl, published_params()), kSignature);
}

TEST(TwilioSignature, ParameterOrderDoesNotMatter) {
  const SignedParams params = published_params();
  SignedParams shuffled(params.rbegin(), params.rend());
  EXPECT_EQ(twilio_signature(kToken, kUrl, shuffled), kSignature);
}

TEST(TwilioSignature, GetSignsTheQueryOnly) {
  // Expected values computed independently (Python hmac/hashlib) for the same URL.
  EXPECT_EQ(twilio_signature(kToken, kUrl, {}), "zYQTYrRWXE7LtzbG4PfP7/bkkGo=");
  EXPECT_TRUE(validate_twilio_signature(kToken, kUrl, {}, "zYQTYrRWXE7LtzbG4PfP7/bkkGo="));
  EXPECT_FALSE(
      validate_twilio_signature(kToken, kUrl, published_params(), "zYQTYrRWXE7LtzbG4PfP7/bkkGo="));
}

TEST(TwilioSignature, RepeatedKeysSignEachValueInSortedOrder) {
  // "Z0" < "ay" < "az" < "b2": byte order, values of a repeated key sorted too.
  const SignedParams params = {{"b", "2"}, {"a", "z"}, {"a", "y"}, {"Z", "0"}};
  EXPECT_EQ(twilio_signature(kToken, "https://example.com/cb", params),
            "5MQJ64CxYfMD+MA4j6qDD71hBqI=");
  const SignedParams reordered = {{"a", "y"}, {"Z", "0"}, {"b", "2"}, {"a", "z"}};
  EXPECT_EQ(twilio_signature(kToken, "https://example.com/cb", reordered),
            "5MQJ64CxYfMD+MA4j6qDD71hBqI=");
}

TEST(TwilioSignature, ValidatesThePublishedVector) {
  EXPECT_TRUE(validate_twilio_signature(kToken, kUrl, published_params(), kSignature));
}

TEST(TwilioSignature, RejectsTamperedInputs) {
  EXPECT_FALSE(validate_twilio_signature("54321", kUrl, published_params(), kSignature));
  EXPECT_FALSE(validate_twilio_signature(kToken, "https://mycompany.com/myapp.php?foo=1&bar=3",
                                         published_params(), kSignature));
  SignedParams changed = published_params();
  changed[2].second = "1235";
  EXPECT_FALSE(validate_twilio_signature(kToken, kUrl, changed, kSignature));
  SignedParams extra = published_params();
  extra.emplace_back("Extra", "");
  EXPECT_FALSE(validate_twilio_signature(kToken, kUrl, extra, kSignature));
  EXPECT_FALSE(validate_twilio_signature(kToken, kUrl, published_params(), ""));
  EXPECT_FALSE(
      validate_twilio_signature(kToken, kUrl, published_params(), "0/KCTR6DLpKmkAf8muzZqo1nDgQ"));
  EXPECT_FALSE(
      validate_twilio_signature(kToken, kUrl, published_params(), "1/KCTR6DLpKmkAf8muzZqo1nDgQ="));
}

TEST(TwilioSignature, AcceptsTheUrlWithOrWithoutTheDefaultPort) {
  // Signed without a port, received with one (a proxy that spells it out) …
  EXPECT_TRUE(validate_twilio_signature(kToken, "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                                        published_params(), kSignature));
  // … and signed with the port, received without it.
  constexpr const char* kWithPort = "EpDEmp1PyjDYp77YxYU3GILBWzE=";
  EXPECT_EQ(twilio_signature(kToken, "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                             published_params()),
            kWithPort);
  EXPECT_TRUE(validate_twilio_signature(kToken, kUrl, published_params(), kWithPort));
  // http's default port is 80, not 443.
  const std::string http_sig = twilio_signature(kToken, "http://example.com:80/a", {});
  EXPECT_TRUE(validate_twilio_signature(kToken, "http://example.com/a", {}, http_sig));
  EXPECT_FALSE(validate_twilio_signature(kToken, "http://example.com/a", {},
                                         twilio_signature(kToken, "http://example.com:443/a", {})));
}

TEST(TwilioSignature, PortHandlingKeepsUserinfoAndIpv6Intact) {
  const std::string sig = twilio_signature(kToken, "https://user:pw@[::1]/x?a=1", {});
  EXPECT_TRUE(validate_twilio_signature(kToken, "https://user:pw@[::1]:443/x?a=1", {}, sig));
  const std::string sig_port = twilio_signature(kToken, "https://[::1]:443/x", {});
  EXPECT_TRUE(validate_twilio_signature(kToken, "https://[::1]/x", {}, sig_port));
}

TEST(TwilioSignature, BodySha256IsLowercaseHex) {
  EXPECT_EQ(twilio_body_sha256(R"({"property": "value", "boolean": true})"),
            "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620");
  EXPECT_EQ(twilio_body_sha256(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(TwilioSignature, JsonBodyVariant) {
  const std::string body = R"({"property": "value", "boolean": true})";
  const std::string url = append_body_sha256("https://mycompany.com/myapp.php", body);
  EXPECT_EQ(url,
            "https://mycompany.com/myapp.php?bodySHA256="
            "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620");
  const std::string sig = twilio_signature(kToken, url, {});
  EXPECT_EQ(sig, "y77kIzt2vzLz71DgmJGsen2scGs=");
  EXPECT_TRUE(validate_twilio_signature_with_body(kToken, url, body, sig));
  // The port variants apply here too.
  EXPECT_TRUE(validate_twilio_signature_with_body(
      kToken,
      "https://mycompany.com:443/myapp.php?bodySHA256="
      "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620",
      body, sig));
  EXPECT_TRUE(
      validate_twilio_signature_with_body(kToken, url, body, "DvyhxKdj6iwN6iLOt+UHx5yLUaw="));
  // A changed body no longer matches its hash; a missing hash parameter fails.
  EXPECT_FALSE(validate_twilio_signature_with_body(kToken, url, body + " ", sig));
  EXPECT_FALSE(validate_twilio_signature_with_body(
      kToken, "https://mycompany.com/myapp.php", body,
      twilio_signature(kToken, "https://mycompany.com/myapp.php", {})));
  EXPECT_FALSE(
      validate_twilio_signature_with_body(kToken, url, body, "y77kIzt2vzLz71DgmJGsen2scGs"));
}

TEST(TwilioSignature, AppendBodySha256KeepsQueryAndFragment) {
  const std::string hash = twilio_body_sha256("{}");
  EXPECT_EQ(append_body_sha256("https://a.b/c?x=1", "{}"), "https://a.b/c?x=1&bodySHA256=" + hash);
  EXPECT_EQ(append_body_sha256("https://a.b/c?", "{}"), "https://a.b/c?bodySHA256=" + hash);
  EXPECT_EQ(append_body_sha256("https://a.b/c#rc=2", "{}"),
            "https://a.b/c?bodySHA256=" + hash + "#rc=2");
}

TEST(TwilioSignature, EmptyTokenAndUrlDoNotCrash) {
  EXPECT_FALSE(twilio_signature("", "", {}).empty());
  EXPECT_FALSE(validate_twilio_signature("", "not a url", {}, "x"));
}

}  // namespace
}  // namespace sb::http
