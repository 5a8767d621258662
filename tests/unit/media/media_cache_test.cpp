#include "media/media_cache.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sndfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <fstream>
#include <future>
#include <iterator>
#include <optional>
#include <thread>

#include "media/url_audio.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_media_fetcher.hpp"
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
  testing::FakeMediaFetcher fetcher;
  BlockingPool files({.threads = 1});
  UrlAudioLoader loader(fetcher, cache, files);
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
  testing::FakeMediaFetcher fetcher;
  BlockingPool files({.threads = 1});
  UrlAudioLoader loader(fetcher, cache, files);
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
  testing::FakeMediaFetcher fetcher;
  BlockingPool files({.threads = 1});
  UrlAudioLoader loader(fetcher, cache, files);
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

// ---- the loader never blocks its event loop (the call worker's 20 ms media tick) ----

// A cache entry whose metadata is a FIFO: opening it blocks until the test opens the other end,
// as a read from a slow or hung disk would, without a sleep.
class StalledCacheEntry {
 public:
  StalledCacheEntry(const std::filesystem::path& dir, const std::string& key,
                    const std::vector<std::int16_t>& samples)
      : meta_(dir / (sha256_hex(key) + ".meta")) {
    std::ofstream(dir / (sha256_hex(key) + ".pcm"), std::ios::binary)
        .write(reinterpret_cast<const char*>(samples.data()),
               static_cast<std::streamsize>(samples.size() * sizeof(std::int16_t)));
    created_ = ::mkfifo(meta_.c_str(), 0600) == 0;
  }
  ~StalledCacheEntry() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool created() const { return created_; }
  // Waits (generously) until the reader has opened the entry; it stays stuck in its read.
  bool wait_for_reader() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (fd_ < 0 && (fd_ = ::open(meta_.c_str(), O_WRONLY | O_NONBLOCK)) < 0) {
      if (errno != ENXIO || std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }
  // Lets the reader through with a fresh entry.
  bool release() {
    if (!wait_for_reader()) return false;
    const std::string meta = "v1\n9999999999\n\n";
    const bool ok = ::write(fd_, meta.data(), meta.size()) == static_cast<ssize_t>(meta.size());
    ::close(fd_);
    fd_ = -1;
    return ok;
  }

 private:
  std::filesystem::path meta_;
  bool created_ = false;
  int fd_ = -1;
};

// The defect: the cache read (and the decode and cache write after a fetch) ran on the call's
// worker, so a large or slow prompt stopped the media tick of every call on it.
TEST(UrlAudioLoader, CacheFileIoRunsOffTheEventLoop) {
  testing::TempDir dir;
  testing::FakeClock clock;
  MediaCache cache(dir.path(), clock);
  testing::FakeMediaFetcher fetcher;  // no replies: this is a cache hit
  BlockingPool files({.threads = 1});
  UrlAudioLoader loader(fetcher, cache, files);
  StalledCacheEntry entry(dir.path(), "http://x/p.wav", {5, 6, 7});
  ASSERT_TRUE(entry.created());
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::optional<Result<SharedPcm>> loaded;
  boost::asio::co_spawn(io, testing::store_into(loader.load("http://x/p.wav"), &loaded),
                        boost::asio::detached);
  std::promise<void> other_work;  // another call's work on the same worker
  boost::asio::post(io, [&] { other_work.set_value(); });
  std::thread worker([&] { io.run(); });
  const bool loop_free =
      other_work.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  EXPECT_TRUE(loop_free) << "the worker's loop was blocked by the cache read";
  ASSERT_TRUE(entry.release());
  guard.reset();
  worker.join();
  ASSERT_TRUE(loaded);
  ASSERT_TRUE(*loaded) << loaded->error().message;
  EXPECT_EQ(***loaded, (std::vector<std::int16_t>{5, 6, 7}));
  EXPECT_EQ(loader.stats().hits, 1u);
}

// The caller hangs up while its prompt is still being read: it resumes at once; the read
// finishes on the pool later and touches nothing of the call.
TEST(UrlAudioLoader, HangingUpDuringASlowReadEndsTheWaitAtOnce) {
  testing::TempDir dir;
  testing::FakeClock clock;
  MediaCache cache(dir.path(), clock);
  testing::FakeMediaFetcher fetcher;
  BlockingPool files({.threads = 1});
  UrlAudioLoader loader(fetcher, cache, files);
  StalledCacheEntry entry(dir.path(), "http://x/slow.wav", {1, 2});
  ASSERT_TRUE(entry.created());
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  auto loaded = std::make_unique<std::optional<Result<SharedPcm>>>();
  boost::asio::cancellation_signal hangup;
  std::promise<bool> ended;  // true: ended by the hang-up
  boost::asio::co_spawn(
      io, testing::store_into(loader.load("http://x/slow.wav"), loaded.get()),
      boost::asio::bind_cancellation_slot(
          hangup.slot(), [&](const std::exception_ptr& e) { ended.set_value(e != nullptr); }));
  std::thread worker([&] { io.run(); });
  ASSERT_TRUE(entry.wait_for_reader());  // the read has begun and is stuck
  boost::asio::post(io, [&] { hangup.emit(boost::asio::cancellation_type::terminal); });
  auto end = ended.get_future();
  const bool resumed = end.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  EXPECT_TRUE(resumed) << "the hang-up waited for the read";
  if (resumed) {
    EXPECT_TRUE(end.get());
    boost::asio::post(io, [&] { loaded.reset(); });  // the call's state goes
  }
  ASSERT_TRUE(entry.release());
  guard.reset();
  worker.join();
}

TEST(UrlAudioLoader, AFullFilePoolIsAnErrorForThatCallAtOnce) {
  testing::TempDir dir;
  testing::FakeClock clock;
  MediaCache cache(dir.path(), clock);
  testing::FakeMediaFetcher fetcher;
  BlockingPool files({.threads = 1, .max_queued = 1});
  UrlAudioLoader loader(fetcher, cache, files);
  std::promise<void> hold, running;
  auto held = hold.get_future().share();
  ASSERT_TRUE(files.try_post([&running, held] {
    running.set_value();
    held.wait();
  }));
  ASSERT_EQ(running.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  ASSERT_TRUE(files.try_post([] {}));  // the queue is full now
  auto refused = run_load(loader, "http://x/d.wav");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, 20503);
  EXPECT_EQ(loader.stats().overloaded, 1u);
  EXPECT_TRUE(fetcher.requests.empty());
  hold.set_value();
}

}  // namespace
}  // namespace sb::media
