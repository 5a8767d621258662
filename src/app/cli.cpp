#include "app/cli.hpp"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "app/daemon.hpp"
#include "core/log.hpp"
#include "twiml/lint.hpp"
#include "voice/fetch_tool.hpp"

namespace sb::app {

int run_cli(int argc, char** argv) {
  CLI::App cli{"Switchboard: a self-hosted, Twilio-compatible programmable-voice platform"};
  cli.set_version_flag("--version", std::string("switchboard ") + SB_VERSION);
  cli.require_subcommand(1);

  std::string config_file, data_dir, http_listen, sip_listen, public_url, log_level, rtp_ports,
      rtp_address;
  unsigned workers = 0;
  std::uint32_t max_calls = 0;
  bool demo = false;
  auto* serve_cmd = cli.add_subcommand("serve", "Run the daemon");
  serve_cmd->add_option("--config", config_file, "TOML configuration file")
      ->check(CLI::ExistingFile);
  auto* o_data =
      serve_cmd->add_option("--data-dir", data_dir, "Data directory [SWITCHBOARD_DATA_DIR, ./var]");
  auto* o_http =
      serve_cmd->add_option("--http-listen", http_listen,
                            "HTTP listen address [SWITCHBOARD_HTTP_LISTEN, 127.0.0.1:8080]");
  auto* o_sip = serve_cmd->add_option(
      "--sip-listen", sip_listen, "SIP listen address [SWITCHBOARD_SIP_LISTEN, 127.0.0.1:5060]");
  auto* o_url = serve_cmd->add_option(
      "--public-url", public_url,
      "Base URL clients reach the daemon at [SWITCHBOARD_PUBLIC_URL, from --http-listen]");
  auto* o_log = serve_cmd->add_option("--log-level", log_level,
                                      "trace|debug|info|warn|error|critical|off [info]");
  auto* o_workers =
      serve_cmd->add_option("--workers", workers, "Worker threads [SWITCHBOARD_WORKERS, cores]");
  auto* o_rtp = serve_cmd->add_option(
      "--rtp-ports", rtp_ports, "RTP port range first-last [SWITCHBOARD_RTP_PORTS, 10000-20000]");
  auto* o_rtp_address = serve_cmd->add_option(
      "--rtp-address", rtp_address,
      "Address peers send RTP to [SWITCHBOARD_RTP_ADDRESS, the SIP listen address]");
  auto* o_max_calls = serve_cmd->add_option(
      "--max-calls", max_calls, "Concurrent calls before 503 [SWITCHBOARD_MAX_CALLS, 5000]");
  bool realtime = false;
  serve_cmd->add_flag("--realtime", realtime,
                      "SCHED_FIFO worker threads for steady media timing (needs CAP_SYS_NICE) "
                      "[SWITCHBOARD_REALTIME]");
  serve_cmd->add_flag("--demo", demo, "Create the demo number 1000 served by /demo/voice");

  auto* twiml_cmd = cli.add_subcommand("twiml", "TwiML tools");
  twiml_cmd->require_subcommand(1);
  std::vector<std::string> lint_paths;
  auto* lint_cmd = twiml_cmd->add_subcommand(
      "lint", "Check TwiML documents; exit 1 if any has errors, 2 if a file cannot be read");
  lint_cmd->add_option("files", lint_paths, "TwiML files (- for standard input)")->required();
  bool lint_messaging = false;
  lint_cmd->add_flag("--messaging", lint_messaging,
                     "The files are messaging TwiML (a reply to a message: <Message>, <Redirect>)");

  voice::FetchToolOptions fetch;
  auto* fetch_cmd = twiml_cmd->add_subcommand(
      "fetch",
      "Request an application URL as a call would (signed, with fallback) and show the result");
  fetch_cmd->add_option("--url", fetch.url, "The application's voice URL")->required();
  fetch_cmd->add_option("--method", fetch.method, "GET or POST [POST]")
      ->check(CLI::IsMember({"GET", "POST"}, CLI::ignore_case));
  fetch_cmd->add_option("--fallback-url", fetch.fallback_url, "The fallback URL");
  fetch_cmd->add_option("--fallback-method", fetch.fallback_method, "GET or POST [POST]")
      ->check(CLI::IsMember({"GET", "POST"}, CLI::ignore_case));
  fetch_cmd->add_option("--account-sid", fetch.account_sid, "AccountSid sent in the request");
  fetch_cmd->add_option("--token", fetch.auth_token,
                        "Auth token that signs the request [SWITCHBOARD_AUTH_TOKEN]");
  fetch_cmd->add_option("--from", fetch.from, "From of the simulated call");
  fetch_cmd->add_option("--to", fetch.to, "To of the simulated call");
  fetch_cmd->add_option("--param", fetch.params, "Extra parameter Key=Value (repeatable)");

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }

  if (serve_cmd->parsed()) {
    Config config;
    if (!config_file.empty()) {
      if (auto s = apply_toml_file(config, config_file); !s) {
        std::cerr << "switchboard: " << s.error().message << "\n";
        return 2;
      }
    }
    if (auto s = apply_environment(config, [](const char* n) { return std::getenv(n); }); !s) {
      std::cerr << "switchboard: " << s.error().message << "\n";
      return 2;
    }
    if (o_data->count()) config.data_dir = data_dir;
    if (o_http->count()) config.http_listen = http_listen;
    if (o_sip->count()) config.sip_listen = sip_listen;
    if (o_url->count()) config.public_url = public_url;
    if (o_log->count()) config.log_level = log_level;
    if (o_workers->count()) config.workers = workers;
    if (o_rtp_address->count()) config.rtp_address = rtp_address;
    if (o_max_calls->count()) config.max_calls = max_calls;
    if (o_rtp->count()) {
      if (auto s = parse_port_range(rtp_ports, config.rtp_port_min, config.rtp_port_max); !s) {
        std::cerr << "switchboard: --rtp-ports: " << s.error().message << "\n";
        return 2;
      }
    }
    if (demo) config.demo = true;
    if (realtime) config.realtime = true;
    if (auto s = validate(config); !s) {
      std::cerr << "switchboard: " << s.error().message << "\n";
      return 2;
    }
    init_logging(config.log_level);
    return serve(config);
  }
  if (lint_cmd->parsed()) {
    return twiml::lint_files(lint_paths, std::cout, std::cin, {},
                             lint_messaging ? twiml::Dialect::kMessaging : twiml::Dialect::kVoice);
  }
  if (fetch_cmd->parsed()) {
    for (char& c : fetch.method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    for (char& c : fetch.fallback_method) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (fetch.auth_token.empty()) {
      if (const char* env = std::getenv("SWITCHBOARD_AUTH_TOKEN")) fetch.auth_token = env;
    }
    init_logging("off");
    return voice::fetch_tool(fetch, std::cout);
  }
  return 0;
}

}  // namespace sb::app
