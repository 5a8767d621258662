#include "voice/routing.hpp"

namespace sb::voice {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

VoiceApplication application_from(const store::WebhookSettings& hooks) {
  VoiceApplication app;
  app.url = hooks.voice_url;
  app.method = hooks.voice_method;
  app.fallback_url = hooks.voice_fallback_url;
  app.fallback_method = hooks.voice_fallback_method;
  app.status_callback = hooks.status_callback;
  app.status_callback_method = hooks.status_callback_method;
  return app;
}

Result<RouteResult> route_call(store::Store& store, std::string_view dialed) {
  RouteResult out;
  std::optional<store::IncomingNumber> number;
  // As dialed first, then the other E.164 spelling: "+1415…" <-> "1415…".
  std::vector<std::string> candidates = {std::string(dialed)};
  if (dialed.size() > 1 && dialed.front() == '+' && all_digits(dialed.substr(1))) {
    candidates.emplace_back(dialed.substr(1));
  } else if (all_digits(dialed)) {
    candidates.push_back("+" + std::string(dialed));
  }
  for (const auto& c : candidates) {
    auto found = store.find_number_by_phone(c);
    if (!found) return found.error();
    if (found->has_value()) {
      number = std::move(**found);
      break;
    }
  }
  if (!number) return out;

  auto account = store.find_account(number->account_sid);
  if (!account) return account.error();
  if (!account->has_value() || (*account)->status != "active") {
    out.failure = RouteFailure::kInactiveAccount;
    return out;
  }
  Route route;
  route.application = application_from(number->hooks);
  if (!number->voice_application_sid.empty()) {
    auto app = store.find_application(number->account_sid, number->voice_application_sid);
    if (!app) return app.error();
    if (app->has_value()) {
      route.application = application_from((*app)->hooks);
      route.application_sid = (*app)->sid;
    }
  }
  if (route.application.url.empty()) {
    out.failure = RouteFailure::kNoApplication;
    return out;
  }
  route.number = std::move(*number);
  route.account = std::move(**account);
  out.route = std::move(route);
  return out;
}

}  // namespace sb::voice
