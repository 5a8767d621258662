#include "events/pipeline.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>

#include "events/json_path.hpp"

namespace sb::events {

namespace {

constexpr int kMaxDepth = 16;

struct Context {
  const ChannelDirectory& directory;
  DelegateInvoker& delegates;
  std::string publisher_kind;
  EventHeader header;
  std::set<std::string> visited;
  PipelineResult result;
};

Body body_from_cloudevent(const json::object& ce, const Body& original) {
  Body out = original;
  if (const auto* t = ce.if_contains("type"); t && t->is_string() && !t->get_string().empty()) {
    out["type"] = *t;
  }
  if (const auto* s = ce.if_contains("subject"); s && s->is_string()) out["subject"] = *s;
  if (const auto* d = ce.if_contains("data")) {
    out["data"] = *d;
  } else {
    out.erase("data");
  }
  if (const auto* m = ce.if_contains("metadata"); m && m->is_object()) out["metadata"] = *m;
  return out;
}

ChannelPtr nearest_ancestor(const ChannelDirectory& dir, const Channel& ch) {
  auto parent = parent_name(ch.name);
  while (parent) {
    if (auto found = dir.find_channel(ch.account_sid, *parent)) return found;
    parent = parent_name(*parent);
  }
  return nullptr;
}

// Runs the delegates; false when the event is dropped.
asio::awaitable<bool> run_delegates(Context& ctx, const Channel& ch, Body& body) {
  const auto& attrs = ch.attributes;
  if (!attrs.delegates_parallel) {
    for (const auto& d : attrs.delegates) {
      if (!d.when.matches(body)) continue;
      DelegateReply reply =
          co_await ctx.delegates.call(d, to_cloudevent(ctx.header, ch.name, body), ch.account_sid);
      if (reply.outcome == DelegateReply::Outcome::kDropped) co_return false;
      if (reply.outcome == DelegateReply::Outcome::kFailed) {
        if (d.drop_on_failure) co_return false;
        continue;
      }
      body = body_from_cloudevent(reply.event, body);
    }
    co_return true;
  }
  // Parallel: every applicable delegate sees the same event; all answers are awaited.
  std::vector<const Delegate*> applicable;
  for (const auto& d : attrs.delegates) {
    if (d.when.matches(body)) applicable.push_back(&d);
  }
  if (applicable.empty()) co_return true;
  auto executor = co_await asio::this_coro::executor;
  std::vector<DelegateReply> replies(applicable.size());
  std::size_t remaining = applicable.size();
  asio::steady_timer done(executor, asio::steady_timer::time_point::max());
  for (std::size_t i = 0; i < applicable.size(); ++i) {
    asio::co_spawn(
        executor,
        [](DelegateInvoker& inv, const Delegate& d, json::object ce, std::string account,
           DelegateReply& out, std::size_t& left, asio::steady_timer& t) -> asio::awaitable<void> {
          out = co_await inv.call(d, std::move(ce), std::move(account));
          if (--left == 0) t.cancel();
        }(ctx.delegates, *applicable[i], to_cloudevent(ctx.header, ch.name, body), ch.account_sid,
                                                                         replies[i], remaining,
                                                                         done),
        asio::detached);
  }
  // NOLINTNEXTLINE(bugprone-infinite-loop): the delegates' coroutines count `remaining` down.
  while (remaining > 0) {
    boost::system::error_code ec;
    co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  const Body original = body;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const auto& r = replies[i];
    if (r.outcome == DelegateReply::Outcome::kDropped) co_return false;
    if (r.outcome == DelegateReply::Outcome::kFailed) {
      if (applicable[i]->drop_on_failure) co_return false;
      continue;
    }
    merge_delegate_event(body, original, r.event);
  }
  co_return true;
}

asio::awaitable<Status> process(Context& ctx, ChannelPtr ch, Body body, bool origin, int depth) {
  if (depth > kMaxDepth || !ctx.visited.insert(ch->sid).second) co_return Ok{};
  const auto& attrs = ch->attributes;
  std::vector<std::pair<ChannelPtr, Body>> next;
  for (Stage stage : attrs.order) {
    switch (stage) {
      case Stage::kPermissions:
        if (origin && !attrs.permissions.may_publish(ctx.publisher_kind)) {
          co_return Error{codes::kAuthenticationFailed, 403,
                          "Publishing on channel '" + ch->name + "' is not permitted for " +
                              ctx.publisher_kind};
        }
        break;
      case Stage::kFilter:
        if (!attrs.filter.passes(body)) {
          ctx.result.dropped_at.push_back(ch->name + ":filter");
          co_return Ok{};
        }
        break;
      case Stage::kDelegates:
        if (!attrs.delegates.empty()) {
          const bool kept = co_await run_delegates(ctx, *ch, body);
          if (!kept) {
            ctx.result.dropped_at.push_back(ch->name + ":delegates");
            co_return Ok{};
          }
        }
        break;
      case Stage::kTranslate:
        if (!attrs.translate.empty() && attrs.translate.when.matches(body)) {
          apply_translate(attrs.translate, body);
        }
        break;
      case Stage::kRoutes:
        for (const auto& r : attrs.routes) {
          if (!r.when.matches(body)) continue;
          if (auto target = ctx.directory.find_channel(ch->account_sid, r.to)) {
            next.emplace_back(std::move(target), body);
          }
        }
        if (attrs.publish_to_parent) {
          if (auto parent = nearest_ancestor(ctx.directory, *ch)) next.emplace_back(parent, body);
        }
        break;
      case Stage::kWebhook:
        if (attrs.webhook && attrs.webhook->when.matches(body)) {
          ctx.result.webhooks.push_back(
              {ch, body, attrs.webhook->url,
               attrs.webhook->secret.empty() ? ch->signing_secret : attrs.webhook->secret});
        }
        break;
    }
  }
  ctx.result.deliveries.push_back({ch, std::move(body)});
  for (auto& [target, b] : next) {
    Status s = co_await process(ctx, std::move(target), std::move(b), false, depth + 1);
    if (!s) co_return s;
  }
  co_return Ok{};
}

}  // namespace

void apply_translate(const Translate& t, Body& body) {
  const json::value original_type = body.contains("type") ? body.at("type") : json::value("");
  if (!t.select.empty()) {
    const Body source = body;
    std::set<std::string> roots;
    for (const auto& p : t.select) roots.insert(p.substr(0, p.find('.')));
    for (const auto& r : roots) body.erase(r);
    for (const auto& p : t.select) {
      if (const auto* v = find_path(source, p)) set_path(body, p, *v);
    }
  }
  for (const auto& [from, to] : t.rename) {
    if (auto v = take_path(body, from)) set_path(body, to, std::move(*v));
  }
  for (const auto& [path, value] : t.set) set_path(body, path, value);
  const auto* type = body.if_contains("type");
  if (!type || !type->is_string() || type->get_string().empty()) body["type"] = original_type;
  if (const auto* m = body.if_contains("metadata"); !m || !m->is_object()) {
    body["metadata"] = json::object();
  }
}

void merge_delegate_event(Body& merged, const Body& original, const json::object& reply) {
  const Body answered = body_from_cloudevent(reply, original);
  for (const char* key : {"type", "subject", "data"}) {
    const auto* a = answered.if_contains(key);
    const auto* o = original.if_contains(key);
    const bool changed = (a == nullptr) != (o == nullptr) || (a && *a != *o);
    if (!changed) continue;
    if (a) {
      merged[key] = *a;
    } else {
      merged.erase(key);
    }
  }
  if (const auto* m = answered.if_contains("metadata"); m && m->is_object()) {
    auto& target = merged["metadata"];
    if (!target.is_object()) target = json::object();
    for (const auto& kv : m->get_object()) target.get_object()[kv.key()] = kv.value();
  }
}

asio::awaitable<Result<PipelineResult>> run_pipeline(const ChannelDirectory& directory,
                                                     DelegateInvoker& delegates, ChannelPtr origin,
                                                     std::string publisher_kind, EventHeader header,
                                                     Body body) {
  Context ctx{directory, delegates, std::move(publisher_kind), std::move(header), {}, {}};
  Status s = co_await process(ctx, std::move(origin), std::move(body), true, 0);
  if (!s) co_return s.error();
  co_return std::move(ctx.result);
}

}  // namespace sb::events
