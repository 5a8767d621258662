// FakeDelegateInvoker: the events::DelegateInvoker of a pipeline or publisher under test. Each
// delegate URL answers as the test scripted it; an unscripted URL fails ("no script"). Every
// URL called is kept in order (written on the thread running the pipeline: read it once that
// thread is done or joined).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "events/pipeline.hpp"

namespace sb::testing {

class FakeDelegateInvoker final : public events::DelegateInvoker {
 public:
  std::map<std::string, std::function<events::DelegateReply(const events::json::object&)>> script;
  std::vector<std::string> calls;
  std::vector<std::string> accounts;  // the account of each call

  events::asio::awaitable<events::DelegateReply> call(const events::Delegate& d,
                                                      events::json::object cloudevent,
                                                      std::string account_sid) override {
    calls.push_back(d.url);
    accounts.push_back(std::move(account_sid));
    auto it = script.find(d.url);
    if (it == script.end()) {
      co_return events::DelegateReply{events::DelegateReply::Outcome::kFailed, {}, "no script"};
    }
    co_return it->second(cloudevent);
  }
};

}  // namespace sb::testing
