// Daemon configuration: defaults, then a TOML file, then SWITCHBOARD_* environment variables,
// then command-line flags (applied by app/cli), each layer overriding the one before.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/address.hpp"
#include "core/error.hpp"
#include "http/server.hpp"
#include "media/latch.hpp"
#include "media/srtp.hpp"
#include "sip/digest.hpp"
#include "sip/source_guard.hpp"
#include "speech/recognizers.hpp"
#include "voice/outbound.hpp"

namespace sb::app {

struct Config {
  std::string data_dir = "./var";
  std::string http_listen = "127.0.0.1:8080";
  std::string sip_listen = "127.0.0.1:5060";
  // [sip] tls_listen ("host:port"; empty: no SIP over TLS), tls_cert / tls_key (PEM): SIP over
  // TLS (sips: and ;transport=tls). tls_ca: PEM certificates trusted for outbound TLS besides
  // the system's (trunks with tls_verify = false are not checked at all).
  std::string sip_tls_listen;
  std::string sip_tls_cert;
  std::string sip_tls_key;
  std::string sip_tls_ca;
  std::string public_url;  // empty: derived from http_listen
  std::string log_level = "info";
  unsigned workers = 0;  // 0: one per core
  std::uint32_t shutdown_timeout_ms = 10000;
  http::ServerLimits http;
  // [http] tls_cert / tls_key (PEM files): the API, streams and console speak HTTPS only
  // (TLS 1.2+); SIGHUP rereads both files without dropping connections.
  std::string http_tls_cert;
  std::string http_tls_key;
  bool http_tls() const { return !http_tls_cert.empty(); }
  // [http] outbound_deny_private: the daemon's fetches for tenants (webhooks, media, callbacks,
  // event webhooks) refuse loopback and private addresses too (link-local and metadata
  // addresses are always refused): for multi-tenant deployments.
  bool outbound_deny_private = false;
  // Requests each account may make to the REST API per second, and in a burst ([api]
  // account_rate, account_burst; SWITCHBOARD_API_ACCOUNT_RATE): beyond, 429 with 20429 and
  // Retry-After. 0: no limit.
  double api_account_rate = 1000;
  double api_account_burst = 2000;
  // Main account credentials; when unset the first start generates them.
  std::optional<std::string> account_sid;
  std::optional<std::string> auth_token;
  bool demo = false;  // seed the demo number on start

  // Calls and media.
  std::uint16_t rtp_port_min = 10000;  // the UDP range RTP/RTCP pairs come from
  std::uint16_t rtp_port_max = 20000;
  std::string rtp_address;             // where peers send RTP; empty: the SIP listen address
  std::uint32_t max_calls = 5000;      // concurrent calls before new INVITEs get 503
  std::vector<std::string> sip_allow;  // CIDR ranges that may call in; empty: anyone
  // MESSAGE requests one source address may send: per second, and in a burst (sip.message_rate,
  // sip.message_burst); beyond, 503 with Retry-After.
  double sip_message_rate = 500;
  double sip_message_burst = 1000;
  // New SIP requests (outside dialogs) one source address may send per second and in a burst
  // (sip.source_rate, sip.source_burst; 0: no limit), beyond which 503 with Retry-After; and
  // the ban list: sip.ban_after failed authentications within sip.ban_window seconds ban the
  // source for sip.ban_time seconds (its messages are dropped; 0 disables bans).
  sip::GuardLimits sip_guard;
  bool realtime = false;  // SCHED_FIFO for the worker threads (needs CAP_SYS_NICE)
  // Which sources RTP sessions listen to (media.latch: strict, nat, any; docs/operations.md).
  media::LatchPolicy media_latch = media::kDefaultLatchPolicy;
  // When call media is SRTP (media.srtp: off, optional, required); trunks and SIP domains may
  // set their own.
  media::SrtpPolicy media_srtp = media::kDefaultSrtpPolicy;
  // SIP digest credentials callers must present (empty: no challenge); never logged.
  std::map<std::string, std::string> sip_users;
  std::string sip_realm = "switchboard";
  // Digest challenges, in order of preference (RFC 8760): "sha-256,md5" (the default),
  // "md5,sha-256" for clients that read only the first challenge (sipp, older phones), or one.
  std::string sip_digest = "sha-256,md5";
  // Where outbound calls to numbers go ([[sip.trunks]]); sip: URIs need none.
  std::vector<voice::Trunk> sip_trunks;
  // Outbound calls dialled per account per second ([calls] cps_per_account); more wait queued.
  double calls_per_second = 10;
  // Calls an account may have queued at once ([calls] max_queued_per_account); more get 429.
  std::uint32_t max_queued_per_account = 10000;
  // Live calls an account may have at once, inbound, outbound and <Dial> legs together
  // ([calls] max_active_per_account; beyond: inbound 503, Calls.json 429/20429, a <Dial> leg
  // fails), and incoming calls per account per second ([calls] inbound_cps_per_account, bursts
  // of twice that; beyond: 503). 0: no limit (max_calls still bounds the process).
  std::uint32_t max_active_per_account = 0;
  double inbound_cps_per_account = 0;

  // Speech recognition for <Gather input="speech"> ([speech]; docs/speech.md).
  speech::SpeechConfig speech;
  bool speech_preload = false;  // load PocketSphinx's model at start, not at the first Gather

  // The web console at /console/ ([console]; docs/console.md): on by default; sign-in sessions
  // last session_ttl seconds; max_failed_signins failures from one address in 5 minutes block
  // it for the rest of them.
  bool console_enabled = true;
  std::int64_t console_session_ttl_s = 8 * 3600;
  int console_max_failed_signins = 10;

  // Events: the webhook retry schedule in ms (empty: the router's default).
  std::vector<std::int64_t> events_retry_schedule_ms;

  // The base URL clients reach the daemon at, without a trailing slash.
  std::string effective_public_url() const;
  // Where <Record> writes WAV files and Recordings/{RE}.wav reads them.
  std::filesystem::path recordings_dir() const {
    return std::filesystem::path(data_dir) / "recordings";
  }
};

// "10000-20000" into [first, last].
Status parse_port_range(std::string_view text, std::uint16_t& first, std::uint16_t& last);

// Reads a TOML file into `config`; unknown keys are an error so typos do not pass silently.
Status apply_toml_file(Config& config, const std::string& path);

// Applies SWITCHBOARD_* variables; `getenv` is a seam for tests.
Status apply_environment(Config& config, const std::function<const char*(const char*)>& getenv_fn);

// The digest algorithms of `sip_digest` ("sha-256,md5"), in order; an error names a bad one.
Result<std::vector<sip::DigestAlgorithm>> parse_digest_algorithms(std::string_view text);

// Checks the combined configuration (addresses parse, URL shape, credential shapes).
Status validate(const Config& config);

}  // namespace sb::app
