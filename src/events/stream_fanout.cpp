#include "events/stream_fanout.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

namespace sb::events {

std::shared_ptr<StreamFanout::WorkerFanout>& StreamFanout::worker_for(
    const asio::any_io_executor& executor) {
  auto w = std::find_if(workers_.begin(), workers_.end(),
                        [&](const auto& f) { return f->executor == executor; });
  if (w != workers_.end()) return *w;
  workers_.push_back(std::make_shared<WorkerFanout>());
  workers_.back()->executor = executor;
  return workers_.back();
}

std::shared_ptr<StreamQueue> StreamFanout::open(const std::string& channel_sid,
                                                const StreamSettings& settings,
                                                asio::any_io_executor executor) {
  auto q = std::make_shared<StreamQueue>(executor, settings.queue_max, settings.overflow,
                                         settings.filter);
  std::lock_guard lock(mu_);
  if (closed_) q->close();
  streams_[channel_sid].push_back(q);
  ++worker_for(executor)->streams;
  return q;
}

void StreamFanout::close(const std::string& channel_sid, const std::shared_ptr<StreamQueue>& q) {
  std::lock_guard lock(mu_);
  // Counted even when the channel's list is gone (a deleted channel closes its streams first).
  auto w = std::find_if(workers_.begin(), workers_.end(),
                        [&](const auto& f) { return f->executor == q->executor(); });
  if (w != workers_.end() && --(*w)->streams == 0) workers_.erase(w);
  auto it = streams_.find(channel_sid);
  if (it == streams_.end()) return;
  std::erase(it->second, q);
  if (it->second.empty()) streams_.erase(it);
}

void StreamFanout::close_channel(const std::string& channel_sid) {
  std::vector<std::shared_ptr<StreamQueue>> closing;
  {
    std::lock_guard lock(mu_);
    if (auto it = streams_.find(channel_sid); it != streams_.end()) {
      closing = std::move(it->second);
      streams_.erase(it);
    }
  }
  for (auto& q : closing) q->close();
}

void StreamFanout::close_all() {
  std::lock_guard lock(mu_);
  closed_ = true;  // and streams that open from now on (a handshake in progress)
  for (auto& [_, list] : streams_) {
    for (auto& q : list) q->close();
  }
}

bool StreamFanout::has_streams(const std::string& channel_sid) const {
  std::lock_guard lock(mu_);
  return streams_.contains(channel_sid);
}

std::size_t StreamFanout::workers() const {
  std::lock_guard lock(mu_);
  return workers_.size();
}

void StreamFanout::fan_out(const std::vector<std::pair<std::string, StreamItemPtr>>& committed) {
  struct Job {
    std::shared_ptr<WorkerFanout> worker;  // shared: a job may outlive the fan-out on a worker
    std::vector<std::pair<std::shared_ptr<StreamQueue>, StreamItemPtr>> work;
  };
  std::vector<Job> jobs;  // one per worker: a handful
  {
    std::lock_guard lock(mu_);
    for (const auto& [channel_sid, item] : committed) {
      auto it = streams_.find(channel_sid);
      if (it == streams_.end()) continue;
      for (const auto& q : it->second) {
        auto job = std::find_if(jobs.begin(), jobs.end(),
                                [&](const Job& j) { return j.worker->executor == q->executor(); });
        if (job == jobs.end()) job = jobs.insert(jobs.end(), Job{worker_for(q->executor()), {}});
        job->work.emplace_back(q, item);
      }
    }
  }
  // Posted in commit order to each executor, so every stream still sees history order. The
  // flush runs after whatever jobs are queued ahead of it, so a busy worker sends each
  // connection all of them at once.
  for (auto& job : jobs) {
    asio::post(job.worker->executor, [w = job.worker, work = std::move(job.work)] {
      for (const auto& [q, item] : work) {
        q->push(item);
        if (!q->flush_scheduled) {
          q->flush_scheduled = true;
          w->dirty.push_back(q);
        }
      }
      if (w->flush_pending) return;
      w->flush_pending = true;
      asio::post(w->executor, [w] {
        w->flush_pending = false;
        auto dirty = std::move(w->dirty);
        w->dirty.clear();
        for (const auto& q : dirty) {
          q->flush_scheduled = false;
          q->deliver();
        }
      });
    });
  }
}

}  // namespace sb::events
