#include "events/service.hpp"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <initializer_list>

#include "core/log.hpp"
#include "core/random.hpp"
#include "core/sid.hpp"
#include "http/base64.hpp"

namespace sb::events {

namespace {

constexpr std::string_view kSystemChannel = "switchboard.subscribers";

std::int64_t to_s(std::int64_t ms) { return ms / 1000; }

std::string base64url(std::string_view bytes) {
  std::string s = http::base64_encode(bytes);
  for (char& c : s) {
    if (c == '+')
      c = '-';
    else if (c == '/')
      c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::optional<std::string> unbase64url(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
  }
  while (s.size() % 4) s += '=';
  return http::base64_decode(s);
}

std::string hmac256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

Status step_done(Db& db, Db::Stmt& st, std::string_view what) {
  const int rc = st.step();
  if (rc != 101 /* SQLITE_DONE */) return db.error(what);
  return Ok{};
}

// Runs each statement with `sid` bound to ?1, in order; stops at the first failure.
Status run_for_sid(Db& db, std::initializer_list<const char*> statements, const std::string& sid,
                   std::string_view what) {
  for (const char* sql : statements) {
    auto st = db.prepare(sql);
    if (!st) return st.error();
    (*st)->bind(1, sid);
    if (Status s = step_done(db, **st, what); !s) return s;
  }
  return Ok{};
}

Status upsert_channel(Db& db, const Channel& c, bool insert) {
  auto st = insert ? db.prepare(
                         "INSERT INTO channels(sid, account_sid, name, attributes, signing_secret,"
                         " date_created, date_updated) VALUES(?1,?2,?3,?4,?5,?6,?7)")
                   : db.prepare(
                         "UPDATE channels SET account_sid=?2, name=?3, attributes=?4,"
                         " signing_secret=?5, date_created=?6, date_updated=?7 WHERE sid=?1");
  if (!st) return st.error();
  (*st)
      ->bind(1, c.sid)
      .bind(2, c.account_sid)
      .bind(3, c.name)
      .bind(4, json::serialize(c.attributes.raw))
      .bind(5, c.signing_secret)
      .bind(6, c.date_created)
      .bind(7, c.date_updated);
  if (Status s = step_done(db, **st, "channel"); !s) {
    if (s.error().status == 409) {
      return Error{codes::kInvalidParameter, 409,
                   "A channel named '" + c.name + "' already exists"};
    }
    return s;
  }
  return Ok{};
}

Status upsert_subscriber(Db& db, const Subscriber& s, bool insert) {
  auto st = insert ? db.prepare(
                         "INSERT INTO subscribers(sid, account_sid, channel_sid, type, url, secret,"
                         " previous_secret, previous_expires_ms, attributes, status, status_reason,"
                         " last_success_ms, date_created, date_updated)"
                         " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)")
                   : db.prepare(
                         "UPDATE subscribers SET account_sid=?2, channel_sid=?3, type=?4, url=?5,"
                         " secret=?6, previous_secret=?7, previous_expires_ms=?8, attributes=?9,"
                         " status=?10, status_reason=?11, last_success_ms=?12, date_created=?13,"
                         " date_updated=?14 WHERE sid=?1");
  if (!st) return st.error();
  (*st)
      ->bind(1, s.sid)
      .bind(2, s.account_sid)
      .bind(3, s.channel_sid)
      .bind(4, s.type)
      .bind(5, s.url)
      .bind(6, s.secret)
      .bind(7, s.previous_secret)
      .bind(8, s.previous_expires_ms)
      .bind(9, json::serialize(s.attributes.raw))
      .bind(10, s.status)
      .bind(11, s.status_reason)
      .bind(12, s.last_success_ms)
      .bind(13, s.date_created)
      .bind(14, s.date_updated);
  return step_done(db, **st, "subscriber");
}

Status insert_outbox(Db& db, EventService::OutboxItem& item, std::int64_t now_ms) {
  auto st = db.prepare(
      "INSERT INTO outbox(target_sid, channel_sid, url, event_sid, event_time_ms, body, status,"
      " attempts, next_attempt_ms, created_ms, updated_ms)"
      " VALUES(?1,?2,?3,?4,?5,?6,'pending',0,?7,?8,?8)");
  if (!st) return st.error();
  (*st)
      ->bind(1, item.target_sid)
      .bind(2, item.channel_sid)
      .bind(3, item.url)
      .bind(4, item.event_sid)
      .bind(5, item.created_ms)
      .bind(6, *item.body)
      .bind(7, item.next_ms)
      .bind(8, now_ms);
  if (Status s = step_done(db, **st, "outbox"); !s) return s;
  item.id = db.last_insert_id();
  return Ok{};
}

json::value parse_or_null(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  return ec ? json::value() : v;
}

// Completion glue: the writer thread's callback resumes the awaiting coroutine on its executor.
template <typename Handler>
void resume_on(asio::any_io_executor ex, std::shared_ptr<Handler> h, Status s) {
  asio::post(ex, [h, s = std::move(s)]() mutable { (*h)(std::move(s)); });
}

}  // namespace

bool AccessToken::allows(std::string_view channel) const {
  for (const auto& c : channels) {
    if (type_matches(c, channel)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------

asio::awaitable<DelegateReply> HttpDelegateInvoker::call(const Delegate& delegate,
                                                         json::object cloudevent) {
  http::ClientRequest req;
  req.method = "POST";
  req.url = delegate.url;
  req.headers = {{"Content-Type", "application/cloudevents+json"}};
  req.body = json::serialize(cloudevent);
  http::ConnectionSettings settings;
  settings.connect_timeout =
      std::chrono::milliseconds(std::min<std::int64_t>(delegate.timeout_ms, 5000));
  settings.read_timeout = std::chrono::milliseconds(delegate.timeout_ms);
  settings.total_timeout = std::chrono::milliseconds(delegate.timeout_ms);
  settings.retry_count = 0;
  req.settings = settings;
  req.max_body_bytes = kMaxEventBytes * 2;
  auto res = co_await client_.fetch(std::move(req));
  DelegateReply reply;
  if (!res) {
    reply.error = res.error().message;
    co_return reply;
  }
  if (res->status == 204) {
    reply.outcome = DelegateReply::Outcome::kDropped;
    co_return reply;
  }
  if (res->status != 200) {
    reply.error = "delegate answered HTTP " + std::to_string(res->status);
    co_return reply;
  }
  boost::system::error_code ec;
  auto v = json::parse(res->body, ec);
  if (ec || !v.is_object()) {
    reply.error = "delegate answered something that is not a JSON object";
    co_return reply;
  }
  reply.outcome = DelegateReply::Outcome::kProcessed;
  reply.event = std::move(v.get_object());
  co_return reply;
}

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<EventService>> EventService::open(const std::string& db_path,
                                                         ServiceOptions options,
                                                         const Clock& clock) {
  auto store = EventStore::open(db_path);
  if (!store) return store.error();
  auto svc =
      std::unique_ptr<EventService>(new EventService(std::move(*store), std::move(options), clock));
  if (Status s = svc->load(); !s) return s.error();
  return svc;
}

EventService::EventService(std::unique_ptr<EventStore> store, ServiceOptions options,
                           const Clock& clock)
    : store_(std::move(store)), options_(std::move(options)), clock_(clock) {
  if (options_.retry_schedule_ms.empty()) options_.retry_schedule_ms = default_retry_schedule();
  http::ClientOptions co;
  co.verify_tls = options_.verify_tls;
  co.user_agent = "Switchboard-Events/" SB_VERSION;
  client_ = std::make_unique<http::CurlClient>(io_.get_executor(), co);
  delegates_ = std::make_unique<HttpDelegateInvoker>(*client_);
  wake_ = std::make_unique<asio::steady_timer>(io_);
}

void EventService::use_http_client(std::unique_ptr<http::HttpClient> client) {
  client_ = std::move(client);
  delegates_ = std::make_unique<HttpDelegateInvoker>(*client_);
}

EventService::~EventService() { stop(); }

Status EventService::load() {
  return store_->read([&](Db& db) -> Status {
    {
      auto st = db.prepare("SELECT value FROM meta WHERE key='token_key'");
      if (!st) return st.error();
      if ((*st)->row()) token_key_ = (*st)->text(0);
    }
    {
      auto st = db.prepare(
          "SELECT sid, account_sid, name, attributes, signing_secret, date_created, date_updated"
          " FROM channels");
      if (!st) return st.error();
      while ((*st)->row()) {
        auto c = std::make_shared<Channel>();
        c->sid = (*st)->text(0);
        c->account_sid = (*st)->text(1);
        c->name = (*st)->text(2);
        auto attrs = parse_channel_attributes(parse_or_null((*st)->text(3)));
        if (attrs) c->attributes = std::move(*attrs);
        c->signing_secret = (*st)->text(4);
        c->date_created = (*st)->integer(5);
        c->date_updated = (*st)->integer(6);
        channels_[{c->account_sid, c->name}] = c;
        channels_by_sid_[c->sid] = c;
      }
    }
    {
      auto st = db.prepare(
          "SELECT sid, account_sid, channel_sid, type, url, secret, previous_secret,"
          " previous_expires_ms, attributes, status, status_reason, last_success_ms, date_created,"
          " date_updated FROM subscribers");
      if (!st) return st.error();
      while ((*st)->row()) {
        auto s = std::make_shared<Subscriber>();
        s->sid = (*st)->text(0);
        s->account_sid = (*st)->text(1);
        s->channel_sid = (*st)->text(2);
        s->type = (*st)->text(3);
        s->url = (*st)->text(4);
        s->secret = (*st)->text(5);
        s->previous_secret = (*st)->text(6);
        s->previous_expires_ms = (*st)->integer(7);
        auto attrs = parse_subscriber_attributes(parse_or_null((*st)->text(8)));
        if (attrs) s->attributes = std::move(*attrs);
        s->status = (*st)->text(9);
        s->status_reason = (*st)->text(10);
        s->last_success_ms = (*st)->integer(11);
        s->date_created = (*st)->integer(12);
        s->date_updated = (*st)->integer(13);
        subscribers_[s->sid] = s;
        if (s->type == "webhook") webhooks_by_channel_[s->channel_sid].push_back(s);
      }
    }
    {
      auto st = db.prepare(
          "SELECT id, target_sid, channel_sid, url, event_sid, event_time_ms, body, attempts,"
          " next_attempt_ms FROM outbox WHERE status='pending' ORDER BY id");
      if (!st) return st.error();
      while ((*st)->row()) {
        OutboxItem item;
        item.id = (*st)->integer(0);
        item.target_sid = (*st)->text(1);
        item.channel_sid = (*st)->text(2);
        item.url = (*st)->text(3);
        item.event_sid = (*st)->text(4);
        item.created_ms = (*st)->integer(5);
        item.body = std::make_shared<const std::string>((*st)->text(6));
        item.attempts = static_cast<int>((*st)->integer(7));
        item.next_ms = (*st)->integer(8);
        due_.emplace(item.next_ms, std::move(item));
      }
      pending_count_ = due_.size();
    }
    return Ok{};
  });
}

void EventService::start() {
  if (started_.exchange(true)) return;
  if (token_key_.empty()) {
    token_key_ = random_hex(32);
    const std::string key = token_key_;
    store_->write(
        [key](Db& db) -> Status {
          auto st = db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES('token_key', ?1)");
          if (!st) return st.error();
          (*st)->bind(1, key);
          return step_done(db, **st, "meta");
        },
        nullptr);
    store_->flush();
  }
  if (!due_.empty()) spdlog::info("events: {} webhook deliveries pending", due_.size());
  asio::co_spawn(io_, dispatch_loop(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

void EventService::close_streams() {
  std::lock_guard lock(streams_mu_);
  streams_closed_ = true;  // and streams that open from now on (a handshake in progress)
  for (auto& [_, list] : streams_) {
    for (auto& q : list) q->close();
  }
}

void EventService::stop() {
  if (!started_.exchange(false)) {
    if (store_) store_->close();
    return;
  }
  asio::post(io_, [this] {
    stopping_ = true;
    wake_->cancel();
  });
  close_streams();
  // In-flight deliveries are abandoned: their rows stay pending and are retried on restart.
  io_.stop();
  if (thread_.joinable()) thread_.join();
  store_->close();
}

asio::awaitable<Status> EventService::commit(EventStore::Job job) {
  auto executor = co_await asio::this_coro::executor;
  auto initiate = [this, &job, executor](auto handler) {
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    store_->write(std::move(job),
                  [shared, executor](Status s) { resume_on(executor, shared, std::move(s)); });
  };
  Status s = co_await asio::async_initiate<decltype(asio::use_awaitable), void(Status)>(
      initiate, asio::use_awaitable);
  co_return s;
}

// ---- channels ----

ChannelPtr EventService::find_channel(std::string_view account_sid, std::string_view name) const {
  std::shared_lock lock(mu_);
  auto it = channels_.find({std::string(account_sid), std::string(name)});
  return it == channels_.end() ? nullptr : it->second;
}

ChannelPtr EventService::resolve_channel(std::string_view account_sid, std::string_view ref) const {
  if (is_sid(ref, "CH")) {
    std::shared_lock lock(mu_);
    auto it = channels_by_sid_.find(std::string(ref));
    if (it == channels_by_sid_.end() || it->second->account_sid != account_sid) return nullptr;
    return it->second;
  }
  return find_channel(account_sid, ref);
}

std::vector<ChannelPtr> EventService::list_channels(std::string_view account_sid) const {
  std::shared_lock lock(mu_);
  std::vector<ChannelPtr> out;
  for (auto it = channels_.lower_bound({std::string(account_sid), ""});
       it != channels_.end() && it->first.first == account_sid; ++it) {
    out.push_back(it->second);
  }
  return out;
}

asio::awaitable<Result<ChannelPtr>> EventService::create_channel(std::string account_sid,
                                                                 std::string name,
                                                                 json::value attributes) {
  if (Status s = validate_channel_name(name); !s) co_return s.error();
  auto attrs = parse_channel_attributes(attributes);
  if (!attrs) co_return attrs.error();
  auto c = std::make_shared<Channel>();
  c->sid = make_sid("CH");
  c->account_sid = std::move(account_sid);
  c->name = std::move(name);
  c->attributes = std::move(*attrs);
  c->signing_secret = generate_secret();
  c->date_created = c->date_updated = to_s(clock_.now_ms());
  if (find_channel(c->account_sid, c->name)) {
    co_return Error{codes::kInvalidParameter, 409,
                    "A channel named '" + c->name + "' already exists"};
  }
  EventStore::Job job = [c](Db& db) { return upsert_channel(db, *c, true); };
  Status s = co_await commit(std::move(job));
  if (!s) co_return s.error();
  {
    std::unique_lock lock(mu_);
    channels_[{c->account_sid, c->name}] = c;
    channels_by_sid_[c->sid] = c;
  }
  co_return ChannelPtr(c);
}

asio::awaitable<Result<ChannelPtr>> EventService::update_channel(
    ChannelPtr channel, std::optional<json::value> attributes) {
  auto c = std::make_shared<Channel>(*channel);
  if (attributes) {
    auto attrs = parse_channel_attributes(*attributes);
    if (!attrs) co_return attrs.error();
    c->attributes = std::move(*attrs);
  }
  c->date_updated = to_s(clock_.now_ms());
  EventStore::Job job = [c](Db& db) { return upsert_channel(db, *c, false); };
  Status s = co_await commit(std::move(job));
  if (!s) co_return s.error();
  {
    std::unique_lock lock(mu_);
    channels_[{c->account_sid, c->name}] = c;
    channels_by_sid_[c->sid] = c;
  }
  co_return ChannelPtr(c);
}

asio::awaitable<Status> EventService::delete_channel(ChannelPtr channel) {
  const std::string sid = channel->sid;
  EventStore::Job job = [sid](Db& db) -> Status {
    return run_for_sid(
        db,
        {"DELETE FROM channels WHERE sid=?1", "DELETE FROM subscribers WHERE channel_sid=?1",
         "DELETE FROM events WHERE channel_sid=?1",
         "UPDATE outbox SET status='cancelled' WHERE channel_sid=?1 AND status='pending'"},
        sid, "delete channel");
  };
  Status s = co_await commit(std::move(job));
  if (!s) co_return s;
  {
    std::unique_lock lock(mu_);
    channels_.erase({channel->account_sid, channel->name});
    channels_by_sid_.erase(sid);
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
      it = it->second->channel_sid == sid ? subscribers_.erase(it) : std::next(it);
    }
    webhooks_by_channel_.erase(sid);
  }
  std::vector<std::shared_ptr<StreamQueue>> closing;
  {
    std::lock_guard lock(streams_mu_);
    if (auto it = streams_.find(sid); it != streams_.end()) {
      closing = std::move(it->second);
      streams_.erase(it);
    }
  }
  for (auto& q : closing) q->close();
  co_return Ok{};
}

// ---- subscribers ----

SubscriberPtr EventService::find_subscriber(std::string_view account_sid,
                                            std::string_view sid) const {
  std::shared_lock lock(mu_);
  auto it = subscribers_.find(std::string(sid));
  if (it == subscribers_.end() || it->second->account_sid != account_sid) return nullptr;
  return it->second;
}

std::vector<SubscriberPtr> EventService::list_subscribers(std::string_view channel_sid) const {
  std::shared_lock lock(mu_);
  std::vector<SubscriberPtr> out;
  for (const auto& [_, s] : subscribers_) {
    if (s->channel_sid == channel_sid) out.push_back(s);
  }
  std::sort(out.begin(), out.end(), [](const SubscriberPtr& a, const SubscriberPtr& b) {
    return a->date_created != b->date_created ? a->date_created < b->date_created : a->sid < b->sid;
  });
  return out;
}

namespace {
void index_subscriber(std::unordered_map<std::string, std::vector<SubscriberPtr>>& index,
                      const SubscriberPtr& s, bool remove) {
  auto& list = index[s->channel_sid];
  std::erase_if(list, [&](const SubscriberPtr& o) { return o->sid == s->sid; });
  if (!remove && s->type == "webhook") list.push_back(s);
}
}  // namespace

asio::awaitable<Result<SubscriberPtr>> EventService::create_subscriber(ChannelPtr channel,
                                                                       std::string type,
                                                                       std::string url,
                                                                       std::string secret,
                                                                       json::value attributes) {
  auto attrs = parse_subscriber_attributes(attributes);
  if (!attrs) co_return attrs.error();
  auto s = std::make_shared<Subscriber>();
  s->sid = make_sid("SB");
  s->account_sid = channel->account_sid;
  s->channel_sid = channel->sid;
  s->type = std::move(type);
  s->url = std::move(url);
  s->secret = std::move(secret);
  s->attributes = std::move(*attrs);
  s->date_created = s->date_updated = to_s(clock_.now_ms());
  EventStore::Job job = [s](Db& db) { return upsert_subscriber(db, *s, true); };
  Status st = co_await commit(std::move(job));
  if (!st) co_return st.error();
  {
    std::unique_lock lock(mu_);
    subscribers_[s->sid] = s;
    index_subscriber(webhooks_by_channel_, s, false);
  }
  co_return SubscriberPtr(s);
}

asio::awaitable<Result<SubscriberPtr>> EventService::update_subscriber(SubscriberPtr sub,
                                                                       SubscriberUpdate u) {
  auto s = std::make_shared<Subscriber>(*sub);
  if (u.attributes) {
    auto attrs = parse_subscriber_attributes(*u.attributes);
    if (!attrs) co_return attrs.error();
    s->attributes = std::move(*attrs);
  }
  if (u.url) s->url = *u.url;
  if (u.secret && *u.secret != s->secret) {
    s->previous_secret = s->secret;
    s->previous_expires_ms = clock_.now_ms() + options_.rotation_overlap_ms;
    s->secret = *u.secret;
  }
  if (u.status) {
    s->status = *u.status;
    s->status_reason = *u.status == "active" ? "" : "disabled through the API";
  }
  s->date_updated = to_s(clock_.now_ms());
  EventStore::Job job = [s](Db& db) { return upsert_subscriber(db, *s, false); };
  Status st = co_await commit(std::move(job));
  if (!st) co_return st.error();
  {
    std::unique_lock lock(mu_);
    if (!subscribers_.count(s->sid)) co_return Error::not_found("Subscriber was deleted");
    subscribers_[s->sid] = s;
    index_subscriber(webhooks_by_channel_, s, false);
  }
  co_return SubscriberPtr(s);
}

asio::awaitable<Status> EventService::delete_subscriber(SubscriberPtr sub) {
  const std::string sid = sub->sid;
  EventStore::Job job = [sid](Db& db) -> Status {
    return run_for_sid(
        db,
        {"DELETE FROM subscribers WHERE sid=?1",
         "UPDATE outbox SET status='cancelled' WHERE target_sid=?1 AND status='pending'"},
        sid, "delete subscriber");
  };
  Status s = co_await commit(std::move(job));
  if (!s) co_return s;
  std::unique_lock lock(mu_);
  subscribers_.erase(sid);
  index_subscriber(webhooks_by_channel_, sub, true);
  co_return Ok{};
}

// ---- publishing ----

asio::awaitable<Result<EventService::Published>> EventService::publish(
    ChannelPtr channel, std::string publisher_kind, std::vector<Body> bodies,
    std::optional<std::string> idempotency_key, bool batch) {
  // co_spawn needs a default-constructible result: carry it in an optional.
  std::optional<Result<Published>> result = co_await asio::co_spawn(
      io_.get_executor(),
      [](EventService* self, ChannelPtr ch, std::string kind, std::vector<Body> b,
         std::optional<std::string> key,
         bool is_batch) -> asio::awaitable<std::optional<Result<Published>>> {
        auto r = co_await self->publish_on_events(std::move(ch), std::move(kind), std::move(b),
                                                  std::move(key), is_batch);
        co_return std::optional<Result<Published>>(std::move(r));
      }(this, std::move(channel), std::move(publisher_kind), std::move(bodies),
                        std::move(idempotency_key), batch),
      asio::use_awaitable);
  co_return std::move(*result);
}

namespace {

struct PlannedEvent {
  EventHeader header;
  std::vector<ChannelDelivery> deliveries;
  std::vector<std::string> jsons;  // CloudEvent per delivery
  std::vector<std::int64_t> seqs;  // filled by the job
};

struct Plan {
  std::vector<PlannedEvent> events;
  std::vector<EventService::OutboxItem> outbox;
  std::string account_sid;
  std::optional<std::string> idempotency_key;
  std::string response;
  std::int64_t now_ms = 0;
};

Status run_plan(Db& db, Plan& plan) {
  std::map<std::string, History> touched;
  for (auto& e : plan.events) {
    e.seqs.clear();
    for (std::size_t i = 0; i < e.deliveries.size(); ++i) {
      const auto& d = e.deliveries[i];
      {
        auto st = db.prepare(
            "INSERT INTO events(sid, account_sid, channel_sid, type, time_ms, body)"
            " VALUES(?1,?2,?3,?4,?5,?6)");
        if (!st) return st.error();
        (*st)
            ->bind(1, e.header.id)
            .bind(2, e.header.account_sid)
            .bind(3, d.channel->sid)
            .bind(4, body_type(d.body))
            .bind(5, e.header.time_ms)
            .bind(6, e.jsons[i]);
        if (Status s = step_done(db, **st, "event"); !s) return s;
      }
      e.seqs.push_back(db.last_insert_id());
      touched[d.channel->sid] = d.channel->attributes.history;
      db.prune_credit()[d.channel->sid] += 1;
    }
  }
  for (auto& item : plan.outbox) {
    if (Status s = insert_outbox(db, item, plan.now_ms); !s) return s;
  }
  for (const auto& [sid, h] : touched) {
    std::int64_t& credit = db.prune_credit()[sid];
    if (credit < std::max<std::int64_t>(1, h.max_events / 64)) continue;
    credit = 0;
    {
      auto st = db.prepare(
          "DELETE FROM events WHERE channel_sid=?1 AND seq <= (SELECT seq FROM events WHERE"
          " channel_sid=?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)");
      if (!st) return st.error();
      (*st)->bind(1, sid).bind(2, h.max_events);
      if (Status s = step_done(db, **st, "prune"); !s) return s;
    }
    {
      auto st = db.prepare("DELETE FROM events WHERE channel_sid=?1 AND time_ms < ?2");
      if (!st) return st.error();
      (*st)->bind(1, sid).bind(2, plan.now_ms - h.max_age_s * 1000);
      if (Status s = step_done(db, **st, "prune"); !s) return s;
    }
  }
  if (plan.idempotency_key) {
    auto st = db.prepare(
        "INSERT INTO idempotency(account_sid, key, response, created_ms) VALUES(?1,?2,?3,?4)");
    if (!st) return st.error();
    (*st)
        ->bind(1, plan.account_sid)
        .bind(2, *plan.idempotency_key)
        .bind(3, plan.response)
        .bind(4, plan.now_ms);
    if (Status s = step_done(db, **st, "idempotency"); !s) return s;
  }
  return Ok{};
}

}  // namespace

asio::awaitable<Result<EventService::Published>> EventService::publish_on_events(
    ChannelPtr channel, std::string kind, std::vector<Body> bodies, std::optional<std::string> key,
    bool batch) {
  const std::string account = channel->account_sid;
  if (!channel->attributes.permissions.may_publish(kind)) {
    co_return Error{codes::kAuthenticationFailed, 403,
                    "Publishing on channel '" + channel->name + "' is not permitted for " + kind};
  }
  struct InFlightGuard {
    std::set<std::pair<std::string, std::string>>* set;
    std::optional<std::pair<std::string, std::string>> k;
    ~InFlightGuard() {
      if (k) set->erase(*k);
    }
  } guard{&idempotency_in_flight_, std::nullopt};
  if (key) {
    std::pair<std::string, std::string> k{account, *key};
    if (!idempotency_in_flight_.insert(k).second) {
      co_return Error{codes::kInvalidParameter, 409,
                      "A request with this Idempotency-Key is in progress"};
    }
    guard.k = k;
    auto stored = store_->read([&](Db& db) -> Result<std::optional<std::string>> {
      auto st = db.prepare("SELECT response FROM idempotency WHERE account_sid=?1 AND key=?2");
      if (!st) return st.error();
      (*st)->bind(1, account).bind(2, *key);
      if ((*st)->row()) return std::optional<std::string>((*st)->text(0));
      return std::optional<std::string>();
    });
    if (!stored) co_return stored.error();
    if (*stored) co_return Published{parse_or_null(**stored), true};
  }

  auto plan = std::make_shared<Plan>();
  plan->account_sid = account;
  plan->idempotency_key = key;
  plan->now_ms = clock_.now_ms();
  json::array out;
  for (auto& body : bodies) {
    EventHeader header{make_sid(kEventPrefix), account, channel->name, clock_.now_ms()};
    auto r = co_await run_pipeline(*this, *delegates_, channel, kind, header, std::move(body));
    if (!r) co_return r.error();
    PlannedEvent pe;
    pe.header = header;
    json::array channels;
    for (auto& d : r->deliveries) {
      pe.jsons.push_back(serialize_cloudevent(header, d.channel->name, d.body));
      channels.push_back(json::value(d.channel->name));
    }
    {
      std::shared_lock lock(mu_);
      for (std::size_t i = 0; i < r->deliveries.size(); ++i) {
        const auto& d = r->deliveries[i];
        auto it = webhooks_by_channel_.find(d.channel->sid);
        if (it == webhooks_by_channel_.end()) continue;
        auto body_text = std::make_shared<const std::string>(pe.jsons[i]);
        for (const auto& sub : it->second) {
          if (sub->status != "active" || !sub->attributes.filter.passes(d.body)) continue;
          plan->outbox.push_back({0, sub->sid, d.channel->sid, sub->url, header.id, body_text, 0,
                                  plan->now_ms, header.time_ms});
        }
      }
    }
    for (auto& w : r->webhooks) {
      plan->outbox.push_back({0, w.channel->sid, w.channel->sid, w.url, header.id,
                              std::make_shared<const std::string>(
                                  serialize_cloudevent(header, w.channel->name, w.body)),
                              0, plan->now_ms, header.time_ms});
    }
    json::object summary;
    summary["sid"] = header.id;
    summary["type"] = r->deliveries.empty() ? json::value(nullptr)
                                            : json::value(body_type(r->deliveries.front().body));
    summary["time"] = rfc3339_ms(header.time_ms);
    summary["channels"] = std::move(channels);
    summary["dropped"] =
        r->deliveries.empty() || r->deliveries.front().channel->sid != channel->sid;
    summary["webhooks"] = static_cast<std::int64_t>(plan->outbox.size());
    out.push_back(std::move(summary));
    pe.deliveries = std::move(r->deliveries);
    plan->events.push_back(std::move(pe));
  }
  json::value response;
  if (batch) {
    json::object o;
    o["events"] = std::move(out);
    response = std::move(o);
  } else {
    response = std::move(out.at(0));
  }
  plan->response = json::serialize(response);

  EventStore::Job job = [plan](Db& db) { return run_plan(db, *plan); };
  auto executor = co_await asio::this_coro::executor;
  auto initiate = [this, &job, plan, executor](auto handler) {
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    store_->write(std::move(job), [this, shared, plan, executor](Status s) {
      if (s) {
        // Runs on the writer thread in commit order, so streams see history order.
        // The plan is done with each event's JSON and body once its rows are written: the
        // stream item takes them over, and only channels someone streams get one.
        std::vector<std::pair<std::string, StreamItemPtr>> committed;
        for (auto& e : plan->events) {
          for (std::size_t i = 0; i < e.deliveries.size(); ++i) {
            auto& d = e.deliveries[i];
            if (!has_streams(d.channel->sid)) continue;
            auto item = std::make_shared<StreamItem>();
            item->seq = e.seqs[i];
            item->event_sid = e.header.id;
            item->json = std::move(e.jsons[i]);
            item->body = std::make_shared<const Body>(std::move(d.body));
            committed.emplace_back(d.channel->sid, std::move(item));
          }
        }
        if (!committed.empty()) fan_out(committed);
      }
      resume_on(executor, shared, std::move(s));
    });
  };
  Status committed = co_await asio::async_initiate<decltype(asio::use_awaitable), void(Status)>(
      initiate, asio::use_awaitable);
  if (!committed) {
    spdlog::error("events publish: {}", committed.error().message);
    co_return Error{codes::kServiceUnavailable, 503, "Events could not be stored"};
  }
  enqueue(std::move(plan->outbox));
  co_return Published{std::move(response), false};
}

bool EventService::has_streams(const std::string& channel_sid) {
  std::lock_guard lock(streams_mu_);
  return streams_.contains(channel_sid);
}

void EventService::fan_out(const std::vector<std::pair<std::string, StreamItemPtr>>& committed) {
  struct Job {
    std::shared_ptr<WorkerFanout> worker;  // shared: a job may outlive the service on a worker
    std::vector<std::pair<std::shared_ptr<StreamQueue>, StreamItemPtr>> work;
  };
  std::vector<Job> jobs;  // one per worker: a handful
  {
    std::lock_guard lock(streams_mu_);
    for (const auto& [channel_sid, item] : committed) {
      auto it = streams_.find(channel_sid);
      if (it == streams_.end()) continue;
      for (const auto& q : it->second) {
        auto job = std::find_if(jobs.begin(), jobs.end(),
                                [&](const Job& j) { return j.worker->executor == q->executor(); });
        if (job == jobs.end()) {
          auto w = std::find_if(fanouts_.begin(), fanouts_.end(),
                                [&](const auto& f) { return f->executor == q->executor(); });
          if (w == fanouts_.end()) {
            fanouts_.push_back(std::make_shared<WorkerFanout>());
            fanouts_.back()->executor = q->executor();
            w = std::prev(fanouts_.end());
          }
          job = jobs.insert(jobs.end(), Job{*w, {}});
        }
        job->work.emplace_back(q, item);
      }
    }
  }
  // Posted in commit order to each executor, so every stream still sees history order. The
  // flush runs after whatever jobs are queued ahead of it, so a busy worker sends each
  // connection all of them at once.
  for (auto& job : jobs) {
    asio::post(job.worker->executor, [w = job.worker, work = std::move(job.work)] {
      for (const auto& [q, item] : work) {
        q->push(item);
        if (!q->flush_scheduled) {
          q->flush_scheduled = true;
          w->dirty.push_back(q);
        }
      }
      if (w->flush_pending) return;
      w->flush_pending = true;
      asio::post(w->executor, [w] {
        w->flush_pending = false;
        auto dirty = std::move(w->dirty);
        w->dirty.clear();
        for (const auto& q : dirty) {
          q->flush_scheduled = false;
          q->deliver();
        }
      });
    });
  }
}

void EventService::publish_system(std::string account_sid, std::string channel, std::string type,
                                  json::value data) {
  if (system_backlog_.fetch_add(1) >= options_.max_system_backlog) {
    system_backlog_.fetch_sub(1);
    spdlog::warn("events: system event {} on {} dropped (backlog full)", type, channel);
    return;
  }
  asio::co_spawn(
      io_,
      system_publish(std::move(account_sid), std::move(channel), std::move(type), std::move(data)),
      asio::detached);
}

asio::awaitable<void> EventService::system_publish(std::string account_sid, std::string channel,
                                                   std::string type, json::value data) {
  struct Done {
    std::atomic<std::size_t>& n;
    ~Done() { n.fetch_sub(1); }
  } done{system_backlog_};
  // The platform's channels come with their ancestors ("calls" for "calls.completed"), so a
  // subscriber of the parent sees every call event without creating each child first.
  for (auto dot = channel.find('.'); dot != std::string::npos; dot = channel.find('.', dot + 1)) {
    const std::string parent = channel.substr(0, dot);
    if (find_channel(account_sid, parent)) continue;
    auto made = co_await create_channel(account_sid, parent, json::value());
    if (!made && !find_channel(account_sid, parent)) {
      spdlog::warn("events: system channel {}: {}", parent, made.error().message);
    }
  }
  ChannelPtr ch = find_channel(account_sid, channel);
  if (!ch) {
    auto created = co_await create_channel(account_sid, channel, json::value());
    if (!created)
      ch = find_channel(account_sid, channel);  // lost a race: use the winner's
    else
      ch = *created;
    if (!ch) {
      spdlog::warn("events: system channel {}: {}", channel,
                   created ? "missing" : created.error().message);
      co_return;
    }
  }
  Body body;
  body["type"] = type;
  body["source"] = "switchboard";
  body["data"] = std::move(data);
  body["metadata"] = json::object();
  std::vector<Body> bodies;
  bodies.push_back(std::move(body));
  auto r = co_await publish_on_events(ch, "system", std::move(bodies), std::nullopt, false);
  if (!r) spdlog::warn("events: system event {} on {}: {}", type, channel, r.error().message);
}

// ---- history and streams ----

Result<HistoryPage> EventService::history(const Channel& channel,
                                          std::optional<std::string> after_event_sid,
                                          std::size_t limit) {
  return store_->read([&](Db& db) -> Result<HistoryPage> {
    HistoryPage page;
    std::int64_t after = 0;
    if (after_event_sid) {
      auto st = db.prepare("SELECT seq FROM events WHERE channel_sid=?1 AND sid=?2");
      if (!st) return st.error();
      (*st)->bind(1, channel.sid).bind(2, *after_event_sid);
      if ((*st)->row()) {
        after = (*st)->integer(0);
      } else {
        page.gap = true;
      }
    }
    auto st = db.prepare(
        "SELECT seq, sid, body FROM events WHERE channel_sid=?1 AND seq > ?2 ORDER BY seq LIMIT "
        "?3");
    if (!st) return st.error();
    (*st)->bind(1, channel.sid).bind(2, after).bind(3, static_cast<std::int64_t>(limit + 1));
    while ((*st)->row()) {
      if (page.items.size() == limit) {
        page.has_more = true;
        break;
      }
      StreamItem item;
      item.seq = (*st)->integer(0);
      item.event_sid = (*st)->text(1);
      item.json = (*st)->text(2);
      auto v = parse_or_null(item.json);
      if (v.is_object()) item.body = std::make_shared<const Body>(std::move(v.get_object()));
      page.items.push_back(std::move(item));
    }
    return page;
  });
}

std::shared_ptr<StreamQueue> EventService::open_stream(const Channel& channel,
                                                       const Subscriber* subscriber,
                                                       asio::any_io_executor executor) {
  auto q = subscriber
               ? std::make_shared<StreamQueue>(executor, subscriber->attributes.queue_max,
                                               subscriber->attributes.overflow,
                                               subscriber->attributes.filter)
               : std::make_shared<StreamQueue>(executor, 1000, Overflow::kDisconnect, Filter{});
  std::lock_guard lock(streams_mu_);
  if (streams_closed_) q->close();
  streams_[channel.sid].push_back(q);
  auto w = std::find_if(fanouts_.begin(), fanouts_.end(),
                        [&](const auto& f) { return f->executor == executor; });
  if (w == fanouts_.end()) {
    fanouts_.push_back(std::make_shared<WorkerFanout>());
    fanouts_.back()->executor = executor;
    w = std::prev(fanouts_.end());
  }
  ++(*w)->streams;
  return q;
}

void EventService::close_stream(const std::string& channel_sid,
                                const std::shared_ptr<StreamQueue>& q) {
  std::lock_guard lock(streams_mu_);
  // Counted even when the channel's list is gone (a deleted channel closes its streams first).
  auto w = std::find_if(fanouts_.begin(), fanouts_.end(),
                        [&](const auto& f) { return f->executor == q->executor(); });
  if (w != fanouts_.end() && --(*w)->streams == 0) fanouts_.erase(w);
  auto it = streams_.find(channel_sid);
  if (it == streams_.end()) return;
  std::erase(it->second, q);
  if (it->second.empty()) streams_.erase(it);
}

RateLimit EventService::stream_rate_limit(const Channel& channel,
                                          const Subscriber* subscriber) const {
  if (subscriber && subscriber->attributes.rate_limit) return *subscriber->attributes.rate_limit;
  return channel.attributes.rate_limit;
}

// ---- webhook dispatch ----

const std::vector<std::int64_t>& EventService::schedule_for(const Subscriber* sub) const {
  if (sub && !sub->attributes.retry_schedule_ms.empty()) return sub->attributes.retry_schedule_ms;
  return options_.retry_schedule_ms;
}

void EventService::kick() {
  asio::post(io_, [this] { wake_->cancel(); });
}

void EventService::enqueue(std::vector<OutboxItem> items) {
  if (items.empty()) return;
  for (auto& item : items) due_.emplace(item.next_ms, std::move(item));
  pending_count_ = due_.size() + in_flight_;
  wake_->cancel();
}

asio::awaitable<void> EventService::dispatch_loop() {
  while (!stopping_) {
    const std::int64_t now = clock_.now_ms();
    while (in_flight_ < options_.max_in_flight && !due_.empty() && due_.begin()->first <= now) {
      OutboxItem item = std::move(due_.begin()->second);
      due_.erase(due_.begin());
      // A channel's own webhook has no subscriber row; its rate limit is the channel's.
      SubscriberPtr sub;
      ChannelPtr ch;
      {
        std::shared_lock lock(mu_);
        if (auto it = subscribers_.find(item.target_sid); it != subscribers_.end())
          sub = it->second;
        if (auto it = channels_by_sid_.find(item.channel_sid); it != channels_by_sid_.end())
          ch = it->second;
      }
      const bool gone = is_sid(item.target_sid, "SB") ? (!sub || sub->status != "active") : !ch;
      if (gone) {
        const std::int64_t id = item.id;
        const std::string reason =
            sub ? "endpoint disabled: " + sub->status_reason : "endpoint deleted";
        store_->write(
            [id, reason, now](Db& db) -> Status {
              auto st = db.prepare(
                  "UPDATE outbox SET status='cancelled', last_error=?2, updated_ms=?3 WHERE id=?1");
              if (!st) return st.error();
              (*st)->bind(1, id).bind(2, reason).bind(3, now);
              return step_done(db, **st, "outbox");
            },
            nullptr);
        continue;
      }
      const RateLimit limit = sub && sub->attributes.rate_limit ? *sub->attributes.rate_limit
                              : ch                              ? ch->attributes.rate_limit
                                                                : RateLimit{};
      if (limit.enabled()) {
        auto [bit, fresh] = buckets_.try_emplace(item.target_sid, limit, now);
        if (!bit->second.try_take(now)) {
          const auto wait = bit->second.wait_ms(now);
          item.next_ms = now + wait;
          due_.emplace(item.next_ms, std::move(item));
          continue;
        }
      }
      ++in_flight_;
      asio::co_spawn(io_, deliver(std::move(item)), asio::detached);
    }
    pending_count_ = due_.size() + in_flight_;
    if (in_flight_ >= options_.max_in_flight || due_.empty()) {
      wake_->expires_after(std::chrono::hours(1));
    } else {
      wake_->expires_after(
          std::chrono::milliseconds(std::max<std::int64_t>(0, due_.begin()->first - now)));
    }
    boost::system::error_code ec;
    co_await wake_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

asio::awaitable<void> EventService::deliver(OutboxItem item) {
  SubscriberPtr sub;
  ChannelPtr ch;
  {
    std::shared_lock lock(mu_);
    if (auto it = subscribers_.find(item.target_sid); it != subscribers_.end()) sub = it->second;
    if (auto it = channels_by_sid_.find(item.channel_sid); it != channels_by_sid_.end())
      ch = it->second;
  }
  std::vector<std::string> secrets;
  std::int64_t timeout_ms = 15000;
  const std::int64_t start = clock_.now_ms();
  if (sub) {
    secrets.push_back(sub->secret);
    if (!sub->previous_secret.empty() && sub->previous_expires_ms > start) {
      secrets.push_back(sub->previous_secret);
    }
    timeout_ms = sub->attributes.timeout_ms;
  } else if (ch && ch->attributes.webhook) {
    secrets.push_back(ch->attributes.webhook->secret.empty() ? ch->signing_secret
                                                             : ch->attributes.webhook->secret);
  } else if (ch) {
    secrets.push_back(ch->signing_secret);
  }
  const std::int64_t ts = to_s(start);
  http::ClientRequest req;
  req.method = "POST";
  req.url = item.url;
  req.headers = {{"Content-Type", "application/cloudevents+json"},
                 {"webhook-id", item.event_sid},
                 {"webhook-timestamp", std::to_string(ts)},
                 {"webhook-signature", signature_header(secrets, item.event_sid, ts, *item.body)}};
  req.body = *item.body;
  http::ConnectionSettings settings;
  settings.connect_timeout = std::chrono::milliseconds(std::min<std::int64_t>(timeout_ms, 5000));
  settings.read_timeout = std::chrono::milliseconds(timeout_ms);
  settings.total_timeout = std::chrono::milliseconds(timeout_ms);
  settings.retry_count = 0;
  req.settings = settings;
  req.max_body_bytes = 64 * 1024;
  auto res = co_await client_->fetch(std::move(req));
  if (stopping_) co_return;  // the row stays pending; retried after restart
  const std::int64_t now = clock_.now_ms();
  const int status = res ? res->status : 0;
  const std::string error =
      res ? (res->ok() ? "" : "HTTP " + std::to_string(status)) : res.error().message;
  std::optional<std::string> retry_after;
  if (res) {
    if (auto h = res->header("Retry-After")) retry_after = std::string(*h);
  }
  const int attempt = item.attempts + 1;
  const auto outcome = classify_attempt(status, retry_after, attempt, schedule_for(sub.get()), now);
  const char* row_status = "pending";
  std::int64_t next = 0;
  switch (outcome.kind) {
    case AttemptOutcome::Kind::kDelivered:
      row_status = "delivered";
      break;
    case AttemptOutcome::Kind::kRetry:
      next = outcome.next_attempt_ms;
      break;
    case AttemptOutcome::Kind::kExhausted:
      row_status = "failed";
      break;
    case AttemptOutcome::Kind::kGone:
      row_status = "failed";
      break;
  }
  const std::int64_t id = item.id;
  const std::string target = item.target_sid;
  const bool delivered = outcome.kind == AttemptOutcome::Kind::kDelivered;
  store_->write(
      [=](Db& db) -> Status {
        {
          auto st = db.prepare(
              "UPDATE outbox SET status=?2, attempts=?3, next_attempt_ms=?4, last_status=?5,"
              " last_error=?6, updated_ms=?7 WHERE id=?1 AND status='pending'");
          if (!st) return st.error();
          (*st)
              ->bind(1, id)
              .bind(2, std::string_view(row_status))
              .bind(3, attempt)
              .bind(4, next)
              .bind(5, status)
              .bind(6, error)
              .bind(7, now);
          if (Status s = step_done(db, **st, "outbox"); !s) return s;
        }
        {
          auto st = db.prepare(
              "INSERT INTO attempts(outbox_id, target_sid, attempt, status_code, error, "
              "duration_ms,"
              " time_ms, next_retry_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)");
          if (!st) return st.error();
          (*st)
              ->bind(1, id)
              .bind(2, target)
              .bind(3, attempt)
              .bind(4, status)
              .bind(5, error)
              .bind(6, now - start)
              .bind(7, start)
              .bind(8, next);
          if (Status s = step_done(db, **st, "attempt"); !s) return s;
        }
        if (delivered) {
          auto st = db.prepare("UPDATE subscribers SET last_success_ms=?2 WHERE sid=?1");
          if (!st) return st.error();
          (*st)->bind(1, target).bind(2, now);
          return step_done(db, **st, "subscriber");
        }
        return Ok{};
      },
      nullptr);
  if (delivered && sub) {
    auto updated = std::make_shared<Subscriber>(*sub);
    updated->last_success_ms = now;
    std::unique_lock lock(mu_);
    if (auto it = subscribers_.find(sub->sid);
        it != subscribers_.end() && it->second->status == "active") {
      updated->status = it->second->status;
      it->second = updated;
      index_subscriber(webhooks_by_channel_, updated, false);
    }
  }
  if (outcome.kind == AttemptOutcome::Kind::kRetry) {
    item.attempts = attempt;
    item.next_ms = outcome.next_attempt_ms;
    due_.emplace(item.next_ms, std::move(item));
  } else if (outcome.kind == AttemptOutcome::Kind::kGone) {
    disable_target(target, "endpoint answered 410 Gone");
  } else if (outcome.kind == AttemptOutcome::Kind::kExhausted) {
    // Disabled only when nothing reached it since this message was first accepted.
    if (sub && sub->last_success_ms < item.created_ms) {
      disable_target(
          target, "every retry failed (last: " + (error.empty() ? std::string("?") : error) + ")");
    }
  }
  --in_flight_;
  pending_count_ = due_.size() + in_flight_;
  wake_->cancel();
}

void EventService::disable_target(const std::string& target_sid, std::string reason) {
  SubscriberPtr sub;
  {
    std::shared_lock lock(mu_);
    if (auto it = subscribers_.find(target_sid); it != subscribers_.end()) sub = it->second;
  }
  if (!sub || sub->status != "active") return;
  auto s = std::make_shared<Subscriber>(*sub);
  s->status = "disabled";
  s->status_reason = reason;
  s->date_updated = to_s(clock_.now_ms());
  {
    std::unique_lock lock(mu_);
    subscribers_[s->sid] = s;
    index_subscriber(webhooks_by_channel_, s, false);
  }
  store_->write([s](Db& db) { return upsert_subscriber(db, *s, false); }, nullptr);
  spdlog::warn("events: subscriber {} disabled: {}", s->sid, reason);
  json::object data;
  data["subscriber_sid"] = s->sid;
  data["channel_sid"] = s->channel_sid;
  data["url"] = s->url;
  data["reason"] = reason;
  publish_system(s->account_sid, std::string(kSystemChannel), "switchboard.subscriber.disabled",
                 std::move(data));
}

// ---- deliveries and replay ----

Result<json::array> EventService::deliveries(const Subscriber& sub, std::size_t limit) {
  return store_->read([&](Db& db) -> Result<json::array> {
    json::array out;
    auto st = db.prepare(
        "SELECT id, event_sid, status, attempts, next_attempt_ms, last_status, last_error,"
        " created_ms, updated_ms FROM outbox WHERE target_sid=?1 ORDER BY id DESC LIMIT ?2");
    if (!st) return st.error();
    (*st)->bind(1, sub.sid).bind(2, static_cast<std::int64_t>(limit));
    std::vector<std::int64_t> ids;
    while ((*st)->row()) {
      json::object o;
      ids.push_back((*st)->integer(0));
      o["event_sid"] = (*st)->text(1);
      o["webhook_id"] = (*st)->text(1);
      o["status"] = (*st)->text(2);
      o["attempt_count"] = (*st)->integer(3);
      const auto next = (*st)->integer(4);
      o["next_attempt"] = o["status"] == "pending" && next > 0 ? json::value(rfc3339_ms(next))
                                                               : json::value(nullptr);
      o["last_status_code"] = (*st)->integer(5);
      o["last_error"] = (*st)->text(6);
      o["date_created"] = rfc3339_ms((*st)->integer(7));
      o["date_updated"] = rfc3339_ms((*st)->integer(8));
      out.push_back(std::move(o));
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
      auto at = db.prepare(
          "SELECT attempt, status_code, error, duration_ms, time_ms, next_retry_ms FROM attempts"
          " WHERE outbox_id=?1 ORDER BY id");
      if (!at) return at.error();
      (*at)->bind(1, ids[i]);
      json::array attempts;
      while ((*at)->row()) {
        json::object a;
        a["attempt"] = (*at)->integer(0);
        a["status_code"] = (*at)->integer(1);
        a["error"] = (*at)->text(2);
        a["duration_ms"] = (*at)->integer(3);
        a["date"] = rfc3339_ms((*at)->integer(4));
        const auto next = (*at)->integer(5);
        a["next_retry"] = next > 0 ? json::value(rfc3339_ms(next)) : json::value(nullptr);
        attempts.push_back(std::move(a));
      }
      out[i].get_object()["attempts"] = std::move(attempts);
    }
    return out;
  });
}

asio::awaitable<Result<std::int64_t>> EventService::replay(SubscriberPtr sub, std::int64_t from_ms,
                                                           std::int64_t to_ms) {
  if (sub->type != "webhook")
    co_return Error::bad_request(codes::kInvalidParameter,
                                 "Only webhook subscribers can be replayed");
  auto rows = store_->read([&](Db& db) -> Result<std::vector<OutboxItem>> {
    std::vector<OutboxItem> items;
    auto st = db.prepare(
        "SELECT sid, time_ms, body FROM events WHERE channel_sid=?1 AND time_ms >= ?2 AND"
        " time_ms <= ?3 ORDER BY seq LIMIT 10000");
    if (!st) return st.error();
    (*st)->bind(1, sub->channel_sid).bind(2, from_ms).bind(3, to_ms);
    const auto now = clock_.now_ms();
    while ((*st)->row()) {
      std::string body = (*st)->text(2);
      auto v = parse_or_null(body);
      if (!v.is_object() || !sub->attributes.filter.passes(v.get_object())) continue;
      items.push_back({0, sub->sid, sub->channel_sid, sub->url, (*st)->text(0),
                       std::make_shared<const std::string>(std::move(body)), 0, now,
                       (*st)->integer(1)});
    }
    return items;
  });
  if (!rows) co_return rows.error();
  auto items = std::make_shared<std::vector<OutboxItem>>(std::move(*rows));
  const auto now = clock_.now_ms();
  EventStore::Job job = [items, now](Db& db) -> Status {
    for (auto& item : *items) {
      if (Status s = insert_outbox(db, item, now); !s) return s;
    }
    return Ok{};
  };
  Status s = co_await commit(std::move(job));
  if (!s) co_return s.error();
  const auto count = static_cast<std::int64_t>(items->size());
  asio::post(io_, [this, items] { enqueue(std::move(*items)); });
  co_return count;
}

// ---- tokens ----

std::string EventService::issue_token(const AccessToken& token) const {
  json::object p;
  p["a"] = token.account_sid;
  json::array ch;
  for (const auto& c : token.channels) ch.push_back(json::value(c));
  p["c"] = std::move(ch);
  p["p"] = token.publish;
  p["s"] = token.subscribe;
  p["e"] = token.expires_s;
  const std::string payload = base64url(json::serialize(p));
  return "sbt_" + payload + "." + base64url(hmac256(token_key_, payload));
}

std::optional<AccessToken> EventService::verify_token(std::string_view token) const {
  if (token.size() > 4096 || token.substr(0, 4) != "sbt_") return std::nullopt;
  token.remove_prefix(4);
  const auto dot = token.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view payload = token.substr(0, dot);
  const std::string expected = base64url(hmac256(token_key_, payload));
  const std::string_view given = token.substr(dot + 1);
  if (given.size() != expected.size() ||
      CRYPTO_memcmp(given.data(), expected.data(), given.size()) != 0) {
    return std::nullopt;
  }
  auto raw = unbase64url(payload);
  if (!raw) return std::nullopt;
  auto v = parse_or_null(*raw);
  if (!v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  AccessToken t;
  try {
    t.account_sid = std::string(o.at("a").as_string());
    for (const auto& c : o.at("c").as_array()) t.channels.emplace_back(c.as_string());
    t.publish = o.at("p").as_bool();
    t.subscribe = o.at("s").as_bool();
    t.expires_s = o.at("e").as_int64();
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (t.expires_s < to_s(clock_.now_ms())) return std::nullopt;
  return t;
}

}  // namespace sb::events
