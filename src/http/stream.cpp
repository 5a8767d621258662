#include "http/stream.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace sb::http {

namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// OpenSSL's reasons queued by the last failure, oldest first, and the queue cleared.
std::string openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// TLS 1.2 suites: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 (TLS 1.3's own suites
// are all of that kind and stay at OpenSSL's defaults).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

}  // namespace

Result<std::shared_ptr<ssl::context>> make_server_tls_context(const TlsFiles& files) {
  if (files.cert_file.empty() || files.key_file.empty()) {
    return Error::bad_request(codes::kInvalidParameter,
                              "TLS needs both http.tls_cert and http.tls_key");
  }
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(
      native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    return Error::internal("TLS cipher list: " + openssl_errors());
  }
  if (SSL_CTX_use_certificate_chain_file(native, files.cert_file.c_str()) != 1) {
    return Error::bad_request(codes::kInvalidParameter,
                              "TLS certificate " + files.cert_file + ": " + openssl_errors());
  }
  if (SSL_CTX_use_PrivateKey_file(native, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Error::bad_request(codes::kInvalidParameter,
                              "TLS key " + files.key_file + ": " + openssl_errors());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    return Error::bad_request(codes::kInvalidParameter,
                              "TLS key " + files.key_file + " does not match the certificate " +
                                  files.cert_file + ": " + openssl_errors());
  }
  return ctx;
}

Status TlsConfig::load() {
  auto ctx = make_server_tls_context(files_);
  if (!ctx) return ctx.error();
  std::lock_guard lock(mutex_);
  context_ = std::move(*ctx);
  return Ok{};
}

std::shared_ptr<ssl::context> TlsConfig::current() const {
  std::lock_guard lock(mutex_);
  return context_;
}

Stream::Stream(tcp::socket socket) : plain_(std::in_place, std::move(socket)) {}

Stream::Stream(tcp::socket socket, std::shared_ptr<ssl::context> context)
    : context_(std::move(context)) {
  tls_.emplace(std::move(socket), *context_);
}

asio::awaitable<boost::system::error_code> Stream::handshake(std::chrono::milliseconds timeout) {
  if (!tls_) co_return boost::system::error_code{};
  tcp().expires_after(timeout);
  auto [ec] = co_await tls_->async_handshake(ssl::stream_base::server, kTuple);
  co_return ec;
}

std::size_t Stream::try_write_some(asio::const_buffer data, boost::system::error_code& ec) {
  if (tls_) {
    ec = asio::error::would_block;
    return 0;
  }
  auto& s = socket();
  if (!s.non_blocking()) s.non_blocking(true, ec);  // asynchronous writes are unaffected
  if (ec) return 0;
  return s.write_some(data, ec);
}

asio::awaitable<void> Stream::close(std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  if (tls_ && socket().is_open()) {
    tcp().expires_after(timeout);
    auto [sec] = co_await tls_->async_shutdown(kTuple);
    (void)sec;  // the peer may have gone already; the socket closes either way
  }
  socket().shutdown(tcp::socket::shutdown_send, ec);
  socket().close(ec);
}

}  // namespace sb::http
