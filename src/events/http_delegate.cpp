#include "events/http_delegate.hpp"

#include <algorithm>
#include <chrono>

#include "events/event.hpp"

namespace sb::events {

asio::awaitable<DelegateReply> HttpDelegateInvoker::call(const Delegate& delegate,
                                                         json::object cloudevent,
                                                         std::string account_sid) {
  http::ClientRequest req;
  req.account_sid = std::move(account_sid);
  req.method = "POST";
  req.url = delegate.url;
  req.headers = {{"Content-Type", "application/cloudevents+json"}};
  req.body = json::serialize(cloudevent);
  http::ConnectionSettings settings;
  settings.connect_timeout =
      std::chrono::milliseconds(std::min<std::int64_t>(delegate.timeout_ms, 5000));
  settings.read_timeout = std::chrono::milliseconds(delegate.timeout_ms);
  settings.total_timeout = std::chrono::milliseconds(delegate.timeout_ms);
  settings.retry_count = 0;
  req.settings = settings;
  req.max_body_bytes = kMaxEventBytes * 2;
  auto res = co_await client_.fetch(std::move(req));
  DelegateReply reply;
  if (!res) {
    reply.error = res.error().message;
    co_return reply;
  }
  if (res->status == 204) {
    reply.outcome = DelegateReply::Outcome::kDropped;
    co_return reply;
  }
  if (res->status != 200) {
    reply.error = "delegate answered HTTP " + std::to_string(res->status);
    co_return reply;
  }
  boost::system::error_code ec;
  auto v = json::parse(res->body, ec);
  if (ec || !v.is_object()) {
    reply.error = "delegate answered something that is not a JSON object";
    co_return reply;
  }
  reply.outcome = DelegateReply::Outcome::kProcessed;
  reply.event = std::move(v.get_object());
  co_return reply;
}

}  // namespace sb::events
