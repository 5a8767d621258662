#include "sip/sdp.hpp"

#include <gtest/gtest.h>

namespace sb::sip {
namespace {

constexpr std::string_view kOffer =
    "v=0\r\n"
    "o=alice 2890844526 2890844527 IN IP4 192.0.2.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 18 8 0 101\r\n"
    "a=rtpmap:18 G729/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=ptime:30\r\n"
    "a=sendrecv\r\n"
    "m=video 51372 RTP/AVP 31\r\n"
    "a=rtpmap:31 H261/90000\r\n";

LocalMedia local() {
  LocalMedia l;
  l.address = "198.51.100.7";
  l.port = 40000;
  l.session_id = 42;
  l.session_version = 1;
  return l;
}

TEST(Sdp, ParsesAudioAndVideo) {
  auto sdp = parse_sdp(kOffer);
  ASSERT_TRUE(sdp) << sdp.error().message;
  EXPECT_EQ(sdp->session_id, 2890844526u);
  EXPECT_EQ(sdp->connection, "192.0.2.10");
  ASSERT_EQ(sdp->media.size(), 2u);
  const auto& a = sdp->media[0];
  EXPECT_EQ(a.port, 49170);
  ASSERT_EQ(a.codecs.size(), 4u);
  EXPECT_EQ(a.codecs[1].name, "PCMA");
  EXPECT_EQ(a.codecs[2].name, "PCMU");  // static payload type, no rtpmap
  EXPECT_EQ(a.codecs[3].fmtp, "0-15");
  EXPECT_EQ(a.ptime, 30);
  EXPECT_EQ(sdp->direction_of(a), Direction::kSendRecv);
  EXPECT_EQ(sdp->media[1].codecs[0].clock_rate, 90000);
}

TEST(Sdp, RejectsMalformedAndOversize) {
  EXPECT_FALSE(parse_sdp(""));
  EXPECT_FALSE(parse_sdp("v=1\r\n"));
  EXPECT_FALSE(parse_sdp("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\n"));
  EXPECT_FALSE(parse_sdp("v=0\r\no=- x 1 IN IP4 1.2.3.4\r\n"));
  EXPECT_FALSE(
      parse_sdp("v=0\r\no=- 1 1 IN IP4 a\r\nc=IN IP4 1.2.3.4\r\nm=audio 99999 RTP/AVP 0\r\n"));
  EXPECT_FALSE(
      parse_sdp("v=0\r\no=- 1 1 IN IP4 a\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 200\r\n"));
  EXPECT_FALSE(
      parse_sdp("v=0\r\no=- 1 1 IN IP4 a\r\nc=IN IP4 1.2.3.4\r\nm=audio 5 RTP/AVP 0\r\n"
                "a=rtpmap:0 PCMU\r\n"));
  EXPECT_FALSE(parse_sdp(std::string(20000, 'a')));
  std::string many = "v=0\r\no=- 1 1 IN IP4 a\r\nc=IN IP4 1.2.3.4\r\n";
  for (int i = 0; i < 10; ++i) many += "m=audio 5 RTP/AVP 0\r\n";
  EXPECT_FALSE(parse_sdp(many));
}

TEST(Sdp, RoundTripsThroughBuilder) {
  auto offer = make_offer(local(), {});
  auto text = to_string(offer);
  EXPECT_NE(text.find("m=audio 40000 RTP/AVP 0 8 101\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=rtpmap:101 telephone-event/8000\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=fmtp:101 0-16\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=ptime:20\r\n"), std::string::npos);
  auto back = parse_sdp(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(to_string(*back), text);
}

TEST(OfferAnswer, PicksFirstSupportedCodecAndRejectsVideo) {
  auto offer = parse_sdp(kOffer);
  ASSERT_TRUE(offer);
  auto ans = make_answer(*offer, local(), {});
  ASSERT_TRUE(ans) << ans.error().message;
  EXPECT_EQ(ans->audio.codec.name, "PCMA");
  EXPECT_EQ(ans->audio.codec.payload_type, 8);
  EXPECT_EQ(ans->audio.telephone_event_pt, 101);
  EXPECT_EQ(ans->audio.remote_address, "192.0.2.10");
  EXPECT_EQ(ans->audio.remote_port, 49170);
  EXPECT_EQ(ans->audio.ptime, 30);
  EXPECT_FALSE(ans->audio.remote_hold);
  ASSERT_EQ(ans->sdp.media.size(), 2u);
  EXPECT_EQ(ans->sdp.media[0].formats, (std::vector<std::string>{"8", "101"}));
  EXPECT_EQ(ans->sdp.media[1].port, 0);
  // The offerer's view of the same answer.
  auto back = parse_sdp(to_string(ans->sdp));
  ASSERT_TRUE(back);
  auto applied = apply_answer(*offer, *back);
  ASSERT_TRUE(applied) << applied.error().message;
  EXPECT_EQ(applied->codec.name, "PCMA");
  EXPECT_EQ(applied->remote_address, "198.51.100.7");
  EXPECT_EQ(applied->remote_port, 40000);
  EXPECT_EQ(applied->direction, Direction::kSendRecv);
}

TEST(OfferAnswer, NoCommonCodecFails) {
  auto offer = parse_sdp(
      "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n");
  ASSERT_TRUE(offer);
  EXPECT_FALSE(make_answer(*offer, local(), {}));
}

struct HoldCase {
  const char* direction_line;
  const char* address;
  Direction expected_ours;
  bool remote_hold;
};

class Hold : public ::testing::TestWithParam<HoldCase> {};

TEST_P(Hold, AnswersDirection) {
  const auto& c = GetParam();
  std::string text = std::string("v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nc=IN IP4 ") + c.address +
                     "\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n" + c.direction_line;
  auto offer = parse_sdp(text);
  ASSERT_TRUE(offer);
  auto ans = make_answer(*offer, local(), {});
  ASSERT_TRUE(ans);
  EXPECT_EQ(ans->audio.direction, c.expected_ours);
  EXPECT_EQ(ans->audio.remote_hold, c.remote_hold);
  EXPECT_NE(to_string(ans->sdp).find("a=" + std::string(to_string(c.expected_ours))),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Directions, Hold,
    ::testing::Values(HoldCase{"", "192.0.2.1", Direction::kSendRecv, false},
                      HoldCase{"a=sendonly\r\n", "192.0.2.1", Direction::kRecvOnly, true},
                      HoldCase{"a=inactive\r\n", "192.0.2.1", Direction::kInactive, true},
                      HoldCase{"a=recvonly\r\n", "192.0.2.1", Direction::kSendOnly, false},
                      HoldCase{"", "0.0.0.0", Direction::kRecvOnly, true}),
    [](const auto& info) {
      // The offer's direction attribute ("a=sendonly\r\n" -> "sendonly"); without one, its
      // connection address says whether it holds.
      const std::string line = info.param.direction_line;
      if (line.empty()) {
        return std::string(info.param.address) == "0.0.0.0" ? std::string("zero_address")
                                                            : std::string("no_attribute");
      }
      return line.substr(2, line.find('\r') - 2);
    });

TEST(OfferAnswer, LocalHoldOfferAndUnhold) {
  LocalMedia l = local();
  l.direction = Direction::kSendOnly;
  auto offer = make_offer(l, {});
  EXPECT_NE(to_string(offer).find("a=sendonly"), std::string::npos);
  // Peer answers recvonly: we only send (music on hold), peer does not send.
  auto answer = parse_sdp(
      "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 0\r\na=recvonly\r\n");
  ASSERT_TRUE(answer);
  auto a = apply_answer(offer, *answer);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->direction, Direction::kSendOnly);
  // Unhold: sendrecv offer, sendrecv answer with a new media address.
  l.direction = Direction::kSendRecv;
  l.session_version = 2;
  auto unhold = make_offer(l, {});
  auto answer2 = parse_sdp(
      "v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.99\r\nt=0 0\r\n"
      "m=audio 4100 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n");
  ASSERT_TRUE(answer2);
  auto b = apply_answer(unhold, *answer2);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->direction, Direction::kSendRecv);
  EXPECT_EQ(b->remote_address, "192.0.2.99");
  EXPECT_EQ(b->remote_port, 4100);
  EXPECT_EQ(b->telephone_event_pt, 101);
  // An answer choosing a codec we never offered is refused.
  auto bogus = parse_sdp(
      "v=0\r\no=- 1 2 IN IP4 h\r\ns=-\r\nc=IN IP4 192.0.2.99\r\nt=0 0\r\n"
      "m=audio 4100 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n");
  ASSERT_TRUE(bogus);
  EXPECT_FALSE(apply_answer(unhold, *bogus));
}

// ---- SRTP (RFC 4568): RTP/SAVP streams keyed by a=crypto ----

constexpr std::string_view kSavpOffer =
    "v=0\r\n"
    "o=bob 1 1 IN IP4 192.0.2.20\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.20\r\n"
    "t=0 0\r\n"
    "m=audio 50000 RTP/SAVP 0 101\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=crypto:3 AES_256_CM_HMAC_SHA1_80 "
    "inline:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"
    "a=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB\r\n";

LocalMedia secure_local(bool required) {
  LocalMedia l = local();
  l.crypto = {"1 AES_CM_128_HMAC_SHA1_80 inline:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC",
              "2 AES_CM_128_HMAC_SHA1_32 inline:DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD"};
  l.require_srtp = required;
  return l;
}

TEST(SrtpOfferAnswer, AnswersTheFirstSuiteWeTakeWithItsTag) {
  auto offer = parse_sdp(kSavpOffer);
  ASSERT_TRUE(offer);
  auto ans = make_answer(*offer, secure_local(false), {});
  ASSERT_TRUE(ans) << ans.error().message;
  EXPECT_TRUE(ans->audio.secure);
  EXPECT_EQ(ans->audio.local_crypto,
            "7 AES_CM_128_HMAC_SHA1_32 inline:DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD");
  EXPECT_EQ(ans->audio.remote_crypto,
            "7 AES_CM_128_HMAC_SHA1_32 inline:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
  const std::string text = to_string(ans->sdp);
  EXPECT_NE(text.find("m=audio 40000 RTP/SAVP 0 101\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("a=crypto:7 AES_CM_128_HMAC_SHA1_32 inline:DDDD"), std::string::npos) << text;
  EXPECT_EQ(text.find("a=crypto:1"), std::string::npos) << "only the chosen suite is answered";
}

TEST(SrtpOfferAnswer, PolicyDecidesWhatIsRefused) {
  auto savp = parse_sdp(kSavpOffer);
  ASSERT_TRUE(savp);
  // media.srtp = off: no keys, so an RTP/SAVP-only offer is refused.
  auto off = make_answer(*savp, local(), {});
  ASSERT_FALSE(off);
  EXPECT_NE(off.error().message.find("media.srtp is off"), std::string::npos)
      << off.error().message;
  // media.srtp = required: a plain offer is refused, with the reason.
  auto plain = parse_sdp(kOffer);
  ASSERT_TRUE(plain);
  auto refused = make_answer(*plain, secure_local(true), {});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("SRTP is required"), std::string::npos)
      << refused.error().message;
  // optional: the plain offer is answered plainly.
  auto optional = make_answer(*plain, secure_local(false), {});
  ASSERT_TRUE(optional);
  EXPECT_FALSE(optional->audio.secure);
  EXPECT_EQ(to_string(optional->sdp).find("a=crypto"), std::string::npos);
  // No suite in common.
  std::string only256(kSavpOffer);
  only256.erase(only256.find("a=crypto:7"));
  auto unknown = parse_sdp(only256);
  ASSERT_TRUE(unknown);
  auto none = make_answer(*unknown, secure_local(true), {});
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("no offered SRTP crypto suite"), std::string::npos);
}

TEST(SrtpOfferAnswer, OurSavpOfferAndTheAnswerToIt) {
  const LocalMedia l = secure_local(true);
  const SessionDescription offer = make_offer(l, {});
  const std::string text = to_string(offer);
  EXPECT_NE(text.find("RTP/SAVP"), std::string::npos) << text;
  EXPECT_NE(text.find("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:CCCC"), std::string::npos);
  EXPECT_NE(text.find("a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:DDDD"), std::string::npos);
  // Not required: our offers stay plain RTP/AVP.
  EXPECT_EQ(to_string(make_offer(secure_local(false), {})).find("SAVP"), std::string::npos);

  auto answer = parse_sdp(
      "v=0\r\no=x 1 1 IN IP4 192.0.2.30\r\ns=-\r\nc=IN IP4 192.0.2.30\r\nt=0 0\r\n"
      "m=audio 6000 RTP/SAVP 0\r\n"
      "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE\r\n");
  ASSERT_TRUE(answer);
  auto audio = apply_answer(offer, *answer);
  ASSERT_TRUE(audio) << audio.error().message;
  EXPECT_TRUE(audio->secure);
  EXPECT_EQ(audio->local_crypto, l.crypto[0]);
  EXPECT_EQ(audio->remote_crypto,
            "1 AES_CM_128_HMAC_SHA1_80 inline:EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE");
  // An answer that drops to RTP/AVP, or answers a tag we did not offer, is not usable.
  auto plain = parse_sdp(
      "v=0\r\no=x 1 1 IN IP4 192.0.2.30\r\ns=-\r\nc=IN IP4 192.0.2.30\r\nt=0 0\r\n"
      "m=audio 6000 RTP/AVP 0\r\n");
  ASSERT_TRUE(plain);
  EXPECT_FALSE(apply_answer(offer, *plain));
  auto wrong_tag = parse_sdp(
      "v=0\r\no=x 1 1 IN IP4 192.0.2.30\r\ns=-\r\nc=IN IP4 192.0.2.30\r\nt=0 0\r\n"
      "m=audio 6000 RTP/SAVP 0\r\n"
      "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE\r\n");
  ASSERT_TRUE(wrong_tag);
  EXPECT_FALSE(apply_answer(offer, *wrong_tag));
}

}  // namespace
}  // namespace sb::sip
