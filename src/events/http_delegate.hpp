// The delegate seam's real implementation: a CloudEvents POST through the HTTP client, with
// the delegate's own timeout and no retries (the pipeline decides what a failure means).
#pragma once

#include "events/pipeline.hpp"
#include "http/client.hpp"

namespace sb::events {

class HttpDelegateInvoker final : public DelegateInvoker {
 public:
  explicit HttpDelegateInvoker(http::HttpClient& client) : client_(client) {}
  asio::awaitable<DelegateReply> call(const Delegate& delegate, json::object cloudevent,
                                      std::string account_sid) override;

 private:
  http::HttpClient& client_;
};

}  // namespace sb::events
