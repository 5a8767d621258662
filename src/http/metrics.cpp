#include "http/metrics.hpp"

namespace sb::http {

Metrics::Metrics(unsigned shards) {
  if (shards == 0) shards = 1;
  for (unsigned i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

void Metrics::record_request(unsigned shard, const std::string& route, const std::string& method,
                             unsigned status, double seconds) {
  Shard& s = *shards_[shard % shards_.size()];
  std::lock_guard lock(s.mu);
  ++s.requests[{route, method, status}];
  Histogram& h = s.latency[route];
  std::size_t i = 0;
  while (i < kBuckets.size() && seconds > kBuckets[i]) ++i;
  if (i < kBuckets.size()) ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
}

void Metrics::collect(metrics::Exposition& out) const {
  std::map<std::tuple<std::string, std::string, unsigned>, std::uint64_t> requests;
  std::map<std::string, Histogram> latency;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    for (const auto& [k, v] : shard->requests) requests[k] += v;
    for (const auto& [route, h] : shard->latency) {
      Histogram& sum = latency[route];
      for (std::size_t i = 0; i < h.buckets.size(); ++i) sum.buckets[i] += h.buckets[i];
      sum.count += h.count;
      sum.sum += h.sum;
    }
  }
  out.family("switchboard_http_requests_total",
             "HTTP requests served, by route, method and status.", metrics::Kind::kCounter);
  for (const auto& [key, count] : requests) {
    const auto& [route, method, status] = key;
    const std::string code = std::to_string(status);
    out.sample(count, {{"route", route}, {"method", method}, {"status", code}});
  }
  out.family("switchboard_http_request_duration_seconds",
             "Time from request read to response written.", metrics::Kind::kHistogram);
  for (const auto& [route, h] : latency) {
    out.histogram(kBuckets, h.buckets, h.count, h.sum, {{"route", route}});
  }
  out.family("switchboard_http_tls_handshake_failures_total",
             "HTTPS connections whose TLS handshake failed.", metrics::Kind::kCounter);
  out.sample(tls_failures_.load(std::memory_order_relaxed));
}

}  // namespace sb::http
