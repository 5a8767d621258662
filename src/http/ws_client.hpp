// The client side of a WebSocket (RFC 6455) on Boost.Beast: ws:// and wss:// (OpenSSL, the
// peer's certificate verified against the system's trust store and the URL's host name), run on
// the caller's executor (a call's worker: nothing here blocks). Media Streams use it to reach the
// application's server. Messages to send wait in a bounded queue whose buffers are reused: a
// peer that stops reading loses the oldest messages (counted), never the caller's memory.
// Every member is called on the executor given to create().
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace sb::http {

namespace asio = boost::asio;

// Why a connection could not be opened or ended badly: the caller maps these to its own error
// numbers (Media Streams: Twilio's 319xx).
enum class WsFailure {
  kNone,
  kBadUrl,             // not a URL, or no host
  kUnsupportedScheme,  // neither ws nor wss
  kDns,                // the host name does not resolve
  kRefused,            // connection refused or reset while connecting
  kTimeout,            // no TCP connection or handshake answer in time
  kTls,                // TLS handshake or certificate verification failed
  kHandshake,          // the server answered the upgrade with something other than 101
  kProtocol,           // the server broke RFC 6455 (masked frames, fragmented control frames…)
  kClosedAbnormally,   // the connection went away without a close frame
};

struct WsError {
  WsFailure failure = WsFailure::kNone;
  std::string detail;   // in words, for a log line or a Notification
  int http_status = 0;  // kHandshake: the server's status
};

struct WsClose {
  std::uint16_t code = 1005;  // the peer's close code (1005: none given)
  std::string reason;
  bool abnormal = false;  // no close frame: see `error`
  WsError error;
};

struct WsOptions {
  std::chrono::milliseconds connect_timeout{10000};  // TCP + TLS + upgrade
  std::size_t max_queued = 500;               // messages waiting to be sent; beyond, drop oldest
  std::size_t max_message = 4 * 1024 * 1024;  // largest message accepted from the peer
  bool verify_tls = true;
  std::vector<std::pair<std::string, std::string>> headers;  // added to the upgrade request
  std::string account_sid;  // whose stream: the account's own outbound policy, if it has one
};

class WsClient : public std::enable_shared_from_this<WsClient> {
 public:
  struct Handlers {
    // A whole message from the peer (text or binary); the view lives until the call returns.
    std::function<void(std::string_view message, bool binary)> on_message;
    // The connection is over (the peer closed, or it failed); called once, not after close().
    std::function<void(const WsClose&)> on_close;
  };

  static std::shared_ptr<WsClient> create(asio::any_io_executor executor, WsOptions options = {});
  virtual ~WsClient() = default;

  // Resolves, connects, TLS for wss, the upgrade. On success the client reads messages into
  // `handlers` until closed. The URL's query string is sent as part of the request target.
  virtual asio::awaitable<Result<Ok>> connect(std::string url, Handlers handlers) = 0;
  // The connect error's details (valid after connect failed).
  virtual const WsError& connect_error() const = 0;

  // Queues a text (or binary) message; sent in order. Ignored once closed.
  virtual void send(std::string_view message, bool binary = false) = 0;
  // Sends the queued messages, then a close frame with `code`; the handlers get nothing more.
  virtual void close(std::uint16_t code = 1000, std::string_view reason = {}) = 0;
  // Stops at once without a close handshake (the call is gone).
  virtual void abort() = 0;

  virtual bool open() const = 0;
  virtual std::size_t queued() const = 0;
  virtual std::uint64_t dropped() const = 0;  // messages dropped because the peer was slow
  virtual std::uint64_t sent() const = 0;
};

}  // namespace sb::http
