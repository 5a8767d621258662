// A recognizer on an external server speaking the Vosk server WebSocket protocol: a text
// {"config": …} message, the call's audio as binary 16-bit little-endian PCM frames, {"eof": 1},
// and one answer per frame ({"partial": …} or {"result": […], "text": …}). Asynchronous on the
// call's executor (Boost.Beast), with a bounded send queue.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "speech/recognizer.hpp"

namespace sb::speech {

struct VoskOptions {
  std::string url;                                  // ws://host[:port][/path]
  std::chrono::milliseconds connect_timeout{5000};  // resolve, connect and handshake
  // From {"eof":1} to the server's last answer; then the final is what has been recognized.
  std::chrono::milliseconds final_timeout{10000};
  // Audio waiting to be sent (the connection is still opening, or the server reads slowly);
  // beyond it frames are dropped and counted. 10 s of 8 kHz 16-bit audio.
  std::size_t max_queued_bytes = 160000;
};

// Where a ws:// URL points.
struct WsEndpoint {
  std::string host, port, target;
};
// ws://host[:port][/path] (port 80 by default, target "/" by default); wss:// and anything else
// are refused (20503 explains why).
Result<WsEndpoint> parse_ws_url(std::string_view url);

class VoskEngine final : public SpeechRecognizer {
 public:
  // Refuses a URL it cannot use.
  static Result<std::unique_ptr<VoskEngine>> create(VoskOptions options);

  std::string_view name() const override { return "vosk"; }
  std::shared_ptr<Recognition> start(RecognitionOptions options, asio::any_io_executor executor,
                                     RecognitionCallbacks callbacks) override;

 private:
  VoskEngine(VoskOptions options, WsEndpoint endpoint)
      : options_(std::move(options)), endpoint_(std::move(endpoint)) {}

  VoskOptions options_;
  WsEndpoint endpoint_;
};

}  // namespace sb::speech
