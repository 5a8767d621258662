// FakeTransactionUser: the sip::TransactionUser above a TransactionLayer under test: keeps
// every request, response, timeout, ACK and stray response the layer passes up.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "sip/transaction.hpp"

namespace sb::testing {

class FakeTransactionUser final : public sip::TransactionUser {
 public:
  std::vector<std::pair<std::uint64_t, sip::Message>> requests, responses;
  std::vector<std::uint64_t> timeouts, acks;
  int stray = 0;

  void on_request(std::uint64_t tx, const sip::Message& m, const sip::Endpoint&) override {
    requests.emplace_back(tx, m);
  }
  void on_response(std::uint64_t tx, const sip::Message& m) override {
    responses.emplace_back(tx, m);
  }
  void on_timeout(std::uint64_t tx) override { timeouts.push_back(tx); }
  void on_ack(std::uint64_t tx) override { acks.push_back(tx); }
  void on_stray_response(const sip::Message&) override { ++stray; }
};

}  // namespace sb::testing
