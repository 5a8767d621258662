// What the SIP layers above the sockets know of transports: an endpoint, and a seam to send.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sb::sip {

using Millis = std::chrono::milliseconds;  // time since an arbitrary epoch (injected clock)

enum class Transport : std::uint8_t { kUdp, kTcp, kTls };
std::string_view to_string(Transport t);  // "UDP" / "TCP" / "TLS"
inline bool is_reliable(Transport t) { return t != Transport::kUdp; }
// A transport from a URI's or Via's name (any case): udp, tcp, tls; nullopt for anything else.
std::optional<Transport> transport_from_name(std::string_view name);

struct Endpoint {
  std::string address;  // numeric IP
  std::uint16_t port = 0;
  Transport transport = Transport::kUdp;
  std::uint64_t connection = 0;  // TCP/TLS: the connection a request arrived on (0: any / open one)
  // TLS connections we open: the name the peer's certificate must carry (SNI too; empty: the
  // address), and whether it is checked at all (a trunk's opt-out).
  std::string tls_name;
  bool tls_verify = true;

  bool operator==(const Endpoint& o) const {
    return address == o.address && port == o.port && transport == o.transport;
  }
};

// Sends bytes; implemented by the socket layer, and by fakes in tests. Failures are reported
// back asynchronously (never thrown): see UserAgent::on_transport_error.
class Sender {
 public:
  virtual ~Sender() = default;
  virtual void send(const Endpoint& to, std::string_view bytes) = 0;
};

}  // namespace sb::sip
