// The daemon's event router: opens DATA_DIR/events.db, runs the events thread, installs the /v1
// API on the REST router and gives the call router a way to publish its call events.
#pragma once

#include <memory>
#include <string>

#include "api/api.hpp"
#include "api/events_api.hpp"
#include "app/config.hpp"
#include "events/service.hpp"
#include "store/store.hpp"

namespace sb::app {

class EventRouter {
 public:
  // Null on failure (logged). `public_base` prefixes the signed stream URLs tokens come with.
  static std::unique_ptr<EventRouter> start(const Config& config, store::Store& store,
                                            api::Api& api, const std::string& public_base);
  ~EventRouter();

  events::EventService& service() { return *service_; }
  // Stops the events thread and closes events.db; call after the workers are joined.
  void stop();

 private:
  EventRouter() = default;
  SystemClock clock_;
  std::unique_ptr<events::EventService> service_;
  std::unique_ptr<api::EventsApi> api_;
};

}  // namespace sb::app
