#include "media/telephone_event.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sb::media {
namespace {

std::array<std::uint8_t, 4> ev(std::uint8_t code, std::uint16_t duration, bool end = false) {
  std::array<std::uint8_t, 4> out{};
  serialize_telephone_event({code, end, 10, duration}, out);
  return out;
}

// Collects updates as "+5" (begin) and "-5:100" (end, ms).
struct Log {
  std::vector<std::string> items;
  void add(const DtmfUpdates& u) {
    for (const auto& x : u) {
      items.push_back(x.kind == DtmfUpdate::Kind::kBegin
                          ? "+" + std::string(1, x.digit)
                          : "-" + std::string(1, x.digit) + ":" + std::to_string(x.duration_ms));
    }
  }
};

TEST(TelephoneEvent, PayloadCodec) {
  const auto bytes = ev(11, 800, true);
  EXPECT_EQ(bytes[0], 11);
  EXPECT_EQ(bytes[1], 0x8A);
  EXPECT_EQ(bytes[2], 0x03);
  EXPECT_EQ(bytes[3], 0x20);
  auto e = parse_telephone_event(bytes);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->end);
  EXPECT_EQ(e->duration, 800);
  EXPECT_EQ(e->volume, 10);
  EXPECT_FALSE(parse_telephone_event(std::span(bytes).first(3)));
  EXPECT_EQ(digit_of_event(10), '*');
  EXPECT_EQ(digit_of_event(11), '#');
  EXPECT_EQ(digit_of_event(15), 'D');
  EXPECT_FALSE(digit_of_event(17));
  EXPECT_EQ(event_of_digit('#'), 11);
  EXPECT_FALSE(event_of_digit('x'));
}

TEST(TelephoneEvent, StartContinuationEndWithRedundantEnds) {
  TelephoneEventReceiver rx;
  Log log;
  log.add(rx.on_packet(1000, ev(5, 160)));
  log.add(rx.on_packet(1000, ev(5, 320)));
  log.add(rx.on_packet(1000, ev(5, 480)));
  log.add(rx.on_packet(1000, ev(5, 800, true)));
  log.add(rx.on_packet(1000, ev(5, 800, true)));
  log.add(rx.on_packet(1000, ev(5, 800, true)));
  EXPECT_EQ(log.items, (std::vector<std::string>{"+5", "-5:100"}));
  EXPECT_EQ(rx.duplicates(), 2u);
  EXPECT_FALSE(rx.active());
}

TEST(TelephoneEvent, DuplicatesAndReorderingDoNotRepeatDigits) {
  TelephoneEventReceiver rx;
  Log log;
  log.add(rx.on_packet(0, ev(1, 160)));
  log.add(rx.on_packet(0, ev(1, 160)));  // duplicate
  log.add(rx.on_packet(0, ev(1, 480)));
  log.add(rx.on_packet(0, ev(1, 320)));  // reordered
  log.add(rx.on_packet(0, ev(1, 640, true)));
  log.add(rx.on_packet(0, ev(1, 320)));  // a straggler after the end
  EXPECT_EQ(log.items, (std::vector<std::string>{"+1", "-1:80"}));
  EXPECT_EQ(rx.duplicates(), 3u);
}

TEST(TelephoneEvent, SameDigitTwiceIsTwoDigits) {
  TelephoneEventReceiver rx;
  Log log;
  log.add(rx.on_packet(0, ev(7, 800, true)));  // lost start: only the end arrived
  log.add(rx.on_packet(0, ev(7, 800, true)));
  log.add(rx.on_packet(2000, ev(7, 160)));
  log.add(rx.on_packet(2000, ev(7, 400, true)));
  EXPECT_EQ(log.items, (std::vector<std::string>{"+7", "-7:100", "+7", "-7:50"}));
}

TEST(TelephoneEvent, LostEndPacketsEndOnNextDigitOrTimeout) {
  TelephoneEventReceiver rx;
  Log log;
  log.add(rx.on_packet(0, ev(2, 160)));
  log.add(rx.on_packet(0, ev(2, 320)));
  log.add(rx.on_packet(4000, ev(3, 160)));  // next digit before any end of '2'
  log.add(rx.tick(200));
  EXPECT_EQ(log.items, (std::vector<std::string>{"+2", "-2:40", "+3"}));
  log.add(rx.tick(200));  // 400 ms quiet
  EXPECT_EQ(log.items.back(), "-3:20");
  log.add(rx.tick(1000));  // nothing more
  EXPECT_EQ(log.items.size(), 4u);
}

TEST(TelephoneEvent, LatePacketOfAnOlderEventIsIgnored) {
  TelephoneEventReceiver rx;
  Log log;
  log.add(rx.on_packet(5000, ev(4, 160)));
  log.add(rx.on_packet(4000, ev(9, 800, true)));
  EXPECT_EQ(log.items, (std::vector<std::string>{"+4"}));
}

TEST(TelephoneEvent, LongPressAcrossSegments) {
  TelephoneEventReceiver rx;
  Log log;
  // 65535 samples in the first segment, then a new segment starting where it ended.
  std::uint32_t d = 0;
  for (d = 160; d < 0xFFFF; d += 160 * 50)
    log.add(rx.on_packet(100, ev(0, static_cast<std::uint16_t>(d))));
  log.add(rx.on_packet(100, ev(0, 0xFFFF)));
  log.add(rx.on_packet(100 + 0xFFFF, ev(0, 160)));
  log.add(rx.on_packet(100 + 0xFFFF, ev(0, 8000, true)));
  ASSERT_EQ(log.items.size(), 2u);
  EXPECT_EQ(log.items[0], "+0");
  EXPECT_EQ(log.items[1], "-0:" + std::to_string((0xFFFF + 8000) * 1000 / 8000));
}

TEST(TelephoneEvent, UnknownEventsAreCountedNotReported) {
  TelephoneEventReceiver rx;
  Log log;
  log.add(rx.on_packet(0, ev(40, 160)));
  std::array<std::uint8_t, 2> short_payload{};
  log.add(rx.on_packet(0, short_payload));
  EXPECT_TRUE(log.items.empty());
  EXPECT_EQ(rx.malformed(), 2u);
}

TEST(TelephoneEvent, SenderPacketTrainDecodesToTheDigit) {
  TelephoneEventSender tx(160);
  ASSERT_TRUE(tx.start('#', 800));
  EXPECT_FALSE(tx.start('1', 800));  // busy
  std::vector<TelephoneEventSender::Packet> packets;
  while (auto p = tx.next()) packets.push_back(*p);
  ASSERT_EQ(packets.size(), 5u + 2u);  // 5 x 20 ms, the last carrying E, then 2 more ends
  EXPECT_TRUE(packets[0].marker);
  EXPECT_FALSE(packets[1].marker);
  for (std::size_t i = 0; i < packets.size(); ++i) {
    auto e = parse_telephone_event(packets[i].payload);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->event, 11);
    EXPECT_EQ(e->end, i >= 4) << i;
    EXPECT_EQ(e->duration, std::min<std::size_t>((i + 1) * 160, 800));
  }
  TelephoneEventReceiver rx;
  Log log;
  for (const auto& p : packets) log.add(rx.on_packet(9000 + p.timestamp_offset, p.payload));
  EXPECT_EQ(log.items, (std::vector<std::string>{"+#", "-#:100"}));
  EXPECT_FALSE(tx.busy());
  EXPECT_FALSE(tx.start('x', 800));
}

TEST(TelephoneEvent, SenderSegmentsLongPressAndReceiverJoinsThem) {
  TelephoneEventSender tx(160);
  const std::uint32_t total = 10 * 8000;  // 10 s > 65535 samples
  ASSERT_TRUE(tx.start('9', total));
  TelephoneEventReceiver rx;
  Log log;
  std::uint32_t offsets = 0;
  while (auto p = tx.next()) {
    offsets = std::max(offsets, p->timestamp_offset);
    log.add(rx.on_packet(p->timestamp_offset, p->payload));
  }
  EXPECT_EQ(offsets, 0xFFFFu);
  EXPECT_EQ(log.items, (std::vector<std::string>{"+9", "-9:10000"}));
}

}  // namespace
}  // namespace sb::media
