#include "app/config.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "support/temp_dir.hpp"

namespace sb::app {
namespace {

auto env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(Config, DefaultsAreTheEmbeddedDefault) {
  Config c;
  EXPECT_EQ(c.data_dir, "./var");
  EXPECT_EQ(c.http_listen, "127.0.0.1:8080");
  EXPECT_EQ(c.sip_listen, "127.0.0.1:5060");
  EXPECT_EQ(c.effective_public_url(), "http://127.0.0.1:8080");
  EXPECT_TRUE(validate(c));
}

TEST(Config, EnvironmentOverridesFileAndFileOverridesDefaults) {
  testing::TempDir dir;
  const auto path = dir.file("switchboard.toml");
  std::ofstream(path) << "data_dir = \"/srv/sb\"\npublic_url = \"https://voice.example/\"\n"
                         "[http]\nlisten = \"0.0.0.0:9000\"\nmax_body_bytes = 4096\n"
                         "[sip]\nlisten = \"0.0.0.0:5080\"\n";
  Config c;
  ASSERT_TRUE(apply_toml_file(c, path));
  EXPECT_EQ(c.data_dir, "/srv/sb");
  EXPECT_EQ(c.http_listen, "0.0.0.0:9000");
  EXPECT_EQ(c.http.max_body_bytes, 4096u);
  EXPECT_EQ(c.sip_listen, "0.0.0.0:5080");
  EXPECT_EQ(c.effective_public_url(), "https://voice.example");

  ASSERT_TRUE(apply_environment(
      c, env_of({{"SWITCHBOARD_DATA_DIR", "/tmp/x"}, {"SWITCHBOARD_HTTP_LISTEN", "127.0.0.1:1"}})));
  EXPECT_EQ(c.data_dir, "/tmp/x");
  EXPECT_EQ(c.http_listen, "127.0.0.1:1");
  EXPECT_EQ(c.sip_listen, "0.0.0.0:5080");  // untouched by the environment
}

TEST(Config, EventRetryScheduleFromFileOrEnvironment) {
  testing::TempDir dir;
  const auto path = dir.file("events.toml");
  std::ofstream(path) << "[events]\nretry_schedule = \"5s,5m\"\n";
  Config c;
  EXPECT_TRUE(c.events_retry_schedule_ms.empty());  // the router's default
  ASSERT_TRUE(apply_toml_file(c, path));
  EXPECT_EQ(c.events_retry_schedule_ms, (std::vector<std::int64_t>{5'000, 300'000}));
  ASSERT_TRUE(apply_environment(c, env_of({{"SWITCHBOARD_EVENTS_RETRY_SCHEDULE", "100,200"}})));
  EXPECT_EQ(c.events_retry_schedule_ms, (std::vector<std::int64_t>{100, 200}));
  auto bad = apply_environment(c, env_of({{"SWITCHBOARD_EVENTS_RETRY_SCHEDULE", "soon"}}));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("SWITCHBOARD_EVENTS_RETRY_SCHEDULE"), std::string::npos);
}

TEST(Config, MessageFloodLimitFromFileAndItsChecks) {
  testing::TempDir dir;
  Config c;
  EXPECT_EQ(c.sip_message_rate, 500);
  EXPECT_EQ(c.sip_message_burst, 1000);
  const auto path = dir.file("messages.toml");
  std::ofstream(path) << "[sip]\nmessage_rate = 6000\nmessage_burst = 12000.5\n";
  ASSERT_TRUE(apply_toml_file(c, path));
  EXPECT_EQ(c.sip_message_rate, 6000);
  EXPECT_EQ(c.sip_message_burst, 12000.5);
  for (const char* bad : {"message_rate = 0", "message_rate = -1", "message_burst = \"many\""}) {
    const auto file = dir.file("bad.toml");
    std::ofstream(file) << "[sip]\n" << bad << "\n";
    Config d;
    auto s = apply_toml_file(d, file);
    ASSERT_FALSE(s) << bad;
    EXPECT_NE(s.error().message.find("sip.message_"), std::string::npos) << s.error().message;
  }
}

TEST(Config, UnknownKeysAndBadSyntaxAreErrorsWithTheirPlace) {
  testing::TempDir dir;
  const auto typo = dir.file("typo.toml");
  std::ofstream(typo) << "[http]\nlisen = \"127.0.0.1:1\"\n";
  Config c;
  auto s = apply_toml_file(c, typo);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("http.lisen"), std::string::npos);

  const auto broken = dir.file("broken.toml");
  std::ofstream(broken) << "data_dir = \n";
  auto b = apply_toml_file(c, broken);
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find(":1:"), std::string::npos) << b.error().message;
}

TEST(Config, CredentialsMustComeTogetherAndHaveTheRightShape) {
  Config c;
  ASSERT_TRUE(apply_environment(
      c, env_of({{"SWITCHBOARD_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"}})));
  EXPECT_FALSE(validate(c));
  c.auth_token = "0123456789abcdef0123456789abcdef";
  EXPECT_TRUE(validate(c));
  c.account_sid = "PN0123456789abcdef0123456789abcdef";
  EXPECT_FALSE(validate(c));
  c.account_sid = "AC0123456789abcdef0123456789abcdef";
  c.auth_token = "short";
  EXPECT_FALSE(validate(c));
}

TEST(Config, RejectsBadValues) {
  Config c;
  c.public_url = "ftp://x";
  EXPECT_FALSE(validate(c));
  c = Config{};
  c.log_level = "loud";
  EXPECT_FALSE(validate(c));
  c = Config{};
  EXPECT_FALSE(apply_environment(c, env_of({{"SWITCHBOARD_WORKERS", "two"}})));
}

TEST(Config, CallAndMediaSettingsFromFileEnvironmentAndChecks) {
  testing::TempDir dir;
  const auto path = dir.file("calls.toml");
  std::ofstream(path) << "[sip]\nmax_calls = 300\nallow = [\"10.0.0.0/8\", \"127.0.0.1\"]\n"
                         "realm = \"pbx\"\n[sip.users]\ntrunk = \"pw\"\n"
                         "[media]\nrtp_port_min = 30000\nrtp_port_max = 30999\n"
                         "rtp_address = \"192.0.2.1\"\nrealtime = true\n";
  Config c;
  ASSERT_TRUE(apply_toml_file(c, path));
  EXPECT_EQ(c.max_calls, 300u);
  EXPECT_EQ(c.sip_allow, (std::vector<std::string>{"10.0.0.0/8", "127.0.0.1"}));
  EXPECT_EQ(c.rtp_port_min, 30000);
  EXPECT_EQ(c.rtp_port_max, 30999);
  EXPECT_EQ(c.rtp_address, "192.0.2.1");
  EXPECT_TRUE(c.realtime);
  EXPECT_EQ(c.sip_realm, "pbx");
  EXPECT_EQ(c.sip_users.at("trunk"), "pw");
  ASSERT_TRUE(apply_environment(c, env_of({{"SWITCHBOARD_RTP_PORTS", "40000-40100"},
                                           {"SWITCHBOARD_SIP_ALLOW", " 192.0.2.0/24 , ::1"},
                                           {"SWITCHBOARD_MAX_CALLS", "7"}})));
  EXPECT_EQ(c.rtp_port_min, 40000);
  EXPECT_EQ(c.rtp_port_max, 40100);
  EXPECT_EQ(c.sip_allow, (std::vector<std::string>{"192.0.2.0/24", "::1"}));
  EXPECT_EQ(c.max_calls, 7u);
  EXPECT_TRUE(validate(c));
  c.rtp_port_max = c.rtp_port_min;  // empty range
  EXPECT_FALSE(validate(c));
  c = Config{};
  c.max_calls = 0;
  EXPECT_FALSE(validate(c));
  EXPECT_FALSE(apply_environment(c, env_of({{"SWITCHBOARD_RTP_PORTS", "40000"}})));
  ASSERT_TRUE(apply_environment(c, env_of({{"SWITCHBOARD_SIP_USERS", "a:x,b:y:z"}})));
  EXPECT_EQ(c.sip_users, (std::map<std::string, std::string>{{"a", "x"}, {"b", "y:z"}}));
  EXPECT_FALSE(apply_environment(c, env_of({{"SWITCHBOARD_SIP_USERS", "nopassword"}})));
  EXPECT_FALSE(apply_environment(c, env_of({{"SWITCHBOARD_RTP_PORTS", "a-b"}})));
}

TEST(Config, OutboundDenyPrivateFromFileAndEnvironment) {
  testing::TempDir dir;
  Config c;
  EXPECT_FALSE(c.outbound_deny_private);
  const auto path = dir.file("deny.toml");
  std::ofstream(path) << "[http]\noutbound_deny_private = true\n";
  ASSERT_TRUE(apply_toml_file(c, path));
  EXPECT_TRUE(c.outbound_deny_private);
  ASSERT_TRUE(apply_environment(c, env_of({{"SWITCHBOARD_OUTBOUND_DENY_PRIVATE", "0"}})));
  EXPECT_FALSE(c.outbound_deny_private);
  ASSERT_TRUE(apply_environment(c, env_of({{"SWITCHBOARD_OUTBOUND_DENY_PRIVATE", "true"}})));
  EXPECT_TRUE(c.outbound_deny_private);
}

TEST(Config, HttpsFilesFromFileAndEnvironmentAndBothNeeded) {
  testing::TempDir dir;
  Config c;
  EXPECT_FALSE(c.http_tls());
  EXPECT_EQ(c.effective_public_url(), "http://127.0.0.1:8080");
  const auto path = dir.file("tls.toml");
  std::ofstream(path) << "[http]\ntls_cert = \"/etc/sb/cert.pem\"\ntls_key = \"/etc/sb/key.pem\"\n";
  ASSERT_TRUE(apply_toml_file(c, path));
  EXPECT_TRUE(c.http_tls());
  EXPECT_EQ(c.http_tls_key, "/etc/sb/key.pem");
  EXPECT_EQ(c.effective_public_url(), "https://127.0.0.1:8080");
  EXPECT_TRUE(validate(c));
  ASSERT_TRUE(apply_environment(c, env_of({{"SWITCHBOARD_HTTP_TLS_CERT", "/run/c.pem"}})));
  EXPECT_EQ(c.http_tls_cert, "/run/c.pem");
  Config half;
  half.http_tls_cert = "/run/c.pem";
  auto v = validate(half);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("http.tls_key"), std::string::npos);
}

TEST(Config, SipSourceLimitsAndBansFromFileAndEnvironment) {
  testing::TempDir dir;
  Config c;
  EXPECT_EQ(c.sip_guard.ban_after, 10);
  EXPECT_EQ(c.sip_guard.ban_time, std::chrono::seconds(600));
  const auto path = dir.file("guard.toml");
  std::ofstream(path) << "[sip]\nsource_rate = 50\nsource_burst = 80\nban_after = 3\n"
                         "ban_window = 30\nban_time = 120\n";
  ASSERT_TRUE(apply_toml_file(c, path));
  EXPECT_EQ(c.sip_guard.request_rate, 50);
  EXPECT_EQ(c.sip_guard.request_burst, 80);
  EXPECT_EQ(c.sip_guard.ban_after, 3);
  EXPECT_EQ(c.sip_guard.ban_window, std::chrono::seconds(30));
  EXPECT_EQ(c.sip_guard.ban_time, std::chrono::seconds(120));
  ASSERT_TRUE(apply_environment(c, env_of({{"SWITCHBOARD_SIP_BAN_AFTER", "0"},
                                           {"SWITCHBOARD_SIP_BAN_TIME", "5"},
                                           {"SWITCHBOARD_SIP_SOURCE_RATE", "100"}})));
  EXPECT_EQ(c.sip_guard.ban_after, 0);
  EXPECT_EQ(c.sip_guard.ban_time, std::chrono::seconds(5));
  EXPECT_EQ(c.sip_guard.request_rate, 100);
  EXPECT_EQ(c.sip_guard.request_burst, 200);
  EXPECT_FALSE(apply_environment(c, env_of({{"SWITCHBOARD_SIP_BAN_TIME", "0"}})));
  const auto bad = dir.file("bad-guard.toml");
  std::ofstream(bad) << "[sip]\nban_time = 0\n";
  EXPECT_FALSE(apply_toml_file(c, bad));
  std::ofstream(bad) << "[sip]\nsource_rate = -1\n";
  EXPECT_FALSE(apply_toml_file(c, bad));
}

TEST(Config, ApiAccountRateFromFileAndEnvironment) {
  testing::TempDir dir;
  Config c;
  EXPECT_EQ(c.api_account_rate, 1000);
  const auto path = dir.file("api.toml");
  std::ofstream(path) << "[api]\naccount_rate = 5\naccount_burst = 7\n";
  ASSERT_TRUE(apply_toml_file(c, path));
  EXPECT_EQ(c.api_account_rate, 5);
  EXPECT_EQ(c.api_account_burst, 7);
  ASSERT_TRUE(apply_environment(c, env_of({{"SWITCHBOARD_API_ACCOUNT_RATE", "0"}})));
  EXPECT_EQ(c.api_account_rate, 0);
  EXPECT_FALSE(apply_environment(c, env_of({{"SWITCHBOARD_API_ACCOUNT_RATE", "x"}})));
  const auto bad = dir.file("bad-api.toml");
  std::ofstream(bad) << "[api]\naccount_rate = -3\n";
  EXPECT_FALSE(apply_toml_file(c, bad));
  std::ofstream(bad) << "[api]\nrate = 3\n";
  EXPECT_FALSE(apply_toml_file(c, bad));
}

TEST(Config, MediaLatchPolicyFromFileAndEnvironment) {
  testing::TempDir dir;
  Config c;
  EXPECT_EQ(c.media_latch, media::LatchPolicy::kNat);
  const auto path = dir.file("latch.toml");
  std::ofstream(path) << "[media]\nlatch = \"strict\"\n";
  ASSERT_TRUE(apply_toml_file(c, path));
  EXPECT_EQ(c.media_latch, media::LatchPolicy::kStrict);
  ASSERT_TRUE(apply_environment(c, env_of({{"SWITCHBOARD_MEDIA_LATCH", "any"}})));
  EXPECT_EQ(c.media_latch, media::LatchPolicy::kAny);
  EXPECT_FALSE(apply_environment(c, env_of({{"SWITCHBOARD_MEDIA_LATCH", "yes"}})));
  const auto bad = dir.file("bad.toml");
  std::ofstream(bad) << "[media]\nlatch = \"learn\"\n";
  EXPECT_FALSE(apply_toml_file(c, bad));
}

TEST(Config, SipTlsAndSrtpFromFileAndEnvironment) {
  testing::TempDir dir;
  Config c;
  EXPECT_TRUE(c.sip_tls_listen.empty());
  EXPECT_EQ(c.media_srtp, media::SrtpPolicy::kOptional);
  const auto path = dir.file("tls.toml");
  std::ofstream(path) << "[sip]\ntls_listen = \"0.0.0.0:5061\"\ntls_cert = \"/etc/sb/sip.pem\"\n"
                         "tls_key = \"/etc/sb/sip.key\"\ntls_ca = \"/etc/sb/trunks.pem\"\n"
                         "[media]\nsrtp = \"required\"\n"
                         "[[sip.trunks]]\nname = \"carrier\"\naddress = \"192.0.2.1:5061\"\n"
                         "transport = \"tls\"\ntls_verify = false\nsrtp = \"off\"\n";
  ASSERT_TRUE(apply_toml_file(c, path));
  EXPECT_EQ(c.sip_tls_listen, "0.0.0.0:5061");
  EXPECT_EQ(c.sip_tls_ca, "/etc/sb/trunks.pem");
  EXPECT_EQ(c.media_srtp, media::SrtpPolicy::kRequired);
  ASSERT_EQ(c.sip_trunks.size(), 1u);
  EXPECT_EQ(c.sip_trunks[0].transport, sip::Transport::kTls);
  EXPECT_FALSE(c.sip_trunks[0].tls_verify);
  EXPECT_EQ(c.sip_trunks[0].srtp, media::SrtpPolicy::kOff);
  EXPECT_TRUE(validate(c));
  ASSERT_TRUE(apply_environment(c, env_of({{"SWITCHBOARD_SIP_TLS_LISTEN", "127.0.0.1:0"},
                                           {"SWITCHBOARD_MEDIA_SRTP", "off"}})));
  EXPECT_EQ(c.sip_tls_listen, "127.0.0.1:0");
  EXPECT_EQ(c.media_srtp, media::SrtpPolicy::kOff);
  EXPECT_FALSE(apply_environment(c, env_of({{"SWITCHBOARD_MEDIA_SRTP", "always"}})));
  // A TLS listener needs its certificate and key.
  Config half;
  half.sip_tls_listen = "127.0.0.1:5061";
  half.sip_tls_cert = "/etc/sb/sip.pem";
  auto v = validate(half);
  ASSERT_FALSE(v);
  EXPECT_NE(v.error().message.find("sip.tls_key"), std::string::npos);
  for (const char* bad : {"[media]\nsrtp = \"yes\"\n",
                          "[[sip.trunks]]\nname = \"t\"\naddress = \"192.0.2.1:5061\"\n"
                          "transport = \"sctp\"\n",
                          "[[sip.trunks]]\nname = \"t\"\naddress = \"192.0.2.1:5061\"\n"
                          "srtp = \"maybe\"\n"}) {
    std::ofstream(path) << bad;
    Config b;
    EXPECT_FALSE(apply_toml_file(b, path)) << bad;
  }
}

}  // namespace
}  // namespace sb::app

namespace sb::app {
namespace {

TEST(Config, DigestOrderAndTrunkRegistration) {
  auto order = parse_digest_algorithms("md5, SHA-256");
  ASSERT_TRUE(order);
  EXPECT_EQ(*order, (std::vector<sip::DigestAlgorithm>{sip::DigestAlgorithm::kMd5,
                                                       sip::DigestAlgorithm::kSha256}));
  EXPECT_FALSE(parse_digest_algorithms("sha-512"));
  Config c;
  ASSERT_TRUE(apply_environment(c, env_of({{"SWITCHBOARD_SIP_DIGEST", "sha-1"}})));
  EXPECT_FALSE(validate(c));

  testing::TempDir dir;
  const auto path = dir.file("trunks.toml");
  std::ofstream(path) << "[calls]\nmax_queued_per_account = 5\n"
                         "[sip]\ndigest = \"md5\"\n[[sip.trunks]]\nname = \"p\"\n"
                         "address = \"192.0.2.1:5060\"\nusername = \"u\"\npassword = \"pw\"\n"
                         "register = true\nregister_expires = 300\n";
  Config t;
  ASSERT_TRUE(apply_toml_file(t, path));
  EXPECT_EQ(t.sip_digest, "md5");
  EXPECT_EQ(t.max_queued_per_account, 5u);
  ASSERT_EQ(t.sip_trunks.size(), 1u);
  EXPECT_TRUE(t.sip_trunks[0].register_to);
  EXPECT_EQ(t.sip_trunks[0].register_expires, 300);
  // Registering takes credentials.
  std::ofstream(path) << "[[sip.trunks]]\nname = \"p\"\naddress = \"192.0.2.1:5060\"\n"
                         "register = true\n";
  Config bad;
  auto s = apply_toml_file(bad, path);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("needs a username and a password"), std::string::npos);
}

}  // namespace
}  // namespace sb::app
