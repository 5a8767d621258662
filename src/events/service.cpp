#include "events/service.hpp"

#include <boost/asio/post.hpp>

#include "core/log.hpp"

namespace sb::events {

namespace {
constexpr std::string_view kSystemChannel = "switchboard.subscribers";
}

Result<std::unique_ptr<EventService>> EventService::open(const std::string& db_path,
                                                         ServiceOptions options,
                                                         const Clock& clock) {
  auto store = EventStore::open(db_path);
  if (!store) return store.error();
  auto svc =
      std::unique_ptr<EventService>(new EventService(std::move(*store), std::move(options), clock));
  if (Status s = svc->load(); !s) return s.error();
  return svc;
}

EventService::EventService(std::unique_ptr<EventStore> store, ServiceOptions options,
                           const Clock& clock)
    : store_(std::move(store)),
      options_(std::move(options)),
      clock_(clock),
      registry_(*store_, clock_, options_.rotation_overlap_ms),
      dispatcher_(io_.get_executor(), *store_, registry_, clock_,
                  DispatchOptions{options_.retry_schedule_ms, options_.max_in_flight}),
      publisher_(io_.get_executor(), *store_, registry_, streams_, clock_,
                 options_.max_system_backlog),
      history_(*store_, clock_),
      tokens_(clock_) {
  http::ClientOptions co;
  co.verify_tls = options_.verify_tls;
  co.user_agent = "Switchboard-Events/" SB_VERSION;
  use_http_client(std::make_unique<http::CurlClient>(io_.get_executor(), co));
  publisher_.to_outbox(
      [this](std::vector<OutboxItem> items) { dispatcher_.enqueue(std::move(items)); });
  dispatcher_.on_disable(
      [this](const std::string& target, std::string reason) { disable_target(target, reason); });
}

void EventService::use_http_client(std::unique_ptr<http::HttpClient> client) {
  client_ = std::move(client);
  delegates_ = std::make_unique<HttpDelegateInvoker>(*client_);
  publisher_.use_delegates(*delegates_);
  dispatcher_.use_client(*client_);
}

EventService::~EventService() { stop(); }

Status EventService::load() {
  return store_->read([&](Db& db) -> Status {
    if (Status s = tokens_.load(db); !s) return s;
    if (Status s = registry_.load(db); !s) return s;
    return dispatcher_.load(db);
  });
}

void EventService::start() {
  if (started_.exchange(true)) return;
  if (Status s = tokens_.ensure_key(*store_); !s) {
    spdlog::error("events: storing the token key: {}", s.error().message);
  }
  if (const auto n = dispatcher_.pending()) {
    spdlog::info("events: {} webhook deliveries pending", n);
  }
  dispatcher_.start();
  thread_ = std::thread([this] { io_.run(); });
}

void EventService::stop() {
  if (!started_.exchange(false)) {
    if (store_) store_->close();
    return;
  }
  dispatcher_.stop();
  close_streams();
  // In-flight deliveries are abandoned: their rows stay pending and are retried on restart.
  io_.stop();
  if (thread_.joinable()) thread_.join();
  store_->close();
}

asio::awaitable<Status> EventService::delete_channel(ChannelPtr channel) {
  const std::string sid = channel->sid;
  Status s = co_await registry_.delete_channel(std::move(channel));
  if (s) streams_.close_channel(sid);
  co_return s;
}

std::shared_ptr<StreamQueue> EventService::open_stream(const Channel& channel,
                                                       const Subscriber* subscriber,
                                                       asio::any_io_executor executor) {
  StreamSettings settings;
  if (subscriber) {
    settings.queue_max = subscriber->attributes.queue_max;
    settings.overflow = subscriber->attributes.overflow;
    settings.filter = subscriber->attributes.filter;
  }
  return streams_.open(channel.sid, settings, std::move(executor));
}

RateLimit EventService::stream_rate_limit(const Channel& channel,
                                          const Subscriber* subscriber) const {
  if (subscriber && subscriber->attributes.rate_limit) return *subscriber->attributes.rate_limit;
  return channel.attributes.rate_limit;
}

asio::awaitable<Result<std::int64_t>> EventService::replay(SubscriberPtr sub, std::int64_t from_ms,
                                                           std::int64_t to_ms) {
  auto items = co_await history_.replay(std::move(sub), from_ms, to_ms);
  if (!items) co_return items.error();
  const auto count = static_cast<std::int64_t>(items->size());
  dispatcher_.post(std::move(*items));
  co_return count;
}

void EventService::disable_target(const std::string& target_sid, std::string reason) {
  auto s = registry_.disable(target_sid, std::move(reason));
  if (!s) return;
  json::object data;
  data["subscriber_sid"] = s->sid;
  data["channel_sid"] = s->channel_sid;
  data["url"] = s->url;
  data["reason"] = s->status_reason;
  publish_system(s->account_sid, std::string(kSystemChannel), "switchboard.subscriber.disabled",
                 std::move(data));
}

}  // namespace sb::events
