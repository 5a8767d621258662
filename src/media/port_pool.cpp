#include "media/port_pool.hpp"

#include <string>

namespace sb::media {
namespace {
std::uint16_t round_up_even(std::uint16_t v) { return static_cast<std::uint16_t>(v + (v & 1)); }
}  // namespace

Status PortPool::validate_range(std::uint16_t first, std::uint16_t last) {
  const std::uint16_t even = round_up_even(first);
  if (first == 0 || even < first || last < even + 1) {
    return Error::internal("RTP port range must hold at least one even/odd pair: " +
                           std::to_string(first) + "-" + std::to_string(last));
  }
  return Ok{};
}

PortPool::PortPool(std::uint16_t first, std::uint16_t last) : first_(round_up_even(first)) {
  // Each RTP port needs its RTCP port (port + 1) inside the range too.
  const std::size_t pairs = last > first_ ? (std::size_t{last} - first_ + 1) / 2 : 0;
  in_use_.assign(pairs, false);
}

std::optional<std::uint16_t> PortPool::acquire() {
  std::lock_guard lock(mu_);
  for (std::size_t n = 0; n < in_use_.size(); ++n) {
    const std::size_t i = (next_ + n) % in_use_.size();
    if (!in_use_[i]) {
      in_use_[i] = true;
      ++used_;
      next_ = (i + 1) % in_use_.size();
      return static_cast<std::uint16_t>(first_ + 2 * i);
    }
  }
  return std::nullopt;
}

void PortPool::release(std::uint16_t port) {
  std::lock_guard lock(mu_);
  if (port < first_ || (port - first_) % 2 != 0) return;
  const std::size_t i = (port - first_) / 2u;
  if (i < in_use_.size() && in_use_[i]) {
    in_use_[i] = false;
    --used_;
  }
}

std::size_t PortPool::available() const {
  std::lock_guard lock(mu_);
  return in_use_.size() - used_;
}

}  // namespace sb::media
