// The real delegate call (CurlClient to a loopback server): how each kind of answer is read.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>

#include "events/http_delegate.hpp"
#include "support/app_server.hpp"

namespace sb::events {
namespace {

struct InvokerFixture : ::testing::Test {
  sb::testing::AppServer app;
  asio::io_context io;
  std::unique_ptr<http::CurlClient> client;
  std::thread thread;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};

  InvokerFixture() {
    client = std::make_unique<http::CurlClient>(io.get_executor());
    thread = std::thread([this] { io.run(); });
  }
  ~InvokerFixture() override {
    asio::post(io, [this] { client.reset(); });
    guard.reset();
    thread.join();
  }
  DelegateReply call(const std::string& path, std::int64_t timeout_ms = 2000) {
    HttpDelegateInvoker invoker(*client);
    Delegate d;
    d.url = app.url(path);
    d.timeout_ms = timeout_ms;
    json::object ce;
    ce["specversion"] = "1.0";
    ce["id"] = "EV1";
    ce["type"] = "t";
    return asio::co_spawn(io, invoker.call(d, ce, ""), asio::use_future).get();
  }
};

TEST_F(InvokerFixture, ProcessedDroppedAndFailedAnswers) {
  app.reply("/ok",
            {200, "application/cloudevents+json", R"({"type":"t2","data":{"x":1}})", {}, 0, false});
  app.reply("/drop", {204, "", "", {}, 0, false});
  app.reply("/garbage", {200, "text/plain", "not json", {}, 0, false});
  app.reply("/array", {200, "application/json", "[1]", {}, 0, false});
  app.reply("/error", {500, "text/plain", "boom", {}, 0, false});
  app.reply("/slow", {200, "application/json", "{}", {}, 1000, false});

  auto ok = call("/ok");
  ASSERT_EQ(ok.outcome, DelegateReply::Outcome::kProcessed);
  EXPECT_EQ(ok.event.at("type"), "t2");
  EXPECT_EQ(call("/drop").outcome, DelegateReply::Outcome::kDropped);
  EXPECT_EQ(call("/garbage").outcome, DelegateReply::Outcome::kFailed);
  EXPECT_EQ(call("/array").outcome, DelegateReply::Outcome::kFailed);
  EXPECT_EQ(call("/error").outcome, DelegateReply::Outcome::kFailed);
  // The server holds its answer past the delegate's timeout.
  EXPECT_EQ(call("/slow", 200).outcome, DelegateReply::Outcome::kFailed);

  auto requests = app.requests_to("/ok");
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].headers["content-type"], "application/cloudevents+json");
  EXPECT_EQ(json::parse(requests[0].body).at("id"), "EV1");
}

}  // namespace
}  // namespace sb::events
