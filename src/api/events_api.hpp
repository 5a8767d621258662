// The eventing REST API under /v1 (channels, subscribers, publish, history, deliveries, replay,
// tokens) and the live streams (Server-Sent Events and WebSocket on a taken-over connection).
// Same Basic auth as the Twilio API; access tokens (Bearer or ?token=) for publish and streams.
#pragma once

#include "api/sessions.hpp"

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

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
  // Accepts the console's session cookie as well as Basic credentials and tokens.
  void set_sessions(ConsoleSessions* sessions) { sessions_ = sessions; }

 private:
  events::EventService& service_;
  store::Store& store_;
  std::string public_base_;
  ConsoleSessions* sessions_ = nullptr;
};

}  // namespace sb::api
