#include "metrics/registry.hpp"

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>

namespace sb::metrics {

Registry::Registry() {
  using namespace std::chrono;
  start_time_s_ = duration<double>(system_clock::now().time_since_epoch()).count();
}

void Registry::add(Collector collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::render() const {
  Exposition out;
  {
    std::lock_guard lock(mu_);
    for (const auto& c : collectors_) c(out);
  }
  collect_process(out, start_time_s_);
  return out.take();
}

void collect_process(Exposition& out, double start_time_s) {
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  std::ifstream stat("/proc/self/stat");
  const std::string content((std::istreambuf_iterator<char>(stat)), {});
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15, vsize
  // 23, rss 24 (1-based, as proc(5) numbers them).
  const auto close = content.rfind(')');
  if (close != std::string::npos && close + 2 < content.size()) {
    std::istringstream rest(content.substr(close + 2));
    std::vector<std::string> f;
    for (std::string tok; rest >> tok;) f.push_back(tok);
    if (f.size() > 21) {
      const double cpu = (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(ticks);
      out.family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                 Kind::kCounter);
      out.sample(cpu);
      out.family("process_virtual_memory_bytes", "Virtual memory size in bytes.", Kind::kGauge);
      out.sample(static_cast<std::uint64_t>(std::stoull(f[20])));
      out.family("process_resident_memory_bytes", "Resident memory size in bytes.", Kind::kGauge);
      out.sample(
          static_cast<std::uint64_t>(std::stoull(f[21]) * static_cast<unsigned long long>(page)));
    }
  }
  std::uint64_t fds = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir) != nullptr) ++fds;
    closedir(dir);
    fds = fds >= 3 ? fds - 3 : 0;  // ".", ".." and the DIR's own descriptor
  }
  out.family("process_open_fds", "Number of open file descriptors.", Kind::kGauge);
  out.sample(fds);
  out.family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
             Kind::kGauge);
  out.sample(start_time_s);
}

}  // namespace sb::metrics
