// What every REST handler works with: the store, the clock, limits; and awaiting a write.
#pragma once

#include <boost/asio.hpp>
#include <filesystem>
#include <string>

#include "core/time.hpp"
#include "http/form.hpp"
#include "http/response.hpp"
#include "messaging/messaging_service.hpp"
#include "store/commit.hpp"
#include "store/store.hpp"
#include "voice/call_queue.hpp"
#include "voice/call_registry.hpp"
#include "voice/conference.hpp"
#include "voice/outbound.hpp"

namespace sb::api {

namespace asio = boost::asio;
class ConsoleSessions;

struct Context {
  store::Store& store;
  const Clock& clock;
  http::FormLimits form_limits;
  voice::CallRegistry* calls = nullptr;  // live calls, for Calls/{Sid}.json updates
  voice::Dialer* dialer = nullptr;       // where Calls.json create places outbound calls
  voice::ConferenceRegistry* conferences = nullptr;  // live rooms (Conferences, Participants)
  voice::QueueRegistry* queues = nullptr;            // who waits in which queue (Members)
  voice::TrunkTable* trunks = nullptr;  // the router's trunks, changed by SIP/Trunks.json
  messaging::MessageDispatcher* messages = nullptr;  // where Messages.json create sends
  ConsoleSessions* sessions = nullptr;  // the console's sessions: their cookie authenticates
  // The digest realm SIP credentials are hashed under (sip.realm): the SIP stack's.
  std::string sip_realm = "switchboard";
  // Where relative Recording media paths live; empty: only absolute paths are served.
  std::filesystem::path recordings_dir;
  // The daemon's public base URL ("https://sb.example.com", no trailing slash), for absolute
  // URLs such as a Recording's media_url; empty: the request's Host header stands in.
  std::string public_url;
};

// Queues `mutation` on the store's writer and resumes the coroutine on its own executor once
// the write is committed, so the event loop never blocks on disk. `mutation` is a named local
// of the caller (moved from): GCC 12 mishandles temporaries inside co_await expressions.
using store::commit;

// A list or fetch request's parameters are its query; a create or update's are its form body.
Result<http::Form> request_params(const http::Request& req, std::string_view query,
                                  const http::FormLimits& limits);

// The Twilio error for a store failure (conflicts and not-found mapped by the caller first).
http::Response store_error(const Error& error);

}  // namespace sb::api
