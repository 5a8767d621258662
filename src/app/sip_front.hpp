// The daemon's voice side on one worker: the SIP stack listening on --sip-listen (UDP and TCP),
// the call router that turns every routed INVITE into a CallSession, and what those calls use
// on this worker: the webhook client, the media clock and RTP port pool, speech and audio
// caches. The stack's and the router's counters go to /metrics.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <memory>

#include "app/config.hpp"
#include "core/time.hpp"
#include "http/metrics.hpp"
#include "sip/stack.hpp"
#include "store/store.hpp"
#include "voice/call_events.hpp"
#include "voice/call_registry.hpp"
#include "voice/call_router.hpp"

namespace sb::app {

struct VoiceDeps {
  store::Store& store;
  const Clock& clock;
  voice::CallRegistry& registry;
  voice::CallEventSink* events = nullptr;
  std::string public_url;
};

class SipFront {
 public:
  // SIP runs on the first worker; calls are spread over all of them.
  SipFront(std::vector<boost::asio::io_context*> workers, VoiceDeps deps);
  ~SipFront();

  // Binds UDP and TCP on the same port (port 0: a free one) and starts the stack.
  Result<sip::Endpoint> start(const Config& config, http::Metrics& metrics);
  // Ends live calls (BYE) so that peers are not left with dead dialogs.
  void hang_up_all();
  void stop();

 private:
  struct Counters {
    std::atomic<std::uint64_t> received{0}, malformed{0}, dropped{0}, unknown_dialog{0},
        calls_in{0}, udp_in{0}, tcp_in{0}, send_errors{0}, receive_errors{0}, framing_errors{0},
        active_calls{0}, routed{0}, not_found{0}, forbidden{0}, no_application{0}, bad_sdp{0},
        overloaded{0}, completed{0};
    // Per worker's media clock, copied on that worker.
    struct Media {
      std::atomic<std::uint64_t> ticks{0}, late_ticks{0}, max_lateness_us{0}, streams{0};
      std::atomic<std::uint64_t> rtp_ignored{0}, rtcp_ignored{0};
    };
    std::vector<std::unique_ptr<Media>> media;
  };
  struct Shared;
  struct Worker;
  void sample();  // copies the stack's counters (owned by its thread) for the scraper

  std::vector<boost::asio::io_context*> ios_;
  VoiceDeps deps_;
  std::unique_ptr<Shared> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<voice::CallRouter> router_;
  std::unique_ptr<sip::SipStack> stack_;
  std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();
  boost::asio::steady_timer sampler_;
  bool running_ = false;
};

}  // namespace sb::app
