#include "sip/transaction.hpp"

#include <algorithm>

#include "core/text.hpp"

namespace sb::sip {

std::string_view to_string(Transport t) {
  switch (t) {
    case Transport::kTcp:
      return "TCP";
    case Transport::kTls:
      return "TLS";
    case Transport::kUdp:
      break;
  }
  return "UDP";
}

std::optional<Transport> transport_from_name(std::string_view name) {
  if (iequals(name, "udp")) return Transport::kUdp;
  if (iequals(name, "tcp")) return Transport::kTcp;
  if (iequals(name, "tls")) return Transport::kTls;
  return std::nullopt;
}

std::string_view to_string(TxState s) {
  switch (s) {
    case TxState::kCalling:
      return "Calling";
    case TxState::kTrying:
      return "Trying";
    case TxState::kProceeding:
      return "Proceeding";
    case TxState::kCompleted:
      return "Completed";
    case TxState::kConfirmed:
      return "Confirmed";
    case TxState::kAccepted:
      return "Accepted";
    case TxState::kTerminated:
      return "Terminated";
  }
  return "?";
}

std::optional<Millis> Transaction::next_deadline() const {
  std::optional<Millis> best;
  for (const Timer* t : {&retransmit_, &timeout_, &linger_}) {
    if (t->at && (!best || *t->at < *best)) best = t->at;
  }
  return best;
}

void Transaction::terminate(TxEvents& out) {
  if (state_ == TxState::kTerminated) return;
  state_ = TxState::kTerminated;
  retransmit_.at.reset();
  timeout_.at.reset();
  linger_.at.reset();
  out.push_back({TxEvent::Kind::kTerminated, {}, std::nullopt});
}

// --- client ----------------------------------------------------------------------------

ClientTransaction::ClientTransaction(Message request, bool reliable, TimerValues t, Millis now,
                                     TxEvents& out)
    : Transaction(reliable, t), request_(std::move(request)) {
  invite_ = request_->method() == "INVITE";
  state_ = invite_ ? TxState::kCalling : TxState::kTrying;
  raw_ = std::string(request_->raw());
  out.push_back({TxEvent::Kind::kSend, raw_, std::nullopt});
  if (!reliable_) retransmit_ = {now + t_.t1, t_.t1};  // Timer A / E
  timeout_ = {now + 64 * t_.t1, {}};                   // Timer B / F
}

void ClientTransaction::on_response(const Message& r, Millis now, TxEvents& out) {
  const int code = r.status();
  handle_response(r, now, out);
  if (code >= 200 && state_ != TxState::kCalling && state_ != TxState::kTrying &&
      state_ != TxState::kProceeding) {
    request_.reset();
    raw_.clear();
    raw_.shrink_to_fit();
  }
}

void ClientTransaction::handle_response(const Message& r, Millis now, TxEvents& out) {
  const int code = r.status();
  if (invite_) {
    switch (state_) {
      case TxState::kCalling:
      case TxState::kProceeding:
        last_status_ = code;
        if (code < 200) {
          state_ = TxState::kProceeding;
          retransmit_.at.reset();
          timeout_.at.reset();  // Timer B only runs while Calling
          out.push_back({TxEvent::Kind::kResponse, {}, r});
        } else if (code < 300) {
          state_ = TxState::kAccepted;  // RFC 6026: absorb nothing, pass 2xx retransmissions up
          retransmit_.at.reset();
          timeout_.at.reset();
          linger_ = {now + 64 * t_.t1, {}};  // Timer M
          out.push_back({TxEvent::Kind::kResponse, {}, r});
        } else {
          state_ = TxState::kCompleted;
          retransmit_.at.reset();
          timeout_.at.reset();
          ack_ = make_non2xx_ack(*request_, r);
          out.push_back({TxEvent::Kind::kSend, ack_, std::nullopt});
          out.push_back({TxEvent::Kind::kResponse, {}, r});
          linger_ = {now + (reliable_ ? Millis{0} : t_.d), {}};  // Timer D
          if (reliable_) terminate(out);
        }
        break;
      case TxState::kAccepted:
        if (code >= 200 && code < 300) out.push_back({TxEvent::Kind::kResponse, {}, r});
        break;
      case TxState::kCompleted:
        if (code >= 300) out.push_back({TxEvent::Kind::kSend, ack_, std::nullopt});
        break;
      default:
        break;
    }
    return;
  }
  switch (state_) {
    case TxState::kTrying:
    case TxState::kProceeding:
      last_status_ = code;
      out.push_back({TxEvent::Kind::kResponse, {}, r});
      if (code < 200) {
        state_ = TxState::kProceeding;
      } else {
        state_ = TxState::kCompleted;
        retransmit_.at.reset();
        timeout_.at.reset();
        if (reliable_) {
          terminate(out);
        } else {
          linger_ = {now + t_.t4, {}};  // Timer K
        }
      }
      break;
    default:
      break;  // Completed: retransmitted finals absorbed
  }
}

void ClientTransaction::on_timer(Millis now, TxEvents& out) {
  if (linger_.due(now)) {
    terminate(out);
    return;
  }
  if (timeout_.due(now)) {
    out.push_back({TxEvent::Kind::kTimeout, {}, std::nullopt});
    terminate(out);
    return;
  }
  if (retransmit_.due(now)) {
    out.push_back({TxEvent::Kind::kSend, raw_, std::nullopt});
    if (invite_) {
      retransmit_.interval *= 2;  // Timer A doubles without a cap
    } else {
      // Timer E: doubles up to T2; in Proceeding it fires every T2.
      retransmit_.interval =
          state_ == TxState::kProceeding ? t_.t2 : std::min(retransmit_.interval * 2, t_.t2);
    }
    retransmit_.at = now + retransmit_.interval;
  }
}

void ClientTransaction::on_transport_error(TxEvents& out) {
  if (state_ == TxState::kTerminated) return;
  if (state_ == TxState::kCalling || state_ == TxState::kTrying || state_ == TxState::kProceeding) {
    out.push_back({TxEvent::Kind::kTimeout, {}, std::nullopt});
  }
  terminate(out);
}

std::string make_non2xx_ack(const Message& invite, const Message& response) {
  MessageWriter w;
  w.request_line("ACK", invite.request_uri());
  // Only the top Via (same branch), and the request's Route set (§17.1.1.3).
  for (std::size_t i = 0; i < invite.header_count(); ++i) {
    if (invite.header_at(i).id == Hdr::kVia) {
      ValueList list(invite.header_at(i).value);
      if (auto top = list.next()) w.header("Via", *top);
      break;
    }
  }
  for (std::size_t i = 0; i < invite.header_count(); ++i) {
    if (invite.header_at(i).id == Hdr::kRoute) w.header("Route", invite.header_at(i).value);
  }
  w.header("Max-Forwards", "70");
  w.header("From", *invite.header(Hdr::kFrom));
  w.header("To", *response.header(Hdr::kTo));
  w.header("Call-ID", invite.call_id());
  w.header("CSeq", std::to_string(invite.cseq().number) + " ACK");
  return w.finish();
}

// --- server ----------------------------------------------------------------------------

ServerTransaction::ServerTransaction(Message request, bool reliable, TimerValues t, Millis now,
                                     TxEvents& out)
    : Transaction(reliable, t), request_(std::move(request)) {
  invite_ = request_->method() == "INVITE";
  state_ = invite_ ? TxState::kProceeding : TxState::kTrying;
  if (invite_) respond(100, make_response(*request_, 100), now, out);
}

void ServerTransaction::on_request(const Message& rq, Millis now, TxEvents& out) {
  (void)now;
  if (rq.method() == "ACK") {
    if (invite_ && state_ == TxState::kCompleted) {
      state_ = TxState::kConfirmed;
      retransmit_.at.reset();
      timeout_.at.reset();
      if (reliable_) {
        terminate(out);
      } else {
        linger_ = {now + t_.t4, {}};  // Timer I
      }
    }
    return;
  }
  // A retransmission: repeat the last response (RFC 6026: not while Accepted).
  if (state_ == TxState::kProceeding || state_ == TxState::kCompleted) {
    if (!last_response_.empty()) {
      out.push_back({TxEvent::Kind::kSend, last_response_, std::nullopt});
    }
  }
}

void ServerTransaction::on_2xx_ack(TxEvents& out) {
  if (state_ != TxState::kAccepted || acked_) return;
  acked_ = true;
  retransmit_.at.reset();
  out.push_back({TxEvent::Kind::kAck, {}, std::nullopt});
}

void ServerTransaction::respond(int status, std::string bytes, Millis now, TxEvents& out) {
  if (state_ == TxState::kTerminated || state_ == TxState::kConfirmed) return;
  if (state_ == TxState::kCompleted) return;  // a final response was already sent
  if (state_ == TxState::kAccepted) {
    if (status >= 200 && status < 300) out.push_back({TxEvent::Kind::kSend, bytes, std::nullopt});
    return;
  }
  last_status_ = status;
  last_response_ = std::move(bytes);
  out.push_back({TxEvent::Kind::kSend, last_response_, std::nullopt});
  if (status < 200) {
    if (!invite_) state_ = TxState::kProceeding;
    return;
  }
  request_.reset();
  if (invite_) {
    if (status < 300) {
      // RFC 6026 Accepted, with the UAS core's 2xx retransmission (§13.3.1.4) run here:
      // T1 doubling to T2 until the ACK, for 64*T1 (Timer L).
      state_ = TxState::kAccepted;
      retransmit_ = {now + t_.t1, t_.t1};
      timeout_ = {now + 64 * t_.t1, {}};
    } else {
      state_ = TxState::kCompleted;
      if (!reliable_) retransmit_ = {now + t_.t1, t_.t1};  // Timer G
      timeout_ = {now + 64 * t_.t1, {}};                   // Timer H
    }
    return;
  }
  state_ = TxState::kCompleted;
  if (reliable_) {
    terminate(out);
  } else {
    linger_ = {now + 64 * t_.t1, {}};  // Timer J
  }
}

void ServerTransaction::on_timer(Millis now, TxEvents& out) {
  if (linger_.due(now)) {
    terminate(out);
    return;
  }
  if (timeout_.due(now)) {
    // Timer H (no ACK for a non-2xx) or Timer L (end of Accepted).
    if (!(state_ == TxState::kAccepted && acked_)) {
      out.push_back({TxEvent::Kind::kTimeout, {}, std::nullopt});
    }
    terminate(out);
    return;
  }
  if (retransmit_.due(now)) {
    out.push_back({TxEvent::Kind::kSend, last_response_, std::nullopt});
    retransmit_.interval = std::min(retransmit_.interval * 2, t_.t2);
    retransmit_.at = now + retransmit_.interval;
  }
}

// --- layer -----------------------------------------------------------------------------

namespace {
constexpr std::string_view kMagic = "z9hG4bK";
}

std::string TransactionLayer::client_key(std::string_view branch, std::string_view method) {
  std::string k;
  k.reserve(branch.size() + method.size() + 1);
  k.append(branch).append("|").append(method);
  return k;
}

std::string TransactionLayer::server_key(const Message& m, std::string_view method) {
  const Via& via = m.top_via();
  std::string k;
  const std::string_view branch = via.branch();
  k.reserve(128);
  if (branch.substr(0, kMagic.size()) == kMagic && branch.size() > kMagic.size()) {
    k.append(branch);
  } else {
    // RFC 2543 peers: no usable branch; match on what identifies the request (§17.2.3).
    k.append("2543|").append(branch).append("|").append(m.call_id()).append("|");
    k.append(std::to_string(m.cseq().number)).append("|").append(m.from().tag());
  }
  k.append("|").append(via.host).append(":").append(std::to_string(via.port));
  k.append("|").append(method);
  return k;
}

void TransactionLayer::on_message(const Message& m, const Endpoint& source, Millis now) {
  if (!m.is_request()) {
    auto it = by_key_.find(client_key(m.top_via().branch(), m.cseq().method));
    if (it == by_key_.end()) {
      user_.on_stray_response(m);
      return;
    }
    const std::uint64_t id = it->second;
    TxEvents ev;
    entries_.at(id).client->on_response(m, now, ev);
    dispatch(id, ev);
    return;
  }
  const bool ack = m.method() == "ACK";
  const std::string key = server_key(m, ack ? std::string_view("INVITE") : m.method());
  if (auto it = by_key_.find(key); it != by_key_.end()) {
    const std::uint64_t id = it->second;
    Entry& e = entries_.at(id);
    TxEvents ev;
    if (ack && e.server->state() == TxState::kAccepted) {
      // Same branch as the INVITE: some UAs (wrongly) reuse it for the 2xx ACK.
      e.server->on_2xx_ack(ev);
      dispatch(id, ev);
      user_.on_request(0, m, source);
      return;
    }
    e.server->on_request(m, now, ev);
    dispatch(id, ev);
    return;
  }
  if (ack) {
    // The ACK for a 2xx is its own transaction; find the INVITE it acknowledges.
    const std::string ak = std::string(m.call_id()) + "|" + std::to_string(m.cseq().number);
    if (auto it = by_ack_key_.find(ak); it != by_ack_key_.end()) {
      TxEvents ev;
      entries_.at(it->second).server->on_2xx_ack(ev);
      dispatch(it->second, ev);
    }
    user_.on_request(0, m, source);
    return;
  }
  const std::uint64_t id = next_id_++;
  Entry& e = entries_[id];
  e.peer = source;
  e.key = key;
  TxEvents ev;
  e.server = std::make_unique<ServerTransaction>(m, is_reliable(source.transport), t_, now, ev);
  if (e.server->is_invite()) {
    e.ack_key = std::string(m.call_id()) + "|" + std::to_string(m.cseq().number);
    by_ack_key_[e.ack_key] = id;
  }
  by_key_[key] = id;
  dispatch(id, ev);
  user_.on_request(id, m, source);
}

std::uint64_t TransactionLayer::send_request(Message request, const Endpoint& to, Millis now) {
  const std::uint64_t id = next_id_++;
  Entry& e = entries_[id];
  e.peer = to;
  e.key = client_key(request.top_via().branch(), request.method());
  by_key_[e.key] = id;
  TxEvents ev;
  e.client = std::make_unique<ClientTransaction>(std::move(request), is_reliable(to.transport), t_,
                                                 now, ev);
  dispatch(id, ev);
  return id;
}

bool TransactionLayer::respond(std::uint64_t tx, int status, std::string bytes, Millis now) {
  auto it = entries_.find(tx);
  if (it == entries_.end() || !it->second.server) return false;
  TxEvents ev;
  it->second.server->respond(status, std::move(bytes), now, ev);
  dispatch(tx, ev);
  return true;
}

std::uint64_t TransactionLayer::find_invite_for_cancel(const Message& cancel) const {
  auto it = by_key_.find(server_key(cancel, "INVITE"));
  return it == by_key_.end() ? 0 : it->second;
}

const ServerTransaction* TransactionLayer::server(std::uint64_t tx) const {
  auto it = entries_.find(tx);
  return it == entries_.end() ? nullptr : it->second.server.get();
}

const ClientTransaction* TransactionLayer::client(std::uint64_t tx) const {
  auto it = entries_.find(tx);
  return it == entries_.end() ? nullptr : it->second.client.get();
}

std::optional<Endpoint> TransactionLayer::client_peer(std::uint64_t tx) const {
  auto it = entries_.find(tx);
  if (it == entries_.end()) return std::nullopt;
  return it->second.peer;
}

void TransactionLayer::on_transport_error(std::uint64_t tx, Millis now) {
  (void)now;
  auto it = entries_.find(tx);
  if (it == entries_.end() || !it->second.client) return;
  TxEvents ev;
  it->second.client->on_transport_error(ev);
  dispatch(tx, ev);
}

void TransactionLayer::on_connection_failed(const Endpoint& peer, Millis now) {
  std::vector<std::uint64_t> failed;
  for (const auto& [id, e] : entries_) {
    if (e.client && e.peer == peer) failed.push_back(id);
  }
  for (const auto id : failed) on_transport_error(id, now);
}

void TransactionLayer::dispatch(std::uint64_t id, TxEvents& events) {
  bool terminated = false;
  for (auto& e : events) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    switch (e.kind) {
      case TxEvent::Kind::kSend:
        sender_.send(it->second.peer, e.bytes);
        break;
      case TxEvent::Kind::kResponse:
        user_.on_response(id, *e.message);
        break;
      case TxEvent::Kind::kTimeout:
        user_.on_timeout(id);
        break;
      case TxEvent::Kind::kAck:
        user_.on_ack(id);
        break;
      case TxEvent::Kind::kTerminated:
        terminated = true;
        break;
    }
  }
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (terminated) {
    by_key_.erase(it->second.key);
    if (!it->second.ack_key.empty()) {
      auto a = by_ack_key_.find(it->second.ack_key);
      if (a != by_ack_key_.end() && a->second == id) by_ack_key_.erase(a);
    }
    entries_.erase(it);
    return;
  }
  schedule(id);
}

void TransactionLayer::schedule(std::uint64_t id) {
  if (auto d = entries_.at(id).tx()->next_deadline()) timers_.push({*d, id});
}

std::optional<Millis> TransactionLayer::next_deadline() {
  while (!timers_.empty()) {
    auto [at, id] = timers_.top();
    auto it = entries_.find(id);
    auto d = it == entries_.end() ? std::nullopt : it->second.tx()->next_deadline();
    if (d && *d == at) return at;
    timers_.pop();  // stale entry
    if (d) timers_.push({*d, id});
  }
  return std::nullopt;
}

void TransactionLayer::on_tick(Millis now) {
  while (!timers_.empty() && timers_.top().first <= now) {
    const std::uint64_t id = timers_.top().second;
    timers_.pop();
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;
    auto d = it->second.tx()->next_deadline();
    if (!d || *d > now) continue;  // stale; a fresher entry is queued
    TxEvents ev;
    it->second.tx()->on_timer(now, ev);
    dispatch(id, ev);
  }
}

}  // namespace sb::sip
