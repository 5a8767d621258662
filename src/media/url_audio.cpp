#include "media/url_audio.hpp"

#include "media/media_errors.hpp"

namespace sb::media {
namespace {

Error files_overloaded(const BlockingPool& files) {
  return Error{
      codes::kServiceUnavailable, 503,
      "Play: media file work overloaded (" + std::to_string(files.max_queued()) + " tasks queued)"};
}

}  // namespace

asio::awaitable<Result<SharedPcm>> UrlAudioLoader::load(std::string url, std::string account_sid) {
  // Reading a cached prompt is a file read of up to 40 minutes of audio: on the pool.
  // Coroutine arguments are named values, and each co_await is on a plain local: GCC 12 copies
  // some temporaries into a coroutine's frame byte for byte.
  auto read = [cache = &cache_, url]() -> Result<std::optional<MediaCache::Entry>> {
    return cache->lookup(url);
  };
  Error overloaded = files_overloaded(files_);
  auto lookup = run_blocking<std::optional<MediaCache::Entry>>(files_, std::move(read), overloaded);
  auto cached = co_await std::move(lookup);
  if (!cached) {
    ++stats_.overloaded;
    co_return cached.error();
  }
  if (*cached && (*cached)->fresh) {
    ++stats_.hits;
    co_return (*cached)->pcm;
  }
  MediaRequest request;
  request.url = url;
  request.max_bytes = limits_.max_bytes;
  request.account_sid = std::move(account_sid);
  if (*cached && !(*cached)->etag.empty()) request.if_none_match = (*cached)->etag;
  auto response = co_await fetcher_.fetch(std::move(request));
  if (!response) {
    ++stats_.failures;
    co_return response.error();
  }
  const CachePolicy policy = parse_cache_control(response->cache_control);
  if (response->status == 304 && *cached) {
    ++stats_.revalidated;
    // Freshness counts from this response, so the caller waits for the write (on the pool);
    // when the queue is full the entry just stays stale and is revalidated next time.
    auto renew = [cache = &cache_, url, etag = response->etag, policy]() -> Result<bool> {
      cache->refresh(url, etag, policy);
      return true;
    };
    auto refresh = run_blocking<bool>(files_, std::move(renew), overloaded);
    (void)co_await std::move(refresh);
    co_return (*cached)->pcm;
  }
  if (response->status < 200 || response->status >= 300) {
    ++stats_.failures;
    co_return retrieval_failure("HTTP " + std::to_string(response->status) + " from " + url);
  }
  if (!response->content_type.empty() && !is_audio_content_type(response->content_type)) {
    ++stats_.failures;
    co_return unplayable("Content-Type " + response->content_type + " is not audio (" + url + ")");
  }
  // Decoding (libsndfile, resampling) and the cache write: on the pool, which owns the body.
  auto work = [cache = &cache_, url, body = std::move(response->body), etag = response->etag,
               policy, limits = limits_]() -> Result<SharedPcm> {
    const auto* data = reinterpret_cast<const std::uint8_t*>(body.data());
    auto decoded = decode_audio({data, body.size()}, limits);
    if (decoded) cache->store(url, *decoded, etag, policy);
    return decoded;
  };
  auto decode = run_blocking<SharedPcm>(files_, std::move(work), std::move(overloaded));
  auto pcm = co_await std::move(decode);
  if (!pcm) {
    ++(pcm.error().code == codes::kServiceUnavailable ? stats_.overloaded : stats_.failures);
    co_return pcm.error();
  }
  ++stats_.fetched;
  co_return *pcm;
}

}  // namespace sb::media
