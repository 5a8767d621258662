// The UDP port range RTP sessions take their ports from: even ports for RTP, the odd port
// above each for RTCP (RFC 3550 §11). Shared by all workers (session setup is rare, so a mutex
// is fine); ports are handed out round-robin so a just-released port is not reused at once and
// late packets of an ended call do not reach the next one.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "core/error.hpp"

namespace sb::media {

class PortPool {
 public:
  // [first, last] inclusive; odd bounds are rounded inward to even RTP ports.
  static Status validate_range(std::uint16_t first, std::uint16_t last);
  PortPool(std::uint16_t first, std::uint16_t last);

  std::optional<std::uint16_t> acquire();
  // Returns a port from acquire(); other values are ignored.
  void release(std::uint16_t port);
  std::size_t available() const;
  std::size_t capacity() const { return in_use_.size(); }

 private:
  std::uint16_t first_;
  mutable std::mutex mu_;
  std::vector<bool> in_use_;  // one per RTP port
  std::size_t next_ = 0;
  std::size_t used_ = 0;
};

}  // namespace sb::media
