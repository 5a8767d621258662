// Outbound HTTP(S): the abstract `HttpClient` the voice and event layers await (a fake swaps in
// for tests), and `CurlClient`, libcurl's multi interface driven by one Asio io_context.
// Webhook semantics live here: Twilio connection overrides (timeouts, retries), redirects,
// keep-alive reuse, body limits and Twilio error numbers for every transport failure.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "http/outbound_policy.hpp"
#include "http/url_overrides.hpp"

namespace sb::http {

namespace asio = boost::asio;

// Twilio error numbers for fetch failures (docs: twilio.com/docs/api/errors). The voice layer
// maps a non-2xx response to kHttpErrorResponse itself; the client returns such responses.
namespace fetch_codes {
inline constexpr int kInvalidUrl = 11100;          // Invalid URL format
inline constexpr int kRetrievalFailure = 11200;    // HTTP retrieval failure (also: read timeout)
inline constexpr int kConnectTimeout = 11201;      // TCP connection timed out
inline constexpr int kConnectionRefused = 11202;   // documented; refused is reported as 11205
inline constexpr int kTotalTimeout = 11203;        // HTTP communication total time out (tt)
inline constexpr int kConnectionFailure = 11205;   // HTTP connection failure (refused, reset)
inline constexpr int kProtocolViolation = 11206;   // HTTP protocol violation
inline constexpr int kBadHostName = 11210;         // HTTP bad host name (DNS)
inline constexpr int kTooManyRedirects = 11215;    // HTTP too many redirects
inline constexpr int kInvalidRedirect = 11216;     // HTTP invalid redirect
inline constexpr int kHttpErrorResponse = 11217;   // HTTP error response code (caller's mapping)
inline constexpr int kTlsHandshake = 11220;        // SSL/TLS handshake error
inline constexpr int kCertDomainMismatch = 11235;  // Certificate invalid - domain mismatch
inline constexpr int kCertExpired = 11236;         // Certificate invalid - expired
inline constexpr int kCertUntrusted = 11237;       // Certificate invalid - no path to a trusted CA
inline constexpr int kResponseTooLarge = 11750;    // response body too large
}  // namespace fetch_codes

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ClientRequest {
  std::string method = "GET";  // GET, POST, HEAD or any other token (sent as is)
  std::string url;             // http(s); a fragment carries Twilio overrides and is never sent
  HeaderList headers;          // added to, or replacing, curl's defaults (Host, Accept…)
  std::string body;            // sent for every method but GET and HEAD
  // When set, used as is and the fragment is only stripped; otherwise the fragment's overrides
  // apply on top of ClientOptions::defaults.
  std::optional<ConnectionSettings> settings;
  std::optional<std::size_t> max_body_bytes;  // else ClientOptions::max_body_bytes
  // The account the fetch is for: its own outbound policy setting, if it has one, replaces
  // the client's (OutboundPolicy::for_account). Empty: the client's policy.
  std::string account_sid;
};

struct ClientResponse {
  int status = 0;
  HeaderList headers;  // of the final response, in order received (repeats kept: Set-Cookie…)
  std::string body;
  std::string content_type;               // the Content-Type header, "" if none
  std::string effective_url;              // after redirects
  std::chrono::milliseconds elapsed{0};   // from fetch to completion, retries included
  int attempts = 0;                       // requests sent: 1 + retries
  long redirects = 0;                     // redirects followed by the final attempt
  long new_connections = 0;               // connections opened by the final attempt
  bool connection_reused = false;         // the final attempt opened no connection
  std::vector<OverrideWarning> warnings;  // bad connection overrides in the URL (ignored)

  bool ok() const { return status >= 200 && status < 300; }
  // First value of a header, case-insensitive name.
  std::optional<std::string_view> header(std::string_view name) const;
  std::vector<std::string_view> header_values(std::string_view name) const;
};

// The seam the voice and event layers use; tests substitute a fake.
class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Completes with the final response (any status) or a transport Error with a Twilio number.
  // Honours the awaiting coroutine's cancellation (e.g. `fetch(r) || timer.async_wait(…)`): a
  // cancelled fetch throws operation_aborted, as any cancelled Asio wait does.
  virtual asio::awaitable<Result<ClientResponse>> fetch(ClientRequest request) = 0;
};

struct ClientOptions {
  ConnectionSettings defaults;  // Twilio's unless changed; fragments override per URL
  std::size_t max_body_bytes = std::size_t{10} * 1024 * 1024;
  long max_redirects = 10;  // beyond this: 11215
  bool verify_tls = true;
  std::string ca_file;     // PEM bundle instead of the system store, if set
  std::string ca_pem;      // PEM certificates in memory instead of the system store (tests)
  std::string user_agent;  // empty: "Switchboard/<version>"
  std::chrono::milliseconds retry_backoff{50};  // before the first retry; doubles, max 1 s
  // Keep-alive connections kept open (all hosts). Keep it above the number of requests in
  // flight: below it, or with curl's automatic sizing (0), the pool churns (bench/http).
  long max_cached_connections = 256;
  long max_connections_per_host = 0;  // 0: no limit
  std::size_t max_idle_handles = 32;  // curl easy handles kept for reuse
  // Which addresses may be connected to (checked on the resolved address at connect time):
  // a refused one fails the fetch with 11205 and a message naming the rule, without retries.
  OutboundPolicy policy = OutboundPolicy::process_default();
};

using RequestId = std::uint64_t;  // 0 is never a valid id

class CurlClient final : public HttpClient {
 public:
  // Cancellation (cancel(), the token's cancellation slot, the client's destruction) is the
  // error_code operation_aborted, as for every Asio operation: an awaiting coroutine gets it
  // thrown. Every other outcome, failures included, is the Result (Twilio error numbers).
  using Signature = void(boost::system::error_code, Result<ClientResponse>);
  using Handler = asio::any_completion_handler<Signature>;

  // All use must be on `executor`'s (single) thread. Returns with curl ready; never throws on
  // network conditions, only if libcurl cannot be initialised at all.
  explicit CurlClient(asio::any_io_executor executor, ClientOptions options = {});
  // Pending requests complete (posted, never inline) with a cancellation error.
  ~CurlClient() override;
  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;

  asio::awaitable<Result<ClientResponse>> fetch(ClientRequest request) override;

  // Any completion token. Per-operation cancellation through the token's cancellation slot.
  template <typename Token = asio::default_completion_token_t<asio::any_io_executor>>
  auto async_fetch(ClientRequest request, Token&& token = {}) {
    return asio::async_initiate<Token, Signature>(
        [this](auto handler, auto&& req) {
          start_handler(std::forward<decltype(req)>(req), std::move(handler));
        },
        token, std::move(request));
  }

  // Callback form: `done` runs on the client's executor, never inside this call. The id can be
  // passed to cancel() (a hung-up call cancels its pending webhooks).
  RequestId start(ClientRequest request,
                  std::function<void(boost::system::error_code, Result<ClientResponse>)> done);
  // Completes a pending request with operation_aborted; false if it is not pending.
  bool cancel(RequestId id);
  std::size_t pending() const;

  asio::any_io_executor get_executor() const { return executor_; }

  struct Impl;

 private:
  RequestId start_handler(ClientRequest request, Handler handler);

  asio::any_io_executor executor_;
  std::shared_ptr<Impl> impl_;  // handlers hold weak references to it
};

}  // namespace sb::http
