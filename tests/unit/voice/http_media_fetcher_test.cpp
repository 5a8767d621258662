// voice::HttpMediaFetcher (media::MediaFetcher over http::HttpClient) against a real loopback
// server, under media::UrlAudioLoader as a call's <Play> uses it.
#include "voice/http_media_fetcher.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <fstream>
#include <iterator>

#include "media/audio_file.hpp"
#include "media/media_cache.hpp"
#include "media/offload.hpp"
#include "media/url_audio.hpp"
#include "support/app_server.hpp"
#include "support/fake_clock.hpp"
#include "support/run_on.hpp"
#include "support/temp_dir.hpp"

namespace sb::voice {
namespace {

using sb::testing::run_on;

std::string wav_bytes(int samples, std::int16_t value) {
  testing::TempDir dir;
  std::vector<std::int16_t> s(static_cast<std::size_t>(samples), value);
  EXPECT_TRUE(media::write_wav(dir.file("x.wav"), s));
  std::ifstream in(dir.file("x.wav"), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(HttpMediaFetcher, EtagRevalidationOverHttp) {
  testing::AppServer server;
  const std::string body = wav_bytes(1600, 3000);
  server.route("/prompt.wav", [&](const testing::RecordedRequest& req) {
    testing::Reply r;
    auto inm = req.headers.find("if-none-match");
    if (inm != req.headers.end() && inm->second == "\"p1\"") {
      r.status = 304;
      r.content_type = "";
    } else {
      r.content_type = "audio/wav";
      r.body = body;
    }
    r.headers = {{"ETag", "\"p1\""}, {"Cache-Control", "max-age=10"}};
    return r;
  });
  server.reply("/big.wav", {200, "audio/wav", std::string(4000, 'x')});
  server.reply("/missing.wav", {404, "text/plain", "no"});
  testing::TempDir dir;
  testing::FakeClock clock;
  media::MediaCache cache(dir.path(), clock);
  boost::asio::io_context io;
  http::CurlClient client(io.get_executor());
  HttpMediaFetcher fetcher(client);
  media::BlockingPool files({.threads = 1});
  auto load = [&](const std::string& path, std::size_t max_bytes = 100000) {
    media::UrlAudioLoader l(fetcher, cache, files, {.max_bytes = max_bytes});
    return run_on(io, l.load(server.url(path)));
  };
  auto first = load("/prompt.wav");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ((*first)->size(), 1600u);
  clock.advance(11);
  auto second = load("/prompt.wav");
  ASSERT_TRUE(second) << second.error().message;
  auto requests = server.requests_to("/prompt.wav");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].headers["if-none-match"], "\"p1\"");
  EXPECT_EQ(load("/missing.wav").error().code, 11200);
  auto big = load("/big.wav", 1000);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, 13420);
}

}  // namespace
}  // namespace sb::voice
