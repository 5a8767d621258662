#include "media/url_audio.hpp"

#include "media/media_errors.hpp"

namespace sb::media {

asio::awaitable<Result<SharedPcm>> UrlAudioLoader::load(std::string url) {
  auto cached = cache_.lookup(url);
  if (cached && cached->fresh) {
    ++stats_.hits;
    co_return cached->pcm;
  }
  MediaRequest request;
  request.url = url;
  request.max_bytes = limits_.max_bytes;
  if (cached && !cached->etag.empty()) request.if_none_match = cached->etag;
  auto response = co_await fetcher_.fetch(std::move(request));
  if (!response) {
    ++stats_.failures;
    co_return response.error();
  }
  const CachePolicy policy = parse_cache_control(response->cache_control);
  if (response->status == 304 && cached) {
    ++stats_.revalidated;
    cache_.refresh(url, response->etag, policy);
    co_return cached->pcm;
  }
  if (response->status < 200 || response->status >= 300) {
    ++stats_.failures;
    co_return retrieval_failure("HTTP " + std::to_string(response->status) + " from " + url);
  }
  if (!response->content_type.empty() && !is_audio_content_type(response->content_type)) {
    ++stats_.failures;
    co_return unplayable("Content-Type " + response->content_type + " is not audio (" + url + ")");
  }
  const auto* data = reinterpret_cast<const std::uint8_t*>(response->body.data());
  auto pcm = decode_audio({data, response->body.size()}, limits_);
  if (!pcm) {
    ++stats_.failures;
    co_return pcm.error();
  }
  ++stats_.fetched;
  cache_.store(url, *pcm, response->etag, policy);
  co_return *pcm;
}

}  // namespace sb::media
