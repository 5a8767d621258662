// A far end of an RTP session in unit tests: a plain UDP socket on loopback, used
// synchronously (send RTP to a port, drain what arrived).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cstdint>
#include <span>
#include <vector>

#include "media/media_worker.hpp"
#include "media/rtp_packet.hpp"

namespace sb::test {

namespace asio = boost::asio;
using udp = asio::ip::udp;
using media::kMaxRtpPacketSize;
using media::RtpHeader;
using media::serialize_rtp;

struct UdpPeer {
  explicit UdpPeer(asio::io_context& io)
      : socket(io, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    socket.non_blocking(true);
  }
  explicit UdpPeer(udp::socket bound) : socket(std::move(bound)) {}
  std::uint16_t port() const { return socket.local_endpoint().port(); }
  void send(std::span<const std::uint8_t> data, std::uint16_t to) {
    socket.send_to(asio::buffer(data.data(), data.size()),
                   udp::endpoint(asio::ip::make_address("127.0.0.1"), to));
  }
  void send_rtp(std::uint16_t to, std::uint8_t pt, std::uint16_t seq, std::uint32_t ts,
                std::span<const std::uint8_t> payload, std::uint32_t ssrc = 0x5EED,
                bool marker = false) {
    RtpHeader h;
    h.payload_type = pt;
    h.sequence = seq;
    h.timestamp = ts;
    h.ssrc = ssrc;
    h.marker = marker;
    std::vector<std::uint8_t> buf(kMaxRtpPacketSize);
    buf.resize(serialize_rtp(h, payload, buf));
    send(buf, to);
  }
  // Every datagram waiting on the socket.
  std::vector<std::vector<std::uint8_t>> drain() {
    std::vector<std::vector<std::uint8_t>> out;
    for (;;) {
      std::vector<std::uint8_t> buf(2048);
      udp::endpoint from;
      boost::system::error_code ec;
      const std::size_t n = socket.receive_from(asio::buffer(buf), from, 0, ec);
      if (ec) break;
      buf.resize(n);
      out.push_back(std::move(buf));
    }
    return out;
  }
  udp::socket socket;
};

// Runs ready handlers (loopback datagrams are delivered at once; no waiting).
inline void pump(asio::io_context& io) {
  for (int i = 0; i < 3; ++i) {
    io.restart();
    io.poll();
  }
}

// Advances a hand-driven media clock by `n` ticks of 20 ms, running what each made ready.
inline void tick(asio::io_context& io, media::MediaWorker& worker,
                 std::chrono::steady_clock::time_point& now, int n = 1) {
  for (int i = 0; i < n; ++i) {
    now += std::chrono::milliseconds(20);
    worker.tick(now);
    pump(io);
  }
}

}  // namespace sb::test
