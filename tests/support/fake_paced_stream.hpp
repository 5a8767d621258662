// FakePacedStream: a media::PacedStream for MediaWorker tests and benchmarks: counts its ticks,
// logs them by name ("a.send", "a.rest") when given a log, and runs a hook during each tick.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "media/media_worker.hpp"

namespace sb::testing {

class FakePacedStream final : public media::PacedStream {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  int ticks = 0;  // on_tick calls
  int done = 0;   // on_tick_done calls
  std::string name;
  std::vector<std::string>* log = nullptr;
  std::function<void(TimePoint now)> during;  // runs inside each on_tick

  void on_tick(TimePoint now, std::uint32_t) override {
    ++ticks;
    if (log) log->push_back(name + ".send");
    if (during) during(now);
  }
  void on_tick_done(TimePoint, std::uint32_t) override {
    ++done;
    if (log) log->push_back(name + ".rest");
  }
};

}  // namespace sb::testing
