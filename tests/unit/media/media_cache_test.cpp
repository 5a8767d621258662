#include "media/media_cache.hpp"

#include <gtest/gtest.h>

#include <sndfile.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <cmath>
#include <deque>
#include <fstream>
#include <iterator>
#include <optional>

#include "http/client.hpp"
#include "media/http_media_fetcher.hpp"
#include "media/url_audio.hpp"
#include "support/app_server.hpp"
#include "support/fake_clock.hpp"
#include "support/run_on.hpp"
#include "support/temp_dir.hpp"

namespace sb::media {
namespace {

using sb::testing::run_on;

SharedPcm pcm_of(std::initializer_list<std::int16_t> v) {
  return std::make_shared<const std::vector<std::int16_t>>(v);
}

TEST(CacheControl, Parses) {
  auto p = parse_cache_control("public, max-age=300");
  EXPECT_FALSE(p.no_store);
  EXPECT_FALSE(p.no_cache);
  EXPECT_EQ(p.max_age_s, 300);
  EXPECT_TRUE(parse_cache_control("no-store").no_store);
  EXPECT_TRUE(parse_cache_control("No-Cache, max-age=5").no_cache);
  EXPECT_EQ(parse_cache_control("max-age=\"60\"").max_age_s, 60);
  EXPECT_FALSE(parse_cache_control("max-age=abc").max_age_s);
  EXPECT_FALSE(parse_cache_control("max-age=-1").max_age_s);
  EXPECT_FALSE(parse_cache_control("").max_age_s);
}

TEST(MediaCache, FreshThenStaleByMaxAge) {
  testing::TempDir dir;
  testing::FakeClock clock;
  MediaCache cache(dir.path() / "media", clock);
  EXPECT_FALSE(cache.lookup("http://a/x.wav"));
  ASSERT_TRUE(cache.store("http://a/x.wav", pcm_of({1, 2, 3}), "\"v1\"", {.max_age_s = 60}));
  auto e = cache.lookup("http://a/x.wav");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->fresh);
  EXPECT_EQ(*e->pcm, (std::vector<std::int16_t>{1, 2, 3}));
  EXPECT_EQ(e->etag, "\"v1\"");
  clock.advance(60);
  EXPECT_FALSE(cache.lookup("http://a/x.wav")->fresh);
  cache.refresh("http://a/x.wav", "", {.max_age_s = 10});
  e = cache.lookup("http://a/x.wav");
  EXPECT_TRUE(e->fresh);
  EXPECT_EQ(e->etag, "\"v1\"");  // kept when the 304 carries none
  // A second cache over the same directory (a restart) sees the entry.
  MediaCache again(dir.path() / "media", clock);
  EXPECT_TRUE(again.lookup("http://a/x.wav"));
}

TEST(MediaCache, NoStoreAndNoCache) {
  testing::TempDir dir;
  testing::FakeClock clock;
  MediaCache cache(dir.path(), clock);
  EXPECT_FALSE(cache.store("k", pcm_of({1}), "", {.no_store = true}));
  EXPECT_FALSE(cache.lookup("k"));
  ASSERT_TRUE(cache.store("k", pcm_of({1}), "e", {.no_cache = true, .max_age_s = 600}));
  EXPECT_FALSE(cache.lookup("k")->fresh);  // must revalidate every time
  cache.refresh("k", "e", {.no_store = true});
  EXPECT_FALSE(cache.lookup("k"));
}

TEST(MediaCache, CorruptEntryIsAMiss) {
  testing::TempDir dir;
  testing::FakeClock clock;
  MediaCache cache(dir.path(), clock);
  ASSERT_TRUE(cache.store("k", pcm_of({1, 2}), "", {.max_age_s = 60}));
  std::ofstream(dir.path() / (sha256_hex("k") + ".meta")) << "garbage";
  EXPECT_FALSE(cache.lookup("k"));
}

// ---- UrlAudioLoader over a scripted fetcher ----

std::string wav_bytes(int samples, std::int16_t value) {
  testing::TempDir dir;
  std::vector<std::int16_t> s(static_cast<std::size_t>(samples), value);
  EXPECT_TRUE(write_wav(dir.file("x.wav"), s));
  std::ifstream in(dir.file("x.wav"), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

class ScriptedFetcher final : public MediaFetcher {
 public:
  std::deque<Result<MediaResponse>> replies;
  std::vector<MediaRequest> requests;
  asio::awaitable<Result<MediaResponse>> fetch(MediaRequest request) override {
    requests.push_back(request);
    auto r = std::move(replies.front());
    replies.pop_front();
    co_return r;
  }
};

Result<SharedPcm> run_load(UrlAudioLoader& loader, const std::string& url) {
  boost::asio::io_context io;
  return run_on(io, loader.load(url));
}

MediaResponse ok_wav(std::string etag, std::string cache_control, std::int16_t value = 1000) {
  MediaResponse r;
  r.status = 200;
  r.body = wav_bytes(800, value);
  r.content_type = "audio/wav";
  r.etag = std::move(etag);
  r.cache_control = std::move(cache_control);
  return r;
}

TEST(UrlAudioLoader, CachesThenRevalidatesWithEtag) {
  testing::TempDir dir;
  testing::FakeClock clock;
  MediaCache cache(dir.path(), clock);
  ScriptedFetcher fetcher;
  UrlAudioLoader loader(fetcher, cache);
  fetcher.replies.push_back(ok_wav("\"abc\"", "max-age=30"));
  auto first = run_load(loader, "http://x/a.wav");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ((*first)->size(), 800u);
  auto second = run_load(loader, "http://x/a.wav");  // fresh: no request
  ASSERT_TRUE(second);
  EXPECT_EQ(fetcher.requests.size(), 1u);
  clock.advance(31);
  MediaResponse not_modified;
  not_modified.status = 304;
  not_modified.cache_control = "max-age=30";
  fetcher.replies.push_back(not_modified);
  auto third = run_load(loader, "http://x/a.wav");
  ASSERT_TRUE(third);
  ASSERT_EQ(fetcher.requests.size(), 2u);
  EXPECT_EQ(fetcher.requests[1].if_none_match, "\"abc\"");
  EXPECT_EQ((**third)[400], (**first)[400]);
  EXPECT_EQ(loader.stats().hits, 1u);
  EXPECT_EQ(loader.stats().revalidated, 1u);
  // Changed content: a 200 replaces the entry.
  clock.advance(31);
  fetcher.replies.push_back(ok_wav("\"def\"", "max-age=30", -2000));
  auto fourth = run_load(loader, "http://x/a.wav");
  ASSERT_TRUE(fourth);
  EXPECT_LT((**fourth)[400], 0);
  EXPECT_EQ(cache.lookup("http://x/a.wav")->etag, "\"def\"");
}

TEST(UrlAudioLoader, NoStoreFetchesEveryTime) {
  testing::TempDir dir;
  testing::FakeClock clock;
  MediaCache cache(dir.path(), clock);
  ScriptedFetcher fetcher;
  UrlAudioLoader loader(fetcher, cache);
  fetcher.replies.push_back(ok_wav("", "no-store"));
  fetcher.replies.push_back(ok_wav("", "no-store"));
  ASSERT_TRUE(run_load(loader, "http://x/b.wav"));
  ASSERT_TRUE(run_load(loader, "http://x/b.wav"));
  EXPECT_EQ(fetcher.requests.size(), 2u);
  EXPECT_TRUE(fetcher.requests[1].if_none_match.empty());
}

TEST(UrlAudioLoader, FailuresAreTwilioErrors) {
  testing::TempDir dir;
  testing::FakeClock clock;
  MediaCache cache(dir.path(), clock);
  ScriptedFetcher fetcher;
  UrlAudioLoader loader(fetcher, cache);
  fetcher.replies.push_back(Error{11205, 502, "connection refused"});
  EXPECT_EQ(run_load(loader, "http://x/c").error().code, 11205);
  MediaResponse not_found;
  not_found.status = 404;
  fetcher.replies.push_back(not_found);
  EXPECT_EQ(run_load(loader, "http://x/c").error().code, 11200);
  MediaResponse html;
  html.status = 200;
  html.content_type = "text/html";
  html.body = "<html></html>";
  fetcher.replies.push_back(html);
  EXPECT_EQ(run_load(loader, "http://x/c").error().code, 13420);
  MediaResponse junk;
  junk.status = 200;
  junk.content_type = "audio/mpeg";
  junk.body = std::string(3000, 'x');
  fetcher.replies.push_back(junk);
  EXPECT_EQ(run_load(loader, "http://x/c").error().code, 13420);
  EXPECT_EQ(loader.stats().failures, 4u);
  EXPECT_FALSE(cache.lookup("http://x/c"));
}

// ---- the HttpClient adapter against a real loopback server ----

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
  MediaCache cache(dir.path(), clock);
  boost::asio::io_context io;
  http::CurlClient client(io.get_executor());
  HttpMediaFetcher fetcher(client);
  UrlAudioLoader loader(fetcher, cache, {.max_bytes = 100000});
  auto load = [&](const std::string& path, std::size_t max_bytes = 100000) {
    UrlAudioLoader l(fetcher, cache, {.max_bytes = max_bytes});
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
}  // namespace sb::media
