// Queues.json, Queues/{Sid}.json and their Members (TWILIO-VOICE-2.md §4.3). A queue's row
// (FriendlyName, MaxSize) is in the store; who waits in it, and for how long, is live state the
// QueueRegistry keeps. Without a registry (no SIP) every queue is empty.
#include <string>

#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/pagination.hpp"
#include "api/resources.hpp"
#include "api/validation.hpp"
#include "core/sid.hpp"
#include "core/text.hpp"
#include "core/time.hpp"

namespace sb::api {
namespace {

constexpr int kDefaultQueueSize = 1000;  // Twilio's default MaxSize
constexpr int kMaxQueueSize = 5000;      // and its largest

std::string queue_path(std::string_view account_sid, std::string_view sid) {
  return account_child_path(account_sid, "Queues/" + std::string(sid));
}

voice::QueueFigures queue_figures(Context& ctx, const store::Queue& q) {
  if (!ctx.queues) {
    voice::QueueFigures none;
    none.max_size = q.max_size;
    return none;
  }
  return ctx.queues->figures(q.sid, q.max_size);
}

boost::json::object queue_json(const store::Queue& q, const voice::QueueFigures& figures) {
  const std::string path = queue_path(q.account_sid, q.sid);
  boost::json::object o;
  o["sid"] = q.sid;
  o["account_sid"] = q.account_sid;
  o["friendly_name"] = q.friendly_name;
  o["current_size"] = figures.current_size;
  o["max_size"] = q.max_size;
  o["average_wait_time"] = figures.average_wait_time;
  o["date_created"] = rfc2822(q.date_created);
  o["date_updated"] = rfc2822(q.date_updated);
  o["uri"] = path + ".json";
  boost::json::object subs;
  subs["members"] = path + "/Members.json";
  o["subresource_uris"] = std::move(subs);
  return o;
}

boost::json::object member_json(std::string_view account_sid, const voice::QueueMemberView& m) {
  boost::json::object o;
  o["call_sid"] = m.call_sid;
  o["date_enqueued"] = rfc2822(m.date_enqueued);
  o["position"] = m.position;
  o["uri"] = queue_path(account_sid, m.queue_sid) + "/Members/" + m.call_sid + ".json";
  o["wait_time"] = m.wait_time;
  o["queue_sid"] = m.queue_sid;
  return o;
}

Error queue_param_error(std::string message) {
  return Error::bad_request(codes::kInvalidParameter, std::move(message));
}

Error duplicate_queue_error(std::string_view name) {
  return queue_param_error("This account already has a queue named '" + std::string(name) +
                           "': queue names are unique within an account");
}

// FriendlyName (required on create) and MaxSize (1..5000) onto `row`.
Status apply_queue_params(const http::Form& params, store::Queue& row, bool create) {
  if (auto v = params.get("FriendlyName"); v || create) {
    const std::string_view name = v.value_or("");
    if (name.empty()) {
      return queue_param_error("FriendlyName is required: the queue's name, up to 64 characters");
    }
    if (auto s = check_friendly_name(name); !s) return s;
    row.friendly_name = std::string(name);
  }
  if (auto v = params.get("MaxSize"); v && !v->empty()) {
    int n = 0;
    bool digits = v->size() <= 6;
    for (char c : *v) digits = digits && c >= '0' && c <= '9';
    if (digits) {
      for (char c : *v) n = n * 10 + (c - '0');
    }
    if (!digits || n < 1 || n > kMaxQueueSize) {
      return queue_param_error("MaxSize must be a whole number from 1 to " +
                               std::to_string(kMaxQueueSize));
    }
    row.max_size = n;
  }
  return Ok{};
}

// Members/{CallSid|Front}.json: a CallSid, or the literal Front.
bool is_member_key(std::string_view who) {
  return who == "Front" || is_sid(who, sid_prefix::kCall);
}

}  // namespace

asio::awaitable<http::Response> list_queues(Context& ctx, const Scope& scope,
                                            const http::Form& query) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  auto rows = ctx.store.list_queues(scope.account.sid, page->request());
  if (!rows) co_return store_error(rows.error());
  auto to_json = [&ctx](const store::Queue& q) { return queue_json(q, queue_figures(ctx, q)); };
  co_return page_response("queues", *rows, to_json, scope.path, "", *page);
}

asio::awaitable<http::Response> create_queue(Context& ctx, const Scope& scope,
                                             const http::Form& params) {
  store::Queue row;
  row.sid = make_sid(sid_prefix::kQueue);
  row.account_sid = scope.account.sid;
  row.max_size = kDefaultQueueSize;
  if (auto s = apply_queue_params(params, row, true); !s) {
    co_return http::error_response(s.error());
  }
  row.date_created = row.date_updated = ctx.clock.now_unix();
  store::Mutation insert = store::InsertQueue{row};
  if (auto s = co_await commit(ctx.store, insert); !s) {
    if (s.error().status == store::kConflict) {
      co_return http::error_response(duplicate_queue_error(row.friendly_name));
    }
    co_return store_error(s.error());
  }
  co_return http::json_response(201, queue_json(row, queue_figures(ctx, row)));
}

asio::awaitable<http::Response> fetch_queue(Context& ctx, const Scope& scope,
                                            std::string_view sid) {
  auto found = ctx.store.find_queue(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  co_return http::json_response(200, queue_json(**found, queue_figures(ctx, **found)));
}

asio::awaitable<http::Response> update_queue(Context& ctx, const Scope& scope, std::string_view sid,
                                             const http::Form& params) {
  auto found = ctx.store.find_queue(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  store::Queue row = std::move(**found);
  if (auto s = apply_queue_params(params, row, false); !s) {
    co_return http::error_response(s.error());
  }
  row.date_updated = ctx.clock.now_unix();
  store::Mutation update = store::UpdateQueue{row};
  if (auto s = co_await commit(ctx.store, update); !s) {
    if (s.error().status == store::kConflict) {
      co_return http::error_response(duplicate_queue_error(row.friendly_name));
    }
    if (s.error().status == 404) co_return http::error_response(not_found_error(scope.path));
    co_return store_error(s.error());
  }
  // A smaller MaxSize turns new callers away; those already waiting stay.
  if (ctx.queues) {
    ctx.queues->set_max_size(row.sid, row.max_size);
    ctx.queues->rename(row.sid, row.friendly_name);
  }
  co_return http::json_response(200, queue_json(row, queue_figures(ctx, row)));
}

asio::awaitable<http::Response> delete_queue(Context& ctx, const Scope& scope,
                                             std::string_view sid) {
  auto found = ctx.store.find_queue(scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  // Twilio removes only an empty queue: the callers in it would be left waiting in none.
  if (queue_figures(ctx, **found).current_size > 0) {
    co_return http::error_response(queue_param_error(
        "Queue is not empty: dequeue its members (Members/{CallSid}.json) or wait for them to "
        "leave before deleting it"));
  }
  store::Mutation remove = store::DeleteQueue{scope.account.sid, std::string(sid)};
  if (auto s = co_await commit(ctx.store, remove); !s) {
    if (s.error().status == 404) co_return http::error_response(not_found_error(scope.path));
    co_return store_error(s.error());
  }
  if (ctx.queues) ctx.queues->forget(std::string(sid));
  co_return http::Response{boost::beast::http::status::no_content, 11};
}

asio::awaitable<http::Response> list_queue_members(Context& ctx, const Scope& scope,
                                                   std::string_view queue_sid,
                                                   const http::Form& query) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  auto found = ctx.store.find_queue(scope.account.sid, queue_sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  std::vector<LiveRow> rows;
  if (ctx.queues) {
    for (const auto& m : ctx.queues->members(std::string(queue_sid))) {
      rows.push_back({m.position, member_json(scope.account.sid, m)});  // PageToken: a position
    }
  }
  co_return live_list_response("queue_members", std::move(rows), query, scope.path, "");
}

asio::awaitable<http::Response> fetch_queue_member(Context& ctx, const Scope& scope,
                                                   std::string_view queue_sid,
                                                   std::string_view who) {
  auto found = ctx.store.find_queue(scope.account.sid, queue_sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value() || !is_member_key(who) || !ctx.queues) {
    co_return http::error_response(not_found_error(scope.path));
  }
  auto member = ctx.queues->member(std::string(queue_sid), std::string(who));
  if (!member) co_return http::error_response(not_found_error(scope.path));
  co_return http::json_response(200, member_json(scope.account.sid, *member));
}

asio::awaitable<http::Response> dequeue_queue_member(Context& ctx, const Scope& scope,
                                                     std::string_view queue_sid,
                                                     std::string_view who,
                                                     const http::Form& params) {
  auto found = ctx.store.find_queue(scope.account.sid, queue_sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value() || !is_member_key(who)) {
    co_return http::error_response(not_found_error(scope.path));
  }
  const std::string url(trim(params.get("Url").value_or("")));
  if (url.empty()) {
    co_return http::error_response(Error::bad_request(
        21205, "Url is required: the TwiML the dequeued call runs (an absolute http(s) URL)"));
  }
  if (!is_valid_webhook_url(url)) {
    co_return http::error_response(Error::bad_request(
        21205, "Url is not a valid URL (an absolute http(s) URL is needed): " + url));
  }
  std::string method = "POST";
  if (auto v = params.get("Method"); v && !v->empty()) {
    auto m = normalize_method(*v);
    if (!m) co_return http::error_response(Error::bad_request(21209, "Method must be GET or POST"));
    method = *m;
  }
  if (!ctx.queues) co_return http::error_response(not_found_error(scope.path));
  auto member = ctx.queues->dequeue(std::string(queue_sid), std::string(who), url, method);
  if (!member) co_return http::error_response(not_found_error(scope.path));
  co_return http::json_response(200, member_json(scope.account.sid, *member));
}

}  // namespace sb::api
