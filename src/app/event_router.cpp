#include "app/event_router.hpp"

#include <filesystem>

#include "core/log.hpp"

namespace sb::app {

std::unique_ptr<EventRouter> EventRouter::start(const Config& config, store::Store& store,
                                                api::Api& api, const std::string& public_base) {
  std::unique_ptr<EventRouter> router(new EventRouter());
  events::ServiceOptions options;
  if (!config.events_retry_schedule_ms.empty()) {
    options.retry_schedule_ms = config.events_retry_schedule_ms;
  }
  const auto path = std::filesystem::path(config.data_dir) / "events.db";
  auto service = events::EventService::open(path.string(), std::move(options), router->clock_);
  if (!service) {
    spdlog::critical("events: {}", service.error().message);
    return nullptr;
  }
  router->service_ = std::move(*service);
  router->service_->start();
  router->api_ = std::make_unique<api::EventsApi>(*router->service_, store, public_base);
  router->api_->set_sessions(&api.sessions());
  api.set_v1_handler(
      [events_api = router->api_.get()](http::Request& req, http::RequestInfo& info) {
        return events_api->handle(req, info);
      });
  return router;
}

EventRouter::~EventRouter() { stop(); }

void EventRouter::stop() {
  if (service_) service_->stop();
}

}  // namespace sb::app
