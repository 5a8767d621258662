#include "messaging/messaging_service.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <ctime>

#include "core/log.hpp"
#include "core/sid.hpp"
#include "core/text.hpp"
#include "messaging/multipart.hpp"
#include "messaging/text.hpp"
#include "store/commit.hpp"
#include "twiml/messaging_document.hpp"
#include "voice/webhook.hpp"

namespace sb::messaging {

namespace {

constexpr int kInvalidContentType = 12300;
constexpr int kUnknownError = 30008;
constexpr int kQueueOverflow = 30001;
constexpr int kUnreachable = 30003;
constexpr int kBlocked = 30004;
constexpr int kUnknownDestination = 30005;
constexpr int kUnsubscribed = 21610;
constexpr std::int64_t kCookieSweepMs = 60'000;

void add(twiml::Params& p, std::string name, std::string value) {
  p.emplace_back(std::move(name), std::move(value));
}

// "YYMMDDhhmm" in UTC, as Twilio's RawDlrDoneDate.
std::string dlr_date(std::int64_t unix_s) {
  const std::time_t t = unix_s;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%y%m%d%H%M", &tm);
  return buf;
}

// The far party's name in a received message's From: a caller ID as it came (a number), else
// the whole URI.
std::string sender_of(const sip::IncomingMessage& in) {
  if (!in.auth_user.empty()) return "client:" + in.auth_user;
  if (!in.from_user.empty()) return in.from_user;
  return in.from_uri;
}

}  // namespace

SipOutcome outcome_of(int sip_status) {
  if (sip_status >= 200 && sip_status < 300) {
    return {sip_status == 200 ? "delivered" : "sent", 0};
  }
  switch (sip_status) {
    case 408:
    case 480:
    case 486:
    case 503:
    case 504:
    case 600:
      return {"undelivered", kUnreachable};
    case 404:
    case 410:
    case 484:
    case 604:
      return {"undelivered", kUnknownDestination};
    case 403:
    case 603:
      return {"undelivered", kBlocked};
    default:
      return {"failed", kUnknownError};
  }
}

struct MessagingService::Callbacks {
  std::string url, method, token;
  std::deque<twiml::Params> queue;
  bool sending = false;
};

struct MessagingService::Outgoing {
  store::Message row;
  std::string auth_token;
  std::shared_ptr<Callbacks> callbacks;    // null: no StatusCallback
  std::optional<sip::Endpoint> reply_hop;  // a reply with no trunk goes back where it came from
  std::vector<std::shared_ptr<asio::steady_timer>> waiters;  // woken at the final status
  bool final = false;
  // A client registered on several devices gets it on each (RFC 3428 §7: a MESSAGE may fork):
  // the first 2xx wins; when every branch fails, the best failure counts (a 6xx, else the
  // lowest status, as RFC 3261 §16.7 picks).
  int branches = 0;
  int best_status = 0;
  std::string best_reason;
};

struct MessagingService::Inbound {
  store::Message row;
  std::string auth_token;
  std::string url, method, fallback_url, fallback_method;
  twiml::Params params;
  std::string cookie_key;
  sip::Endpoint source;
};

struct MessagingService::Fetched {
  bool ok = false;
  twiml::MessagingDocument document;
  std::string url;
  int error_code = 0;
  std::string error_message;
};

MessagingService::MessagingService(asio::io_context& io, MessagingDeps deps,
                                   MessagingOptions options)
    : io_(io), deps_(std::move(deps)), options_(std::move(options)), schedule_timer_(io) {}

MessagingService::~MessagingService() { *alive_ = false; }

void MessagingService::bind(sip::UserAgent& ua) {
  ua_ = &ua;
  ua.set_message_events(this);
}

std::string MessagingService::token_of(const std::string& account_sid) {
  auto account = deps_.store.find_account(account_sid);
  if (!account || !account->has_value()) return "";
  return (*account)->auth_token;
}

void MessagingService::note(const std::string& account_sid, int log, int code, std::string text,
                            const std::string& method, const std::string& url,
                            const twiml::Params& params, const http::ClientResponse* response) {
  store::Notification n =
      voice::webhook_notification(account_sid, "", log, code, std::move(text), method, url, params,
                                  response, deps_.clock.now_unix());
  spdlog::log(log == 0 ? spdlog::level::warn : spdlog::level::info, "message: {} {}: {}",
              log == 0 ? "error" : "warning", code, n.message_text);
  deps_.notifications.record(std::move(n));
}

void MessagingService::publish(const store::Message& m) {
  if (!deps_.events) return;
  const std::string channel = channel_of(m.status);
  if (channel.empty()) return;
  deps_.events->publish(m.account_sid, channel, "message." + m.status, message_event_data(m));
}

voice::CookieJar& MessagingService::cookies_for(const std::string& key) {
  const std::int64_t now = deps_.clock.now_ms();
  if (now - last_cookie_sweep_ms_ > kCookieSweepMs) {
    last_cookie_sweep_ms_ = now;
    const std::int64_t idle = std::chrono::milliseconds(options_.cookie_idle).count();
    std::erase_if(cookies_, [&](const auto& kv) { return now - kv.second.used_ms > idle; });
  }
  Jar& jar = cookies_[key];
  jar.used_ms = now;
  return jar.jar;
}

// ---------------------------------------------------------------------------------------------
// Received messages

void MessagingService::refuse(const sip::IncomingMessage& in, int status, std::string_view reason,
                              std::string_view extra) {
  ++stats_.refused;
  spdlog::info("MESSAGE from {} to {} refused: {} {}", in.source.address, in.to_user, status,
               reason);
  if (ua_) (void)ua_->answer_message(in.tx, status, reason, extra);
}

void MessagingService::on_message(const sip::IncomingMessage& in) {
  if (!in.domain && !options_.allow.empty() && !options_.allow.allows(in.source.address)) {
    refuse(in, 403, "Source not allowed");
    return;
  }
  // The text, and any media, of the body.
  std::string body;
  std::vector<BodyPart> media;
  const std::string type = in.body.empty() && in.content_type.empty() ? std::string("text/plain")
                                                                      : media_type(in.content_type);
  auto utf8_charset = [](std::string_view content_type) {
    const std::string charset = type_parameter(content_type, "charset");
    return charset.empty() || iequals(charset, "utf-8") || iequals(charset, "us-ascii");
  };
  constexpr std::string_view kAccept = "Accept: text/plain, multipart/mixed\r\n";
  if (type == "text/plain") {
    if (!utf8_charset(in.content_type)) {
      refuse(in, 415, "Only UTF-8 text is accepted", kAccept);
      return;
    }
    body = in.body;
  } else if (type == "multipart/mixed") {
    auto parts = parse_multipart(in.content_type, in.body);
    if (!parts) {
      refuse(in, 400, "Malformed multipart body");
      return;
    }
    for (auto& part : *parts) {
      if (media_type(part.content_type) == "text/plain" && utf8_charset(part.content_type)) {
        if (!body.empty()) body += "\n";
        body += part.data;
      } else {
        media.push_back(std::move(part));
      }
    }
    if (media.size() > options_.max_media) {
      refuse(in, 413, "Too many media parts");
      return;
    }
  } else {
    refuse(in, 415, "Unsupported Media Type", kAccept);
    return;
  }
  if (!valid_utf8(body)) {
    refuse(in, 400, "Body is not valid UTF-8");
    return;
  }
  if (characters(body) > kMaxBodyCharacters) {
    refuse(in, 413, "Body exceeds 1600 characters");
    return;
  }
  auto number = voice::find_dialed_number(deps_.store, in.to_user);
  if (!number) {
    refuse(in, 500, "Server Internal Error");
    return;
  }
  if (!number->has_value()) {
    refuse(in, 404, "Not Found");
    return;
  }
  const store::IncomingNumber& n = **number;
  auto account = deps_.store.find_account(n.account_sid);
  if (!account || !account->has_value() || (*account)->status != "active" ||
      (in.domain && in.domain->account != n.account_sid)) {
    refuse(in, 403, "Forbidden");
    return;
  }
  auto inbound = std::make_shared<Inbound>();
  inbound->auth_token = (*account)->auth_token;
  inbound->source = in.source;
  store::Message& m = inbound->row;
  m.sid = make_sid(sid_prefix::kMessage);
  m.account_sid = n.account_sid;
  m.from = sender_of(in);
  m.to = n.phone_number;
  m.body = body;
  m.status = "received";
  m.direction = "inbound";
  m.num_segments = static_cast<int>(segments(body).count);
  m.num_media = static_cast<int>(media.size());
  m.date_created = m.date_updated = m.date_sent = deps_.clock.now_unix();
  // The application: the number's SMS application when it has one, else its own Sms* URLs.
  store::WebhookSettings hooks = n.hooks;
  if (!n.sms_application_sid.empty()) {
    auto app = deps_.store.find_application(n.account_sid, n.sms_application_sid);
    if (app && app->has_value()) hooks = (*app)->hooks;
  }
  inbound->url = hooks.sms_url;
  inbound->method = hooks.sms_method == "GET" ? "GET" : "POST";
  inbound->fallback_url = hooks.sms_fallback_url;
  inbound->fallback_method = hooks.sms_fallback_method == "GET" ? "GET" : "POST";
  inbound->cookie_key = m.account_sid + "|" + m.from + "|" + m.to;

  store::InsertMessage insert;
  insert.message = m;
  for (auto& part : media) {
    store::MessageMedia item;
    item.sid = make_sid(sid_prefix::kMedia);
    item.account_sid = m.account_sid;
    item.message_sid = m.sid;
    item.content_type = part.content_type;
    item.data = std::move(part.data);
    item.date_created = item.date_updated = m.date_created;
    insert.media.push_back(std::move(item));
  }
  twiml::Params& p = inbound->params;
  add(p, "MessageSid", m.sid);
  add(p, "SmsSid", m.sid);
  add(p, "SmsMessageSid", m.sid);
  add(p, "AccountSid", m.account_sid);
  add(p, "From", m.from);
  add(p, "To", m.to);
  add(p, "Body", m.body);
  add(p, "NumMedia", std::to_string(m.num_media));
  add(p, "NumSegments", std::to_string(m.num_segments));
  for (std::size_t i = 0; i < insert.media.size(); ++i) {
    const auto& item = insert.media[i];
    add(p, "MediaContentType" + std::to_string(i), item.content_type);
    add(p, "MediaUrl" + std::to_string(i),
        options_.public_url + "/2010-04-01/Accounts/" + m.account_sid + "/Messages/" + m.sid +
            "/Media/" + item.sid);
  }
  const OptKeyword keyword = opt_keyword(body);
  if (keyword != OptKeyword::kNone) add(p, "OptOutType", std::string(opt_out_type(keyword)));
  add(p, "SmsStatus", "received");
  add(p, "ApiVersion", "2010-04-01");

  // Acknowledged only once durable: a 202 is a promise the message is kept.
  std::weak_ptr<bool> alive = alive_;
  deps_.store.write(std::move(insert), [this, alive, in, inbound, keyword](Status s) {
    asio::post(io_, [this, alive, in, inbound, keyword, s = std::move(s)] {
      if (alive.expired()) return;
      if (!s) {
        spdlog::error("message {}: not stored: {}", inbound->row.sid, s.error().message);
        refuse(in, 500, "Cannot store the message");
        return;
      }
      if (ua_) (void)ua_->answer_message(in.tx, 202, "Accepted");
      if (keyword != OptKeyword::kOptOut && keyword != OptKeyword::kOptIn) {
        accepted(in, inbound);
        return;
      }
      // STOP / START hold for every send from here on: committed before the application hears
      // of the message (and so before anything it sends in answer).
      store::SetOptOut opt;
      opt.account_sid = inbound->row.account_sid;
      opt.number = inbound->row.to;
      opt.address = inbound->row.from;
      opt.opted_out = keyword == OptKeyword::kOptOut;
      opt.at = deps_.clock.now_unix();
      deps_.store.write(std::move(opt), [this, alive, in, inbound](const Status& opted) {
        if (!opted) {
          spdlog::error("message {}: opt-out not stored: {}", inbound->row.sid,
                        opted.error().message);
        }
        asio::post(io_, [this, alive, in, inbound] {
          if (!alive.expired()) accepted(in, inbound);
        });
      });
    });
  });
}

void MessagingService::accepted(const sip::IncomingMessage& in,
                                const std::shared_ptr<Inbound>& inbound) {
  ++stats_.received;
  spdlog::info("message {} from {} to {} received ({} from {})", inbound->row.sid,
               inbound->row.from, inbound->row.to, in.call_id, in.source.address);
  publish(inbound->row);
  if (inbound->url.empty()) return;  // stored, nobody to tell
  asio::co_spawn(io_, run_application(inbound), asio::detached);
}

asio::awaitable<void> MessagingService::run_application(std::shared_ptr<Inbound> inbound) {
  std::weak_ptr<bool> alive = alive_;
  Fetched doc = co_await fetch(*inbound, inbound->url, inbound->method, inbound->params, true);
  int documents = 1;
  while (doc.ok && !alive.expired()) {
    std::optional<Fetched> next;
    for (const auto& verb : doc.document.verbs) {
      if (const auto* message = std::get_if<twiml::MessageVerb>(&verb)) {
        twiml::MessageVerb resolved = *message;
        if (!resolved.action.empty()) {
          resolved.action = voice::resolve_url(doc.url, resolved.action);
        }
        if (!resolved.status_callback.empty()) {
          resolved.status_callback = voice::resolve_url(doc.url, resolved.status_callback);
        }
        for (auto& media : resolved.media) media = voice::resolve_url(doc.url, media);
        const bool has_action = !resolved.action.empty();
        store::Message sent = co_await reply(*inbound, resolved, has_action);
        if (!has_action || alive.expired()) continue;
        if (++documents > options_.max_documents) break;
        twiml::Params params = inbound->params;
        add(params, "MessageStatus", sent.status);
        if (sent.error_code != 0) add(params, "ErrorCode", std::to_string(sent.error_code));
        next = co_await fetch(*inbound, resolved.action, resolved.method == "GET" ? "GET" : "POST",
                              params, false);
        break;  // what follows an action is unreachable
      }
      const auto& redirect = std::get<twiml::MessagingRedirect>(verb);
      if (++documents > options_.max_documents) break;
      next = co_await fetch(*inbound, voice::resolve_url(doc.url, redirect.url),
                            redirect.method == "GET" ? "GET" : "POST", inbound->params, false);
      break;
    }
    if (!next) break;
    doc = std::move(*next);
  }
  if (documents > options_.max_documents) {
    note(inbound->row.account_sid, 1, 12200,
         "message " + inbound->row.sid + ": more than " + std::to_string(options_.max_documents) +
             " documents; stopped");
  }
}

asio::awaitable<MessagingService::Fetched> MessagingService::fetch(const Inbound& inbound,
                                                                   std::string url,
                                                                   std::string method,
                                                                   twiml::Params params,
                                                                   bool with_fallback) {
  Fetched primary = co_await attempt(inbound, url, method, params);
  if (primary.ok || !with_fallback || inbound.fallback_url.empty()) co_return primary;
  twiml::Params with_error = std::move(params);
  add(with_error, "ErrorCode", std::to_string(primary.error_code));
  add(with_error, "ErrorUrl", url);
  Fetched fallback =
      co_await attempt(inbound, inbound.fallback_url, inbound.fallback_method, with_error);
  if (!fallback.ok) fallback.error_message = "fallback failed too: " + fallback.error_message;
  co_return fallback;
}

asio::awaitable<MessagingService::Fetched> MessagingService::attempt(const Inbound& inbound,
                                                                     const std::string& url,
                                                                     const std::string& method,
                                                                     const twiml::Params& params) {
  Fetched out;
  out.url = url;
  const std::string& account = inbound.row.account_sid;
  if (url.empty() || voice::url_host(url).empty()) {
    out.error_code = http::fetch_codes::kInvalidUrl;
    out.error_message = "Invalid URL '" + url + "'";
    note(account, 0, out.error_code, out.error_message, method, url, params);
    co_return out;
  }
  voice::WebhookRequest hook;
  hook.url = url;
  hook.method = method;
  hook.params = params;
  hook.auth_token = inbound.auth_token;
  hook.accept = "text/xml, application/xml, text/html, text/plain";
  http::ClientRequest req = voice::build_webhook_request(hook, &cookies_for(inbound.cookie_key));
  ++stats_.webhooks;
  std::weak_ptr<bool> alive = alive_;
  Result<http::ClientResponse> got = co_await deps_.client.fetch(std::move(req));
  if (alive.expired()) co_return out;
  if (!got) {
    out.error_code = got.error().code;
    out.error_message = got.error().message;
    note(account, 0, out.error_code, out.error_message, method, url, params);
    co_return out;
  }
  http::ClientResponse& res = *got;
  const std::string host = voice::url_host(res.effective_url.empty() ? url : res.effective_url);
  voice::CookieJar& jar = cookies_for(inbound.cookie_key);
  for (auto value : res.header_values("Set-Cookie")) jar.store(host, value);
  if (!res.ok()) {
    out.error_code = http::fetch_codes::kHttpErrorResponse;
    out.error_message = "HTTP " + std::to_string(res.status) + " from " + url;
    note(account, 0, out.error_code, out.error_message, method, url, params, &res);
    co_return out;
  }
  out.url = res.effective_url.empty() ? url : std::string(http::strip_fragment(res.effective_url));
  const std::string type = media_type(res.content_type);
  if (type == "text/xml" || type == "application/xml" || type == "text/html") {
    out.document = twiml::parse_messaging(res.body);
    for (const auto& d : out.document.diagnostics) {
      const bool error = d.level == twiml::Level::kError;
      note(account, error ? 0 : 1, d.code,
           d.message + " (line " + std::to_string(d.line) + ", column " + std::to_string(d.column) +
               ")",
           method, url, params, &res);
      if (error && out.error_code == 0) {
        out.error_code = d.code;
        out.error_message = d.message;
      }
    }
    out.ok = out.document.ok();
  } else if (type == "text/plain") {
    // The body is the reply (Twilio: a text/plain answer is sent back as a message).
    if (!trim(res.body).empty()) {
      twiml::MessageVerb verb;
      verb.body = res.body;
      out.document.verbs.emplace_back(std::move(verb));
    }
    out.ok = true;
  } else {
    out.error_code = kInvalidContentType;
    out.error_message = "Invalid Content-Type '" + res.content_type + "' from " + url;
    note(account, 0, out.error_code, out.error_message, method, url, params, &res);
  }
  co_return out;
}

asio::awaitable<store::Message> MessagingService::reply(const Inbound& inbound,
                                                        const twiml::MessageVerb& verb, bool wait) {
  store::Message m;
  m.sid = make_sid(sid_prefix::kMessage);
  m.account_sid = inbound.row.account_sid;
  m.from = verb.from.empty() ? inbound.row.to : verb.from;
  m.to = verb.to.empty() ? inbound.row.from : verb.to;
  m.body = verb.body;
  m.media_urls = verb.media;
  m.direction = "outbound-reply";
  m.status = "queued";
  m.num_segments = static_cast<int>(segments(m.body).count);
  m.num_media = static_cast<int>(m.media_urls.size());
  m.status_callback = verb.status_callback.empty() ? verb.action : verb.status_callback;
  m.status_callback_method = verb.method == "GET" ? "GET" : "POST";
  m.date_created = m.date_updated = deps_.clock.now_unix();
  auto opted_out = deps_.store.is_opted_out(m.account_sid, m.from, m.to);
  if (opted_out && *opted_out) {
    m.status = "failed";
    m.error_code = kUnsubscribed;
    m.error_message = "Attempt to send to unsubscribed recipient";
    note(m.account_sid, 0, kUnsubscribed,
         "message " + m.sid + " to " + m.to + " not sent: the recipient replied STOP");
  }
  store::Mutation insert = store::InsertMessage{m, {}};
  Status stored = co_await store::commit(deps_.store, insert);
  if (!stored) {
    spdlog::error("message {}: not stored: {}", m.sid, stored.error().message);
    m.status = "failed";
    m.error_code = kUnknownError;
    co_return m;
  }
  if (m.status == "failed") {
    ++stats_.failed;
    publish(m);
    co_return m;
  }
  auto out = std::make_shared<Outgoing>();
  out->row = m;
  out->auth_token = inbound.auth_token;
  out->reply_hop = inbound.source;
  std::shared_ptr<asio::steady_timer> waiter;
  if (wait) {
    waiter = std::make_shared<asio::steady_timer>(io_, asio::steady_timer::time_point::max());
    out->waiters.push_back(waiter);
  }
  start(out);
  if (!waiter) co_return m;
  if (!out->final) {
    boost::system::error_code ec;
    co_await waiter->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return out->row;
}

// ---------------------------------------------------------------------------------------------
// Sending

void MessagingService::submit(store::Message message) {
  asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), m = std::move(message)]() mutable {
    if (alive.expired()) return;
    if (m.status == "scheduled") {
      schedule(std::move(m));
      return;
    }
    auto out = std::make_shared<Outgoing>();
    out->auth_token = token_of(m.account_sid);
    out->row = std::move(m);
    start(out);
  });
}

void MessagingService::cancel(std::string sid) {
  asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_), sid = std::move(sid)] {
    if (alive.expired()) return;
    auto it = scheduled_.find(sid);
    if (it == scheduled_.end()) return;
    it->second.status = "canceled";
    it->second.date_updated = deps_.clock.now_unix();
    publish(it->second);
    scheduled_.erase(it);
  });
}

void MessagingService::resume() {
  asio::post(io_, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    auto unfinished = deps_.store.list_unfinished_messages(100000);
    if (!unfinished) {
      spdlog::error("messages: cannot list unfinished ones: {}", unfinished.error().message);
      return;
    }
    if (!unfinished->empty()) {
      spdlog::info("messages: resuming {} unsent message(s)", unfinished->size());
    }
    for (auto& m : *unfinished) {
      if (m.status == "scheduled") {
        schedule(std::move(m));
        continue;
      }
      // Queued, or caught sending by the stop: sent (again) — at least once, never lost.
      auto out = std::make_shared<Outgoing>();
      out->auth_token = token_of(m.account_sid);
      out->row = std::move(m);
      out->row.status = "queued";
      start(out);
    }
  });
}

void MessagingService::schedule(store::Message message) {
  const std::string sid = message.sid;
  schedule_.emplace(message.send_at * 1000, sid);
  scheduled_[sid] = std::move(message);
  arm_schedule();
}

void MessagingService::arm_schedule() {
  while (!schedule_.empty() && scheduled_.count(schedule_.begin()->second) == 0) {
    schedule_.erase(schedule_.begin());  // canceled
  }
  if (schedule_.empty()) return;
  const std::int64_t due = schedule_.begin()->first;
  const std::int64_t wait = std::max<std::int64_t>(0, due - deps_.clock.now_ms());
  schedule_timer_.expires_after(std::chrono::milliseconds(wait));
  schedule_timer_.async_wait(
      [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
        if (ec || alive.expired()) return;
        const std::int64_t now = deps_.clock.now_ms();
        while (!schedule_.empty() && schedule_.begin()->first <= now) {
          const std::string sid = schedule_.begin()->second;
          schedule_.erase(schedule_.begin());
          auto it = scheduled_.find(sid);
          if (it == scheduled_.end()) continue;
          auto out = std::make_shared<Outgoing>();
          out->row = std::move(it->second);
          scheduled_.erase(it);
          out->auth_token = token_of(out->row.account_sid);
          set_status(*out, "queued");
          start(out);
        }
        arm_schedule();
      });
}

void MessagingService::start(std::shared_ptr<Outgoing> out) {
  if (!out->row.status_callback.empty() && !out->callbacks) {
    out->callbacks = std::make_shared<Callbacks>();
    out->callbacks->url = out->row.status_callback;
    out->callbacks->method = out->row.status_callback_method == "GET" ? "GET" : "POST";
    out->callbacks->token = out->auth_token;
    // Twilio posts every status the message takes, queued included.
    if (out->row.status == "queued") post_callback(*out);
  }
  outgoing_[out->row.sid] = out;
  if (in_flight_ >= options_.max_in_flight || !ua_) {
    waiting_.push_back(std::move(out));
    return;
  }
  ++in_flight_;
  asio::co_spawn(
      io_,
      [this, out, alive = std::weak_ptr<bool>(alive_)]() -> asio::awaitable<void> {
        const store::Message& m = out->row;
        // Validity: a message that waited longer than it may (a long queue, a restart) fails.
        const std::int64_t since = m.send_at != 0 ? m.send_at : m.date_created;
        if (m.validity_period > 0 && deps_.clock.now_unix() - since > m.validity_period) {
          --in_flight_;
          finish(*out, "failed", kQueueOverflow, "validity period expired before sending");
          co_return;
        }
        set_status(*out, "sending");
        // Media go as links; each is fetched first so that a broken one fails the message.
        for (const auto& url : m.media_urls) {
          http::ClientRequest req;
          req.url = url;
          req.max_body_bytes = options_.max_media_bytes;
          req.account_sid = m.account_sid;
          auto got = co_await deps_.client.fetch(std::move(req));
          if (alive.expired()) co_return;
          if (!got || !got->ok()) {
            --in_flight_;
            const int code = got ? http::fetch_codes::kRetrievalFailure : got.error().code;
            const std::string why =
                got ? "HTTP " + std::to_string(got->status) + " from " + url : got.error().message;
            note(m.account_sid, 0, code, "message " + m.sid + ": media " + why, "GET", url);
            finish(*out, "failed", code, "media: " + why);
            pump();
            co_return;
          }
        }
        // Where it goes.
        Result<voice::Destination> dest = Error::bad_request(0, "no route");
        const std::string_view to = m.to;
        if (to.substr(0, 7) == "client:") {
          const std::string name(to.substr(7));
          std::vector<sip::Binding> bindings;
          if (deps_.directory) {
            for (const auto& d : deps_.directory->domains(m.account_sid)) {
              auto found = ua_->registrations(voice::address_of_record(name, d.name));
              bindings.insert(bindings.end(), found.begin(), found.end());
            }
          }
          dest = voice::client_destination(name, bindings);
        } else {
          dest =
              voice::resolve_destination(to, deps_.trunks ? deps_.trunks->for_account(m.account_sid)
                                                          : std::vector<voice::Trunk>{});
          if (!dest && out->reply_hop && voice::is_phone_number(to)) {
            voice::Destination back;
            back.target = "sip:" + std::string(to) + "@" + out->reply_hop->address + ":" +
                          std::to_string(out->reply_hop->port);
            back.host = out->reply_hop->address;
            back.port = out->reply_hop->port;
            back.transport = out->reply_hop->transport;
            back.connection = out->reply_hop->connection;
            dest = std::move(back);
          }
        }
        if (!dest) {
          --in_flight_;
          const bool client = to.substr(0, 7) == "client:";
          finish(*out, client ? "undelivered" : "failed", client ? kUnreachable : kUnknownError,
                 dest.error().message);
          pump();
          co_return;
        }
        // A trunk named by host name is looked up now.
        std::string address = dest->host;
        boost::system::error_code ec;
        (void)asio::ip::make_address(address, ec);
        if (ec) {
          asio::ip::udp::resolver resolver(io_);
          auto found =
              co_await resolver.async_resolve(dest->host, std::to_string(dest->port),
                                              asio::redirect_error(asio::use_awaitable, ec));
          if (alive.expired()) co_return;
          if (ec || found.empty()) {
            --in_flight_;
            finish(*out, "failed", kUnknownError, "cannot resolve " + dest->host);
            pump();
            co_return;
          }
          address = found.begin()->endpoint().address().to_string();
        }
        sip::OutboundMessage req;
        req.target = dest->target;
        const auto user = voice::caller_user(m.from);
        const std::string from_host =
            dest->from_domain.empty() ? options_.local_host : dest->from_domain;
        req.from = "sip:" + (user ? *user : std::string("switchboard")) + "@" + from_host;
        req.next_hop = sip::Endpoint{address, dest->port, dest->transport, dest->connection};
        req.next_hop.tls_name = dest->host;  // a TLS trunk's certificate names its host
        req.next_hop.tls_verify = dest->tls_verify;
        req.credentials = dest->credentials;
        req.body = m.body;
        for (const auto& url : m.media_urls) {
          if (!req.body.empty()) req.body += "\n";
          req.body += url;
        }
        auto handle = ua_->send_message(req);
        if (!handle) {
          --in_flight_;
          finish(*out, "failed", kUnknownError, handle.error().message);
          pump();
          co_return;
        }
        ++stats_.sent;
        handles_[*handle] = m.sid;
        out->branches = 1;
        for (const auto& [uri, hop] : dest->forks) {
          req.target = uri;
          req.next_hop = hop;
          if (auto more = ua_->send_message(req)) {
            handles_[*more] = m.sid;
            ++out->branches;
          }
        }
      },
      asio::detached);
}

void MessagingService::pump() {
  while (!waiting_.empty() && in_flight_ < options_.max_in_flight && ua_) {
    auto next = std::move(waiting_.front());
    waiting_.pop_front();
    start(std::move(next));
  }
}

void MessagingService::on_message_result(std::uint64_t handle, int status,
                                         std::string_view reason) {
  auto h = handles_.find(handle);
  if (h == handles_.end()) return;
  const std::string sid = std::move(h->second);
  handles_.erase(h);
  auto it = outgoing_.find(sid);
  if (it == outgoing_.end()) return;  // another branch already settled it
  std::shared_ptr<Outgoing> out = it->second;
  --out->branches;
  const SipOutcome outcome = outcome_of(status);
  if (outcome.error_code == 0) {
    --in_flight_;
    set_status(*out, "sent");
    finish(*out, outcome.status == "delivered" ? "delivered" : "sent", 0, {});
    pump();
    return;
  }
  const bool better = out->best_status == 0 || (status >= 600 && out->best_status < 600) ||
                      (status < 600 && out->best_status < 600 && status < out->best_status);
  if (better) {
    out->best_status = status;
    out->best_reason = std::string(reason);
  }
  if (out->branches > 0) return;  // others still out
  --in_flight_;
  const SipOutcome best = outcome_of(out->best_status);
  finish(*out, best.status, best.error_code,
         "SIP " + std::to_string(out->best_status) + " " + out->best_reason);
  pump();
}

void MessagingService::set_status(Outgoing& out, const std::string& status) {
  store::Message& m = out.row;
  if (m.status == status) return;
  m.status = status;
  m.date_updated = deps_.clock.now_unix();
  if (status == "sent" && m.date_sent == 0) m.date_sent = m.date_updated;
  deps_.store.write(store::UpdateMessage{m}, [sid = m.sid](const Status& s) {
    if (!s) spdlog::error("message {}: status not stored: {}", sid, s.error().message);
  });
  post_callback(out);
  publish(m);
}

void MessagingService::finish(Outgoing& out, const std::string& status, int error_code,
                              std::string error) {
  store::Message& m = out.row;
  m.error_code = error_code;
  m.error_message = std::move(error);
  if (m.status == status) {
    // Already there (a 202: sent is final); the error fields still need writing.
    if (error_code != 0) {
      deps_.store.write(store::UpdateMessage{m}, [](const Status&) {});
    }
  } else {
    set_status(out, status);
  }
  if (status == "delivered") ++stats_.delivered;
  if (status == "failed" || status == "undelivered") {
    ++stats_.failed;
    spdlog::info("message {} to {} {}: {} {}", m.sid, m.to, status, error_code, m.error_message);
  }
  out.final = true;
  for (auto& w : out.waiters) w->cancel();
  out.waiters.clear();
  outgoing_.erase(m.sid);  // `out` may be gone after this
}

void MessagingService::post_callback(Outgoing& out) {
  if (!out.callbacks) return;
  const store::Message& m = out.row;
  twiml::Params p;
  add(p, "MessageSid", m.sid);
  add(p, "SmsSid", m.sid);
  add(p, "AccountSid", m.account_sid);
  add(p, "From", m.from);
  add(p, "To", m.to);
  add(p, "MessageStatus", m.status);
  add(p, "SmsStatus", m.status);
  if (m.error_code != 0) add(p, "ErrorCode", std::to_string(m.error_code));
  if (m.status == "delivered" || m.status == "undelivered") {
    add(p, "RawDlrDoneDate", dlr_date(m.date_updated));
  }
  add(p, "ApiVersion", "2010-04-01");
  out.callbacks->queue.push_back(std::move(p));
  if (!out.callbacks->sending) {
    out.callbacks->sending = true;
    callbacks_ready_.push_back(out.callbacks);
    pump_callbacks();
  }
}

void MessagingService::pump_callbacks() {
  // A bounded number of callback requests at once, over every message: they then reuse the
  // client's keep-alive connections instead of opening one per message in flight.
  while (callbacks_in_flight_ < options_.max_callbacks_in_flight && !callbacks_ready_.empty()) {
    std::shared_ptr<Callbacks> next = std::move(callbacks_ready_.front());
    callbacks_ready_.pop_front();
    ++callbacks_in_flight_;
    asio::co_spawn(io_, send_callback(this, std::move(next)), asio::detached);
  }
}

asio::awaitable<void> MessagingService::send_callback(MessagingService* self,
                                                      std::shared_ptr<Callbacks> callbacks) {
  std::weak_ptr<bool> alive = self->alive_;
  // One request per message at a time, in order: a subscriber sees queued, sending, sent,
  // delivered as they came.
  twiml::Params params = std::move(callbacks->queue.front());
  callbacks->queue.pop_front();
  voice::WebhookRequest hook;
  hook.url = callbacks->url;
  hook.method = callbacks->method;
  hook.params = params;
  hook.auth_token = callbacks->token;
  auto got = co_await self->deps_.client.fetch(voice::build_webhook_request(hook, nullptr));
  if (alive.expired()) co_return;
  --self->callbacks_in_flight_;
  std::string account;
  for (const auto& [k, v] : params) {
    if (k == "AccountSid") account = v;
  }
  if (!got) {
    self->note(account, 1, got.error().code, "status callback: " + got.error().message, hook.method,
               hook.url, params);
  } else if (!got->ok()) {
    self->note(account, 1, 15003,
               "status callback: HTTP " + std::to_string(got->status) + " from " + hook.url,
               hook.method, hook.url, params, &*got);
  }
  if (callbacks->queue.empty()) {
    callbacks->sending = false;
  } else {
    self->callbacks_ready_.push_back(std::move(callbacks));  // its next one, behind the others
  }
  self->pump_callbacks();
}

}  // namespace sb::messaging
