#include "http/server.hpp"

#include <array>
#include <boost/beast/http.hpp>
#include <chrono>

#include "core/log.hpp"

namespace sb::http {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kFirstRead = 4096;  // a whole typical request header in one read

Response limit_error(const beast::error_code& ec) {
  if (ec == bhttp::error::body_limit) {
    return error_response({codes::kInvalidParameter, 413, "Request body too large"});
  }
  if (ec == bhttp::error::header_limit) {
    return error_response({codes::kInvalidParameter, 431, "Request header fields too large"});
  }
  return error_response({codes::kInvalidParameter, 400, "Malformed HTTP request: " + ec.message()});
}

bool is_parse_error(const beast::error_code& ec) {
  return ec.category() == beast::error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
}

// What the exception being handled says, whatever its type.
std::string current_exception_text() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "exception not derived from std::exception";
  }
}

}  // namespace

Server::Server(std::vector<asio::io_context*> workers, ServerLimits limits, Handler handler,
               Metrics& metrics, const TlsConfig* tls)
    : workers_(std::move(workers)),
      limits_(limits),
      handler_(std::move(handler)),
      metrics_(metrics),
      tls_(tls),
      acceptor_(*workers_.front()) {
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    connections_.push_back(std::make_unique<std::list<Connection*>>());
  }
}

Server::~Server() = default;

Result<tcp::endpoint> Server::listen(const ListenAddress& address) {
  beast::error_code ec;
  auto ip = asio::ip::make_address(address.host == "localhost" ? "127.0.0.1" : address.host, ec);
  if (ec) {
    return Error::bad_request(codes::kInvalidParameter, "bad listen host '" + address.host + "'");
  }
  const tcp::endpoint endpoint(ip, address.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error::internal("cannot listen on " + address.host + ":" + std::to_string(address.port) +
                           ": " + ec.message());
  }
  return acceptor_.local_endpoint();
}

void Server::start() { asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached); }

void Server::begin_shutdown() {
  if (stopping_.exchange(true)) return;
  asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ec;
    acceptor_.close(ec);
  });
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    asio::post(*workers_[i], [this, i] {
      for (Connection* c : *connections_[i]) {
        if (!c->idle) continue;
        // Cancelling ends only a read in progress; a stream between two reads would start
        // another and never see the shutdown. A closed receive side ends that one too.
        beast::error_code ignored;
        c->stream->socket().shutdown(tcp::socket::shutdown_receive, ignored);
        c->stream->cancel();
      }
    });
  }
}

asio::awaitable<void> Server::accept_loop() {
  asio::steady_timer backoff(acceptor_.get_executor());
  while (!stopping_) {
    const unsigned worker = next_worker_++ % workers_.size();
    auto [ec, socket] = co_await acceptor_.async_accept(
        asio::any_io_executor(workers_[worker]->get_executor()), kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
      // Out of descriptors or a transient network error: pause instead of spinning.
      spdlog::warn("http accept: {}", ec.message());
      backoff.expires_after(milliseconds(50));
      co_await backoff.async_wait(kTuple);
      continue;
    }
    // Counted here, not when its worker starts the session: a busy worker must not let
    // connections queued for it slip past the limit.
    if (active_.load() >= limits_.max_connections) {
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    ++active_;
    auto executor = socket.get_executor();
    asio::co_spawn(executor, session(std::move(socket), worker), asio::detached);
  }
}

asio::awaitable<void> Server::session(tcp::socket socket, unsigned worker) {
  beast::error_code ec;
  const tcp::endpoint remote = socket.remote_endpoint(ec);
  // Responses and stream batches go out whole; Nagle would only hold back the second of two
  // small writes (a TLS session ticket, then the response) for the client's delayed ACK.
  socket.set_option(tcp::no_delay(true), ec);
  Stream stream = tls_ ? Stream(std::move(socket), tls_->current()) : Stream(std::move(socket));
  Connection self{&stream, true};
  auto& registry = *connections_[worker];
  auto where = registry.insert(registry.end(), &self);
  beast::flat_buffer buffer;

  // A client that connects and never completes the handshake is held for the read timeout.
  if (stream.is_tls()) {
    if (auto hec = co_await stream.handshake(milliseconds(limits_.read_timeout_ms)); hec) {
      metrics_.record_tls_failure(worker);
      spdlog::debug("tls handshake from {}: {}", remote.address().to_string(), hec.message());
      registry.erase(where);
      co_await stream.close(milliseconds(0));
      --active_;
      co_return;
    }
  }

  for (;;) {
    self.idle = true;
    if (stopping_) break;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser.body_limit(limits_.max_body_bytes);

    // Idle until a request's first byte; from there the read timeout covers the whole request,
    // so a client trickling its header cannot hold the connection for the idle timeout.
    if (buffer.size() == 0) {
      stream.expires_after(milliseconds(limits_.idle_timeout_ms));
      auto [fec, fn] = co_await stream.async_read_some(buffer.prepare(kFirstRead), kTuple);
      if (fec) break;  // closed, timed out, or cancelled while idle
      buffer.commit(fn);
    }
    self.idle = false;
    stream.expires_after(milliseconds(limits_.read_timeout_ms));
    auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    std::optional<Response> early;
    if (hec) {
      if (hec == bhttp::error::header_limit || is_parse_error(hec)) early = limit_error(hec);
    } else {
      const auto& header = parser.get();
      if (beast::iequals(header[bhttp::field::expect], "100-continue") && !parser.is_done()) {
        if (parser.content_length() && *parser.content_length() > limits_.max_body_bytes) {
          early = limit_error(bhttp::error::body_limit);
        } else {
          bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, header.version()};
          auto [cec, cn] = co_await bhttp::async_write(stream, cont, kTuple);
          if (cec) break;
        }
      }
      if (!early && !parser.is_done()) {
        auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
        if (bec) {
          if (bec == bhttp::error::body_limit || is_parse_error(bec)) {
            early = limit_error(bec);
          } else {
            break;  // timeout or the peer went away
          }
        }
      }
    }
    if (hec && !early) break;  // closed or timed out mid-request

    const auto started = std::chrono::steady_clock::now();
    RequestInfo info{remote, worker};
    Response res;
    bool keep_alive = false;
    std::string method = "UNKNOWN";
    if (early) {
      res = std::move(*early);
      info.route = "rejected";
    } else {
      Request req = parser.release();
      method = std::string(req.method_string());
      keep_alive = req.keep_alive();
      try {
        res = co_await handler_(req, info);
      } catch (...) {
        // Whatever the type: an exception escaping the session would leave it registered.
        spdlog::error("http handler {} {}: {}", method, info.route, current_exception_text());
        res = error_response(Error::internal("Internal error"));
        info.takeover = nullptr;
      }
      if (info.takeover) {
        // A stream (WebSocket, SSE) owns the connection from here until it ends.
        metrics_.record_request(worker, info.route, method, 101, 0);
        stream.expires_never();
        self.idle = true;  // a stream is cancelled at shutdown like an idle connection
        Takeover takeover = std::move(info.takeover);
        try {
          auto run_stream = takeover(stream, buffer, std::move(req));
          co_await std::move(run_stream);
        } catch (...) {
          spdlog::warn("stream {}: {}", info.route, current_exception_text());
        }
        break;
      }
    }
    keep_alive = keep_alive && !stopping_;
    res.keep_alive(keep_alive);
    res.set(bhttp::field::server, "switchboard/" SB_VERSION);
    res.prepare_payload();
    stream.expires_after(milliseconds(limits_.read_timeout_ms));
    beast::error_code wec;
    if (method == "HEAD") {
      // The headers of the GET response, Content-Length included, and no body (RFC 9110 9.3.2).
      bhttp::response_serializer<bhttp::string_body> serializer{res};
      auto [e, n] = co_await bhttp::async_write_header(stream, serializer, kTuple);
      wec = e;
    } else {
      auto [e, n] = co_await bhttp::async_write(stream, res, kTuple);
      wec = e;
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    metrics_.record_request(worker, info.route, method, res.result_int(), seconds);
    if (wec) break;
    if (early) {
      // The request was refused before it was read to its end: close in stages (RFC 9112 9.6)
      // so a client still sending reads our answer instead of a reset. Half-close, then discard
      // what still arrives, bounded in bytes and time.
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      stream.expires_after(milliseconds(2000));
      std::size_t discarded = 0;
      std::array<char, 16384> sink;
      while (discarded < (8u << 20)) {
        auto [rec, rn] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
        if (rec) break;
        discarded += rn;
      }
      break;
    }
    if (!keep_alive) break;
  }

  registry.erase(where);
  co_await stream.close(milliseconds(1000));
  --active_;
}

}  // namespace sb::http
