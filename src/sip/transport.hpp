// What the SIP layers above the sockets know of transports: an endpoint, and a seam to send.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sb::sip {

using Millis = std::chrono::milliseconds;  // time since an arbitrary epoch (injected clock)

enum class Transport : std::uint8_t { kUdp, kTcp };
std::string_view to_string(Transport t);  // "UDP" / "TCP"
inline bool is_reliable(Transport t) { return t == Transport::kTcp; }

struct Endpoint {
  std::string address;  // numeric IP
  std::uint16_t port = 0;
  Transport transport = Transport::kUdp;
  std::uint64_t connection = 0;  // TCP: the connection a request arrived on (0: any / open one)

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
