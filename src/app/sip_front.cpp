#include "app/sip_front.hpp"

#include "core/log.hpp"
#include "voice/routing.hpp"

namespace sb::app {

SipFront::SipFront(boost::asio::io_context& io, store::Store& store)
    : io_(io), store_(store), sampler_(io) {}

SipFront::~SipFront() = default;

Result<sip::Endpoint> SipFront::start(const ListenAddress& address, http::Metrics& metrics) {
  sip::UaConfig config;
  config.host =
      address.host == "0.0.0.0" || address.host == "localhost" ? "127.0.0.1" : address.host;
  stack_ = std::make_unique<sip::SipStack>(io_, config, *this);
  const std::string host = address.host == "localhost" ? "127.0.0.1" : address.host;
  auto udp = stack_->listen_udp(host, address.port);
  if (!udp) return udp.error();
  auto tcp = stack_->listen_tcp(host, udp->port);
  if (!tcp) return tcp.error();
  stack_->start();
  running_ = true;
  sample();
  metrics.add_collector([c = counters_](std::string& out) {
    auto line = [&out](const char* name, const char* help, const char* type, std::uint64_t v) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
             name + " " + std::to_string(v) + "\n";
    };
    line("switchboard_sip_messages_received_total", "SIP messages received.", "counter",
         c->received.load());
    line("switchboard_sip_messages_malformed_total",
         "Malformed SIP requests refused with a 4xx/5xx.", "counter", c->malformed.load());
    line("switchboard_sip_messages_dropped_total",
         "Malformed SIP messages dropped because no response could be formed.", "counter",
         c->dropped.load());
    line("switchboard_sip_unknown_dialog_total", "481 responses for unknown dialogs.", "counter",
         c->unknown_dialog.load());
    line("switchboard_sip_calls_in_total", "Incoming INVITEs.", "counter", c->calls_in.load());
    line("switchboard_sip_udp_datagrams_in_total", "UDP datagrams received.", "counter",
         c->udp_in.load());
    line("switchboard_sip_tcp_messages_in_total", "TCP messages received.", "counter",
         c->tcp_in.load());
    line("switchboard_sip_socket_errors_total", "SIP socket send and receive errors.", "counter",
         c->send_errors.load() + c->receive_errors.load());
    line("switchboard_sip_framing_errors_total", "TCP streams closed for bad framing.", "counter",
         c->framing_errors.load());
  });
  return *udp;
}

void SipFront::sample() {
  if (!running_) return;
  const auto& ua = stack_->ua().stats();
  const auto& tr = stack_->transport_stats();
  counters_->received = ua.received;
  counters_->malformed = ua.malformed;
  counters_->dropped = ua.dropped;
  counters_->unknown_dialog = ua.unknown_dialog;
  counters_->calls_in = ua.calls_in;
  counters_->udp_in = tr.udp_in;
  counters_->tcp_in = tr.tcp_in;
  counters_->send_errors = tr.send_errors;
  counters_->receive_errors = tr.receive_errors;
  counters_->framing_errors = tr.framing_errors;
  sampler_.expires_after(std::chrono::milliseconds(250));
  sampler_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) sample();
  });
}

void SipFront::stop() {
  if (!running_) return;
  running_ = false;
  sampler_.cancel();
  stack_->stop();
}

void SipFront::on_incoming(const sip::IncomingCall& call) {
  // A store lookup is a short indexed read; the call router issue moves calls to sessions.
  auto routed = voice::route_call(store_, call.to_user);
  if (!routed) {
    stack_->ua().reject(call.call, 500, "Server Internal Error");
    return;
  }
  if (!routed->route) {
    switch (routed->failure) {
      case voice::RouteFailure::kUnknownNumber:
        stack_->ua().reject(call.call, 404, "Not Found");
        return;
      case voice::RouteFailure::kInactiveAccount:
        stack_->ua().reject(call.call, 403, "Forbidden");
        return;
      case voice::RouteFailure::kNoApplication:
        stack_->ua().reject(call.call, 480, "No Voice Application");
        return;
    }
  }
  spdlog::info("sip: call {} to {} routed to {} (media not bound yet: 480)", call.call_id,
               call.to_user, routed->route->application.url);
  stack_->ua().reject(call.call, 480, "Media Engine Not Available");
}

}  // namespace sb::app
