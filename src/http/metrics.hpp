// The HTTP server's metrics: requests by route, method and status and a latency histogram per
// route, recorded per worker shard and written to /metrics through metrics::Exposition.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "metrics/exposition.hpp"

namespace sb::http {

class Metrics {
 public:
  // `shards`: one per worker thread so recording never contends across workers.
  explicit Metrics(unsigned shards);

  // `route` is the route template ("/2010-04-01/Accounts/{AccountSid}.json"), never the raw
  // path, so the label set stays bounded.
  void record_request(unsigned shard, const std::string& route, const std::string& method,
                      unsigned status, double seconds);

  // A TLS handshake that failed (wrong protocol version, no shared cipher, not TLS at all).
  void record_tls_failure(unsigned /*shard*/) {
    tls_failures_.fetch_add(1, std::memory_order_relaxed);
  }

  // Writes the request families (a metrics::Registry collector; any thread).
  void collect(metrics::Exposition& out) const;

  static constexpr std::array<double, 13> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0};

 private:
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};  // non-cumulative counts
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct Shard {
    mutable std::mutex mu;  // taken by its own worker and by the scraper only
    std::map<std::tuple<std::string, std::string, unsigned>, std::uint64_t> requests;
    std::map<std::string, Histogram> latency;
  };

  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::uint64_t> tls_failures_{0};
};

}  // namespace sb::http
