// The daemon's SIP side: the SIP stack listening on --sip-listen (UDP and TCP on one port, on the
// first worker; TLS on sip.tls_listen), digest authentication of callers, and the call router that
// hands every routed INVITE to a CallWorker. Its counters (and the workers' media clocks) go to
// /metrics.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <memory>

#include "api/admin.hpp"
#include "app/call_workers.hpp"
#include "app/config.hpp"
#include "http/client.hpp"
#include "messaging/messaging_service.hpp"
#include "metrics/registry.hpp"
#include "sip/stack.hpp"
#include "voice/call_router.hpp"

namespace sb::app {

// What messaging needs beyond the SIP stack.
struct MessagingSetup {
  store::Store& store;
  const Clock& clock;
  messaging::MessageEventSink* events = nullptr;
  std::string public_url;
};

class SipService final : public api::SipBanList {
 public:
  // SIP runs on `sip_io`; calls are spread over `calls` (which outlives this).
  SipService(boost::asio::io_context& sip_io, CallWorkers& calls);
  ~SipService() override;

  // Binds UDP and TCP on the same port (port 0: a free one), starts the stack and registers
  // the SIP, call and media figures with `metrics`.
  // Calls to numbers go through `trunks` (shared with the REST API, which changes it live).
  // Messages (SIP MESSAGE) are routed by a MessagingService on the same thread.
  Result<sip::Endpoint> start(const Config& config, metrics::Registry& metrics,
                              std::shared_ptr<voice::TrunkTable> trunks,
                              const MessagingSetup& messaging);
  // Where SIP over TLS listens (sip.tls_listen), once started.
  const std::optional<sip::Endpoint>& tls_endpoint() const { return tls_endpoint_; }
  // Where the REST API sends messages (once started).
  messaging::MessageDispatcher& messages() { return *messaging_; }
  // Where the REST API places outbound calls (once started).
  voice::Dialer& dialer() { return *router_; }
  // Ends live calls (BYE) so that peers are not left with dead dialogs.
  void hang_up_all();
  void stop();

  // SipBanList: the bans as of the last sample (a quarter second at most behind), and lifting
  // one (posted to the SIP thread).
  std::vector<api::SourceBan> bans() const override;
  bool lift(const std::string& address) override;

 private:
  struct Figures;
  void sample();  // copies figures owned by the SIP and worker threads for the scraper
  // Our registrations to the trunks with `register = true` (posted to the SIP thread).
  Status start_registrations(const Config& config);
  // SIP over TLS: what outbound TLS trusts, and the sip.tls_listen listener.
  Status start_tls(const Config& config);

  boost::asio::io_context& sip_io_;
  CallWorkers& calls_;
  std::unique_ptr<voice::SipDirectory> directory_;
  std::unique_ptr<voice::CallRouter> router_;
  std::unique_ptr<http::CurlClient> message_client_;
  std::unique_ptr<voice::StoreNotificationSink> message_notifications_;
  std::unique_ptr<messaging::MessagingService> messaging_;
  std::unique_ptr<sip::SipStack> stack_;
  std::shared_ptr<Figures> figures_;
  std::optional<sip::Endpoint> tls_endpoint_;
  boost::asio::steady_timer sampler_;
  bool running_ = false;
};

}  // namespace sb::app
