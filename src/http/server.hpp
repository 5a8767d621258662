// The HTTP/1.1 server: Boost.Beast on coroutines, one io_context per worker thread.
// Keep-alive, header and body limits, idle and read timeouts, and a graceful drain on
// shutdown (no new connections, idle ones closed, in-flight requests finish).
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <functional>
#include <list>
#include <memory>
#include <vector>

#include "core/address.hpp"
#include "http/metrics.hpp"
#include "http/response.hpp"
#include "http/stream.hpp"

namespace sb::http {

namespace asio = boost::asio;

// What one connection may send, and how long it may take.
struct ServerLimits {
  std::size_t max_body_bytes = 1 << 20;     // 1 MiB
  std::size_t max_header_bytes = 16 << 10;  // 16 KiB
  std::uint32_t read_timeout_ms = 15000;    // for a whole request once it started
  std::uint32_t idle_timeout_ms = 60000;    // keep-alive connection with no request
  std::uint32_t max_connections = 10000;
};

// A connection handed over to a long-lived protocol (WebSocket after an Upgrade, a Server-Sent
// Events stream): it owns the stream until it returns; `request` is the request that asked.
// `buffer` holds bytes already read past the request. The server closes the socket afterwards.
using Takeover = std::function<asio::awaitable<void>(
    Stream& stream, boost::beast::flat_buffer& buffer, Request request)>;

struct RequestInfo {
  asio::ip::tcp::endpoint remote;
  unsigned worker = 0;
  std::string route = "unmatched";  // the handler names the route template, for metrics
  // Set by a handler that takes the connection over; the returned response is then not sent.
  Takeover takeover;
};

using Handler = std::function<asio::awaitable<Response>(Request&, RequestInfo&)>;

class Server {
 public:
  // With `tls`, every connection is HTTPS with its current context (reloadable, see TlsConfig).
  Server(std::vector<asio::io_context*> workers, ServerLimits limits, Handler handler,
         Metrics& metrics, const TlsConfig* tls = nullptr);
  ~Server();

  // Binds and listens; returns the bound endpoint (so port 0 yields the chosen port).
  Result<asio::ip::tcp::endpoint> listen(const ListenAddress& address);
  void start();

  // Stops accepting, closes idle connections, lets in-flight requests finish; thread-safe.
  void begin_shutdown();
  std::size_t active_connections() const { return active_.load(); }
  // True once begin_shutdown() ran; long-lived streams poll it to end cleanly.
  bool stopping() const { return stopping_.load(); }

 private:
  struct Connection {
    Stream* stream;
    bool idle;
  };

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> session(asio::ip::tcp::socket socket, unsigned worker);

  std::vector<asio::io_context*> workers_;
  ServerLimits limits_;
  Handler handler_;
  Metrics& metrics_;
  const TlsConfig* tls_;
  asio::ip::tcp::acceptor acceptor_;
  // One list per worker, touched only on that worker's thread.
  std::vector<std::unique_ptr<std::list<Connection*>>> connections_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> active_{0};
  unsigned next_worker_ = 0;
};

}  // namespace sb::http
