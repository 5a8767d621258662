// Media Streams: a call's audio to the application's WebSocket server in Twilio's protocol
// (connected, start, media, dtmf, mark, stop; sequenceNumber and chunk as strings from "1"),
// and, for a bidirectional stream (<Connect><Stream>), the server's audio back into the call
// (media queued and played in order at the call's pace, mark echoed once the audio before it
// has played, clear dropping what is queued). A stream is an AudioTap on the call's RTP
// session: each 20 ms tick its frames are encoded (μ-law, base64, JSON) into a reused buffer
// and queued on the socket, on the call's own worker; a server that stops reading loses the
// oldest messages (counted), never the worker's time or unbounded memory.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/wakeup.hpp"
#include "http/ws_client.hpp"
#include "media/rtp_session.hpp"

namespace sb::voice {

namespace asio = boost::asio;

// Twilio's error numbers for streams (twilio.com/docs/api/errors/319xx).
namespace stream_codes {
inline constexpr int kConnectionTimeout = 31901;
inline constexpr int kConnectionRefused = 31902;  // also: the host does not resolve
inline constexpr int kTls = 31910;
inline constexpr int kHandshake = 31920;  // not 101 Switching Protocols
inline constexpr int kClosed = 31921;     // the connection went away without a close frame
inline constexpr int kUnsupportedScheme = 31922;
inline constexpr int kMalformedUrl = 31923;
inline constexpr int kProtocol = 31924;          // the server broke RFC 6455
inline constexpr int kMalformedMessage = 31950;  // a message that cannot be decoded (binary)
inline constexpr int kInvalidMessage = 31951;    // not JSON, unknown event, bad fields
}  // namespace stream_codes

struct StreamRequest {
  std::string sid;                      // MZ…
  std::string name;                     // defaults to the SID
  std::string url;                      // ws:// or wss://
  std::string track = "inbound_track";  // inbound_track | outbound_track | both_tracks
  std::string status_callback;          // absolute; empty: none
  std::string status_callback_method = "POST";
  std::vector<std::pair<std::string, std::string>> parameters;  // customParameters
  bool bidirectional = false;                                   // <Connect><Stream>
};

struct StreamFigures {
  std::uint64_t media_sent = 0;       // media messages queued to the server
  std::uint64_t dropped = 0;          // messages dropped because the server was slow
  std::uint64_t media_received = 0;   // media messages from the server (bidirectional)
  std::uint64_t samples_dropped = 0;  // server audio beyond the playback bound
  std::uint64_t marks_echoed = 0;
};

class MediaStream final : public media::AudioTap, public std::enable_shared_from_this<MediaStream> {
 public:
  // What a stream needs of its call, all called on the call's executor.
  struct Hooks {
    // A Notification (debugger) for the call: `error` true for errors, else a warning.
    std::function<void(int code, const std::string& message, bool error)> warn;
    // The statusCallback with StreamEvent (stream-started, stream-stopped, stream-error) and
    // StreamError (for stream-error).
    std::function<void(const std::string& event, const std::string& error)> status;
  };

  // How long a server's audio may be queued for playback (beyond: dropped, counted).
  static constexpr std::size_t kMaxQueuedSamples = 8000 * 120;

  static std::shared_ptr<MediaStream> create(asio::any_io_executor executor, StreamRequest request,
                                             std::string account_sid, std::string call_sid,
                                             Hooks hooks);
  ~MediaStream() override;

  // Connects and sends connected and start; then taps `rtp` (and plays into it when
  // bidirectional) until stopped. False when the connection failed (reported: stream-error,
  // a Notification).
  asio::awaitable<bool> start(std::shared_ptr<media::RtpSession> rtp);
  // Ends the stream: the stop message, a close frame, stream-stopped. Idempotent.
  void stop();
  // A key the caller pressed (sent as a dtmf message on bidirectional streams).
  void key(char digit);
  // Until the stream is over (the server closed it, it failed, or stop()); cancellable.
  asio::awaitable<void> wait_closed();

  bool over() const { return over_; }
  const StreamRequest& request() const { return request_; }
  const StreamFigures& figures() const { return figures_; }

  // media::AudioTap: one tick of the call's audio.
  void on_audio(std::span<const std::int16_t> inbound,
                std::span<const std::int16_t> outbound) override;

  struct Playback;  // the server's audio waiting to be played (bidirectional)

 private:
  MediaStream(asio::any_io_executor executor, StreamRequest request, std::string account_sid,
              std::string call_sid, Hooks hooks);
  void send_start();
  void send_media(const char* track, std::uint64_t chunk, std::span<const std::int16_t> pcm);
  void send_mark(const std::string& name);
  void on_message(std::string_view message, bool binary);
  void on_closed(const http::WsClose& close);
  void invalid(int code, const std::string& why);
  void end();
  std::string next_sequence() { return std::to_string(++sequence_); }

  asio::any_io_executor executor_;
  StreamRequest request_;
  std::string account_sid_, call_sid_;
  Hooks hooks_;
  std::shared_ptr<http::WsClient> ws_;
  std::shared_ptr<media::RtpSession> rtp_;
  std::shared_ptr<Playback> playback_;
  Wakeup closed_;
  bool started_ = false;
  bool over_ = false;
  bool in_ = true, out_ = false;  // tracks sent
  std::uint64_t sequence_ = 0;
  std::uint64_t in_chunk_ = 0, out_chunk_ = 0;
  std::uint64_t elapsed_ms_ = 0;  // since start: the media timestamps
  bool warned_malformed_ = false, warned_invalid_ = false;
  std::string json_;                // the message being built (reused)
  std::vector<std::uint8_t> ulaw_;  // one frame, encoded (reused)
  std::string ulaw_text_;           // the same bytes as a string for base64 (reused)
  StreamFigures figures_;
};

}  // namespace sb::voice
