#include "events/stream_fanout.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <deque>

namespace sb::events {
namespace {

StreamItemPtr item(std::int64_t seq) {
  auto i = std::make_shared<StreamItem>();
  i->seq = seq;
  i->event_sid = "EV" + std::to_string(seq);
  i->body = std::make_shared<const Body>(Body{{"type", "t"}});
  return i;
}

std::vector<std::int64_t> seqs(StreamQueue& q) {
  std::deque<StreamItemPtr> out;
  q.take(out);
  std::vector<std::int64_t> s;
  for (const auto& i : out) s.push_back(i->seq);
  return s;
}

TEST(StreamFanout, HandsCommittedEventsToTheChannelsStreamsInOrderOnTheirExecutors) {
  asio::io_context worker_a, worker_b;  // before the fan-out: its queues' timers go first
  StreamFanout fanout;
  auto a1 = fanout.open("CH1", {}, worker_a.get_executor());
  auto a2 = fanout.open("CH1", {}, worker_a.get_executor());
  auto b1 = fanout.open("CH1", {}, worker_b.get_executor());
  auto other = fanout.open("CH2", {}, worker_b.get_executor());
  EXPECT_EQ(fanout.workers(), 2u);
  EXPECT_TRUE(fanout.has_streams("CH1"));
  EXPECT_FALSE(fanout.has_streams("CH3"));

  fanout.fan_out({{"CH1", item(1)}, {"CH3", item(2)}});
  fanout.fan_out({{"CH1", item(3)}, {"CH2", item(4)}});
  // Nothing is pushed until each worker runs its jobs.
  EXPECT_TRUE(seqs(*a1).empty());
  worker_a.poll();
  EXPECT_EQ(seqs(*a1), (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(seqs(*a2), (std::vector<std::int64_t>{1, 3}));
  EXPECT_TRUE(seqs(*b1).empty());
  worker_b.poll();
  EXPECT_EQ(seqs(*b1), (std::vector<std::int64_t>{1, 3}));
  EXPECT_EQ(seqs(*other), (std::vector<std::int64_t>{4}));
}

TEST(StreamFanout, ASubscribersFilterAppliesToItsStream) {
  asio::io_context worker;  // before the fan-out: its queues' timers go first
  StreamFanout fanout;
  StreamSettings settings;
  settings.filter.types = {"wanted"};
  auto filtered = fanout.open("CH1", settings, worker.get_executor());
  auto all = fanout.open("CH1", {}, worker.get_executor());
  auto wanted = std::make_shared<StreamItem>();
  wanted->seq = 2;
  wanted->body = std::make_shared<const Body>(Body{{"type", "wanted"}});
  fanout.fan_out({{"CH1", item(1)}, {"CH1", wanted}});
  worker.poll();
  EXPECT_EQ(seqs(*filtered), (std::vector<std::int64_t>{2}));
  EXPECT_EQ(seqs(*all), (std::vector<std::int64_t>{1, 2}));
}

TEST(StreamFanout, ClosingAChannelEndsOnlyItsStreams) {
  asio::io_context worker;  // before the fan-out: its queues' timers go first
  StreamFanout fanout;
  auto gone = fanout.open("CH1", {}, worker.get_executor());
  auto kept = fanout.open("CH2", {}, worker.get_executor());
  fanout.close_channel("CH1");
  EXPECT_TRUE(gone->closed());
  EXPECT_FALSE(kept->closed());
  EXPECT_FALSE(fanout.has_streams("CH1"));
  // The stream's own close still counts it off its worker.
  fanout.close("CH1", gone);
  EXPECT_EQ(fanout.workers(), 1u);
  fanout.close("CH2", kept);
  EXPECT_EQ(fanout.workers(), 0u);
  EXPECT_FALSE(fanout.has_streams("CH2"));
}

TEST(StreamFanout, CloseAllEndsOpenStreamsAndThoseThatOpenLater) {
  asio::io_context worker;  // before the fan-out: its queues' timers go first
  StreamFanout fanout;
  auto open = fanout.open("CH1", {}, worker.get_executor());
  fanout.close_all();
  EXPECT_TRUE(open->closed());
  auto late = fanout.open("CH1", {}, worker.get_executor());
  EXPECT_TRUE(late->closed());
}

}  // namespace
}  // namespace sb::events
