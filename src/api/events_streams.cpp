// /v1/Channels/{Sid}/Stream: live events over Server-Sent Events or a WebSocket, on a
// connection taken over from the HTTP server; resumes from history after a Last-Event-ID.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <deque>

#include "api/events_resources.hpp"
#include "http/websocket.hpp"

namespace sb::api::v1 {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using events::ChannelPtr;
using events::SubscriberPtr;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kHistoryPage = 1000;

// ---- streams ----

struct StreamRequest {
  events::EventService* service;
  ChannelPtr channel;
  SubscriberPtr subscriber;
  std::optional<std::string> last_event_id;
  std::chrono::milliseconds heartbeat{15000};
};

struct ReaderState {
  explicit ReaderState(asio::any_io_executor ex)
      : timer(ex, asio::steady_timer::time_point::max()) {}
  asio::steady_timer timer;
  bool done = false;
};

std::string gap_json(const StreamRequest& sr, const std::vector<events::StreamItem>& first) {
  json::object o;
  o["control"] = "gap";
  o["last_event_id"] = sr.last_event_id ? json::value(*sr.last_event_id) : json::value(nullptr);
  o["oldest_event_id"] =
      first.empty() ? json::value(nullptr) : json::value(first.front().event_sid);
  o["message"] = "The events after last_event_id are no longer all in history";
  return json::serialize(o);
}

std::string overflow_json(std::uint64_t dropped) {
  json::object o;
  o["control"] = "overflow";
  o["message"] = "The client did not keep up; its queue overflowed";
  o["dropped"] = dropped;
  return json::serialize(o);
}

// Sends history after the resume point through `send(item)`; returns the last sequence sent.
template <typename SendGap, typename Send>
asio::awaitable<Result<std::int64_t>> replay_history(const StreamRequest& sr, SendGap send_gap,
                                                     Send send) {
  std::int64_t last_seq = 0;
  if (!sr.last_event_id) co_return last_seq;
  std::optional<std::string> after = sr.last_event_id;
  bool first = true;
  for (;;) {
    auto page = sr.service->history(*sr.channel, after, kHistoryPage);
    if (!page) co_return page.error();
    if (first && page->gap) {
      bool ok = co_await send_gap(gap_json(sr, page->items));
      if (!ok) co_return Error::internal("write failed");
    }
    first = false;
    for (const auto& item : page->items) {
      if (item.body && sr.subscriber && !sr.subscriber->attributes.filter.passes(*item.body)) {
        last_seq = item.seq;
        continue;
      }
      bool ok = co_await send(item);
      if (!ok) co_return Error::internal("write failed");
      last_seq = item.seq;
    }
    if (!page->has_more || page->items.empty()) break;
    after = page->items.back().event_sid;
  }
  co_return last_seq;
}

// Paces sends to the rate limit; true to go on.
asio::awaitable<void> pace(events::TokenBucket& bucket, const Clock& clock,
                           asio::steady_timer& timer) {
  while (!bucket.try_take(clock.now_ms())) {
    timer.expires_after(std::chrono::milliseconds(bucket.wait_ms(clock.now_ms())));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

// Bytes a stream writer gathers before it sends them in one write: every event queued since
// the last write goes out in one send (one segment train, one wake-up of the client), which
// is what lets one worker fan an event out to thousands of connections.
class Outbox {
 public:
  // `stall_limit`: how long a write may make no progress before the connection is given up
  // (a client that stopped reading is let go, like one that stopped answering pings).
  Outbox(http::Stream& stream, std::chrono::milliseconds stall_limit)
      : stream_(stream), timer_(stream.get_executor()), stall_limit_(stall_limit) {
    out_.reserve(kFlushAt);
  }
  std::string& bytes() { return out_; }
  bool full() const { return out_.size() >= kFlushAt; }
  // Sends what the socket takes now, without blocking; true when nothing is left. What is
  // left (or a failure) is for flush().
  bool try_send() {
    boost::system::error_code ec;
    const std::size_t n = stream_.try_write_some(asio::buffer(out_), ec);
    out_.erase(0, n);
    return !ec && out_.empty();
  }
  // Sends what is gathered; false when the connection failed or stalled.
  asio::awaitable<bool> flush() {
    if (out_.empty()) co_return true;
    // Most sends complete at once: try without the event loop (and without arming the stall
    // timer, whose every arming may reprogram the reactor's timer) first.
    boost::system::error_code first;
    std::size_t at = stream_.try_write_some(asio::buffer(out_), first);
    bool ok = !first || first == asio::error::would_block;
    while (ok && at < out_.size()) {
      timer_.expires_after(stall_limit_);
      timer_.async_wait([this](const boost::system::error_code& ec) {
        if (!ec) stream_.cancel();  // no progress: ends this write and the reader's read
      });
      auto [ec, n] = co_await stream_.async_write_some(
          asio::buffer(out_.data() + at, out_.size() - at), kTuple);
      timer_.cancel();
      at += n;
      ok = !ec;
    }
    // Keep the capacity of an ordinary batch; give back what one huge backlog grew.
    if (out_.capacity() > 8 * kFlushAt) {
      std::string().swap(out_);
      out_.reserve(kFlushAt);
    } else {
      out_.clear();
    }
    co_return ok;
  }

 private:
  static constexpr std::size_t kFlushAt = std::size_t{64} * 1024;
  http::Stream& stream_;
  asio::steady_timer timer_;
  std::chrono::milliseconds stall_limit_;
  std::string out_;
};

// The events one write may carry; a paced (rate-limited) stream takes one at a time.
template <typename Append>
asio::awaitable<bool> send_batch(const std::deque<events::StreamItemPtr>& items,
                                 std::int64_t last_seq, events::TokenBucket& bucket,
                                 const Clock& clock, asio::steady_timer& pacer, Outbox& out,
                                 Append append) {
  for (const auto& item : items) {
    if (item->seq <= last_seq) continue;  // already sent from history
    if (bucket.limited() && !bucket.try_take(clock.now_ms())) {
      const bool sent = co_await out.flush();
      if (!sent) co_return false;
      co_await pace(bucket, clock, pacer);
    }
    append(*item);
    if (out.full()) {
      const bool sent = co_await out.flush();
      if (!sent) co_return false;
    }
  }
  const bool sent = co_await out.flush();
  co_return sent;
}

// Clears a stream's direct sink when the writer's frame ends, however it ends: the sink refers
// to the frame's locals.
struct SinkGuard {
  std::shared_ptr<events::StreamQueue> q;
  ~SinkGuard() { q->set_direct_sink(nullptr); }
};

// The direct path (StreamQueue::set_direct_sink): while the stream's writer waits with nothing
// pending, the router's job on this worker writes the events straight to the socket.
template <typename Append>
bool send_now(std::deque<events::StreamItemPtr>& pending, std::int64_t last_seq, Outbox& out,
              Append& append) {
  if (!out.bytes().empty()) return false;  // the writer is finishing an earlier batch
  for (const auto& item : pending) {
    if (item->seq > last_seq) append(*item);
  }
  pending.clear();
  return out.try_send();
}

asio::awaitable<void> sse_reader(http::Stream& stream, std::shared_ptr<events::StreamQueue> q,
                                 std::shared_ptr<ReaderState> state) {
  std::array<char, 512> sink;
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kTuple);
    if (ec) break;
  }
  state->done = true;
  state->timer.cancel();
  q->close();
}

void append_sse(std::string& out, const events::StreamItem& item) {
  out.append("id: ").append(item.event_sid).append("\ndata: ").append(item.json).append("\n\n");
}

asio::awaitable<void> run_sse(StreamRequest sr, http::Stream& stream) {
  auto executor = co_await asio::this_coro::executor;
  auto q = sr.service->open_stream(*sr.channel, sr.subscriber.get(), executor);
  auto state = std::make_shared<ReaderState>(executor);
  asio::co_spawn(executor, sse_reader(stream, q, state), asio::detached);
  const std::string channel_sid = sr.channel->sid;
  Outbox out(stream, 2 * sr.heartbeat);
  out.bytes().append(
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "X-Accel-Buffering: no\r\nServer: switchboard/" SB_VERSION
      "\r\nConnection: keep-alive\r\n\r\n"
      "retry: 1000\n: connected\n\n");
  bool ok = co_await out.flush();
  std::int64_t last_seq = 0;
  if (ok) {
    auto send_gap = [&out](std::string j) -> asio::awaitable<bool> {
      out.bytes().append("event: gap\ndata: ").append(j).append("\n\n");
      co_return co_await out.flush();
    };
    auto send = [&out](const events::StreamItem& item) -> asio::awaitable<bool> {
      append_sse(out.bytes(), item);
      if (!out.full()) co_return true;
      const bool sent = co_await out.flush();
      co_return sent;
    };
    auto r = co_await replay_history(sr, send_gap, send);
    ok = r.ok();
    if (ok) {
      ok = co_await out.flush();
    }
    if (ok) last_seq = *r;
  }
  events::TokenBucket bucket(sr.service->stream_rate_limit(*sr.channel, sr.subscriber.get()),
                             sr.service->clock().now_ms());
  asio::steady_timer pacer(executor);
  std::deque<events::StreamItemPtr> items;
  auto append = [&out](const events::StreamItem& i) { append_sse(out.bytes(), i); };
  SinkGuard sink_guard{q};
  if (!bucket.limited()) {
    q->set_direct_sink([&](std::deque<events::StreamItemPtr>& pending) {
      return send_now(pending, last_seq, out, append);
    });
  }
  while (ok) {
    if (q->overflowed()) {
      out.bytes().append("event: overflow\ndata: ").append(overflow_json(q->dropped()));
      out.bytes().append("\n\n");
      co_await out.flush();
      break;
    }
    if (q->closed()) break;
    q->take(items, bucket.limited() ? 1 : SIZE_MAX);
    if (items.empty() && !out.bytes().empty()) {  // what a partial direct send left
      ok = co_await out.flush();
      continue;
    }
    if (items.empty()) {
      const auto deadline = std::chrono::steady_clock::now() + sr.heartbeat;
      co_await q->wait(deadline);
      if (std::chrono::steady_clock::now() >= deadline && !q->closed()) {
        out.bytes().append(": heartbeat\n\n");
        ok = co_await out.flush();
      }
      continue;
    }
    ok = co_await send_batch(items, last_seq, bucket, sr.service->clock(), pacer, out, append);
  }
  q->set_direct_sink(nullptr);
  sr.service->close_stream(channel_sid, q);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);  // a read issued later fails too
  stream.socket().cancel(ignored);
  while (!state->done) {
    boost::system::error_code ec;
    co_await state->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

// ---- WebSocket ----
// The handshake is Beast's; the frames after it are written here, so that all the events a
// connection has queued leave in one send (Beast writes one frame per call) and control frames
// (pongs, pings, close) share that one writer.

constexpr std::size_t kMaxClientFrame =
    std::size_t{64} * 1024;  // clients only answer pings and close
constexpr auto kCloseWait = std::chrono::seconds(5);

// What the reader tells the writer.
struct WsState : ReaderState {
  using ReaderState::ReaderState;
  // The payload of the latest ping not yet answered: one pong answers it (RFC 6455 5.5.3
  // allows answering only the most recent), so a ping flood cannot grow memory.
  std::string pong;
  bool pong_due = false;
  bool peer_closed = false;
  std::uint16_t peer_code = http::ws::close_code::kNormal;
  std::uint16_t error_code = 0;  // a protocol error: close with this code
  std::string_view error;
  std::chrono::steady_clock::time_point last_rx;
};

asio::awaitable<void> ws_reader(http::Stream& stream, std::string pending,
                                std::shared_ptr<events::StreamQueue> q,
                                std::shared_ptr<WsState> st) {
  namespace ws = http::ws;
  std::vector<char> buf(std::max<std::size_t>(4096, pending.size()));
  std::size_t have = pending.size();
  std::memcpy(buf.data(), pending.data(), have);
  ws::FrameParser parser(kMaxClientFrame);
  bool reading = true;
  while (reading) {
    std::size_t at = 0, used = 0;
    ws::Frame f;
    for (;;) {
      const auto s = parser.next(buf.data() + at, have - at, f, used);
      if (s == ws::FrameParser::Status::kNeedMore) break;
      if (s == ws::FrameParser::Status::kError) {
        st->error_code = parser.error_code();
        st->error = parser.error();
        reading = false;
        break;
      }
      at += used;
      if (f.opcode == ws::Opcode::kPing) {
        st->pong.assign(f.payload);  // reuses the buffer: no allocation per ping
        st->pong_due = true;
        q->notify();
      } else if (f.opcode == ws::Opcode::kClose) {
        const auto c = ws::parse_close(f.payload);
        st->peer_closed = true;
        if (!c.valid) {
          st->error_code = ws::close_code::kProtocolError;
          st->error = "invalid close frame";
        } else if (c.code != 1005) {
          st->peer_code = c.code;
        }
        reading = false;
        break;
      }
      // Data frames from a client are not part of the stream protocol: read and ignored.
    }
    if (!reading) break;
    std::memmove(buf.data(), buf.data() + at, have - at);
    have -= at;
    if (have == buf.size()) buf.resize(std::min(buf.size() * 2, kMaxClientFrame + 16));
    if (have == buf.size()) {  // cannot happen: a whole frame fits, and is consumed above
      st->error_code = ws::close_code::kTooBig;
      st->error = "frame too big";
      break;
    }
    auto [ec, n] =
        co_await stream.async_read_some(asio::buffer(buf.data() + have, buf.size() - have), kTuple);
    if (ec) break;
    have += n;
    st->last_rx = std::chrono::steady_clock::now();
  }
  st->done = true;
  st->timer.cancel();
  q->close();
}

asio::awaitable<void> run_ws(StreamRequest sr, http::Stream& stream, beast::flat_buffer& buffer,
                             http::Request req) {
  namespace ws = http::ws;
  auto executor = co_await asio::this_coro::executor;
  {
    auto res = ws::handshake_response(req);
    res.set(bhttp::field::server, "switchboard/" SB_VERSION);
    res.prepare_payload();
    stream.expires_after(std::chrono::seconds(10));
    auto [ec, n] = co_await bhttp::async_write(stream, res, kTuple);
    if (ec || res.result() != bhttp::status::switching_protocols) co_return;
  }
  stream.expires_never();
  auto q = sr.service->open_stream(*sr.channel, sr.subscriber.get(), executor);
  auto st = std::make_shared<WsState>(executor);
  st->last_rx = std::chrono::steady_clock::now();
  const auto leftover = buffer.cdata();
  std::string pending(static_cast<const char*>(leftover.data()), leftover.size());
  buffer.consume(buffer.size());
  asio::co_spawn(executor, ws_reader(stream, std::move(pending), q, st), asio::detached);
  const std::string channel_sid = sr.channel->sid;
  Outbox out(stream, 2 * sr.heartbeat);
  auto append_text = [&out](std::string_view text) {
    ws::append_frame(out.bytes(), ws::Opcode::kText, text);
  };
  auto send_gap = [&](std::string j) -> asio::awaitable<bool> {
    append_text(j);
    co_return co_await out.flush();
  };
  auto send = [&](const events::StreamItem& item) -> asio::awaitable<bool> {
    append_text(item.json);
    if (!out.full()) co_return true;
    const bool sent = co_await out.flush();
    co_return sent;
  };
  auto r = co_await replay_history(sr, send_gap, send);
  bool ok = r.ok();
  if (ok) {
    ok = co_await out.flush();
  }
  std::int64_t last_seq = ok ? *r : 0;
  events::TokenBucket bucket(sr.service->stream_rate_limit(*sr.channel, sr.subscriber.get()),
                             sr.service->clock().now_ms());
  asio::steady_timer pacer(executor);
  std::deque<events::StreamItemPtr> items;
  // A ping every heartbeat while the last one was answered; a client that leaves a ping
  // unanswered (hears nothing at all) for two heartbeats is gone. Time spent in replay or a
  // long write does not count against the client: it is only judged on a ping it was sent.
  auto next_ping = std::chrono::steady_clock::now() + sr.heartbeat;
  std::optional<std::chrono::steady_clock::time_point> ping_sent;
  std::uint16_t close_code = ws::close_code::kGoingAway;
  std::string_view close_reason;
  bool dead = false;
  auto append = [&](const events::StreamItem& i) { append_text(i.json); };
  SinkGuard sink_guard{q};
  if (!bucket.limited()) {
    q->set_direct_sink([&](std::deque<events::StreamItemPtr>& pending) {
      return !st->pong_due && send_now(pending, last_seq, out, append);
    });
  }
  while (ok) {
    if (st->pong_due) {
      ws::append_frame(out.bytes(), ws::Opcode::kPong, st->pong);
      st->pong_due = false;
    }
    if (st->done) break;  // the client closed, broke the protocol or went away
    if (q->overflowed()) {
      append_text(overflow_json(q->dropped()));
      close_code = ws::close_code::kPolicyViolation;
      close_reason = "slow consumer";
      break;
    }
    if (q->closed()) break;  // the service is stopping
    const auto now = std::chrono::steady_clock::now();
    if (ping_sent && st->last_rx >= *ping_sent) ping_sent.reset();  // answered (or data came)
    if (ping_sent && now - *ping_sent >= 2 * sr.heartbeat) {
      dead = true;
      break;
    }
    if (now >= next_ping) {
      if (!ping_sent) {
        ws::append_frame(out.bytes(), ws::Opcode::kPing, {});
        ping_sent = now;
      }
      next_ping = now + sr.heartbeat;
    }
    q->take(items, bucket.limited() ? 1 : SIZE_MAX);
    if (items.empty()) {
      if (!out.bytes().empty()) {
        ok = co_await out.flush();
      } else {
        co_await q->wait(next_ping);
      }
      continue;
    }
    ok = co_await send_batch(items, last_seq, bucket, sr.service->clock(), pacer, out, append);
  }
  items.clear();
  q->set_direct_sink(nullptr);
  sr.service->close_stream(channel_sid, q);
  const bool initiated = !st->done;
  if (ok && !dead) {
    if (st->error_code != 0) {
      ws::append_close(out.bytes(), st->error_code, st->error);
    } else if (st->peer_closed) {
      ws::append_close(out.bytes(), st->peer_code);  // echo the client's close
    } else if (initiated) {
      ws::append_close(out.bytes(), close_code, close_reason);
    }
    co_await out.flush();
  }
  if (initiated && ok && !dead && !st->done) {
    // Wait for the client's close frame (or its end of the connection), for a while.
    st->timer.expires_after(kCloseWait);
    boost::system::error_code ec;
    co_await st->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().cancel(ignored);
  while (!st->done) {
    st->timer.expires_at(asio::steady_timer::time_point::max());
    boost::system::error_code ec;
    co_await st->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

}  // namespace

http::Response open_stream(Context& ctx, const Call& call, events::ChannelPtr channel,
                           http::RequestInfo& info) {
  if (call.caller.token && !call.caller.token->subscribe) {
    return error({codes::kAuthenticationFailed, 403, "The token does not allow subscribe"});
  }
  if (!channel->attributes.permissions.may_subscribe(call.caller.kind)) {
    return error(
        {codes::kAuthenticationFailed, 403, "Subscribing to this channel is not permitted"});
  }
  StreamRequest sr{&ctx.service, channel, nullptr, std::nullopt, std::chrono::milliseconds(15000)};
  if (auto v = call.query.str("subscriber"); v && *v) {
    sr.subscriber = ctx.service.find_subscriber(call.caller.account_sid, **v);
    if (!sr.subscriber || sr.subscriber->channel_sid != channel->sid ||
        sr.subscriber->type != "stream") {
      return error(bad("subscriber must be a stream subscriber of this channel"));
    }
  }
  if (auto v = call.query.str("last_event_id"); v && *v) sr.last_event_id = **v;
  if (auto h = call.req["Last-Event-ID"]; !h.empty() && !sr.last_event_id) {
    sr.last_event_id = std::string(h);
  }
  if (auto v = call.query.str("heartbeat_ms"); v && *v) {
    const long ms = std::strtol((*v)->c_str(), nullptr, 10);
    if (ms < 100 || ms > 120000) return error(bad("heartbeat_ms: 100 to 120000"));
    sr.heartbeat = std::chrono::milliseconds(ms);
  }
  if (websocket::is_upgrade(call.req)) {
    info.takeover = [sr](http::Stream& stream, beast::flat_buffer& buffer, http::Request r) {
      return run_ws(sr, stream, buffer, std::move(r));
    };
    return http::Response(bhttp::status::switching_protocols, call.req.version());
  }
  const std::string_view accept = call.req[bhttp::field::accept];
  if (accept.find("text/event-stream") == std::string_view::npos) {
    return error({codes::kInvalidParameter, 406,
                  "Ask for Accept: text/event-stream (SSE) or upgrade to a WebSocket"});
  }
  info.takeover = [sr](http::Stream& stream, beast::flat_buffer&, http::Request) {
    return run_sse(sr, stream);
  };
  return http::Response(bhttp::status::ok, call.req.version());
}

}  // namespace sb::api::v1
