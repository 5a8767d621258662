// FakeSender: the sip::Sender of a UserAgent or TransactionLayer under test, keeping every
// message sent. Given a FakeSipNetwork it also puts each message on that network, which hands it
// to the UserAgent at its destination: two or more UAs back to back, without sockets, on a clock
// the test moves.
#pragma once

#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sip/transport.hpp"
#include "sip/user_agent.hpp"

namespace sb::testing {

// Messages in flight between UserAgents: queued by their senders, delivered when the test says.
class FakeSipNetwork {
 public:
  struct Packet {
    sip::Endpoint from, to;
    std::string bytes;
  };

  std::deque<Packet> queue;
  std::vector<Packet> log;  // every packet taken off the queue, lost ones too
  sip::Millis now{0};
  std::function<bool(const Packet&)> drop;  // true: the packet is lost

  // Messages to `at` reach `ua` (address and port compared).
  void attach(const sip::Endpoint& at, sip::UserAgent& ua) { nodes_.push_back({at, &ua}); }

  void deliver_all() {
    for (int guard = 0; guard < 1000 && !queue.empty(); ++guard) {
      Packet p = std::move(queue.front());
      queue.pop_front();
      log.push_back(p);
      if (drop && drop(p)) continue;
      for (const auto& n : nodes_) {
        if (n.at.address == p.to.address && n.at.port == p.to.port) {
          n.ua->on_message(p.bytes, p.from, now);
        }
      }
    }
  }
  // Moves the clock to `to` in 10 ms steps, ticking every UA and delivering after each step.
  void advance(sip::Millis to) {
    while (now < to) {
      now += sip::Millis(10);
      for (const auto& n : nodes_) n.ua->on_tick(now);
      deliver_all();
    }
  }
  // Packets on the wire that start with `start` ("INVITE", "SIP/2.0 200", ...).
  int count(std::string_view start) const {
    int n = 0;
    for (const auto& p : log) n += p.bytes.starts_with(start);
    return n;
  }
  const Packet* last(std::string_view start) const {
    for (auto it = log.rbegin(); it != log.rend(); ++it) {
      if (it->bytes.starts_with(start)) return &*it;
    }
    return nullptr;
  }

 private:
  struct Node {
    sip::Endpoint at;
    sip::UserAgent* ua;
  };
  std::vector<Node> nodes_;
};

class FakeSender final : public sip::Sender {
 public:
  struct Sent {
    sip::Endpoint to;
    std::string bytes;
  };

  FakeSender() = default;
  // Also puts every message on `network`, from `self`.
  FakeSender(FakeSipNetwork& network, sip::Endpoint self)
      : network_(&network), self_(std::move(self)) {}

  std::vector<Sent> sent;

  void send(const sip::Endpoint& to, std::string_view bytes) override {
    sent.push_back({to, std::string(bytes)});
    if (network_) network_->queue.push_back({self_, to, std::string(bytes)});
  }

  const sip::Endpoint& self() const { return self_; }
  // The bytes of the last message that starts with `start` ("SIP/2.0 200", "BYE ") and
  // contains `part`.
  const std::string* last(std::string_view start, std::string_view part = {}) const {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
      if (it->bytes.starts_with(start) && it->bytes.find(part) != std::string::npos) {
        return &it->bytes;
      }
    }
    return nullptr;
  }
  bool saw(std::string_view start, std::string_view part = {}) const {
    return last(start, part) != nullptr;
  }

 private:
  FakeSipNetwork* network_ = nullptr;
  sip::Endpoint self_;
};

}  // namespace sb::testing
