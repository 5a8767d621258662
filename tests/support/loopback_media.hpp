// LoopbackMedia: a real voice::MediaContext for tests: a MediaWorker ticking on the test's
// io_context, RTP ports on 127.0.0.1, the media cache in a temp dir, <Play> URLs fetched with
// the real HTTP client. Speech synthesis has no engine (Say warns and goes on), so tests do not
// depend on the TTS voices.
#pragma once

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/time.hpp"
#include "http/client.hpp"
#include "media/media_cache.hpp"
#include "media/media_worker.hpp"
#include "media/offload.hpp"
#include "media/port_pool.hpp"
#include "media/tts.hpp"
#include "media/url_audio.hpp"
#include "voice/http_media_fetcher.hpp"
#include "voice/media_context.hpp"

namespace sb::testing {

class LoopbackMedia {
 public:
  LoopbackMedia(boost::asio::io_context& io, http::HttpClient& client, const Clock& clock,
                const std::filesystem::path& dir)
      : worker(io.get_executor()),
        ports(42000, 42998),
        cache(dir / "media-cache", clock),
        tts(std::vector<std::unique_ptr<media::TtsEngine>>{}, cache),
        fetcher(client),
        audio(fetcher, cache, files),
        context{worker,           ports,   tts,     audio, "127.0.0.1", dir / "recordings",
                "http://sb.test", nullptr, nullptr, &clock} {
    std::filesystem::create_directories(dir / "recordings");
    worker.start();
  }
  ~LoopbackMedia() { worker.stop(); }

  media::MediaWorker worker;
  media::PortPool ports;
  media::MediaCache cache;
  media::Synthesizer tts;
  media::BlockingPool files{{.threads = 1, .max_queued = 64}};
  voice::HttpMediaFetcher fetcher;
  media::UrlAudioLoader audio;
  voice::MediaContext context;
};

}  // namespace sb::testing
