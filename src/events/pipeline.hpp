// The channel pipeline: runs an event through a channel's attribute stages in the channel's
// `order` (permissions, filter, delegates, translate, routes, webhook), then through the
// channels it routes to and its nearest existing ancestor, and says what each channel keeps.
// Pure apart from delegate calls, which go through the DelegateInvoker seam.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "events/attributes.hpp"
#include "events/event.hpp"

namespace sb::events {

namespace asio = boost::asio;

struct Channel {
  std::string sid;  // CH…
  std::string account_sid;
  std::string name;
  ChannelAttributes attributes;
  std::string signing_secret;     // whsec_… for the `webhook` attribute without its own secret
  std::int64_t date_created = 0;  // unix seconds
  std::int64_t date_updated = 0;
};
using ChannelPtr = std::shared_ptr<const Channel>;

// Looks channels up by account and name; the router's in-memory registry implements it.
class ChannelDirectory {
 public:
  virtual ~ChannelDirectory() = default;
  virtual ChannelPtr find_channel(std::string_view account_sid, std::string_view name) const = 0;
};

struct DelegateReply {
  enum class Outcome { kProcessed, kDropped, kFailed };
  Outcome outcome = Outcome::kFailed;
  json::object event;  // the processed CloudEvent (kProcessed)
  std::string error;   // why it failed (kFailed)
};

class DelegateInvoker {
 public:
  virtual ~DelegateInvoker() = default;
  // POSTs `cloudevent` to the delegate and classifies the answer: 200 with a JSON object is
  // processed, 204 is a drop, anything else (or a timeout) a failure. `account_sid`: the
  // channel's account, whose outbound policy the request follows.
  virtual asio::awaitable<DelegateReply> call(const Delegate& delegate, json::object cloudevent,
                                              std::string account_sid) = 0;
};

// What a channel keeps: the event as it left the channel's stages, for its history, its
// subscribers and its streams.
struct ChannelDelivery {
  ChannelPtr channel;
  Body body;
};

struct WebhookDelivery {
  ChannelPtr channel;
  Body body;
  std::string url;
  std::string secret;
};

struct PipelineResult {
  std::vector<ChannelDelivery> deliveries;  // origin first, then routes, then ancestors
  std::vector<WebhookDelivery> webhooks;    // from `webhook` attributes
  std::vector<std::string> dropped_at;      // "channel:stage" for every drop, for diagnostics
};

// Applies a translate attribute (select, then rename, then set); the type stays a string.
void apply_translate(const Translate& t, Body& body);
// Merges the answers of parallel delegates in list order (see docs/events.md).
void merge_delegate_event(Body& merged, const Body& original, const json::object& reply);

// Runs `body` through `origin` and everything it routes to. A publisher kind the origin's
// permissions refuse is a 403 error; drops are not errors.
asio::awaitable<Result<PipelineResult>> run_pipeline(const ChannelDirectory& directory,
                                                     DelegateInvoker& delegates, ChannelPtr origin,
                                                     std::string publisher_kind, EventHeader header,
                                                     Body body);

}  // namespace sb::events
