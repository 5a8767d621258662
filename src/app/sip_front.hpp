// The daemon's SIP side: the stack listening on --sip-listen (UDP and TCP), OPTIONS answered,
// and every INVITE routed by its called number. Until the media engine is bound (the
// call-router issue), a routed call is refused with 480; unknown numbers get 404, inactive
// accounts 403. The stack's counters (received, malformed, dropped, transport) go to /metrics.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <memory>

#include "core/config.hpp"
#include "http/metrics.hpp"
#include "sip/stack.hpp"
#include "store/store.hpp"

namespace sb::app {

class SipFront final : public sip::CallEvents {
 public:
  SipFront(boost::asio::io_context& io, store::Store& store);
  ~SipFront() override;

  // Binds UDP and TCP on the same port (port 0: a free one) and starts the stack.
  Result<sip::Endpoint> start(const ListenAddress& address, http::Metrics& metrics);
  void stop();

  void on_incoming(const sip::IncomingCall& call) override;

 private:
  struct Counters {
    std::atomic<std::uint64_t> received{0}, malformed{0}, dropped{0}, unknown_dialog{0},
        calls_in{0}, udp_in{0}, tcp_in{0}, send_errors{0}, receive_errors{0}, framing_errors{0};
  };
  void sample();  // copies the stack's counters (owned by its thread) for the scraper

  boost::asio::io_context& io_;
  store::Store& store_;
  std::unique_ptr<sip::SipStack> stack_;
  std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();
  boost::asio::steady_timer sampler_;
  bool running_ = false;
};

}  // namespace sb::app
