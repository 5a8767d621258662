// FakeHttpClient: the http::HttpClient a test scripts instead of a network. Replies by URL, one-
// shot replies in arrival order, a responder, transport failures with Twilio numbers; a log of
// every request; requests held until the test releases them. Thread-safe.
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/text.hpp"
#include "http/client.hpp"

namespace sb::testing {

// What the fake answers one request with: a response, or a transport failure.
struct FakeReply {
  int status = 200;
  std::string body;
  std::string content_type;
  http::HeaderList headers;
  std::optional<Error> failure;  // set: no response, this Error (a Twilio 112xx number)

  static FakeReply transport_failure(int code = http::fetch_codes::kConnectionFailure,
                                     std::string message = "connection refused") {
    FakeReply r;
    r.failure = Error{code, 502, std::move(message)};
    return r;
  }
};

class FakeHttpClient final : public http::HttpClient {
 public:
  using Responder = std::function<Result<http::ClientResponse>(const http::ClientRequest&)>;
  // How a held request waits: its coroutine suspends (the caller's loop goes on), or it blocks
  // the calling thread, as a slow endpoint behind a synchronous client would.
  enum class Hold { kSuspend, kBlockThread };

  // An answer is, first to match: the next one-shot reply (taken when the request arrives),
  // the reply for its URL, the responder (run while the request is in flight, after any hold,
  // without the fake's lock: it may look at the log), the default reply (200, empty).
  void next(FakeReply reply) {
    std::lock_guard lock(mu_);
    queued_.push_back(std::move(reply));
  }
  // Every request to `url` (compared without query and fragment) gets `reply`.
  void reply_to(const std::string& url, FakeReply reply) {
    std::lock_guard lock(mu_);
    by_url_[base_of(url)] = std::move(reply);
  }
  void respond_with(Responder responder) {
    std::lock_guard lock(mu_);
    responder_ = std::move(responder);
  }
  void reply_by_default(FakeReply reply) {
    std::lock_guard lock(mu_);
    default_ = std::move(reply);
  }

  // Requests from now on wait until release(), which lets every waiting one go and ends the
  // hold.
  void hold(Hold how = Hold::kSuspend) {
    std::lock_guard lock(mu_);
    hold_ = how;
  }
  void release() {
    std::lock_guard lock(mu_);
    hold_.reset();
    for (auto& waiter : waiting_) {
      waiter->released = true;
      boost::asio::post(waiter->timer.get_executor(), [waiter] { waiter->timer.cancel(); });
    }
    waiting_.clear();
    cv_.notify_all();
  }

  // The log, in arrival order.
  std::vector<http::ClientRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  http::ClientRequest request(std::size_t i) const {
    std::lock_guard lock(mu_);
    return requests_.at(i);
  }
  std::size_t count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  // The first value of request `i`'s header `name` (any case), "" if absent.
  std::string header(std::size_t i, std::string_view name) const {
    std::lock_guard lock(mu_);
    for (const auto& [k, v] : requests_.at(i).headers) {
      if (iequals(k, name)) return v;
    }
    return "";
  }
  // Blocks until `n` requests have arrived (from any thread) or `timeout` passed.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

  boost::asio::awaitable<Result<http::ClientResponse>> fetch(http::ClientRequest request) override {
    std::optional<FakeReply> queued;
    std::optional<Hold> hold;
    {
      std::unique_lock lock(mu_);
      requests_.push_back(request);
      if (!queued_.empty()) {
        queued = std::move(queued_.front());
        queued_.pop_front();
      }
      cv_.notify_all();
      hold = hold_;
      if (hold == Hold::kBlockThread) cv_.wait(lock, [&] { return !hold_.has_value(); });
    }
    if (hold == Hold::kSuspend) co_await wait_for_release();
    if (queued) co_return answer(*queued, request);
    Responder responder;
    std::optional<FakeReply> reply;
    {
      std::lock_guard lock(mu_);
      auto it = by_url_.find(base_of(request.url));
      if (it != by_url_.end()) {
        reply = it->second;
      } else if (!responder_) {
        reply = default_;
      }
      responder = responder_;
    }
    if (reply) co_return answer(*reply, request);
    co_return responder(request);
  }

 private:
  struct Waiter {
    explicit Waiter(boost::asio::any_io_executor executor)
        : timer(std::move(executor), boost::asio::steady_timer::time_point::max()) {}
    boost::asio::steady_timer timer;
    bool released = false;  // under mu_
  };

  static std::string base_of(std::string_view url) {
    return std::string(url.substr(0, url.find_first_of("?#")));
  }

  static Result<http::ClientResponse> answer(const FakeReply& reply,
                                             const http::ClientRequest& request) {
    if (reply.failure) return *reply.failure;
    http::ClientResponse r;
    r.status = reply.status;
    r.body = reply.body;
    r.content_type = reply.content_type;
    r.headers = reply.headers;
    r.effective_url = request.url.substr(0, request.url.find('#'));
    r.attempts = 1;
    return r;
  }

  // Suspends until release(); a cancelled wait throws operation_aborted, as a cancelled fetch
  // does.
  boost::asio::awaitable<void> wait_for_release() {
    auto waiter = std::make_shared<Waiter>(co_await boost::asio::this_coro::executor);
    {
      std::lock_guard lock(mu_);
      if (!hold_) co_return;  // released meanwhile
      waiting_.push_back(waiter);
    }
    boost::system::error_code ec;
    try {
      co_await waiter->timer.async_wait(boost::asio::use_awaitable);
    } catch (const boost::system::system_error& e) {
      ec = e.code();
    }
    std::lock_guard lock(mu_);
    if (waiter->released) co_return;
    std::erase(waiting_, waiter);
    throw boost::system::system_error(ec ? ec : boost::asio::error::operation_aborted);
  }

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<http::ClientRequest> requests_;
  std::deque<FakeReply> queued_;
  std::map<std::string, FakeReply> by_url_;
  Responder responder_;
  FakeReply default_;
  std::optional<Hold> hold_;
  std::vector<std::shared_ptr<Waiter>> waiting_;
};

}  // namespace sb::testing
