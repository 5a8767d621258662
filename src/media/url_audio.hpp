// Audio from HTTP(S) URLs for <Play>: the MediaFetcher seam (the HTTP client sits behind it, see
// voice/http_media_fetcher.hpp; tests use a fake) and the loader that goes through the MediaCache,
// revalidates stale entries with If-None-Match, decodes, and reports failures as values. The
// fetch runs on the caller's event loop (asynchronous); the cache's file I/O and decoding run
// on a BlockingPool, so a large prompt never holds up the loop's 20 ms media tick.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "media/audio_file.hpp"
#include "media/media_cache.hpp"
#include "media/offload.hpp"

namespace sb::media {

namespace asio = boost::asio;

struct MediaRequest {
  std::string url;
  std::string if_none_match;  // "" for an unconditional GET
  std::size_t max_bytes = 0;
  std::string account_sid;  // whose <Play>: the fetch follows that account's outbound policy
};

struct MediaResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string etag;
  std::string cache_control;
};

class MediaFetcher {
 public:
  virtual ~MediaFetcher() = default;
  // A transport failure is an Error (Twilio 112xx); any HTTP status is a response.
  virtual asio::awaitable<Result<MediaResponse>> fetch(MediaRequest request) = 0;
};

class UrlAudioLoader {
 public:
  // `files` runs the cache's reads and writes and the decoding; it and `cache` outlive the
  // loader and every load in flight.
  UrlAudioLoader(MediaFetcher& fetcher, MediaCache& cache, BlockingPool& files,
                 DecodeLimits limits = {})
      : fetcher_(fetcher), cache_(cache), files_(files), limits_(limits) {}

  // Decoded audio for `url`: from the cache when fresh, revalidated when stale, else fetched.
  // Errors: 112xx from the fetch, 11200 for a non-2xx status, 13420 for media that is not
  // audio, does not decode, or is over a limit, 20503 when the file pool's queue is full.
  // Throws operation_aborted when the caller is cancelled (a decode under way finishes on the
  // pool and is cached).
  asio::awaitable<Result<SharedPcm>> load(std::string url, std::string account_sid = {});

  struct Stats {
    std::uint64_t hits = 0, revalidated = 0, fetched = 0, failures = 0, overloaded = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  MediaFetcher& fetcher_;
  MediaCache& cache_;
  BlockingPool& files_;
  DecodeLimits limits_;
  Stats stats_;
};

}  // namespace sb::media
