#include "sip/stack.hpp"

#include <array>
#include <deque>
#include <unordered_map>

namespace sb::sip {

using udp = asio::ip::udp;
using tcp = asio::ip::tcp;

class SipStack::Impl final : public Sender, public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, UaConfig config, CallEvents& events)
      : io_(io),
        config_(std::move(config)),
        events_(events),
        udp_(io),
        acceptor_(io),
        tick_(io),
        epoch_(std::chrono::steady_clock::now()) {}

  struct Connection {
    std::uint64_t id = 0;
    tcp::socket socket;
    StreamFramer framer;
    std::array<char, 8192> buf{};
    std::deque<std::string> out;
    bool connected = false;
    bool writing = false;
    Endpoint remote;
    explicit Connection(asio::io_context& io, Limits l) : socket(io), framer(l) {}
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
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(address, ec);
    if (ec) return Error::bad_request(codes::kInvalidParameter, "bad SIP listen address");
    tcp::endpoint ep(addr, port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Error::internal("SIP TCP listen failed: " + ec.message());
    const auto bound = acceptor_.local_endpoint(ec);
    config_.tcp_port = bound.port();
    return Endpoint{bound.address().to_string(), bound.port(), Transport::kTcp, 0};
  }

  void start() {
    ua_ = std::make_unique<UserAgent>(config_, *this, events_);
    if (udp_.is_open()) receive_udp();
    if (acceptor_.is_open()) accept();
    schedule_tick();
  }

  void stop() {
    stopped_ = true;
    boost::system::error_code ec;
    udp_.close(ec);
    acceptor_.close(ec);
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

  void accept() {
    auto c = std::make_shared<Connection>(io_, config_.limits);
    acceptor_.async_accept(c->socket, [self = shared_from_this(), c](boost::system::error_code ec) {
      if (self->stopped_ || ec == asio::error::operation_aborted) return;
      if (!ec) {
        ++self->stats_.tcp_accepted;
        boost::system::error_code ec2;
        const auto rep = c->socket.remote_endpoint(ec2);
        if (!ec2) {
          c->socket.set_option(tcp::no_delay(true), ec2);
          c->connected = true;
          c->remote = {rep.address().to_string(), rep.port(), Transport::kTcp, 0};
          self->add(c);
          self->read(c);
        }
      } else {
        ++self->stats_.receive_errors;
      }
      self->accept();
    });
  }

  void add(const std::shared_ptr<Connection>& c) {
    c->id = next_conn_++;
    c->remote.connection = c->id;
    connections_[c->id] = c;
    by_remote_[key(c->remote)] = c->id;
  }

  static std::string key(const Endpoint& e) { return e.address + ":" + std::to_string(e.port); }

  void close(const std::shared_ptr<Connection>& c) {
    boost::system::error_code ec;
    c->socket.close(ec);
    if (connections_.erase(c->id)) ++stats_.tcp_closed;
    auto it = by_remote_.find(key(c->remote));
    if (it != by_remote_.end() && it->second == c->id) by_remote_.erase(it);
  }

  void read(const std::shared_ptr<Connection>& c) {
    c->socket.async_read_some(
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
  }

  void write(const std::shared_ptr<Connection>& c) {
    if (c->writing || c->out.empty() || !c->connected) return;
    c->writing = true;
    asio::async_write(c->socket, asio::buffer(c->out.front()),
                      [self = shared_from_this(), c](boost::system::error_code ec, std::size_t) {
                        c->writing = false;
                        if (self->stopped_) return;
                        if (ec) {
                          ++self->stats_.send_errors;
                          self->close(c);
                          return;
                        }
                        ++self->stats_.tcp_out;
                        c->out.pop_front();
                        self->write(c);
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
      c = std::make_shared<Connection>(io_, config_.limits);
      c->remote = {to.address, to.port, Transport::kTcp, 0};
      add(c);
      c->socket.async_connect({addr, to.port},
                              [self = shared_from_this(), c](boost::system::error_code ec2) {
                                if (self->stopped_) return;
                                if (ec2) {
                                  ++self->stats_.send_errors;
                                  self->close(c);
                                  return;
                                }
                                ++self->stats_.tcp_connected;
                                boost::system::error_code ignored;
                                c->socket.set_option(tcp::no_delay(true), ignored);
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
void SipStack::start() { impl_->start(); }
void SipStack::stop() { impl_->stop(); }
UserAgent& SipStack::ua() { return *impl_->ua_; }
const TransportStats& SipStack::transport_stats() const { return impl_->stats_; }

}  // namespace sb::sip
