// The SIP stack on Asio: UDP, TCP and TLS sockets (streams framed by Content-Length), a 10 ms tick
// driving the transaction timers, and the UserAgent they feed. Socket errors are counted and
// logged, never thrown out of the event loop.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "core/error.hpp"
#include "sip/user_agent.hpp"

namespace sb::sip {

namespace asio = boost::asio;

struct TransportStats {
  std::uint64_t udp_in = 0, udp_out = 0, tcp_in = 0, tcp_out = 0;
  std::uint64_t send_errors = 0, receive_errors = 0, framing_errors = 0;
  std::uint64_t tcp_accepted = 0, tcp_connected = 0, tcp_closed = 0;  // TLS's included
  std::uint64_t tls_handshakes = 0, tls_handshake_failures = 0;
};

// sip.tls_cert / sip.tls_key (PEM).
struct TlsFiles {
  std::string cert;
  std::string key;
};
// The TLS contexts of SIP over TLS: what we present to peers that connect (TLS 1.2+, forward-
// secret AEAD suites; an error names the file and OpenSSL's reason), and what we trust when we
// connect (the system's CAs and `ca_file`, if any).
Result<std::shared_ptr<asio::ssl::context>> make_sip_server_tls(const TlsFiles& files);
Result<std::shared_ptr<asio::ssl::context>> make_sip_client_tls(const std::string& ca_file);

class SipStack {
 public:
  // Runs on `io` (one worker); `events` must outlive the stack.
  SipStack(asio::io_context& io, UaConfig config, CallEvents& events);
  ~SipStack();
  SipStack(const SipStack&) = delete;
  SipStack& operator=(const SipStack&) = delete;

  // Binds before start(); port 0 picks a free port. Returns the bound endpoint.
  Result<Endpoint> listen_udp(const std::string& address, std::uint16_t port);
  Result<Endpoint> listen_tcp(const std::string& address, std::uint16_t port);
  // SIP over TLS: accepts on `address:port` presenting `server`'s certificate.
  Result<Endpoint> listen_tls(const std::string& address, std::uint16_t port,
                              std::shared_ptr<asio::ssl::context> server);
  // What connections we open to TLS peers (sips:, ;transport=tls) trust; without it, sending to
  // a TLS endpoint fails.
  void set_tls_client(std::shared_ptr<asio::ssl::context> client);
  // Creates the UserAgent (Via/Contact use the bound ports) and starts receiving.
  void start();
  // Closes sockets and stops the tick; pending handlers finish on `io`.
  void stop();

  UserAgent& ua();  // valid after start()
  const TransportStats& transport_stats() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace sb::sip
