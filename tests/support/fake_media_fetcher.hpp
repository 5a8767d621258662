// FakeMediaFetcher: the media::MediaFetcher a <Play> test scripts: replies (responses or
// transport failures with Twilio numbers) taken in order, every request kept. A fetch with no
// reply left fails with 11200, so an unexpected fetch shows in the test's result.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <deque>
#include <vector>

#include "media/url_audio.hpp"

namespace sb::testing {

class FakeMediaFetcher final : public media::MediaFetcher {
 public:
  std::deque<Result<media::MediaResponse>> replies;
  std::vector<media::MediaRequest> requests;

  boost::asio::awaitable<Result<media::MediaResponse>> fetch(media::MediaRequest request) override {
    requests.push_back(request);
    if (replies.empty()) co_return Error{11200, 502, "no scripted reply for " + request.url};
    auto reply = std::move(replies.front());
    replies.pop_front();
    co_return reply;
  }
};

}  // namespace sb::testing
