// A raw HTTP/1.1 client on loopback for server tests: writes bytes exactly as given (malformed,
// partial, pipelined) and reads what comes back with Beast; every wait has an upper bound.
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sb::testing {

// "METHOD target HTTP/1.1" with a Host, `headers` (each ending in CRLF) and a Content-Length
// when there is a body.
inline std::string http_request(std::string_view method, std::string_view target,
                                std::string_view body = {}, std::string_view headers = {}) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: test\r\n");
  out.append(headers);
  if (!body.empty()) out.append("Content-Length: ").append(std::to_string(body.size()) + "\r\n");
  out.append("\r\n").append(body);
  return out;
}

class HttpPeer {
 public:
  using Response = boost::beast::http::response<boost::beast::http::string_body>;
  using ErrorCode = boost::system::error_code;
  // How long an awaited event may take before the test calls it missing.
  static constexpr std::chrono::milliseconds kPatience{10000};

  explicit HttpPeer(const boost::asio::ip::tcp::endpoint& server) : socket_(io_) {
    socket_.connect(server, connect_error_);
  }

  // Whether the kernel accepted the connection (a closed listener refuses it).
  bool connected() const { return !connect_error_; }
  const ErrorCode& connect_error() const { return connect_error_; }
  boost::asio::ip::tcp::endpoint local_endpoint() const { return socket_.local_endpoint(); }

  // Writes all of `bytes`; false once the server has gone.
  bool send(std::string_view bytes) {
    ErrorCode ec;
    boost::asio::write(socket_, boost::asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }

  // The next response (an interim 1xx counts), or nullopt when the connection ends or no whole
  // response comes within `patience`. The response to a HEAD request has no body: say `head`.
  std::optional<Response> read_response(bool head = false,
                                        std::chrono::milliseconds patience = kPatience) {
    boost::beast::http::response_parser<boost::beast::http::string_body> parser;
    parser.skip(head);
    std::optional<ErrorCode> done;
    boost::beast::http::async_read(socket_, buffer_, parser,
                                   [&done](ErrorCode ec, std::size_t) { done = ec; });
    if (!wait(done, patience) || *done) return std::nullopt;
    return parser.release();
  }

  // Reads until `n` bytes came (nullopt if the connection ended or the time ran out first).
  std::optional<std::string> read_bytes(std::size_t n,
                                        std::chrono::milliseconds patience = kPatience) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (buffer_.size() < n) {
      const auto read = read_some(deadline);
      if (!read || read->failed()) return std::nullopt;
    }
    return take(n);
  }

  // True when the server ends the connection (FIN or reset) within `patience`; what it sent
  // before the end, unread so far, goes to `received`.
  bool closed_within(std::chrono::milliseconds patience = kPatience,
                     std::string* received = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    std::optional<ErrorCode> last;
    do {
      last = read_some(deadline);
    } while (last && !last->failed());
    const bool ended = last && last->failed();  // eof, or a reset after unread bytes
    std::string got = take(buffer_.size());
    if (received) *received = std::move(got);
    return ended;
  }

  void shutdown_send() {
    ErrorCode ignored;
    socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  }
  void close() {
    ErrorCode ignored;
    socket_.close(ignored);
  }

 private:
  // One read into the buffer: its result, or nullopt when `deadline` passed first.
  std::optional<ErrorCode> read_some(std::chrono::steady_clock::time_point deadline) {
    std::optional<ErrorCode> done;
    socket_.async_read_some(buffer_.prepare(4096), [&](ErrorCode ec, std::size_t n) {
      buffer_.commit(n);
      done = ec;
    });
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!wait(done, left)) return std::nullopt;
    return done;
  }

  std::string take(std::size_t n) {
    std::string out =
        boost::beast::buffers_to_string(boost::beast::buffers_prefix(n, buffer_.data()));
    buffer_.consume(n);
    return out;
  }

  // Runs the peer's own io_context until `done` is set or `patience` passed; on a time-out the
  // pending operation is cancelled and run to its end, so the peer stays usable.
  bool wait(std::optional<ErrorCode>& done, std::chrono::milliseconds patience) {
    io_.restart();
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (!done && std::chrono::steady_clock::now() < deadline) io_.run_one_until(deadline);
    if (done) return true;
    ErrorCode ignored;
    socket_.cancel(ignored);
    io_.restart();
    io_.run();
    return false;
  }

  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  ErrorCode connect_error_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace sb::testing
