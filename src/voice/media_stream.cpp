#include "voice/media_stream.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "core/log.hpp"
#include "http/base64.hpp"
#include "media/g711.hpp"

namespace sb::voice {

// The server's audio (bidirectional streams), as positions in the stream of every sample it
// sent: `played` of them have been heard, marks wait for `played` to reach theirs.
struct MediaStream::Playback {
  std::deque<std::int16_t> samples;
  std::uint64_t appended = 0;
  std::uint64_t played = 0;
  std::deque<std::pair<std::uint64_t, std::string>> marks;
};

namespace {

// Plays the server's queued audio, silence while there is none; never ends (the stream's end
// stops it).
class PlaybackSource final : public media::AudioSource {
 public:
  explicit PlaybackSource(std::shared_ptr<MediaStream::Playback> playback)
      : playback_(std::move(playback)) {}
  std::size_t read(std::span<std::int16_t> out) override {
    auto& q = playback_->samples;
    const std::size_t n = std::min(out.size(), q.size());
    std::copy_n(q.begin(), n, out.begin());
    q.erase(q.begin(), q.begin() + static_cast<std::ptrdiff_t>(n));
    playback_->played += n;
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(n), out.end(), std::int16_t{0});
    return out.size();
  }
  void rewind() override {}

 private:
  std::shared_ptr<MediaStream::Playback> playback_;
};

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

int failure_code(http::WsFailure f) {
  using F = http::WsFailure;
  switch (f) {
    case F::kBadUrl:
      return stream_codes::kMalformedUrl;
    case F::kUnsupportedScheme:
      return stream_codes::kUnsupportedScheme;
    case F::kTimeout:
      return stream_codes::kConnectionTimeout;
    case F::kTls:
      return stream_codes::kTls;
    case F::kHandshake:
      return stream_codes::kHandshake;
    case F::kProtocol:
      return stream_codes::kProtocol;
    case F::kClosedAbnormally:
      return stream_codes::kClosed;
    case F::kDns:
    case F::kRefused:
    case F::kNone:
      return stream_codes::kConnectionRefused;
  }
  return stream_codes::kConnectionRefused;
}

}  // namespace

std::shared_ptr<MediaStream> MediaStream::create(asio::any_io_executor executor,
                                                 StreamRequest request, std::string account_sid,
                                                 std::string call_sid, Hooks hooks) {
  return std::shared_ptr<MediaStream>(new MediaStream(std::move(executor), std::move(request),
                                                      std::move(account_sid), std::move(call_sid),
                                                      std::move(hooks)));
}

MediaStream::MediaStream(asio::any_io_executor executor, StreamRequest request,
                         std::string account_sid, std::string call_sid, Hooks hooks)
    : executor_(std::move(executor)),
      request_(std::move(request)),
      account_sid_(std::move(account_sid)),
      call_sid_(std::move(call_sid)),
      hooks_(std::move(hooks)),
      closed_(executor_) {
  if (request_.name.empty()) request_.name = request_.sid;
  // A bidirectional stream only carries what the caller says (Twilio: inbound_track only).
  in_ = request_.bidirectional || request_.track != "outbound_track";
  out_ = !request_.bidirectional &&
         (request_.track == "outbound_track" || request_.track == "both_tracks");
  if (request_.bidirectional) playback_ = std::make_shared<Playback>();
  json_.reserve(512);
}

MediaStream::~MediaStream() {
  if (ws_ && !over_) ws_->abort();
}

asio::awaitable<bool> MediaStream::start(std::shared_ptr<media::RtpSession> rtp) {
  auto self = shared_from_this();
  http::WsOptions ws_options;
  ws_options.account_sid = account_sid_;
  ws_ = http::WsClient::create(executor_, std::move(ws_options));
  std::weak_ptr<MediaStream> weak = self;
  http::WsClient::Handlers handlers;
  handlers.on_message = [weak](std::string_view message, bool binary) {
    if (auto s = weak.lock()) s->on_message(message, binary);
  };
  handlers.on_close = [weak](const http::WsClose& close) {
    if (auto s = weak.lock()) s->on_closed(close);
  };
  auto connected = co_await ws_->connect(request_.url, std::move(handlers));
  if (!connected) {
    const http::WsError& err = ws_->connect_error();
    const std::string why = "Stream " + request_.name + ": " + err.detail;
    spdlog::warn("call {}: {}", call_sid_, why);
    if (!over_) {
      if (hooks_.warn) hooks_.warn(failure_code(err.failure), why, true);
      if (hooks_.status) hooks_.status("stream-error", why);
    }
    over_ = true;
    closed_.notify();
    co_return false;
  }
  if (over_ || !rtp) {  // stopped (or the call ended) while connecting
    over_ = true;
    ws_->close(1000);
    closed_.notify();
    co_return false;
  }
  ws_->send(R"({"event":"connected","protocol":"Call","version":"1.0.0"})");
  send_start();
  started_ = true;
  spdlog::info("call {}: stream {} ({}) connected to {}", call_sid_, request_.sid, request_.name,
               request_.url);
  if (hooks_.status) hooks_.status("stream-started", "");
  rtp_ = std::move(rtp);
  rtp_->add_tap(self);
  if (playback_) {
    rtp_->stop_playback();
    rtp_->play(std::make_unique<PlaybackSource>(playback_));
  }
  co_return true;
}

void MediaStream::send_start() {
  boost::json::object start;
  start["accountSid"] = account_sid_;
  start["streamSid"] = request_.sid;
  start["callSid"] = call_sid_;
  boost::json::array tracks;
  if (in_) tracks.emplace_back("inbound");
  if (out_) tracks.emplace_back("outbound");
  start["tracks"] = std::move(tracks);
  boost::json::object custom;
  for (const auto& [name, value] : request_.parameters) custom[name] = value;
  start["customParameters"] = std::move(custom);
  start["mediaFormat"] = {{"encoding", "audio/x-mulaw"}, {"sampleRate", 8000}, {"channels", 1}};
  boost::json::object msg;
  msg["event"] = "start";
  msg["sequenceNumber"] = next_sequence();
  msg["start"] = std::move(start);
  msg["streamSid"] = request_.sid;
  ws_->send(boost::json::serialize(msg));
}

void MediaStream::on_audio(std::span<const std::int16_t> inbound,
                           std::span<const std::int16_t> outbound) {
  if (over_ || !started_) return;
  if (playback_) {
    // Marks whose audio has now been played (this tick's frame went out before the tap runs).
    while (!playback_->marks.empty() && playback_->marks.front().first <= playback_->played) {
      std::string name = std::move(playback_->marks.front().second);
      playback_->marks.pop_front();
      send_mark(name);
    }
  }
  if (in_chunk_ % 25 == 0) {
    int mi = 0, mo = 0;
    for (auto v : inbound) mi = std::max(mi, std::abs(int(v)));
    for (auto v : outbound) mo = std::max(mo, std::abs(int(v)));
    spdlog::info("DEBUG tap {} in {} out {} rx {}", in_chunk_, mi, mo, rtp_->stats().received);
  }
  if (in_) send_media("inbound", ++in_chunk_, inbound);
  if (out_) send_media("outbound", ++out_chunk_, outbound);
  elapsed_ms_ += inbound.size() / 8;
}

void MediaStream::send_media(const char* track, std::uint64_t chunk,
                             std::span<const std::int16_t> pcm) {
  ulaw_.resize(pcm.size());
  media::encode(media::Codec::kPcmu, pcm, ulaw_);
  json_.clear();
  json_ += R"({"event":"media","sequenceNumber":")";
  append_number(json_, ++sequence_);
  json_ += R"(","media":{"track":")";
  json_ += track;
  json_ += R"(","chunk":")";
  append_number(json_, chunk);
  json_ += R"(","timestamp":")";
  append_number(json_, elapsed_ms_);
  json_ += R"(","payload":")";
  http::base64_append(json_,
                      std::string_view(reinterpret_cast<const char*>(ulaw_.data()), ulaw_.size()));
  json_ += R"("},"streamSid":")";
  json_ += request_.sid;
  json_ += R"("})";
  ws_->send(json_);
  ++figures_.media_sent;
}

void MediaStream::send_mark(const std::string& name) {
  boost::json::object msg;
  msg["event"] = "mark";
  msg["sequenceNumber"] = next_sequence();
  msg["streamSid"] = request_.sid;
  msg["mark"] = {{"name", name}};
  ws_->send(boost::json::serialize(msg));
  ++figures_.marks_echoed;
}

void MediaStream::key(char digit) {
  if (over_ || !started_ || !request_.bidirectional) return;
  boost::json::object msg;
  msg["event"] = "dtmf";
  msg["streamSid"] = request_.sid;
  msg["sequenceNumber"] = next_sequence();
  msg["dtmf"] = {{"track", "inbound_track"}, {"digit", std::string(1, digit)}};
  ws_->send(boost::json::serialize(msg));
}

void MediaStream::invalid(int code, const std::string& why) {
  bool& warned = code == stream_codes::kMalformedMessage ? warned_malformed_ : warned_invalid_;
  if (warned) return;  // Twilio: once per stream
  warned = true;
  const std::string message = "Stream " + request_.name + ": " + why;
  spdlog::warn("call {}: {}", call_sid_, message);
  if (hooks_.warn) hooks_.warn(code, message, false);
}

void MediaStream::on_message(std::string_view message, bool binary) {
  if (over_) return;
  if (binary) {
    invalid(stream_codes::kMalformedMessage, "a binary message (the protocol is JSON text)");
    return;
  }
  if (!request_.bidirectional) {
    invalid(stream_codes::kInvalidMessage,
            "a unidirectional stream (<Start><Stream>) takes no messages from the server");
    return;
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(message, ec);
  const boost::json::object* msg = v.if_object();
  if (ec || !msg) {
    invalid(stream_codes::kInvalidMessage, "a message that is not a JSON object");
    return;
  }
  const boost::json::string* event = nullptr;
  if (auto it = msg->find("event"); it != msg->end()) event = it->value().if_string();
  if (!event) {
    invalid(stream_codes::kInvalidMessage, "a message without an event");
    return;
  }
  if (auto it = msg->find("streamSid"); it != msg->end()) {
    const boost::json::string* sid = it->value().if_string();
    if (!sid || *sid != request_.sid) {
      invalid(stream_codes::kInvalidMessage, "a message for another streamSid");
      return;
    }
  }
  auto field = [&](const char* object, const char* name) -> const boost::json::string* {
    auto it = msg->find(object);
    if (it == msg->end() || !it->value().is_object()) return nullptr;
    auto f = it->value().get_object().find(name);
    return f == it->value().get_object().end() ? nullptr : f->value().if_string();
  };
  if (*event == "media") {
    const boost::json::string* payload = field("media", "payload");
    std::optional<std::string> bytes;
    if (payload) bytes = http::base64_decode(*payload);
    if (!bytes) {
      invalid(stream_codes::kInvalidMessage, "a media message without a base64 payload");
      return;
    }
    ++figures_.media_received;
    const std::size_t room =
        kMaxQueuedSamples - std::min(kMaxQueuedSamples, playback_->samples.size());
    const std::size_t n = std::min(room, bytes->size());
    for (std::size_t i = 0; i < n; ++i) {
      playback_->samples.push_back(media::ulaw_to_linear(static_cast<std::uint8_t>((*bytes)[i])));
    }
    playback_->appended += n;
    figures_.samples_dropped += bytes->size() - n;
  } else if (*event == "mark") {
    const boost::json::string* name = field("mark", "name");
    if (!name) {
      invalid(stream_codes::kInvalidMessage, "a mark message without a name");
      return;
    }
    if (playback_->samples.empty()) {
      send_mark(std::string(*name));  // nothing queued: played already
    } else {
      playback_->marks.emplace_back(playback_->appended, std::string(*name));
    }
  } else if (*event == "clear") {
    playback_->samples.clear();
    playback_->played = playback_->appended;
    while (!playback_->marks.empty()) {
      std::string name = std::move(playback_->marks.front().second);
      playback_->marks.pop_front();
      send_mark(name);
    }
  } else {
    invalid(stream_codes::kInvalidMessage, "an unknown event " +
                                               std::string(std::string_view(*event).substr(0, 40)) +
                                               " (media, mark or clear)");
  }
}

void MediaStream::on_closed(const http::WsClose& close) {
  if (over_) return;
  if (close.abnormal) {
    const int code = close.error.failure == http::WsFailure::kProtocol ? stream_codes::kProtocol
                                                                       : stream_codes::kClosed;
    const std::string why = "Stream " + request_.name + ": " + close.error.detail;
    spdlog::warn("call {}: {}", call_sid_, why);
    if (hooks_.warn) hooks_.warn(code, why, true);
    if (hooks_.status) hooks_.status("stream-error", why);
  } else {
    spdlog::info("call {}: stream {} closed by the server ({})", call_sid_, request_.sid,
                 close.code);
    if (hooks_.status) hooks_.status("stream-stopped", "");
  }
  end();
}

void MediaStream::stop() {
  if (over_) return;
  if (!started_) {  // still connecting: start() sees over_ and closes
    over_ = true;
    closed_.notify();
    return;
  }
  boost::json::object msg;
  msg["event"] = "stop";
  msg["sequenceNumber"] = next_sequence();
  msg["streamSid"] = request_.sid;
  msg["stop"] = {{"accountSid", account_sid_}, {"callSid", call_sid_}};
  ws_->send(boost::json::serialize(msg));
  ws_->close(1000);
  spdlog::info("call {}: stream {} stopped ({} media sent, {} dropped)", call_sid_, request_.sid,
               figures_.media_sent, ws_->dropped());
  if (hooks_.status) hooks_.status("stream-stopped", "");
  end();
}

void MediaStream::end() {
  over_ = true;
  figures_.dropped = ws_ ? ws_->dropped() : 0;
  if (rtp_) {
    auto rtp = std::move(rtp_);
    rtp->remove_tap(this);
  }
  closed_.notify();
}

asio::awaitable<void> MediaStream::wait_closed() {
  while (!over_) {
    co_await closed_.wait();
  }
}

}  // namespace sb::voice
