// media::MediaFetcher over the project's http::HttpClient: <Play> URLs fetched through the
// call worker's webhook client. It lives in voice, which uses both; media knows nothing of HTTP.
#pragma once

#include <string>
#include <utility>

#include "http/client.hpp"
#include "media/url_audio.hpp"

namespace sb::voice {

class HttpMediaFetcher final : public media::MediaFetcher {
 public:
  explicit HttpMediaFetcher(http::HttpClient& client) : client_(client) {}

  boost::asio::awaitable<Result<media::MediaResponse>> fetch(media::MediaRequest request) override {
    http::ClientRequest r;
    r.method = "GET";
    r.url = std::move(request.url);
    r.headers.emplace_back("Accept", "audio/*, application/octet-stream;q=0.5");
    if (!request.if_none_match.empty())
      r.headers.emplace_back("If-None-Match", request.if_none_match);
    if (request.max_bytes) r.max_body_bytes = request.max_bytes;
    r.account_sid = std::move(request.account_sid);
    auto result = co_await client_.fetch(std::move(r));
    if (!result) {
      Error e = result.error();
      if (e.code == http::fetch_codes::kResponseTooLarge) {
        e = Error{13420, 415, "Play: media larger than the limit"};
      } else {
        e.message = "Play: " + e.message;
      }
      co_return e;
    }
    media::MediaResponse out;
    out.status = result->status;
    out.body = std::move(result->body);
    out.content_type = result->content_type;
    if (auto v = result->header("ETag")) out.etag = std::string(*v);
    if (auto v = result->header("Cache-Control")) out.cache_control = std::string(*v);
    co_return out;
  }

 private:
  http::HttpClient& client_;
};

}  // namespace sb::voice
