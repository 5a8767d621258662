// What /metrics serves: collectors that modules register (each writes its families through an
// Exposition when scraped) and the process figures every Prometheus target exports.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/exposition.hpp"

namespace sb::metrics {

class Registry {
 public:
  using Collector = std::function<void(Exposition&)>;

  Registry();

  // Thread-safe; a collector runs on the scraping thread, so it reads only values that are
  // safe to read from there (atomics, or state under its own lock).
  void add(Collector collector);

  // One scrape: every collector in the order added, then the process_* families.
  std::string render() const;

 private:
  mutable std::mutex mu_;
  std::vector<Collector> collectors_;
  double start_time_s_;
};

// process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds, … from /proc.
void collect_process(Exposition& out, double start_time_s);

}  // namespace sb::metrics
