#include "speech/vosk_engine.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/run_until.hpp"

namespace sb::speech {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using sb::testing::run_until;

// A Vosk server for one connection: records what it is sent, answers every audio frame with a
// partial and eof with `final_answer`, then closes.
struct FakeServer {
  explicit FakeServer(asio::io_context& io)
      : acceptor(io, {asio::ip::make_address("127.0.0.1"), 0}) {}
  std::string url() const {
    return "ws://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  }

  tcp::acceptor acceptor;
  std::string final_answer =
      R"({"result":[{"conf":1.0,"word":"one"},{"conf":0.5,"word":"two"}],"text":"one two"})";
  bool answer_eof = true;
  std::vector<std::string> texts;  // text messages received
  std::size_t audio_bytes = 0;
  std::size_t audio_frames = 0;
  bool closed = false;
};

asio::awaitable<void> serve(FakeServer* server) {
  auto socket = co_await server->acceptor.async_accept(asio::use_awaitable);
  websocket::stream<beast::tcp_stream> ws(std::move(socket));
  co_await ws.async_accept(asio::use_awaitable);
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  for (;;) {
    buffer.clear();
    co_await ws.async_read(buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) break;
    if (ws.got_text()) {
      const std::string text = beast::buffers_to_string(buffer.data());
      server->texts.push_back(text);
      if (text.find("eof") != std::string::npos) {
        if (!server->answer_eof) continue;
        ws.text(true);
        co_await ws.async_write(asio::buffer(server->final_answer), asio::use_awaitable);
        co_await ws.async_close(websocket::close_code::normal,
                                asio::redirect_error(asio::use_awaitable, ec));
        break;
      }
      continue;  // config: no answer
    }
    server->audio_bytes += buffer.size();
    ++server->audio_frames;
    const std::string partial = R"({"partial":"one"})";
    ws.text(true);
    co_await ws.async_write(asio::buffer(partial), asio::use_awaitable);
  }
  server->closed = true;
}

struct Outcome {
  std::optional<Result<Transcript>> final;
  std::vector<Partial> partials;
};

RecognitionCallbacks callbacks_into(Outcome& out) {
  RecognitionCallbacks cb;
  cb.on_final = [&out](Result<Transcript> r) { out.final.emplace(std::move(r)); };
  cb.on_partial = [&out](const Partial& p) { out.partials.push_back(p); };
  return cb;
}

TEST(Vosk, SendsConfigAudioAndEofAndDeliversTheFinal) {
  asio::io_context io;
  FakeServer server(io);
  asio::co_spawn(io, serve(&server), asio::detached);
  auto engine = VoskEngine::create({.url = server.url()});
  ASSERT_TRUE(engine) << engine.error().message;
  Outcome out;
  RecognitionOptions options;
  options.hints = {"one", "two"};
  options.partial_results = true;
  auto r = (*engine)->start(options, io.get_executor(), callbacks_into(out));
  const std::vector<std::int16_t> frame(160, 0x0102);
  for (int i = 0; i < 10; ++i) r->feed(frame);
  r->finish();
  ASSERT_TRUE(run_until(io, [&] { return out.final.has_value(); }));
  ASSERT_TRUE(out.final->ok()) << out.final->error().message;
  EXPECT_EQ(out.final->value().text, "one two");
  EXPECT_DOUBLE_EQ(out.final->value().confidence, 0.75);
  ASSERT_EQ(server.texts.size(), 2u);
  const auto config = boost::json::parse(server.texts[0]);
  EXPECT_EQ(config.at("config").at("sample_rate").as_int64(), 8000);
  EXPECT_EQ(config.at("config").at("phrase_list").as_array().size(), 2u);
  EXPECT_EQ(server.texts[1], R"({"eof":1})");
  EXPECT_EQ(server.audio_frames, 10u);
  EXPECT_EQ(server.audio_bytes, 10u * 320);
  EXPECT_EQ(out.partials.size(), 10u);
  ASSERT_TRUE(run_until(io, [&] { return server.closed; }));
}

TEST(Vosk, ConfigWithoutHintsHasNoPhraseList) {
  asio::io_context io;
  FakeServer server(io);
  server.final_answer = R"({"text":""})";
  asio::co_spawn(io, serve(&server), asio::detached);
  auto engine = VoskEngine::create({.url = server.url()});
  ASSERT_TRUE(engine);
  Outcome out;
  auto r = (*engine)->start({}, io.get_executor(), callbacks_into(out));
  r->finish();
  ASSERT_TRUE(run_until(io, [&] { return out.final.has_value(); }));
  ASSERT_TRUE(out.final->ok());
  EXPECT_EQ(out.final->value().text, "");
  EXPECT_EQ(server.texts.front(), R"({"config":{"sample_rate":8000}})");
  EXPECT_TRUE(out.partials.empty());  // not asked for
}

TEST(Vosk, RefusedConnectionIsAnError) {
  asio::io_context io;
  std::string url;
  {
    FakeServer closed_port(io);  // bound, then closed: nothing listens there
    url = closed_port.url();
  }
  auto engine = VoskEngine::create({.url = url});
  ASSERT_TRUE(engine);
  Outcome out;
  auto r = (*engine)->start({}, io.get_executor(), callbacks_into(out));
  r->feed(std::vector<std::int16_t>(160, 0));
  r->finish();
  ASSERT_TRUE(run_until(io, [&] { return out.final.has_value(); }));
  ASSERT_FALSE(out.final->ok());
  EXPECT_EQ(out.final->error().code, codes::kServiceUnavailable);
}

TEST(Vosk, ServerThatNeverAnswersEofTimesOut) {
  asio::io_context io;
  FakeServer server(io);
  server.answer_eof = false;
  asio::co_spawn(io, serve(&server), asio::detached);
  auto engine =
      VoskEngine::create({.url = server.url(), .final_timeout = std::chrono::milliseconds(50)});
  ASSERT_TRUE(engine);
  Outcome out;
  auto r = (*engine)->start({}, io.get_executor(), callbacks_into(out));
  r->finish();
  ASSERT_TRUE(run_until(io, [&] { return out.final.has_value(); }));
  EXPECT_FALSE(out.final->ok());
}

TEST(Vosk, CancelStopsEveryCallback) {
  asio::io_context io;
  FakeServer server(io);
  asio::co_spawn(io, serve(&server), asio::detached);
  auto engine = VoskEngine::create({.url = server.url()});
  ASSERT_TRUE(engine);
  Outcome out;
  RecognitionOptions options;
  options.partial_results = true;
  auto r = (*engine)->start(options, io.get_executor(), callbacks_into(out));
  r->feed(std::vector<std::int16_t>(160, 0));
  ASSERT_TRUE(run_until(io, [&] { return !out.partials.empty(); }));  // connected, answering
  r->feed(std::vector<std::int16_t>(160, 0));
  r->finish();
  r->cancel();
  r->cancel();
  const std::size_t partials = out.partials.size();
  // The server sees the connection go; by then every answer it sent has reached the client.
  ASSERT_TRUE(run_until(io, [&] { return server.closed; }));
  io.restart();
  io.poll();
  EXPECT_FALSE(out.final.has_value());
  EXPECT_EQ(out.partials.size(), partials);
}

TEST(Vosk, CancelBeforeConnectingNeverConnects) {
  asio::io_context io;
  FakeServer server(io);
  auto engine = VoskEngine::create({.url = server.url()});
  ASSERT_TRUE(engine);
  Outcome out;
  auto r = (*engine)->start({}, io.get_executor(), callbacks_into(out));
  r->finish();
  r->cancel();
  io.run();  // returns: the recognition's work ends without a server
  EXPECT_FALSE(out.final.has_value());
}

TEST(Vosk, SendQueueIsBounded) {
  asio::io_context io;
  auto engine = VoskEngine::create({.url = "ws://127.0.0.1:9", .max_queued_bytes = 3200});
  ASSERT_TRUE(engine);
  auto r = (*engine)->start({}, io.get_executor(), {});
  for (int i = 0; i < 20; ++i) r->feed(std::vector<std::int16_t>(160, 0));  // before connecting
  EXPECT_EQ(r->dropped_samples(), 10u * 160);
  r->cancel();
  io.poll();
}

TEST(WsUrl, Parses) {
  auto e = parse_ws_url("ws://asr.example:2700/v1");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "asr.example");
  EXPECT_EQ(e->port, "2700");
  EXPECT_EQ(e->target, "/v1");
  e = parse_ws_url("ws://[::1]");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, "80");
  EXPECT_EQ(e->target, "/");
  EXPECT_FALSE(parse_ws_url("wss://asr.example"));
  EXPECT_FALSE(parse_ws_url("http://asr.example"));
  EXPECT_FALSE(parse_ws_url("ws://:80"));
  EXPECT_FALSE(parse_ws_url("ws://host:port"));
  EXPECT_FALSE(parse_ws_url("ws://user@host"));
}

}  // namespace
}  // namespace sb::speech
