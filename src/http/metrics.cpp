#include "http/metrics.hpp"

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace sb::http {
namespace {

void append_process_metrics(std::string& out, double start_time) {
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  std::ifstream stat("/proc/self/stat");
  std::string content((std::istreambuf_iterator<char>(stat)), {});
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15,
  // vsize 23, rss 24 (1-based, as proc(5) numbers them).
  const auto close = content.rfind(')');
  if (close != std::string::npos) {
    std::istringstream rest(content.substr(close + 2));
    std::vector<std::string> f;
    for (std::string tok; rest >> tok;) f.push_back(tok);
    if (f.size() > 21) {
      const double cpu = (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(ticks);
      out +=
          "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
          "# TYPE process_cpu_seconds_total counter\n";
      out += "process_cpu_seconds_total " + std::to_string(cpu) + "\n";
      out +=
          "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
          "# TYPE process_virtual_memory_bytes gauge\n";
      out += "process_virtual_memory_bytes " + f[20] + "\n";
      out +=
          "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
          "# TYPE process_resident_memory_bytes gauge\n";
      out += "process_resident_memory_bytes " + std::to_string(std::stoll(f[21]) * page) + "\n";
    }
  }
  std::size_t fds = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir) != nullptr) ++fds;
    closedir(dir);
    fds = fds >= 3 ? fds - 3 : 0;  // ".", ".." and the DIR's own descriptor
  }
  out +=
      "# HELP process_open_fds Number of open file descriptors.\n"
      "# TYPE process_open_fds gauge\n";
  out += "process_open_fds " + std::to_string(fds) + "\n";
  out +=
      "# HELP process_start_time_seconds Start time of the process since unix epoch.\n"
      "# TYPE process_start_time_seconds gauge\n";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", start_time);
  out += std::string("process_start_time_seconds ") + buf + "\n";
}

std::string format_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

std::string prometheus_label(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

Metrics::Metrics(unsigned shards) {
  if (shards == 0) shards = 1;
  for (unsigned i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
  using namespace std::chrono;
  start_time_ = duration<double>(system_clock::now().time_since_epoch()).count();
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

void Metrics::add_collector(std::function<void(std::string&)> collector) {
  std::lock_guard lock(collectors_mu_);
  collectors_.push_back(std::move(collector));
}

std::string Metrics::render() const {
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

  std::string out;
  out +=
      "# HELP switchboard_http_requests_total HTTP requests served, by route, method and status.\n"
      "# TYPE switchboard_http_requests_total counter\n";
  for (const auto& [key, count] : requests) {
    const auto& [route, method, status] = key;
    out += "switchboard_http_requests_total{route=\"" + prometheus_label(route) + "\",method=\"" +
           prometheus_label(method) + "\",status=\"" + std::to_string(status) + "\"} " +
           std::to_string(count) + "\n";
  }
  out +=
      "# HELP switchboard_http_request_duration_seconds Time from request read to response "
      "written.\n"
      "# TYPE switchboard_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency) {
    const std::string label = "route=\"" + prometheus_label(route) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out += "switchboard_http_request_duration_seconds_bucket{" + label + ",le=\"" +
             format_double(kBuckets[i]) + "\"} " + std::to_string(cumulative) + "\n";
    }
    out += "switchboard_http_request_duration_seconds_bucket{" + label + ",le=\"+Inf\"} " +
           std::to_string(h.count) + "\n";
    out += "switchboard_http_request_duration_seconds_sum{" + label + "} " + format_double(h.sum) +
           "\n";
    out += "switchboard_http_request_duration_seconds_count{" + label + "} " +
           std::to_string(h.count) + "\n";
  }
  {
    std::lock_guard lock(collectors_mu_);
    for (const auto& c : collectors_) c(out);
  }
  append_process_metrics(out, start_time_);
  return out;
}

}  // namespace sb::http
