#include "speech/vosk_engine.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <deque>
#include <utility>

#include "speech/transcript.hpp"

namespace sb::speech {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace json = boost::json;
using tcp = asio::ip::tcp;

// A server's answer is small JSON; anything bigger is not one.
constexpr std::size_t kMaxAnswerBytes = 1 << 20;

struct Outgoing {
  bool text = false;
  std::string data;
};

class VoskRecognition final : public Recognition,
                              public std::enable_shared_from_this<VoskRecognition> {
 public:
  VoskRecognition(VoskOptions options, WsEndpoint endpoint, RecognitionOptions recognition,
                  asio::any_io_executor executor, RecognitionCallbacks callbacks)
      : options_(std::move(options)),
        endpoint_(std::move(endpoint)),
        recognition_(std::move(recognition)),
        executor_(executor),
        callbacks_(std::move(callbacks)),
        ws_(executor),
        wake_(executor, asio::steady_timer::time_point::max()),
        final_timer_(executor) {}

  static asio::awaitable<void> run(std::shared_ptr<VoskRecognition> self);
  static asio::awaitable<void> read(std::shared_ptr<VoskRecognition> self);

  void begin() {
    json::object config{{"sample_rate", kSampleRate}};
    if (!recognition_.hints.empty()) {
      json::array phrases;
      for (const auto& h : recognition_.hints) phrases.emplace_back(h);
      config["phrase_list"] = std::move(phrases);
    }
    queue_.push_back({true, json::serialize(json::object{{"config", std::move(config)}})});
    asio::co_spawn(executor_, run(shared_from_this()), asio::detached);
  }

  void feed(std::span<const std::int16_t> pcm) override {
    if (done_ || finished_) return;
    const std::size_t bytes = pcm.size() * 2;
    if (fed_ + pcm.size() > kMaxUtteranceSamples ||
        queued_bytes_ + bytes > options_.max_queued_bytes) {
      dropped_ += pcm.size();
      return;
    }
    fed_ += pcm.size();
    Outgoing frame;
    frame.data.resize(bytes);
    for (std::size_t i = 0; i < pcm.size(); ++i) {  // little-endian whatever the host
      const auto v = static_cast<std::uint16_t>(pcm[i]);
      frame.data[2 * i] = static_cast<char>(v & 0xff);
      frame.data[2 * i + 1] = static_cast<char>(v >> 8);
    }
    queued_bytes_ += bytes;
    queue_.push_back(std::move(frame));
    wake_.cancel();
  }

  void finish() override {
    if (done_ || finished_) return;
    finished_ = true;
    queue_.push_back({true, R"({"eof":1})"});
    wake_.cancel();
  }

  void cancel() override {
    if (done_) return;
    done_ = true;
    callbacks_ = {};
    close();
  }

  std::size_t dropped_samples() const override { return dropped_; }

 private:
  void close() {
    wake_.cancel();
    final_timer_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  void conclude(Result<Transcript> result) {
    if (done_) return;
    done_ = true;
    auto on_final = std::move(callbacks_.on_final);
    callbacks_ = {};
    close();
    if (on_final) on_final(std::move(result));
  }

  void fail(const std::string& what) {
    conclude(engine_error("speech server " + options_.url + ": " + what));
  }

  Transcript transcript() const {
    Transcript t;
    t.text = recognition_.profanity_filter ? mask_profanities(text_) : text_;
    t.confidence = words_ > 0 ? confidence_sum_ / static_cast<double>(words_) : 0;
    if (words_ == 0 && !t.text.empty()) t.confidence = 1;  // a server that gives no scores
    return t;
  }

  // One answer from the server; false when it is not one.
  bool answer(std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return false;
    const auto& o = v.as_object();
    if (const auto* p = o.if_contains("partial"); p != nullptr && p->is_string()) {
      std::string partial(p->as_string());
      if (!partial.empty() && callbacks_.on_partial && recognition_.partial_results) {
        if (recognition_.profanity_filter) partial = mask_profanities(partial);
        callbacks_.on_partial(Partial{std::move(partial), transcript().text});
      }
      return true;
    }
    if (const auto* t = o.if_contains("text"); t != nullptr && t->is_string()) {
      // One result per stretch of speech the server heard: the utterance is all of them.
      const std::string_view text = t->as_string();
      if (!text.empty()) text_ += (text_.empty() ? "" : " ") + std::string(text);
      if (const auto* r = o.if_contains("result"); r != nullptr && r->is_array()) {
        for (const auto& word : r->as_array()) {
          const auto* conf = word.is_object() ? word.as_object().if_contains("conf") : nullptr;
          if (conf != nullptr && conf->is_number()) {
            confidence_sum_ += conf->to_number<double>();
            ++words_;
          }
        }
      }
      return true;
    }
    return false;
  }

  const VoskOptions options_;
  WsEndpoint endpoint_;
  RecognitionOptions recognition_;
  asio::any_io_executor executor_;
  RecognitionCallbacks callbacks_;
  websocket::stream<beast::tcp_stream> ws_;
  asio::steady_timer wake_;         // the writer waits on it for more to send
  asio::steady_timer final_timer_;  // from eof to the last answer
  std::deque<Outgoing> queue_;
  std::size_t queued_bytes_ = 0;
  std::size_t fed_ = 0;
  std::size_t dropped_ = 0;
  std::size_t frames_sent_ = 0;  // audio frames and eof: each gets one answer
  std::size_t answers_ = 0;
  bool finished_ = false;
  bool eof_sent_ = false;
  bool done_ = false;  // final delivered or cancelled: nothing more is called
  std::string text_;
  double confidence_sum_ = 0;
  std::size_t words_ = 0;
};

asio::awaitable<void> VoskRecognition::run(std::shared_ptr<VoskRecognition> self) {
  boost::system::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  auto& stream = beast::get_lowest_layer(self->ws_);
  tcp::resolver resolver(self->executor_);
  stream.expires_after(self->options_.connect_timeout);
  auto resolved =
      co_await resolver.async_resolve(self->endpoint_.host, self->endpoint_.port, token);
  if (self->done_) co_return;
  if (ec) {
    self->fail("cannot resolve " + self->endpoint_.host + ": " + ec.message());
    co_return;
  }
  co_await stream.async_connect(resolved, token);
  if (self->done_) co_return;
  if (ec) {
    self->fail("cannot connect: " + ec.message());
    co_return;
  }
  const std::string host = self->endpoint_.host + ":" + self->endpoint_.port;
  co_await self->ws_.async_handshake(host, self->endpoint_.target, token);
  if (self->done_) co_return;
  if (ec) {
    self->fail("WebSocket handshake failed: " + ec.message());
    co_return;
  }
  stream.expires_never();
  self->ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  self->ws_.read_message_max(kMaxAnswerBytes);
  asio::co_spawn(self->executor_, read(self), asio::detached);

  while (!self->done_) {
    if (self->queue_.empty()) {
      if (self->eof_sent_) co_return;
      co_await self->wake_.async_wait(token);  // cancelled by feed(), finish() and cancel()
      continue;
    }
    Outgoing next = std::move(self->queue_.front());
    self->queue_.pop_front();
    if (!next.text) self->queued_bytes_ -= next.data.size();
    const bool eof = next.text && next.data == R"({"eof":1})";
    self->ws_.text(next.text);
    co_await self->ws_.async_write(asio::buffer(next.data), token);
    if (self->done_) co_return;
    if (ec) {
      self->fail("sending failed: " + ec.message());
      co_return;
    }
    if (!next.text || eof) ++self->frames_sent_;
    if (eof) {
      self->eof_sent_ = true;
      self->final_timer_.expires_after(self->options_.final_timeout);
      self->final_timer_.async_wait([weak = self->weak_from_this()](boost::system::error_code e) {
        auto s = weak.lock();
        if (!s || e || s->done_) return;
        s->fail("no final result in time");
      });
    }
  }
}

asio::awaitable<void> VoskRecognition::read(std::shared_ptr<VoskRecognition> self) {
  boost::system::error_code ec;
  auto token = asio::redirect_error(asio::use_awaitable, ec);
  beast::flat_buffer buffer;
  while (!self->done_) {
    buffer.clear();
    co_await self->ws_.async_read(buffer, token);
    if (self->done_) co_return;
    if (ec) {
      // The server closes after its answer to eof; before that, closing is a failure.
      if (self->eof_sent_ && (ec == websocket::error::closed || ec == asio::error::eof)) {
        {
          self->conclude(self->transcript());
          co_return;
        }
      }
      {
        self->fail("connection lost: " + ec.message());
        co_return;
      }
    }
    if (!self->ws_.got_text() || !self->answer(beast::buffers_to_string(buffer.data()))) {
      {
        self->fail("not a Vosk answer");
        co_return;
      }
    }
    ++self->answers_;
    if (self->eof_sent_ && self->answers_ >= self->frames_sent_) {
      {
        self->conclude(self->transcript());
        co_return;
      }
    }
  }
}

}  // namespace

Result<WsEndpoint> parse_ws_url(std::string_view url) {
  constexpr std::string_view kScheme = "ws://";
  if (url.rfind("wss://", 0) == 0) {
    return engine_error(
        "wss:// speech servers are not supported yet; use ws:// on a trusted "
        "network or a TLS-terminating proxy");
  }
  if (url.rfind(kScheme, 0) != 0) return engine_error("not a ws:// URL: " + std::string(url));
  url.remove_prefix(kScheme.size());
  WsEndpoint e;
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  e.target = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (authority.empty() || authority.find('@') != std::string_view::npos) {
    return engine_error("no host in " + std::string(url));
  }
  if (authority.front() == '[') {  // [v6 address]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return engine_error("bad host in " + std::string(url));
    e.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
  } else {
    const auto colon = authority.find(':');
    e.host = std::string(authority.substr(0, colon));
    authority.remove_prefix(colon == std::string_view::npos ? authority.size() : colon);
  }
  if (authority.empty()) {
    e.port = "80";
  } else if (authority.front() == ':' && authority.size() > 1 && authority.size() <= 6 &&
             authority.substr(1).find_first_not_of("0123456789") == std::string_view::npos) {
    e.port = std::string(authority.substr(1));
  } else {
    return engine_error("bad port in " + std::string(url));
  }
  if (e.host.empty()) return engine_error("no host in " + std::string(url));
  return e;
}

Result<std::unique_ptr<VoskEngine>> VoskEngine::create(VoskOptions options) {
  auto endpoint = parse_ws_url(options.url);
  if (!endpoint) return endpoint.error();
  return std::unique_ptr<VoskEngine>(new VoskEngine(std::move(options), std::move(*endpoint)));
}

std::shared_ptr<Recognition> VoskEngine::start(RecognitionOptions options,
                                               asio::any_io_executor executor,
                                               RecognitionCallbacks callbacks) {
  auto r = std::make_shared<VoskRecognition>(options_, endpoint_, std::move(options),
                                             std::move(executor), std::move(callbacks));
  r->begin();
  return r;
}

}  // namespace sb::speech
