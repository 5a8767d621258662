#include "app/call_workers.hpp"

#include <boost/asio/post.hpp>
#include <filesystem>

#include "http/client.hpp"
#include "media/media_cache.hpp"
#include "media/media_worker.hpp"
#include "media/offload.hpp"
#include "media/port_pool.hpp"
#include "media/tts.hpp"
#include "media/url_audio.hpp"
#include "voice/document_cache.hpp"
#include "voice/http_media_fetcher.hpp"
#include "voice/notifications.hpp"

namespace sb::app {

// What every call shares, whichever worker it runs on (each of these is thread-safe).
struct CallWorkers::Shared {
  Shared(const VoiceDeps& deps, const Config& config)
      : notifications(deps.store, deps.events),
        ports(config.rtp_port_min, config.rtp_port_max),
        cache(std::filesystem::path(config.data_dir) / "cache" / "media", deps.clock),
        tts(engines(), cache),
        files({.threads = media::default_blocking_threads(2), .max_queued = 256}) {}

  static std::vector<std::unique_ptr<media::TtsEngine>> engines() {
    std::vector<std::unique_ptr<media::TtsEngine>> out;
    out.push_back(std::make_unique<media::FliteEngine>());
    out.push_back(std::make_unique<media::EspeakEngine>());
    return out;
  }

  voice::StoreNotificationSink notifications;
  media::PortPool ports;
  media::MediaCache cache;
  media::Synthesizer tts;     // its own threads: min(4, cores)
  media::BlockingPool files;  // Play's cache reads and writes and decoding, off the event loops
};

// One worker's share of the calls: its webhook client, media clock and audio loader, and the
// CallWorker that runs the calls handed to it.
struct CallWorkers::Worker {
  Worker(boost::asio::io_context& io, const VoiceDeps& deps, const Config& config, Shared& shared,
         const std::string& rtp_address)
      : client(io.get_executor()),
        media_clock(io.get_executor(), config.media_latch),
        fetcher(client),
        audio(fetcher, shared.cache, shared.files),
        media{media_clock,     shared.ports,          shared.tts,
              audio,           rtp_address,           config.recordings_dir(),
              deps.public_url, &shared.notifications, &deps.store,
              &deps.clock,     config.media_srtp},
        calls(io,
              voice::SessionServices{
                  voice::WebhookServices{client, shared.notifications, documents, deps.clock},
                  deps.store, &deps.registry, deps.events, nullptr, deps.conferences, deps.queues,
                  nullptr, deps.speech},
              media) {}

  http::CurlClient client;
  voice::DocumentCache documents;
  media::MediaWorker media_clock;
  voice::HttpMediaFetcher fetcher;
  media::UrlAudioLoader audio;
  voice::MediaContext media;
  voice::CallWorker calls;
};

CallWorkers::CallWorkers(std::vector<boost::asio::io_context*> ios, const VoiceDeps& deps,
                         const Config& config, const std::string& rtp_address)
    : ios_(std::move(ios)), shared_(std::make_unique<Shared>(deps, config)) {
  for (auto* io : ios_) {
    workers_.push_back(std::make_unique<Worker>(*io, deps, config, *shared_, rtp_address));
  }
}

CallWorkers::~CallWorkers() {
  workers_.clear();
  shared_.reset();
}

std::vector<voice::CallWorker*> CallWorkers::call_workers() {
  std::vector<voice::CallWorker*> out;
  for (auto& w : workers_) out.push_back(&w->calls);
  return out;
}

void CallWorkers::start_media() {
  for (auto& w : workers_) w->media_clock.start();
}

void CallWorkers::stop_media() {
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    boost::asio::post(*ios_[i], [w = workers_[i].get()] { w->media_clock.stop(); });
  }
}

void CallWorkers::sample_media(std::size_t i, std::function<void(const MediaFigures&)> done) {
  boost::asio::post(*ios_[i], [w = workers_[i].get(), done = std::move(done)] {
    const auto& st = w->media_clock.stats();
    MediaFigures f;
    f.ticks = st.ticks;
    f.late_ticks = st.late_ticks;
    f.max_lateness_s = std::chrono::duration<double>(st.max_lateness).count();
    f.streams = w->media_clock.streams();
    f.rtp_ignored = st.rtp_ignored;
    f.rtcp_ignored = st.rtcp_ignored;
    f.rtp_received = st.rtp_received;
    f.rtp_received_bytes = st.rtp_received_bytes;
    f.rtp_sent = st.rtp_sent;
    f.rtp_sent_bytes = st.rtp_sent_bytes;
    f.rtp_late = st.rtp_late;
    f.rtp_lost = st.rtp_lost;
    done(f);
  });
}

}  // namespace sb::app

namespace sb::app {
const voice::WebhookFigures& CallWorkers::webhook_figures() const {
  return shared_->notifications.figures();
}
}  // namespace sb::app
