#include "voice/call_streams.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include "core/log.hpp"
#include "core/sid.hpp"
#include "core/time.hpp"
#include "voice/call_session.hpp"
#include "voice/webhook.hpp"

namespace sb::voice {

namespace {

// Runs a fork's connection in the background: the document has gone on already.
asio::awaitable<void> connect_fork(std::shared_ptr<MediaStream> stream,
                                   std::shared_ptr<media::RtpSession> rtp) {
  co_await stream->start(std::move(rtp));
}

}  // namespace

CallStreams::~CallStreams() { stop_all(); }

std::shared_ptr<MediaStream> CallStreams::make(const twiml::StreamNoun& noun,
                                               const std::string& document_url, std::string sid,
                                               bool bidirectional) {
  StreamRequest request;
  request.sid = sid.empty() ? make_sid(sid_prefix::kStream) : std::move(sid);
  request.name = noun.name.empty() ? request.sid : noun.name;
  request.url = noun.url;
  request.track = noun.track;
  request.status_callback = noun.status_callback.empty()
                                ? std::string()
                                : resolve_url(document_url, noun.status_callback);
  request.status_callback_method = noun.status_callback_method;
  request.parameters = noun.parameters;
  request.bidirectional = bidirectional;

  CallSession& session = session_;
  MediaStream::Hooks hooks;
  hooks.warn = [&session](int code, const std::string& message, bool error) {
    session.warn(code, message, error);
  };
  const std::string call_sid = session.info().call_sid;
  const std::string account_sid = session.info().account_sid;
  hooks.status = [&session, call_sid, account_sid, sid = request.sid, name = request.name,
                  callback = request.status_callback, method = request.status_callback_method,
                  bidirectional](const std::string& event, const std::string& error) {
    const std::int64_t now_ms = session.services().webhooks.clock.now_ms();
    if (session.services().registry && event != "stream-started") {
      CallRegistry::StreamEntry entry{sid, name, "stopped", bidirectional, now_ms / 1000};
      session.services().registry->put_stream(call_sid, std::move(entry));
    }
    if (callback.empty()) return;
    twiml::Params params = {{"AccountSid", account_sid},
                            {"CallSid", call_sid},
                            {"StreamSid", sid},
                            {"StreamName", name},
                            {"StreamEvent", event}};
    if (!error.empty()) params.emplace_back("StreamError", error);
    params.emplace_back("Timestamp", iso8601_ms(now_ms));
    session.send_callback("stream statusCallback", callback, method, std::move(params));
  };
  auto stream = MediaStream::create(session.executor(), std::move(request), account_sid, call_sid,
                                    std::move(hooks));
  if (session.services().registry) {
    CallRegistry::StreamEntry entry{stream->request().sid, stream->request().name, "in-progress",
                                    bidirectional, session.services().webhooks.clock.now_unix()};
    session.services().registry->put_stream(call_sid, std::move(entry));
  }
  return stream;
}

void CallStreams::forget_ended() {
  std::erase_if(streams_, [](const auto& s) { return s->over(); });
}

Result<std::string> CallStreams::start(const twiml::StreamNoun& noun,
                                       const std::string& document_url, std::string sid) {
  forget_ended();
  std::size_t forks = 0;
  for (const auto& s : streams_) {
    if (!s->request().bidirectional) ++forks;
    if (!noun.name.empty() && s->request().name == noun.name) {
      return Error::bad_request(codes::kInvalidParameter,
                                "a stream named " + noun.name + " is already running on this call");
    }
  }
  if (forks >= kMaxForks) {
    return Error::bad_request(codes::kInvalidParameter,
                              "a call has at most 4 streams running at once");
  }
  auto rtp = session_.leg().media_session();
  if (!rtp || session_.hung_up()) {
    return Error::bad_request(21220, "the call is not in progress: nothing to stream");
  }
  auto stream = make(noun, document_url, std::move(sid), false);
  streams_.push_back(stream);
  asio::co_spawn(session_.executor(), connect_fork(stream, std::move(rtp)), asio::detached);
  return stream->request().sid;
}

bool CallStreams::stop(const std::string& sid_or_name) {
  for (const auto& s : streams_) {
    if (s->over() || s->request().bidirectional) continue;
    if (s->request().sid == sid_or_name || s->request().name == sid_or_name) {
      s->stop();
      forget_ended();
      return true;
    }
  }
  return false;
}

void CallStreams::stop_all() {
  for (const auto& s : streams_) s->stop();
  streams_.clear();
}

asio::awaitable<twiml::ConnectOutcome> CallStreams::connect(const twiml::StreamNoun& noun,
                                                            std::string document_url) {
  twiml::ConnectOutcome out;
  auto rtp = session_.leg().media_session();
  if (!rtp || session_.hung_up()) co_return out;
  auto stream = make(noun, document_url, {}, true);
  streams_.push_back(stream);
  bool cancelled = false;
  try {
    out.connected = co_await stream->start(rtp);
    if (out.connected) {
      std::weak_ptr<MediaStream> weak = stream;
      session_.leg().watch_keys([weak](char key) {
        if (auto s = weak.lock()) s->key(key);
      });
      co_await stream->wait_closed();
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != boost::asio::error::operation_aborted) throw;
    cancelled = true;  // the caller hung up, or the call was given a new document
  }
  if (out.connected) session_.leg().watch_keys(nullptr);
  stream->stop();
  rtp->stop_playback();
  forget_ended();
  if (cancelled) throw boost::system::system_error(boost::asio::error::operation_aborted);
  co_return out;
}

}  // namespace sb::voice
