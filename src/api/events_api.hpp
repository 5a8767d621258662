// The eventing REST API under /v1 (channels, subscribers, publish, history, deliveries, replay,
// tokens) and the live streams (Server-Sent Events and WebSocket on a taken-over connection).
// Same Basic auth as the Twilio API; access tokens (Bearer or ?token=) for publish and streams.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "events/service.hpp"
#include "http/server.hpp"
#include "store/store.hpp"

namespace sb::api {

class Api;

class EventsApi {
 public:
  // `public_base` (no trailing slash) prefixes the signed stream URLs tokens come with.
  EventsApi(events::EventService& service, store::Store& store, std::string public_base);
  boost::asio::awaitable<http::Response> handle(http::Request& req, http::RequestInfo& info);

 private:
  events::EventService& service_;
  store::Store& store_;
  std::string public_base_;
};

}  // namespace sb::api

namespace sb::app {

// The daemon's hook, declared at block scope in daemon.cpp's "events wiring" block (so that file
// needs no new include): opens DATA_DIR/events.db, starts the events thread and installs the
// /v1 handler on `api`. Reads SWITCHBOARD_EVENTS_RETRY_SCHEDULE ("5s,5m,…" or ms "100,200").
// Null on failure (logged). The result is an events::EventService + api::EventsApi pair.
std::shared_ptr<void> start_events(const Config& config, store::Store& store, api::Api& api,
                                   const std::string& public_base);
// Stops the events thread and closes events.db; call after the workers are joined.
void stop_events(const std::shared_ptr<void>& module);
// The service inside a module from start_events, for the voice layer's publish_system().
events::EventService* events_service(const std::shared_ptr<void>& module);

}  // namespace sb::app
