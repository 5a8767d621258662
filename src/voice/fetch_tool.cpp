#include "voice/fetch_tool.hpp"

#include <boost/asio.hpp>

#include "core/sid.hpp"
#include "twiml/interpreter.hpp"
#include "twiml/lint.hpp"
#include "voice/application_source.hpp"

namespace sb::voice {
namespace {

// Keeps what a call would have recorded.
class CollectingSink final : public NotificationSink {
 public:
  explicit CollectingSink(FetchReport& report) : report_(report) {}
  void record(store::Notification n) override { report_.notifications.push_back(std::move(n)); }
  void exchange(store::CallEvent e) override { report_.exchanges.push_back(std::move(e)); }

 private:
  FetchReport& report_;
};

asio::awaitable<void> report_into(http::HttpClient& client, FetchToolOptions options,
                                  FetchReport& out) {
  out = co_await fetch_report(client, std::move(options));
}

}  // namespace

asio::awaitable<FetchReport> fetch_report(http::HttpClient& client, FetchToolOptions options) {
  FetchReport report;
  twiml::Params extra;
  for (const auto& kv : options.params) {
    const auto eq = kv.find('=');
    if (eq != std::string::npos && eq > 0) extra.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  CollectingSink sink(report);
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
  twiml::FetchResult result = co_await source.fetch(std::move(request));
  report.ok = result.ok;
  report.error_code = result.error_code;
  report.error_message = result.error_message;
  report.url = result.url;
  if (result.ok) {
    for (const auto& verb : result.document.verbs) {
      report.verbs.emplace_back(twiml::verb_name(verb));
    }
  }
  co_return report;
}

int fetch_tool(const FetchToolOptions& options, std::ostream& out) {
  if (options.url.empty()) {
    out << "a URL is required\n";
    return 2;
  }
  for (const auto& kv : options.params) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      out << "--param takes Key=Value, not '" << kv << "'\n";
      return 2;
    }
  }

  asio::io_context io(1);
  http::CurlClient client(io.get_executor());
  FetchReport report;
  asio::co_spawn(io, report_into(client, options, report), asio::detached);
  io.run();

  for (const auto& n : report.notifications) {
    out << (n.log == 0 ? "error " : "warning ") << n.error_code << ": " << n.message_text << "  ["
        << n.request_method << " " << n.request_url << "]\n";
  }
  if (!report.ok) {
    out << "failed " << report.error_code << ": " << report.error_message << "\n"
        << "the caller would hear: " << twiml::kApplicationErrorText << "\n";
    return 1;
  }
  out << "document from " << report.url << ":\n";
  for (const auto& verb : report.verbs) out << "  " << verb << "\n";
  return 0;
}

}  // namespace sb::voice
