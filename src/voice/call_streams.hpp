// A call's Media Streams (voice/media_stream.hpp): the <Start><Stream> forks (at most four
// live at once, each name unique among them), <Stop><Stream>, the REST Streams resource, and the
// bidirectional <Connect><Stream> that the document waits on. Owned by the CallSession, used on
// its executor; the REST API reaches it through CallRegistry::post.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "twiml/call_control.hpp"
#include "voice/media_stream.hpp"

namespace sb::voice {

class CallSession;

class CallStreams {
 public:
  static constexpr std::size_t kMaxForks = 4;  // Twilio: four unidirectional streams per call

  explicit CallStreams(CallSession& session) : session_(session) {}
  ~CallStreams();
  CallStreams(const CallStreams&) = delete;
  CallStreams& operator=(const CallStreams&) = delete;

  // A unidirectional stream (<Start><Stream>, Streams.json): connects in the background, the
  // document goes on at once. `sid` is the REST API's (empty: a new one). Its statusCallback
  // resolves against `document_url`. Fails when the name is taken or four are live; the call
  // must be answered (its RTP session is what is streamed).
  Result<std::string> start(const twiml::StreamNoun& noun, const std::string& document_url,
                            std::string sid = {});
  // <Stop><Stream name>, Streams/{Sid|Name}.json Status=stopped. False when none is live.
  bool stop(const std::string& sid_or_name);
  // The call is over: every stream sends stop and closes.
  void stop_all();
  // <Connect><Stream>: until the server closes the socket; cancelling the coroutine (a hang-up,
  // a live modification) stops the stream.
  asio::awaitable<twiml::ConnectOutcome> connect(const twiml::StreamNoun& noun,
                                                 std::string document_url);

 private:
  std::shared_ptr<MediaStream> make(const twiml::StreamNoun& noun, const std::string& document_url,
                                    std::string sid, bool bidirectional);
  void forget_ended();

  CallSession& session_;
  std::vector<std::shared_ptr<MediaStream>> streams_;
};

}  // namespace sb::voice
