// Messaging over SIP (RFC 3428 MESSAGE), routed as Twilio routes SMS: an incoming MESSAGE to a
// number is stored (202 only once it is durable), the number's SmsUrl (or its SMS
// application's) is asked what to do — signed, with fallback, cookies per From/To pair — and the
// reply document's <Message> verbs are sent; Messages.json creates are sent the same way. A
// message leaves as a MESSAGE through the trunk its To's prefix selects, to a registered user
// (client:NAME) or to a sip: URI, and its status (queued -> sending -> sent -> delivered, or
// undelivered/failed with an 300xx ErrorCode) follows the far end's response, each change
// stored, posted to its StatusCallback in order and published on the event router.
//
// Everything runs on the SIP worker's thread, beside the user agent it sends through.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/time.hpp"
#include "http/client.hpp"
#include "messaging/message_events.hpp"
#include "sip/user_agent.hpp"
#include "store/store.hpp"
#include "twiml/call_control.hpp"
#include "twiml/messaging_document.hpp"
#include "voice/cookie_jar.hpp"
#include "voice/notifications.hpp"
#include "voice/outbound.hpp"
#include "voice/routing.hpp"
#include "voice/sip_directory.hpp"

namespace sb::messaging {

namespace asio = boost::asio;

struct MessagingOptions {
  voice::AddressAcl allow;  // sources (outside SIP domains) that may send in; others get 403
  std::string public_url;   // for MediaUrlN of received media
  std::string local_host = "127.0.0.1";  // our From URI's host when the trunk names none
  int max_documents = 10;                // documents per received message (first, Redirect, action)
  std::chrono::seconds cookie_idle{4 * 3600};  // Twilio: a From/To pair's cookies expire 4 h idle
  std::size_t max_in_flight = 256;  // MESSAGE requests awaiting a response; more wait in line
  std::size_t max_media = 10;       // media per message, either way
  std::size_t max_media_bytes = 5 * 1024 * 1024;
  std::size_t max_callbacks_in_flight = 64;  // status callback requests at once (all messages)
};

struct MessagingDeps {
  store::Store& store;
  const Clock& clock;
  http::HttpClient& client;  // on the same thread
  voice::NotificationSink& notifications;
  MessageEventSink* events = nullptr;
  std::shared_ptr<voice::TrunkTable> trunks;
  voice::SipDirectory* directory = nullptr;  // client:NAME's domains
};

struct MessagingStats {
  std::uint64_t received = 0;  // accepted (202) and stored
  std::uint64_t refused = 0;   // MESSAGE refused (4xx/5xx)
  std::uint64_t webhooks = 0;  // application requests made
  std::uint64_t sent = 0;      // MESSAGE requests sent
  std::uint64_t delivered = 0;
  std::uint64_t failed = 0;  // failed or undelivered
};

// How the REST API hands messages over. Callable from any thread.
class MessageDispatcher {
 public:
  virtual ~MessageDispatcher() = default;
  // `message` is stored (queued or scheduled): send it now, or at its send_at.
  virtual void submit(store::Message message) = 0;
  // A scheduled message the API has marked canceled: forget its timer (and publish
  // message.canceled).
  virtual void cancel(std::string sid) = 0;
};

class MessagingService final : public sip::MessageEvents, public MessageDispatcher {
 public:
  MessagingService(asio::io_context& io, MessagingDeps deps, MessagingOptions options = {});
  ~MessagingService() override;

  // On the SIP thread, once the stack runs: MESSAGE requests come here, ours leave there.
  void bind(sip::UserAgent& ua);
  // Picks up what a previous process left: scheduled messages re-armed; queued ones, and those
  // caught sending (their outcome unknown), sent again: at least once, never lost. From any
  // thread.
  void resume();

  // MessageDispatcher
  void submit(store::Message message) override;
  void cancel(std::string sid) override;

  // sip::MessageEvents (SIP thread)
  void on_message(const sip::IncomingMessage& message) override;
  void on_message_result(std::uint64_t handle, int status, std::string_view reason) override;

  // Read on the SIP thread.
  const MessagingStats& stats() const { return stats_; }

 private:
  struct Outgoing;
  struct Inbound;
  struct Fetched;
  struct Callbacks;

  void refuse(const sip::IncomingMessage& in, int status, std::string_view reason,
              std::string_view extra = {});
  void accepted(const sip::IncomingMessage& in, const std::shared_ptr<Inbound>& inbound);
  asio::awaitable<void> run_application(std::shared_ptr<Inbound> inbound);
  asio::awaitable<Fetched> fetch(const Inbound& inbound, std::string url, std::string method,
                                 twiml::Params params, bool with_fallback);
  asio::awaitable<Fetched> attempt(const Inbound& inbound, const std::string& url,
                                   const std::string& method, const twiml::Params& params);
  // Stores and sends one <Message> of a reply; returns its final status when `wait`.
  asio::awaitable<store::Message> reply(const Inbound& inbound, const twiml::MessageVerb& verb,
                                        bool wait);

  void schedule(store::Message message);
  void arm_schedule();
  void start(std::shared_ptr<Outgoing> out);  // sending
  void pump();                                // starts waiting messages while there is room
  void finish(Outgoing& out, const std::string& status, int error_code, std::string error);
  void set_status(Outgoing& out, const std::string& status);
  void post_callback(Outgoing& out);
  void pump_callbacks();
  static asio::awaitable<void> send_callback(MessagingService* self,
                                             std::shared_ptr<Callbacks> callbacks);
  void note(const std::string& account_sid, int log, int code, std::string text,
            const std::string& method = {}, const std::string& url = {},
            const twiml::Params& params = {}, const http::ClientResponse* response = nullptr);
  void publish(const store::Message& message);
  voice::CookieJar& cookies_for(const std::string& key);
  std::string token_of(const std::string& account_sid);

  asio::io_context& io_;
  MessagingDeps deps_;
  MessagingOptions options_;
  sip::UserAgent* ua_ = nullptr;
  MessagingStats stats_;
  std::unordered_map<std::string, std::shared_ptr<Outgoing>> outgoing_;  // by SID, until final
  std::unordered_map<std::uint64_t, std::string> handles_;               // UA handle -> SID
  std::deque<std::shared_ptr<Outgoing>> waiting_;  // queued behind max_in_flight
  std::size_t in_flight_ = 0;
  std::deque<std::shared_ptr<Callbacks>> callbacks_ready_;  // with a callback due, in turn
  std::size_t callbacks_in_flight_ = 0;
  std::multimap<std::int64_t, std::string> schedule_;  // send_at (ms) -> SID
  std::unordered_map<std::string, store::Message> scheduled_;
  asio::steady_timer schedule_timer_;
  struct Jar {
    voice::CookieJar jar;
    std::int64_t used_ms = 0;
  };
  std::unordered_map<std::string, Jar> cookies_;  // account|from|to
  std::int64_t last_cookie_sweep_ms_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Twilio's outcome of a MESSAGE's final SIP response: status (sent/delivered for 2xx: 200 is
// delivered, 202 only accepted for delivery), else undelivered or failed with its 300xx code.
struct SipOutcome {
  std::string status;
  int error_code = 0;
};
SipOutcome outcome_of(int sip_status);

}  // namespace sb::messaging
