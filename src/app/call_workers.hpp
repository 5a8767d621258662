// What every worker thread gives the calls it runs: its webhook client, media clock, audio
// loader and voice::CallWorker, plus what all calls share whichever worker they are on (RTP
// ports, the media cache, speech synthesis, the notification sink).
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/config.hpp"
#include "core/time.hpp"
#include "store/store.hpp"
#include "voice/call_events.hpp"
#include "voice/call_queue.hpp"
#include "voice/call_registry.hpp"
#include "voice/call_worker.hpp"
#include "voice/conference.hpp"
#include "voice/media_context.hpp"
#include "voice/notifications.hpp"

namespace sb::app {

struct VoiceDeps {
  store::Store& store;
  const Clock& clock;
  voice::CallRegistry& registry;
  voice::CallEventSink* events = nullptr;
  std::string public_url;
  voice::ConferenceRegistry* conferences = nullptr;
  voice::QueueRegistry* queues = nullptr;
  speech::Recognizers* speech = nullptr;
};

class CallWorkers {
 public:
  // One worker per io_context; `rtp_address` is where peers send RTP.
  CallWorkers(std::vector<boost::asio::io_context*> ios, const VoiceDeps& deps,
              const Config& config, const std::string& rtp_address);
  ~CallWorkers();

  std::size_t size() const { return workers_.size(); }
  std::vector<voice::CallWorker*> call_workers();
  // Starts / stops each worker's media clock (stop is posted to the worker's thread).
  void start_media();
  void stop_media();

  // Copies worker `i`'s media clock figures on its own thread, then calls `done` there.
  struct MediaFigures {
    std::uint64_t ticks = 0, late_ticks = 0, streams = 0;
    std::uint64_t rtp_ignored = 0, rtcp_ignored = 0;  // from sources other than the peer
    std::uint64_t rtp_received = 0, rtp_received_bytes = 0, rtp_sent = 0, rtp_sent_bytes = 0;
    std::uint64_t rtp_late = 0, rtp_lost = 0;
    double max_lateness_s = 0;
  };
  void sample_media(std::size_t i, std::function<void(const MediaFigures&)> done);
  // The exchanges with calls' applications (any thread).
  const voice::WebhookFigures& webhook_figures() const;

 private:
  struct Shared;
  struct Worker;
  std::vector<boost::asio::io_context*> ios_;
  std::unique_ptr<Shared> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace sb::app
