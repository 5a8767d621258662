#include "sip/digest.hpp"

#include <gtest/gtest.h>

namespace sb::sip {
namespace {

TEST(Digest, Rfc2617Md5Vector) {
  EXPECT_EQ(digest_response(DigestAlgorithm::kMd5, "Mufasa", "testrealm@host.com", "Circle Of Life",
                            "GET", "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                            "00000001", "0a4f113b", "auth"),
            "6629fae49393a05397450978507c4ef1");
}

TEST(Digest, Rfc7616Sha256Vector) {
  EXPECT_EQ(
      digest_response(DigestAlgorithm::kSha256, "Mufasa", "http-auth@example.org", "Circle of Life",
                      "GET", "/dir/index.html", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
                      "00000001", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "auth"),
      "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

TEST(Digest, ParsesChallenges) {
  auto c = parse_challenge(
      "Digest realm=\"sip.example.com\", qop=\"auth,auth-int\", nonce=\"abc\", opaque=\"o\", "
      "algorithm=SHA-256, stale=TRUE");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->realm, "sip.example.com");
  EXPECT_EQ(c->nonce, "abc");
  EXPECT_EQ(c->opaque, "o");
  EXPECT_TRUE(c->qop_auth);
  EXPECT_TRUE(c->stale);
  EXPECT_EQ(c->algorithm, DigestAlgorithm::kSha256);
  EXPECT_FALSE(parse_challenge("Basic realm=\"x\""));
  EXPECT_FALSE(parse_challenge("Digest realm=\"x\", nonce=\"n\", algorithm=SHA-512-256"));
  EXPECT_FALSE(parse_challenge("Digest realm=\"x\""));
}

std::string register_with(std::string_view auth) {
  std::string s =
      "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
      "From: <sip:alice@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c\r\n"
      "CSeq: 1 INVITE\r\n";
  if (!auth.empty()) s += "Authorization: " + std::string(auth) + "\r\n";
  return s + "Content-Length: 0\r\n\r\n";
}

TEST(DigestVerifier, ChallengeAnswerVerifyBothAlgorithms) {
  // The verifier keeps only H(A1), never the password.
  DigestVerifier v("sb", "secret", [](std::string_view u) -> std::optional<DigestSecret> {
    if (u == "alice") return DigestSecret::from_password("alice", "sb", "pw");
    return std::nullopt;
  });
  EXPECT_EQ(v.verify(*Message::parse(register_with("")), 1000), DigestVerifier::Outcome::kMissing);
  for (auto alg : {DigestAlgorithm::kMd5, DigestAlgorithm::kSha256}) {
    auto ch = parse_challenge(v.challenge(1000, alg));
    ASSERT_TRUE(ch);
    EXPECT_EQ(ch->algorithm, alg);
    const auto good = make_authorization(*ch, "alice", "pw", "INVITE", "sip:bob@example.com", "cn");
    EXPECT_EQ(v.verify(*Message::parse(register_with(good)), 1010), DigestVerifier::Outcome::kOk);
    const auto wrong =
        make_authorization(*ch, "alice", "nope", "INVITE", "sip:bob@example.com", "cn");
    EXPECT_EQ(v.verify(*Message::parse(register_with(wrong)), 1010), DigestVerifier::Outcome::kBad);
    EXPECT_EQ(v.verify(*Message::parse(register_with(good)), 2000),
              DigestVerifier::Outcome::kStale);
    const auto stranger = make_authorization(*ch, "mallory", "pw", "INVITE", "sip:b", "cn");
    EXPECT_EQ(v.verify(*Message::parse(register_with(stranger)), 1010),
              DigestVerifier::Outcome::kBad);
  }
  // The verified user is reported, and a per-call lookup overrides the constructor's.
  auto ch = parse_challenge(v.challenge(1000, DigestAlgorithm::kMd5));
  ASSERT_TRUE(ch);
  const auto bob = make_authorization(*ch, "bob", "pw2", "INVITE", "sip:bob@example.com", "cn");
  std::string who;
  const DigestVerifier::SecretLookup bobs = [](std::string_view u) -> std::optional<DigestSecret> {
    if (u == "bob") return DigestSecret::from_password("bob", "sb", "pw2");
    return std::nullopt;
  };
  EXPECT_EQ(v.verify(*Message::parse(register_with(bob)), 1010, bobs, &who),
            DigestVerifier::Outcome::kOk);
  EXPECT_EQ(who, "bob");
  EXPECT_EQ(v.verify(*Message::parse(register_with(bob)), 1010), DigestVerifier::Outcome::kBad);
  // RFC 2617 §3.5's example user: H(A1) in MD5.
  EXPECT_EQ(digest_ha1(DigestAlgorithm::kMd5, "Mufasa", "testrealm@host.com", "Circle Of Life"),
            "939e7578ed9e3c518a452acee763bce9");
  // A nonce not signed by us is refused.
  DigestChallenge forged;
  forged.realm = "sb";
  forged.nonce = "1000.00000000000000000000000000000000";
  const auto f = make_authorization(forged, "alice", "pw", "INVITE", "sip:bob@example.com", "c");
  EXPECT_EQ(v.verify(*Message::parse(register_with(f)), 1000), DigestVerifier::Outcome::kBad);
}

}  // namespace
}  // namespace sb::sip

namespace sb::sip {
namespace {

TEST(Digest, GarbageCredentialsAndChallengesAreErrorsNotCrashes) {
  for (const char* bad :
       {"", "Digest", "Basic dXNlcjpwYXNz", "Digest username=", "Digest username=\"a",
        "Digest ,,,,=,=\"", "Digest algorithm=ROT13",
        "Digest username=\"a\", algorithm=ROT13, algorithm=MD5", "\x01\x02\xff garbage"}) {
    EXPECT_FALSE(parse_credentials(bad)) << bad;
  }
  for (const char* bad :
       {"", "Digest", "Digest realm=\"r\"", "Digest nonce=\"n\", algorithm=SHA-512",
        "Digest nonce=\"n\", algorithm=ROT13, algorithm=MD5", "Bearer x"}) {
    EXPECT_FALSE(parse_challenge(bad)) << bad;
  }
  auto ok = parse_challenge("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-256, qop=\"auth\"");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->algorithm, DigestAlgorithm::kSha256);
  EXPECT_TRUE(ok->qop_auth);
}

}  // namespace
}  // namespace sb::sip
