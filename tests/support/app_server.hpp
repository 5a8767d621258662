// A real HTTP application server on loopback for tests: serves scripted replies by path on its
// own thread, records every request, and can delay or hold a reply (no sleeps in tests: a held
// reply waits for release()).
#pragma once

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sb::testing {

struct RecordedRequest {
  std::string method;
  std::string target;                          // path and query as received
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct Reply {
  unsigned status = 200;
  std::string content_type = "text/xml";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  int delay_ms = 0;   // answer after this long
  bool hold = false;  // answer only after release()
};

class AppServer {
 public:
  using Route = std::function<Reply(const RecordedRequest&)>;

  AppServer() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    boost::asio::co_spawn(io_, accept_loop(), boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~AppServer() {
    release();
    io_.stop();
    thread_.join();
  }

  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  void route(const std::string& path, Route r) {
    std::lock_guard lock(mu_);
    routes_[path] = std::move(r);
  }
  void reply(const std::string& path, Reply r) {
    route(path, [r](const RecordedRequest&) { return r; });
  }
  std::vector<RecordedRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<RecordedRequest> requests_to(const std::string& path) const {
    std::lock_guard lock(mu_);
    std::vector<RecordedRequest> out;
    for (const auto& r : requests_) {
      if (r.target.substr(0, r.target.find('?')) == path) out.push_back(r);
    }
    return out;
  }
  // Blocks until `n` requests to `path` have arrived or `ms` passed; returns whether they did.
  bool wait_for(const std::string& path, std::size_t n, int ms = 5000) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] {
      std::size_t count = 0;
      for (const auto& r : requests_) count += r.target.substr(0, r.target.find('?')) == path;
      return count >= n;
    });
  }
  // Runs on the server thread right after each response is written (benchmarks stamp time).
  void after_write(std::function<void()> hook) {
    std::lock_guard lock(mu_);
    after_write_ = std::move(hook);
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  boost::asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] =
          co_await acceptor_.async_accept(boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return;
      boost::asio::co_spawn(io_, session(std::move(socket)), boost::asio::detached);
    }
  }

  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(socket, buffer, req,
                                               boost::asio::as_tuple(boost::asio::use_awaitable));
      if (ec) co_return;
      RecordedRequest rec;
      rec.method = std::string(req.method_string());
      rec.target = std::string(req.target());
      for (const auto& f : req) {
        std::string name(f.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        rec.headers[name] = std::string(f.value());
      }
      rec.body = req.body();
      Route route;
      {
        std::lock_guard lock(mu_);
        requests_.push_back(rec);
        cv_.notify_all();
        auto it = routes_.find(rec.target.substr(0, rec.target.find('?')));
        if (it != routes_.end()) route = it->second;
      }
      Reply r = route ? route(rec) : Reply{404, "text/plain", "no route", {}, 0, false};
      if (r.delay_ms > 0) {
        boost::asio::steady_timer t(io_, std::chrono::milliseconds(r.delay_ms));
        co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      }
      while (r.hold) {
        {
          std::lock_guard lock(mu_);
          if (released_) break;
        }
        boost::asio::steady_timer t(io_, std::chrono::milliseconds(5));
        co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      }
      http::response<http::string_body> res{static_cast<http::status>(r.status), req.version()};
      if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
      for (const auto& [k, v] : r.headers) res.insert(k, v);
      res.body() = r.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(
          socket, res, boost::asio::as_tuple(boost::asio::use_awaitable));
      {
        std::function<void()> hook;
        {
          std::lock_guard lock(mu_);
          hook = after_write_;
        }
        if (hook) hook();
      }
      if (wec || !req.keep_alive()) co_return;
    }
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Route> routes_;
  std::vector<RecordedRequest> requests_;
  bool released_ = false;
  std::function<void()> after_write_;
};

}  // namespace sb::testing
