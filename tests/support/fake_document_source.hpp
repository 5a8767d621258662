// FakeDocumentSource: the twiml::DocumentSource the interpreter fetches from in tests: documents
// by URL, every request kept, an unknown URL a failure with 11200 (as after a failed fallback).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <map>
#include <string>
#include <vector>

#include "twiml/call_control.hpp"

namespace sb::testing {

class FakeDocumentSource final : public twiml::DocumentSource {
 public:
  std::map<std::string, twiml::Document> documents;
  std::vector<twiml::FetchRequest> requests;
  std::vector<std::string>* log = nullptr;  // shared with the call, to see the order

  boost::asio::awaitable<twiml::FetchResult> fetch(twiml::FetchRequest request) override {
    // A relative or empty URL resolves against the asking document, as a browser would.
    std::string url = request.url.empty() ? request.base : request.url;
    if (!url.empty() && url.front() == '/') url = "http://app.test" + url;
    if (log) log->push_back("fetch:" + request.method + " " + url);
    requests.push_back(request);
    twiml::FetchResult r;
    r.url = url;
    auto it = documents.find(url);
    if (it == documents.end()) {
      r.error_code = 11200;
      r.error_message = "no document at " + url;
      co_return r;
    }
    r.ok = true;
    r.document = it->second;
    co_return r;
  }
};

}  // namespace sb::testing
