// One accepted HTTP connection, plain TCP or TLS (http.tls_cert / http.tls_key), seen through
// one type: the server, the WebSocket and SSE streams and the console's metrics stream read
// and write it without knowing which. Timeouts are the lowest layer's (beast::tcp_stream), so
// they cover TLS records as well as plain bytes.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/error.hpp"

namespace sb::http {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;

// The server's certificate and key, and the protocol policy: TLS 1.2 and 1.3 only, forward-
// secret AEAD suites for 1.2, no compression, no renegotiation.
struct TlsFiles {
  std::string cert_file;  // PEM: the certificate, then any intermediates
  std::string key_file;   // PEM private key
};

// Builds a server context from the files; an error names the file and OpenSSL's reason.
Result<std::shared_ptr<ssl::context>> make_server_tls_context(const TlsFiles& files);

// The context new connections use. reload() swaps it (SIGHUP): connections already open keep
// the one they started with, so a reload drops nothing.
class TlsConfig {
 public:
  explicit TlsConfig(TlsFiles files) : files_(std::move(files)) {}
  Status load();  // (re)reads the files; on failure the previous context stays
  std::shared_ptr<ssl::context> current() const;
  const TlsFiles& files() const { return files_; }

 private:
  TlsFiles files_;
  mutable std::mutex mutex_;
  std::shared_ptr<ssl::context> context_;
};

class Stream {
 public:
  using executor_type = asio::any_io_executor;
  using Tls = boost::beast::ssl_stream<boost::beast::tcp_stream>;

  explicit Stream(asio::ip::tcp::socket socket);
  // A TLS connection; handshake() must succeed before anything else.
  Stream(asio::ip::tcp::socket socket, std::shared_ptr<ssl::context> context);

  bool is_tls() const { return tls_.has_value(); }
  // The server side of the TLS handshake, bounded by `timeout`; a no-op on plain TCP.
  asio::awaitable<boost::system::error_code> handshake(std::chrono::milliseconds timeout);

  boost::beast::tcp_stream& tcp() { return tls_ ? tls_->next_layer() : *plain_; }
  asio::ip::tcp::socket& socket() { return tcp().socket(); }
  executor_type get_executor() { return tcp().get_executor(); }
  void expires_after(std::chrono::milliseconds d) { tcp().expires_after(d); }
  void expires_never() { tcp().expires_never(); }
  void cancel() { tcp().cancel(); }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          if (tls_) {
            tls_->async_read_some(b, std::move(handler));
          } else {
            plain_->async_read_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          if (tls_) {
            tls_->async_write_some(b, std::move(handler));
          } else {
            plain_->async_write_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

  // Writes what the socket takes now without waiting (the event streams' direct path). TLS
  // cannot: a record OpenSSL sealed must be sent whole, so it reports would_block and the
  // caller writes asynchronously.
  std::size_t try_write_some(asio::const_buffer data, boost::system::error_code& ec);

  // Ends the connection: TLS sends its close_notify (bounded by `timeout`, not waiting for the
  // peer's), then the socket is shut down and closed.
  asio::awaitable<void> close(std::chrono::milliseconds timeout);

 private:
  std::optional<boost::beast::tcp_stream> plain_;
  std::optional<Tls> tls_;
  std::shared_ptr<ssl::context> context_;  // kept while the connection lives
};

}  // namespace sb::http
