// Transactions (RFC 3261 §17 with RFC 6026's Accepted states): the four state machines, and
// the layer that matches messages to them and runs their timers. Pure: messages and ticks of
// an injected clock in, bytes to send and events for the transaction user out.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "sip/message.hpp"
#include "sip/transport.hpp"

namespace sb::sip {

struct TimerValues {
  Millis t1{500};
  Millis t2{4000};
  Millis t4{5000};
  Millis d{32000};  // Timer D over unreliable transports
};

enum class TxState {
  kCalling,
  kTrying,
  kProceeding,
  kCompleted,
  kConfirmed,
  kAccepted,
  kTerminated
};
std::string_view to_string(TxState s);

struct TxEvent {
  enum class Kind {
    kSend,        // bytes to the transaction's peer
    kResponse,    // client: a response for the TU
    kTimeout,     // client: Timer B/F; server INVITE: Timer H or no ACK for a 2xx (Timer L)
    kAck,         // server INVITE: the ACK for our 2xx arrived
    kTerminated,  // the transaction is finished and may be destroyed
  };
  Kind kind;
  std::string bytes;
  std::optional<Message> message;
};
using TxEvents = std::vector<TxEvent>;

// Common part: state, deadlines.
class Transaction {
 public:
  virtual ~Transaction() = default;
  TxState state() const { return state_; }
  bool reliable() const { return reliable_; }
  std::optional<Millis> next_deadline() const;
  // Runs every timer that is due at `now`.
  virtual void on_timer(Millis now, TxEvents& out) = 0;

 protected:
  Transaction(bool reliable, TimerValues t) : reliable_(reliable), t_(t) {}
  void terminate(TxEvents& out);
  struct Timer {
    std::optional<Millis> at;
    Millis interval{0};
    bool due(Millis now) const { return at && *at <= now; }
  };
  TxState state_ = TxState::kTrying;
  bool reliable_;
  TimerValues t_;
  Timer retransmit_;  // A, E, G (and the 2xx retransmission while Accepted)
  Timer timeout_;     // B, F, H, L
  Timer linger_;      // D, I, J, K, M
};

// Client transactions: INVITE (§17.1.1) and non-INVITE (§17.1.2).
class ClientTransaction final : public Transaction {
 public:
  // Sends `request` at once.
  ClientTransaction(Message request, bool reliable, TimerValues t, Millis now, TxEvents& out);
  void on_response(const Message& response, Millis now, TxEvents& out);
  void on_timer(Millis now, TxEvents& out) override;
  void on_transport_error(TxEvents& out);
  // The request, until a final response arrives (then released: nothing needs it).
  const Message* request() const { return request_ ? &*request_ : nullptr; }
  bool is_invite() const { return invite_; }
  int last_status() const { return last_status_; }

 private:
  void handle_response(const Message& response, Millis now, TxEvents& out);
  std::optional<Message> request_;
  bool invite_;
  int last_status_ = 0;
  std::string raw_;  // the request bytes, for retransmission
  std::string ack_;  // for non-2xx finals to INVITE, resent on retransmitted finals
};

// Server transactions: INVITE (§17.2.1 + RFC 6026) and non-INVITE (§17.2.2).
class ServerTransaction final : public Transaction {
 public:
  // INVITE: answers 100 Trying at once (the TU is not trusted to answer within 200 ms).
  ServerTransaction(Message request, bool reliable, TimerValues t, Millis now, TxEvents& out);
  // A retransmission of the request, or the ACK for a non-2xx final (INVITE).
  void on_request(const Message& request, Millis now, TxEvents& out);
  // The ACK for a 2xx (a different transaction at the UAC; matched by the layer).
  void on_2xx_ack(TxEvents& out);
  // The TU's response: bytes of a complete response with this status.
  void respond(int status, std::string bytes, Millis now, TxEvents& out);
  void on_timer(Millis now, TxEvents& out) override;
  // The request, until the final response is sent (then released: a transaction lingering
  // for Timer J/L/I only needs the last response, and memory must not scale with call rate).
  const Message* request() const { return request_ ? &*request_ : nullptr; }
  bool is_invite() const { return invite_; }
  int last_status() const { return last_status_; }

 private:
  std::optional<Message> request_;
  bool invite_;
  int last_status_ = 0;
  std::string last_response_;
  bool acked_ = false;
};

// The ACK a client INVITE transaction sends for a non-2xx final (§17.1.1.3).
std::string make_non2xx_ack(const Message& invite, const Message& response);

// Events from the layer to its user (the dialog / user-agent core).
class TransactionUser {
 public:
  virtual ~TransactionUser() = default;
  // A new request (server transaction `tx` created), or an ACK for a 2xx (tx == 0), or a
  // stray ACK. CANCEL arrives here too, with its own server transaction.
  virtual void on_request(std::uint64_t tx, const Message& request, const Endpoint& source) = 0;
  virtual void on_response(std::uint64_t tx, const Message& response) = 0;
  // Client: no final response (Timer B/F, transport error). Server: no ACK (Timer H/L).
  virtual void on_timeout(std::uint64_t tx) = 0;
  // Server INVITE: the ACK for the 2xx arrived (2xx retransmissions stopped).
  virtual void on_ack(std::uint64_t /*tx*/) {}
  // A response no transaction matches (e.g. a retransmitted 2xx after Timer M): dialog-level.
  virtual void on_stray_response(const Message& /*response*/) {}
};

// Owns the transactions; matches by Via branch (§17.1.3, §17.2.3) and runs timers on a heap.
class TransactionLayer {
 public:
  TransactionLayer(Sender& sender, TransactionUser& user, TimerValues t = {})
      : sender_(sender), user_(user), t_(t) {}

  // Inbound, already parsed. Requests from `source`; responses from anywhere.
  void on_message(const Message& message, const Endpoint& source, Millis now);
  void on_tick(Millis now);
  std::optional<Millis> next_deadline();

  // Starts a client transaction sending `request` to `to`; returns its id.
  std::uint64_t send_request(Message request, const Endpoint& to, Millis now);
  // Answers server transaction `tx` (any status); false if it no longer exists.
  bool respond(std::uint64_t tx, int status, std::string bytes, Millis now);
  // Sends bytes outside any transaction (ACK for 2xx, stateless replies).
  void send_stateless(const Endpoint& to, std::string_view bytes) { sender_.send(to, bytes); }
  // The INVITE server transaction a CANCEL refers to (same branch and sent-by), or 0.
  std::uint64_t find_invite_for_cancel(const Message& cancel) const;
  const ServerTransaction* server(std::uint64_t tx) const;
  const ClientTransaction* client(std::uint64_t tx) const;
  // The Endpoint a client transaction sends to (for CANCEL, which must follow the INVITE).
  std::optional<Endpoint> client_peer(std::uint64_t tx) const;
  void on_transport_error(std::uint64_t tx, Millis now);
  // A connection to `peer` could not be opened (refused, TLS handshake or certificate): its
  // client transactions fail now rather than at Timer B.
  void on_connection_failed(const Endpoint& peer, Millis now);
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::unique_ptr<ClientTransaction> client;
    std::unique_ptr<ServerTransaction> server;
    Endpoint peer;
    std::string key;
    std::string ack_key;  // server INVITE: Call-ID + CSeq number, for 2xx ACK matching
    Transaction* tx() const {
      return client ? static_cast<Transaction*>(client.get()) : server.get();
    }
  };
  static std::string server_key(const Message& m, std::string_view method);
  static std::string client_key(std::string_view branch, std::string_view method);
  void dispatch(std::uint64_t id, TxEvents& events);
  void schedule(std::uint64_t id);

  Sender& sender_;
  TransactionUser& user_;
  TimerValues t_;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::unordered_map<std::string, std::uint64_t> by_key_;
  std::unordered_map<std::string, std::uint64_t> by_ack_key_;
  using Due = std::pair<Millis, std::uint64_t>;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> timers_;
};

}  // namespace sb::sip
