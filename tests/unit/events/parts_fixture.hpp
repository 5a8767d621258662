// What the events parts' tests share: events.db in a temp dir, the registry over it, and an
// events executor on its own thread.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <optional>
#include <thread>

#include "events/delivery_policy.hpp"
#include "events/registry.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace sb::events::testing {

struct PartsFixture : ::testing::Test {
  PartsFixture() {
    auto s = EventStore::open(dir.file("events.db"));
    EXPECT_TRUE(s.ok());
    store = std::move(*s);
    registry = std::make_unique<ChannelRegistry>(*store, clock, 60'000);
  }
  ~PartsFixture() override {
    guard.reset();
    io.stop();
    if (thread.joinable()) thread.join();
    store->close();
  }
  void run_events_thread() {
    thread = std::thread([this] { io.run(); });
  }
  // Runs `a` on the events executor and waits for its result.
  template <typename T>
  T run(asio::awaitable<T> a) {
    auto f = asio::co_spawn(
        io.get_executor(),
        [](asio::awaitable<T> inner) -> asio::awaitable<std::optional<T>> {
          co_return co_await std::move(inner);
        }(std::move(a)),
        asio::use_future);
    return std::move(*f.get());
  }
  // Lets the events thread finish what it is doing, then waits for events.db.
  void settle() {
    asio::post(io.get_executor(), asio::use_future).get();
    store->flush();
  }
  ChannelPtr channel(std::string name) {
    auto c = run(registry->create_channel("AC1", std::move(name), json::value()));
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : nullptr;
  }
  SubscriberPtr webhook(ChannelPtr ch, std::string_view attributes = "{}") {
    auto s = run(registry->create_subscriber(ch, "webhook", "http://127.0.0.1:9/hook",
                                             generate_secret(), json::parse(attributes)));
    EXPECT_TRUE(s.ok());
    return s.ok() ? *s : nullptr;
  }
  std::string outbox_status(std::int64_t id) {
    return store
        ->read([&](Db& db) -> Result<std::string> {
          auto st = db.prepare("SELECT status FROM outbox WHERE id=?1");
          if (!st) return st.error();
          (*st)->bind(1, id);
          return (*st)->row() ? (*st)->text(0) : std::string("missing");
        })
        .value();
  }

  sb::testing::TempDir dir;
  sb::testing::FakeClock clock;
  asio::io_context io{1};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard{
      io.get_executor()};
  std::thread thread;
  std::unique_ptr<EventStore> store;
  std::unique_ptr<ChannelRegistry> registry;
};

}  // namespace sb::events::testing
