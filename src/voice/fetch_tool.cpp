#include "voice/fetch_tool.hpp"

#include <boost/asio.hpp>

#include "core/sid.hpp"
#include "twiml/interpreter.hpp"
#include "twiml/lint.hpp"
#include "voice/application_source.hpp"

namespace sb::voice {
namespace {

class PrintingSink final : public NotificationSink {
 public:
  explicit PrintingSink(std::ostream& out) : out_(out) {}
  void record(store::Notification n) override {
    out_ << (n.log == 0 ? "error " : "warning ") << n.error_code << ": " << n.message_text << "  ["
         << n.request_method << " " << n.request_url << "]\n";
  }

 private:
  std::ostream& out_;
};

asio::awaitable<void> fetch_once(ApplicationSource& source, twiml::FetchRequest request,
                                 twiml::FetchResult& out) {
  out = co_await source.fetch(std::move(request));
}

}  // namespace

int fetch_tool(const FetchToolOptions& options, std::ostream& out) {
  if (options.url.empty()) {
    out << "a URL is required\n";
    return 2;
  }
  twiml::Params extra;
  for (const auto& kv : options.params) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      out << "--param takes Key=Value, not '" << kv << "'\n";
      return 2;
    }
    extra.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }

  asio::io_context io(1);
  http::CurlClient client(io.get_executor());
  PrintingSink sink(out);
  DocumentCache cache;
  SystemClock clock;
  CallInfo call;
  call.account_sid = options.account_sid;
  call.call_sid = options.call_sid.empty() ? make_sid(sid_prefix::kCall) : options.call_sid;
  call.from = options.from;
  call.to = options.to;
  VoiceApplication app;
  app.url = options.url;
  app.method = options.method;
  app.fallback_url = options.fallback_url;
  app.fallback_method = options.fallback_method;
  ApplicationSource source(WebhookServices{client, sink, cache, clock}, call, app,
                           options.auth_token);

  twiml::FetchRequest request;
  request.url = app.url;
  request.method = app.method;
  request.params = std::move(extra);
  twiml::FetchResult result;
  asio::co_spawn(io, fetch_once(source, std::move(request), result), asio::detached);
  io.run();

  if (!result.ok) {
    out << "failed " << result.error_code << ": " << result.error_message << "\n"
        << "the caller would hear: " << twiml::kApplicationErrorText << "\n";
    return 1;
  }
  out << "document from " << result.url << ":\n";
  for (const auto& verb : result.document.verbs) out << "  " << twiml::verb_name(verb) << "\n";
  return 0;
}

}  // namespace sb::voice
