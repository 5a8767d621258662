#include "http/ws_client.hpp"

#include <openssl/ssl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>
#include <optional>
#include <variant>

#include "http/outbound_policy.hpp"

namespace sb::http {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;

namespace {

// One TLS context for every client: loading the system's trust store is done once, and an
// SSL_CTX is safe to share between threads once set up.
ssl::context& tls_context() {
  static ssl::context* ctx = [] {
    auto* c = new ssl::context(ssl::context::tls_client);
    c->set_default_verify_paths();
    c->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    return c;
  }();
  return *ctx;
}

using Plain = websocket::stream<beast::tcp_stream>;
using Tls = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

WsError failure(WsFailure f, std::string detail, int status = 0) {
  return WsError{f, std::move(detail), status};
}

class WsClientImpl final : public WsClient {
 public:
  WsClientImpl(asio::any_io_executor executor, WsOptions options)
      : executor_(std::move(executor)), options_(std::move(options)) {}

  asio::awaitable<Result<Ok>> connect(std::string url, Handlers handlers) override {
    handlers_ = std::move(handlers);
    auto self = std::static_pointer_cast<WsClientImpl>(shared_from_this());
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed || parsed->host().empty()) {
      co_return fail_connect(failure(WsFailure::kBadUrl, "not an absolute URL: " + url));
    }
    const std::string scheme(parsed->scheme());
    if (scheme != "ws" && scheme != "wss") {
      co_return fail_connect(
          failure(WsFailure::kUnsupportedScheme, "the URL's scheme is " + scheme + ", not ws(s)"));
    }
    const bool tls = scheme == "wss";
    const std::string host = parsed->encoded_host_address().decode();
    const std::string port =
        parsed->has_port() ? std::string(parsed->port()) : std::string(tls ? "443" : "80");
    std::string target(parsed->encoded_path());
    if (target.empty()) target = "/";
    if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());
    std::string host_header(parsed->encoded_host());
    if (parsed->has_port()) host_header += ":" + port;

    boost::system::error_code ec;
    tcp::resolver resolver(executor_);
    auto endpoints =
        co_await resolver.async_resolve(host, port, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return fail_connect(failure(WsFailure::kDns, host + ": " + ec.message()));
    // The outbound request policy (docs/security.md), on the very addresses connected to below.
    const OutboundPolicy policy =
        OutboundPolicy::process_default().for_account(options_.account_sid);
    for (const auto& entry : endpoints) {
      if (auto why = policy.refusal(entry.endpoint().address())) {
        co_return fail_connect(
            failure(WsFailure::kRefused, "refused by the outbound request policy: " + *why));
      }
    }

    if (tls) {
      ws_.emplace<Tls>(executor_, tls_context());
    } else {
      ws_.emplace<Plain>(executor_);
    }
    // Two statements, not a conditional expression of two co_awaits: GCC 12 destroys the
    // temporary of such an expression twice.
    WsError err;
    if (tls) {
      err = co_await open_stream(std::get<Tls>(ws_), endpoints, host, host_header, target);
    } else {
      err = co_await open_stream(std::get<Plain>(ws_), endpoints, host, host_header, target);
    }
    if (err.failure != WsFailure::kNone) co_return fail_connect(std::move(err));
    open_ = true;
    std::visit(
        [&](auto& ws) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(ws)>, std::monostate>) {
            asio::co_spawn(executor_, read_loop(self, ws), asio::detached);
          }
        },
        ws_);
    if (!queue_.empty()) start_writing();
    co_return Ok{};
  }

  const WsError& connect_error() const override { return connect_error_; }

  void send(std::string_view message, bool binary) override {
    if (closing_ || over_) return;
    if (queue_.size() >= options_.max_queued) {
      recycle(std::move(queue_.front().data));
      queue_.pop_front();
      ++dropped_;
    }
    std::string buf;
    if (!spare_.empty()) {
      buf = std::move(spare_.back());
      spare_.pop_back();
    }
    buf.assign(message);
    queue_.push_back(Outgoing{std::move(buf), binary});
    if (open_) start_writing();
  }

  void close(std::uint16_t code, std::string_view reason) override {
    if (closing_ || over_) return;
    closing_ = true;
    close_code_ = code;
    close_reason_ = std::string(reason);
    handlers_ = {};
    if (!open_) {
      over_ = true;
      return;
    }
    start_writing();  // writes what is queued, then the close frame
  }

  void abort() override {
    handlers_ = {};
    closing_ = true;
    over_ = true;
    open_ = false;
    std::visit(
        [](auto& ws) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(ws)>, std::monostate>) {
            beast::get_lowest_layer(ws).close();
          }
        },
        ws_);
  }

  bool open() const override { return open_ && !closing_; }
  std::size_t queued() const override { return queue_.size(); }
  std::uint64_t dropped() const override { return dropped_; }
  std::uint64_t sent() const override { return sent_; }

 private:
  struct Outgoing {
    std::string data;
    bool binary = false;
  };

  Result<Ok> fail_connect(WsError err) {
    connect_error_ = std::move(err);
    over_ = true;
    return Error::internal(connect_error_.detail);
  }

  template <class Ws>
  asio::awaitable<WsError> open_stream(Ws& ws, const tcp::resolver::results_type& endpoints,
                                       const std::string& host, const std::string& host_header,
                                       const std::string& target) {
    boost::system::error_code ec;
    auto& tcp_layer = beast::get_lowest_layer(ws);
    tcp_layer.expires_after(options_.connect_timeout);
    co_await tcp_layer.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == beast::error::timeout) {
      co_return failure(WsFailure::kTimeout, "no TCP connection to " + host_header);
    }
    if (ec) co_return failure(WsFailure::kRefused, host_header + ": " + ec.message());
    tcp_layer.socket().set_option(tcp::no_delay(true), ec);
    if constexpr (std::is_same_v<Ws, Tls>) {
      auto& tls = ws.next_layer();
      if (!SSL_set_tlsext_host_name(tls.native_handle(), host.c_str())) {
        co_return failure(WsFailure::kTls, "cannot set the TLS server name");
      }
      if (options_.verify_tls) {
        tls.set_verify_mode(ssl::verify_peer);
        tls.set_verify_callback(ssl::host_name_verification(host));
      } else {
        tls.set_verify_mode(ssl::verify_none);
      }
      co_await tls.async_handshake(ssl::stream_base::client,
                                   asio::redirect_error(asio::use_awaitable, ec));
      if (ec == beast::error::timeout) {
        co_return failure(WsFailure::kTimeout, "no TLS handshake from " + host_header);
      }
      if (ec) co_return failure(WsFailure::kTls, host_header + ": " + ec.message());
    }
    tcp_layer.expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = options_.connect_timeout;
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.keep_alive_pings = false;
    ws.set_option(timeouts);
    ws.set_option(websocket::stream_base::decorator(
        [headers = options_.headers](websocket::request_type& req) {
          req.set(beast::http::field::user_agent, "Switchboard");
          for (const auto& [name, value] : headers) req.set(name, value);
        }));
    ws.read_message_max(options_.max_message);
    ws.auto_fragment(false);
    websocket::response_type response;
    co_await ws.async_handshake(response, host_header, target,
                                asio::redirect_error(asio::use_awaitable, ec));
    if (ec == beast::error::timeout) {
      co_return failure(WsFailure::kTimeout, "no answer to the WebSocket upgrade");
    }
    if (ec) {
      const int status = static_cast<int>(response.result_int());
      co_return failure(WsFailure::kHandshake,
                        status
                            ? "the server answered the upgrade with HTTP " + std::to_string(status)
                            : "the upgrade failed: " + ec.message(),
                        status);
    }
    co_return WsError{};
  }

  template <class Ws>
  static asio::awaitable<void> read_loop(std::shared_ptr<WsClientImpl> self, Ws& ws) {
    beast::flat_buffer buffer;
    for (;;) {
      boost::system::error_code ec;
      co_await ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
      if (self->over_) co_return;
      if (ec) {
        self->end(ws, ec);
        co_return;
      }
      const auto data = buffer.cdata();
      if (self->handlers_.on_message && !self->closing_) {
        self->handlers_.on_message(
            std::string_view(static_cast<const char*>(data.data()), data.size()), ws.got_binary());
      }
      buffer.consume(buffer.size());
    }
  }

  template <class Ws>
  void end(Ws& ws, const boost::system::error_code& ec) {
    const bool ours = closing_;
    over_ = true;
    open_ = false;
    if (ours) return;
    WsClose info;
    if (ec == websocket::error::closed) {
      info.code = ws.reason().code == websocket::close_code::none
                      ? 1005
                      : static_cast<std::uint16_t>(ws.reason().code);
      info.reason.assign(ws.reason().reason.data(), ws.reason().reason.size());
    } else {
      info.abnormal = true;
      info.code = 1006;
      info.error = ec == websocket::condition::protocol_violation
                       ? failure(WsFailure::kProtocol, ec.message())
                       : failure(WsFailure::kClosedAbnormally, ec.message());
    }
    beast::get_lowest_layer(ws).close();
    auto on_close = std::move(handlers_.on_close);
    handlers_ = {};
    if (on_close) on_close(info);
  }

  void start_writing() {
    if (writing_ || over_) return;
    writing_ = true;
    auto self = std::static_pointer_cast<WsClientImpl>(shared_from_this());
    std::visit(
        [&](auto& ws) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(ws)>, std::monostate>) {
            asio::co_spawn(executor_, write_loop(self, ws), asio::detached);
          }
        },
        ws_);
  }

  template <class Ws>
  static asio::awaitable<void> write_loop(std::shared_ptr<WsClientImpl> self, Ws& ws) {
    boost::system::error_code ec;
    while (!self->queue_.empty() && !self->over_) {
      Outgoing out = std::move(self->queue_.front());
      self->queue_.pop_front();
      ws.binary(out.binary);
      co_await ws.async_write(asio::buffer(out.data),
                              asio::redirect_error(asio::use_awaitable, ec));
      self->recycle(std::move(out.data));
      if (ec) {
        if (!self->over_) self->end(ws, ec);
        self->writing_ = false;
        co_return;
      }
      ++self->sent_;
    }
    if (self->closing_ && !self->over_) {
      websocket::close_reason reason(self->close_code_);
      reason.reason = self->close_reason_;
      co_await ws.async_close(reason, asio::redirect_error(asio::use_awaitable, ec));
      self->over_ = true;
      self->open_ = false;
      beast::get_lowest_layer(ws).close();
    }
    self->writing_ = false;
  }

  void recycle(std::string buf) {
    if (spare_.size() < 16) {
      buf.clear();
      spare_.push_back(std::move(buf));
    }
  }

  asio::any_io_executor executor_;
  WsOptions options_;
  Handlers handlers_;
  std::variant<std::monostate, Plain, Tls> ws_;
  WsError connect_error_;
  std::deque<Outgoing> queue_;
  std::vector<std::string> spare_;  // sent buffers, reused for the next messages
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;  // close() or abort(): the handlers are dropped
  bool over_ = false;
  std::uint16_t close_code_ = 1000;
  std::string close_reason_;
  std::uint64_t dropped_ = 0;
  std::uint64_t sent_ = 0;
};

}  // namespace

std::shared_ptr<WsClient> WsClient::create(asio::any_io_executor executor, WsOptions options) {
  return std::make_shared<WsClientImpl>(std::move(executor), std::move(options));
}

}  // namespace sb::http
