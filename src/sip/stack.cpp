#include "sip/stack.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/ssl.hpp>
#include <deque>
#include <optional>
#include <unordered_map>

namespace sb::sip {

using udp = asio::ip::udp;
using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;

namespace {

// TLS 1.2 and 1.3 only; TLS 1.2 with forward-secret AEAD suites only; no compression or
// renegotiation (the same policy as the HTTPS server).
void harden(ssl::context& ctx) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                  ssl::context::no_compression);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.native_handle(), SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_cipher_list(ctx.native_handle(),
                          "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                          "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                          "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
}

std::string ssl_reason(const boost::system::error_code& ec) {
  std::string why = ec.message();
  if (ec.category() == asio::error::get_ssl_category()) {
    char buf[256];
    ERR_error_string_n(static_cast<unsigned long>(ec.value()), buf, sizeof buf);
    why = buf;
  }
  return why;
}

bool is_ip_literal(const std::string& name) {
  boost::system::error_code ec;
  (void)asio::ip::make_address(name, ec);
  return !ec;
}

}  // namespace

Result<std::shared_ptr<asio::ssl::context>> make_sip_server_tls(const TlsFiles& files) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  harden(*ctx);
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(files.cert, ec);
  if (ec) {
    return Error::bad_request(codes::kInvalidParameter,
                              "sip.tls_cert " + files.cert + ": " + ssl_reason(ec));
  }
  ctx->use_private_key_file(files.key, ssl::context::pem, ec);
  if (ec) {
    return Error::bad_request(codes::kInvalidParameter,
                              "sip.tls_key " + files.key + ": " + ssl_reason(ec));
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return Error::bad_request(
        codes::kInvalidParameter,
        "sip.tls_key " + files.key + " does not match sip.tls_cert " + files.cert);
  }
  return ctx;
}

Result<std::shared_ptr<asio::ssl::context>> make_sip_client_tls(const std::string& ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  harden(*ctx);
  boost::system::error_code ec;
  ctx->set_default_verify_paths(ec);
  if (!ca_file.empty()) {
    ctx->load_verify_file(ca_file, ec);
    if (ec) {
      return Error::bad_request(codes::kInvalidParameter,
                                "sip.tls_ca " + ca_file + ": " + ssl_reason(ec));
    }
  }
  return ctx;
}

class SipStack::Impl final : public Sender, public std::enable_shared_from_this<Impl> {
 public:
  static constexpr std::size_t kMaxBatch = std::size_t{64} * 1024;
  Impl(asio::io_context& io, UaConfig config, CallEvents& events)
      : io_(io),
        config_(std::move(config)),
        events_(events),
        udp_(io),
        acceptor_(io),
        tls_acceptor_(io),
        tick_(io),
        epoch_(std::chrono::steady_clock::now()) {}

  // A TCP or TLS connection; for TLS, `tls` wraps the socket and every read and write goes
  // through it (`connected` once the handshake is done).
  struct Connection {
    std::uint64_t id = 0;
    tcp::socket socket;
    std::optional<ssl::stream<tcp::socket&>> tls;
    StreamFramer framer;
    std::array<char, 8192> buf{};
    std::deque<std::string> out;
    std::string sending;  // the messages being written, one after another
    bool connected = false;
    bool writing = false;
    Endpoint remote;
    explicit Connection(asio::io_context& io, Limits l) : socket(io), framer(l) {}
    template <typename F>
    void with_stream(F&& f) {
      if (tls) {
        f(*tls);
      } else {
        f(socket);
      }
    }
  };

  Millis now() const {
    return std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - epoch_);
  }

  Result<Endpoint> listen_udp(const std::string& address, std::uint16_t port) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(address, ec);
    if (ec) return Error::bad_request(codes::kInvalidParameter, "bad SIP listen address");
    udp::endpoint ep(addr, port);
    udp_.open(ep.protocol(), ec);
    if (!ec) udp_.bind(ep, ec);
    if (ec) return Error::internal("SIP UDP bind failed: " + ec.message());
    // Bursts of calls overflow the default socket buffers (~200 KB): ask for 4 MB (the kernel
    // caps it at net.core.*mem_max; failure is harmless, retransmissions cover the rest).
    boost::system::error_code ignored;
    udp_.set_option(asio::socket_base::receive_buffer_size(4 << 20), ignored);
    udp_.set_option(asio::socket_base::send_buffer_size(4 << 20), ignored);
    udp_.non_blocking(true, ec);
    const auto bound = udp_.local_endpoint(ec);
    config_.udp_port = bound.port();
    if (config_.host.empty() || config_.host == "0.0.0.0") config_.host = address;
    return Endpoint{bound.address().to_string(), bound.port(), Transport::kUdp, 0};
  }

  Result<Endpoint> listen_tcp(const std::string& address, std::uint16_t port) {
    auto bound = listen_on(acceptor_, address, port, "TCP");
    if (!bound) return bound.error();
    config_.tcp_port = bound->port;
    return bound;
  }

  Result<Endpoint> listen_tls(const std::string& address, std::uint16_t port,
                              std::shared_ptr<ssl::context> server) {
    auto bound = listen_on(tls_acceptor_, address, port, "TLS");
    if (!bound) return bound.error();
    config_.tls_port = bound->port;
    tls_server_ = std::move(server);
    bound->transport = Transport::kTls;
    return bound;
  }

  Result<Endpoint> listen_on(tcp::acceptor& acceptor, const std::string& address,
                             std::uint16_t port, const char* what) {
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(address, ec);
    if (ec) return Error::bad_request(codes::kInvalidParameter, "bad SIP listen address");
    tcp::endpoint ep(addr, port);
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error::internal(std::string("SIP ") + what + " listen failed: " + ec.message());
    const auto bound = acceptor.local_endpoint(ec);
    return Endpoint{bound.address().to_string(), bound.port(), Transport::kTcp, 0};
  }

  void start() {
    ua_ = std::make_unique<UserAgent>(config_, *this, events_);
    if (udp_.is_open()) receive_udp();
    if (acceptor_.is_open()) accept(acceptor_, Transport::kTcp);
    if (tls_acceptor_.is_open()) accept(tls_acceptor_, Transport::kTls);
    schedule_tick();
  }

  void stop() {
    stopped_ = true;
    boost::system::error_code ec;
    udp_.close(ec);
    acceptor_.close(ec);
    tls_acceptor_.close(ec);
    tick_.cancel();
    for (auto& [id, c] : connections_) c->socket.close(ec);
    connections_.clear();
    by_remote_.clear();
  }

  void schedule_tick() {
    if (stopped_) return;
    tick_.expires_after(std::chrono::milliseconds(10));
    tick_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->stopped_) return;
      self->ua_->on_tick(self->now());
      self->schedule_tick();
    });
  }

  void receive_udp() {
    udp_.async_receive_from(
        asio::buffer(udp_buf_), udp_from_,
        [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
          if (self->stopped_ || ec == asio::error::operation_aborted) return;
          if (ec) {
            // ICMP port unreachable and the like surface here on Linux; keep receiving.
            ++self->stats_.receive_errors;
          } else if (n > 0) {
            ++self->stats_.udp_in;
            const Endpoint src{self->udp_from_.address().to_string(), self->udp_from_.port(),
                               Transport::kUdp, 0};
            self->ua_->on_message(std::string_view(self->udp_buf_.data(), n), src, self->now());
          }
          self->receive_udp();
        });
  }

  void accept(tcp::acceptor& acceptor, Transport transport) {
    auto c = std::make_shared<Connection>(io_, config_.limits);
    acceptor.async_accept(c->socket, [self = shared_from_this(), c, &acceptor,
                                      transport](boost::system::error_code ec) {
      if (self->stopped_ || ec == asio::error::operation_aborted) return;
      if (!ec) {
        ++self->stats_.tcp_accepted;
        boost::system::error_code ec2;
        const auto rep = c->socket.remote_endpoint(ec2);
        if (!ec2) {
          c->socket.set_option(tcp::no_delay(true), ec2);
          c->remote = {rep.address().to_string(), rep.port(), transport, 0};
          self->add(c);
          if (transport == Transport::kTls) {
            self->handshake(c, ssl::stream_base::server);
          } else {
            c->connected = true;
            self->read(c);
          }
        }
      } else {
        ++self->stats_.receive_errors;
      }
      self->accept(acceptor, transport);
    });
  }

  // TLS: the handshake on an accepted connection (server) or one we opened (client: the peer's
  // certificate must name the endpoint's tls_name or address unless tls_verify is off).
  void handshake(const std::shared_ptr<Connection>& c, ssl::stream_base::handshake_type type) {
    c->tls.emplace(c->socket, type == ssl::stream_base::server ? *tls_server_ : *tls_client_);
    if (type == ssl::stream_base::client) {
      const std::string name = c->remote.tls_name.empty() ? c->remote.address : c->remote.tls_name;
      if (!is_ip_literal(name)) SSL_set_tlsext_host_name(c->tls->native_handle(), name.c_str());
      if (c->remote.tls_verify) {
        c->tls->set_verify_mode(ssl::verify_peer);
        c->tls->set_verify_callback(ssl::host_name_verification(name));
      } else {
        c->tls->set_verify_mode(ssl::verify_none);
      }
    }
    // A peer that connects and never completes the handshake is cut after 10 s.
    auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::seconds(10));
    timer->async_wait([c](boost::system::error_code ec) {
      if (ec) return;
      boost::system::error_code ignored;
      c->socket.close(ignored);
    });
    c->tls->async_handshake(
        type, [self = shared_from_this(), c, timer, type](boost::system::error_code ec) {
          timer->cancel();
          if (self->stopped_) return;
          if (ec) {
            ++self->stats_.tls_handshake_failures;
            spdlog::warn("SIP TLS handshake {} {}:{} failed: {}",
                         type == ssl::stream_base::server ? "from" : "to", c->remote.address,
                         c->remote.port, ssl_reason(ec));
            self->fail(c);
            return;
          }
          ++self->stats_.tls_handshakes;
          c->connected = true;
          self->read(c);
          self->write(c);
        });
  }

  // A connection we could not open or secure: its queued requests fail at once.
  void fail(const std::shared_ptr<Connection>& c) {
    const Endpoint peer = c->remote;
    const bool outgoing = !c->out.empty();
    close(c);
    if (outgoing && ua_) ua_->on_connection_failed(peer, now());
  }

  void add(const std::shared_ptr<Connection>& c) {
    c->id = next_conn_++;
    c->remote.connection = c->id;
    connections_[c->id] = c;
    by_remote_[key(c->remote)] = c->id;
  }

  // A connection is reused for the same peer only: TLS ones also for the same name checked the
  // same way (two names on one address are two peers).
  static std::string key(const Endpoint& e) {
    std::string k =
        std::string(to_string(e.transport)) + ":" + e.address + ":" + std::to_string(e.port);
    if (e.transport == Transport::kTls) k += "|" + e.tls_name + (e.tls_verify ? "|v" : "|n");
    return k;
  }

  void close(const std::shared_ptr<Connection>& c) {
    boost::system::error_code ec;
    c->socket.close(ec);
    if (connections_.erase(c->id)) ++stats_.tcp_closed;
    auto it = by_remote_.find(key(c->remote));
    if (it != by_remote_.end() && it->second == c->id) by_remote_.erase(it);
  }

  void read(const std::shared_ptr<Connection>& c) {
    c->with_stream([&](auto& stream) {
      stream.async_read_some(
          asio::buffer(c->buf),
          [self = shared_from_this(), c](boost::system::error_code ec, std::size_t n) {
            if (self->stopped_) return;
            if (ec) {
              self->close(c);
              return;
            }
            c->framer.append(std::string_view(c->buf.data(), n));
            std::string msg;
            std::string why;
            for (;;) {
              const auto st = c->framer.next(msg, &why);
              if (st == StreamFramer::State::kNeedMore) break;
              if (st == StreamFramer::State::kError) {
                // Framing is lost: answer if we can, then close (RFC 4475 3.1.2.3).
                ++self->stats_.framing_errors;
                self->close(c);
                return;
              }
              ++self->stats_.tcp_in;
              self->ua_->on_message(msg, c->remote, self->now());
              if (!c->socket.is_open()) return;
            }
            self->read(c);
          });
    });
  }

  // Everything queued goes out in one write (up to 64 KB): on a trunk's busy connection that is
  // one TLS record and one send() for many messages instead of one each.
  void write(const std::shared_ptr<Connection>& c) {
    if (c->writing || c->out.empty() || !c->connected) return;
    c->writing = true;
    c->sending.clear();
    std::size_t messages = 0;
    while (!c->out.empty() &&
           (messages == 0 || c->sending.size() + c->out.front().size() <= kMaxBatch)) {
      c->sending += c->out.front();
      c->out.pop_front();
      ++messages;
    }
    c->with_stream([&](auto& stream) {
      asio::async_write(
          stream, asio::buffer(c->sending),
          [self = shared_from_this(), c, messages](boost::system::error_code ec, std::size_t) {
            c->writing = false;
            if (self->stopped_) return;
            if (ec) {
              ++self->stats_.send_errors;
              self->close(c);
              return;
            }
            self->stats_.tcp_out += messages;
            self->write(c);
          });
    });
  }

  void send(const Endpoint& to, std::string_view bytes) override {
    if (stopped_) return;
    boost::system::error_code ec;
    if (to.transport == Transport::kUdp) {
      auto addr = asio::ip::make_address(to.address, ec);
      if (!ec) udp_.send_to(asio::buffer(bytes.data(), bytes.size()), {addr, to.port}, 0, ec);
      if (ec) {
        ++stats_.send_errors;
      } else {
        ++stats_.udp_out;
      }
      return;
    }
    std::shared_ptr<Connection> c;
    if (to.connection) {
      auto it = connections_.find(to.connection);
      if (it != connections_.end()) c = it->second;
    }
    if (!c) {
      auto it = by_remote_.find(key(to));
      if (it != by_remote_.end()) c = connections_[it->second];
    }
    if (!c) {
      auto addr = asio::ip::make_address(to.address, ec);
      if (ec) {
        ++stats_.send_errors;
        return;
      }
      if (to.transport == Transport::kTls && !tls_client_) {
        ++stats_.send_errors;  // no TLS client context: nothing to reach a TLS peer with
        return;
      }
      c = std::make_shared<Connection>(io_, config_.limits);
      c->remote = to;
      c->remote.connection = 0;
      add(c);
      c->socket.async_connect({addr, to.port},
                              [self = shared_from_this(), c](boost::system::error_code ec2) {
                                if (self->stopped_) return;
                                if (ec2) {
                                  ++self->stats_.send_errors;
                                  self->fail(c);
                                  return;
                                }
                                ++self->stats_.tcp_connected;
                                boost::system::error_code ignored;
                                c->socket.set_option(tcp::no_delay(true), ignored);
                                if (c->remote.transport == Transport::kTls) {
                                  self->handshake(c, ssl::stream_base::client);
                                  return;
                                }
                                c->connected = true;
                                self->read(c);
                                self->write(c);
                              });
    }
    if (c->out.size() > 1024) {  // a stuck peer must not grow memory without bound
      ++stats_.send_errors;
      return;
    }
    c->out.emplace_back(bytes);
    write(c);
  }

  asio::io_context& io_;
  UaConfig config_;
  CallEvents& events_;
  udp::socket udp_;
  tcp::acceptor acceptor_;
  tcp::acceptor tls_acceptor_;
  std::shared_ptr<ssl::context> tls_server_;  // certificate we present on sip.tls_listen
  std::shared_ptr<ssl::context> tls_client_;  // trust for connections we open (null: no TLS)
  asio::steady_timer tick_;
  std::chrono::steady_clock::time_point epoch_;
  std::array<char, 65536> udp_buf_{};
  udp::endpoint udp_from_;
  std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> connections_;
  std::unordered_map<std::string, std::uint64_t> by_remote_;
  std::uint64_t next_conn_ = 1;
  std::unique_ptr<UserAgent> ua_;
  TransportStats stats_;
  bool stopped_ = false;
};

SipStack::SipStack(asio::io_context& io, UaConfig config, CallEvents& events)
    : impl_(std::make_shared<Impl>(io, std::move(config), events)) {}

SipStack::~SipStack() { impl_->stop(); }

Result<Endpoint> SipStack::listen_udp(const std::string& a, std::uint16_t p) {
  return impl_->listen_udp(a, p);
}
Result<Endpoint> SipStack::listen_tcp(const std::string& a, std::uint16_t p) {
  return impl_->listen_tcp(a, p);
}
Result<Endpoint> SipStack::listen_tls(const std::string& a, std::uint16_t p,
                                      std::shared_ptr<asio::ssl::context> server) {
  return impl_->listen_tls(a, p, std::move(server));
}
void SipStack::set_tls_client(std::shared_ptr<asio::ssl::context> client) {
  impl_->tls_client_ = std::move(client);
}
void SipStack::start() { impl_->start(); }
void SipStack::stop() { impl_->stop(); }
UserAgent& SipStack::ua() { return *impl_->ua_; }
const TransportStats& SipStack::transport_stats() const { return impl_->stats_; }

}  // namespace sb::sip
