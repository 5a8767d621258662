#include "media/conference_mixer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <thread>
#include <utility>
#include <vector>

namespace sb::media {
namespace {

using Clock = std::chrono::steady_clock;

MixFrame constant(std::int16_t v) {
  MixFrame f;
  f.fill(v);
  return f;
}

// Samples that differ from one another: a frame of `source` (a tone).
MixFrame next_frame(AudioSource& source) {
  MixFrame f{};
  EXPECT_EQ(source.read(f), kMixFrame);
  return f;
}

// Sample by sample, exact (no saturation needed by the callers).
MixFrame add(const MixFrame& a, const MixFrame& b) {
  MixFrame f;
  for (std::size_t i = 0; i < kMixFrame; ++i) f[i] = static_cast<std::int16_t>(a[i] + b[i]);
  return f;
}

std::optional<MixFrame> take(FrameChannel& channel) {
  MixFrame f;
  if (!channel.pop(f)) return std::nullopt;
  return f;
}

// --- FrameChannel -------------------------------------------------------------------------------

TEST(FrameChannelTest, PushesUntilFullThenDropsAndPopsInOrderUntilEmpty) {
  FrameChannel channel;
  EXPECT_EQ(channel.size(), 0u);
  MixFrame out = constant(-1);
  EXPECT_FALSE(channel.pop(out));
  EXPECT_EQ(out, constant(-1));  // untouched when empty

  for (int i = 0; i < static_cast<int>(FrameChannel::kCapacity); ++i) {
    EXPECT_TRUE(channel.push(constant(static_cast<std::int16_t>(i + 1))));
  }
  EXPECT_EQ(channel.size(), FrameChannel::kCapacity);
  EXPECT_FALSE(channel.push(constant(99)));  // full: dropped
  EXPECT_EQ(channel.size(), FrameChannel::kCapacity);

  for (int i = 0; i < static_cast<int>(FrameChannel::kCapacity); ++i) {
    ASSERT_TRUE(channel.pop(out));
    EXPECT_EQ(out, constant(static_cast<std::int16_t>(i + 1)));
  }
  EXPECT_FALSE(channel.pop(out));
  EXPECT_EQ(channel.size(), 0u);

  // Around the wrap of the slots: room again, still in order.
  EXPECT_TRUE(channel.push(constant(7)));
  EXPECT_TRUE(channel.push(constant(8)));
  EXPECT_EQ(take(channel), constant(7));
  EXPECT_EQ(take(channel), constant(8));
}

TEST(FrameChannelTest, SkipToDropsTheOldestFrames) {
  FrameChannel channel;
  for (std::int16_t i = 1; i <= 5; ++i) channel.push(constant(i));
  channel.skip_to(7);  // fewer than that: nothing dropped
  EXPECT_EQ(channel.size(), 5u);
  channel.skip_to(2);
  EXPECT_EQ(channel.size(), 2u);
  EXPECT_EQ(take(channel), constant(4));
  EXPECT_EQ(take(channel), constant(5));
  channel.push(constant(6));
  channel.skip_to(0);
  EXPECT_EQ(channel.size(), 0u);
  EXPECT_EQ(take(channel), std::nullopt);
}

// Every sample depends on the frame's number: a frame mixing two pushes shows.
MixFrame numbered(int seq) {
  MixFrame f;
  for (std::size_t i = 0; i < kMixFrame; ++i) {
    f[i] = static_cast<std::int16_t>((static_cast<std::size_t>(seq) + i * 7919) % 32768);
  }
  return f;
}

TEST(FrameChannelTest, FramesCrossThreadsIntactAndInOrderDroppedOnlyWhenFull) {
  constexpr int kFrames = 10000;
  FrameChannel channel;
  std::atomic<bool> finished{false};
  std::vector<int> accepted;  // by the producer
  std::vector<int> received;  // by the consumer
  int torn = 0;

  std::thread consumer([&] {
    MixFrame f;
    for (;;) {
      const bool was_finished = finished.load(std::memory_order_acquire);
      if (channel.pop(f)) {
        if (f != numbered(f[0])) ++torn;
        received.push_back(f[0]);
        continue;
      }
      if (was_finished) break;  // every push came before: the ring is empty for good
      std::this_thread::yield();
    }
  });
  std::thread producer([&] {
    for (int seq = 0; seq < kFrames; ++seq) {
      if (channel.push(numbered(seq))) accepted.push_back(seq);
      if (seq % 64 == 0) std::this_thread::yield();  // let the consumer catch up now and then
    }
    finished.store(true, std::memory_order_release);
  });
  producer.join();
  consumer.join();

  EXPECT_EQ(torn, 0);
  EXPECT_GT(accepted.size(), FrameChannel::kCapacity);
  EXPECT_EQ(received, accepted);  // nothing accepted is lost, reordered or repeated
}

// --- MixerPort ----------------------------------------------------------------------------------

TEST(MixerPortTest, TapCutsInboundAudioIntoUplinkFrames) {
  ConferenceMixer mixer;
  auto port = mixer.add_port();
  auto tap = port->tap();
  const MixFrame silence{};

  const MixFrame one = constant(123);
  tap->on_audio(one, silence);
  EXPECT_EQ(port->uplink().size(), 1u);
  EXPECT_EQ(take(port->uplink()), one);

  // 100 + 100 + 120 samples of a ramp: two frames, cut at 160 and 320.
  std::vector<std::int16_t> ramp(320);
  for (std::size_t i = 0; i < ramp.size(); ++i) ramp[i] = static_cast<std::int16_t>(i);
  const std::span<const std::int16_t> all(ramp);
  tap->on_audio(all.subspan(0, 100), {});
  EXPECT_EQ(port->uplink().size(), 0u);
  tap->on_audio(all.subspan(100, 100), {});
  EXPECT_EQ(port->uplink().size(), 1u);
  tap->on_audio(all.subspan(200, 120), {});
  EXPECT_EQ(port->uplink().size(), 2u);
  MixFrame first, second;
  std::copy_n(ramp.begin(), kMixFrame, first.begin());
  std::copy_n(ramp.begin() + kMixFrame, kMixFrame, second.begin());
  EXPECT_EQ(take(port->uplink()), first);
  EXPECT_EQ(take(port->uplink()), second);

  // Two frames in one call.
  tap->on_audio(all, {});
  EXPECT_EQ(take(port->uplink()), first);
  EXPECT_EQ(take(port->uplink()), second);
}

TEST(MixerPortTest, SourcePopsOneFramePer160SamplesAndPlaysSilenceWhenEmpty) {
  ConferenceMixer mixer;
  auto port = mixer.add_port();
  auto source = port->source();
  port->downlink().push(constant(1));
  port->downlink().push(constant(2));
  port->downlink().push(constant(3));

  std::vector<std::int16_t> out(320, -1);
  EXPECT_EQ(source->read(out), 320u);
  EXPECT_EQ(port->downlink().size(), 1u);  // two popped
  EXPECT_TRUE(std::all_of(out.begin(), out.begin() + 160, [](std::int16_t s) { return s == 1; }));
  EXPECT_TRUE(std::all_of(out.begin() + 160, out.end(), [](std::int16_t s) { return s == 2; }));

  // Half a frame at a time: one pop per 160 samples.
  std::vector<std::int16_t> half(80, -1);
  EXPECT_EQ(source->read(half), 80u);
  EXPECT_EQ(port->downlink().size(), 0u);
  EXPECT_TRUE(std::all_of(half.begin(), half.end(), [](std::int16_t s) { return s == 3; }));
  port->downlink().push(constant(4));
  EXPECT_EQ(source->read(half), 80u);  // the rest of frame 3
  EXPECT_EQ(port->downlink().size(), 1u);
  EXPECT_TRUE(std::all_of(half.begin(), half.end(), [](std::int16_t s) { return s == 3; }));
  EXPECT_EQ(source->read(std::span(out).first(160)), 160u);
  EXPECT_TRUE(std::all_of(out.begin(), out.begin() + 160, [](std::int16_t s) { return s == 4; }));

  // Empty: silence, and it never ends.
  std::fill(out.begin(), out.end(), -1);
  EXPECT_EQ(source->read(out), 320u);
  EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](std::int16_t s) { return s == 0; }));
}

TEST(MixerPortTest, SourceDropsDownlinkFramesBeyondTheLatencyBound) {
  MixerOptions options;
  options.max_downlink_frames = 3;
  ConferenceMixer mixer(options);
  auto port = mixer.add_port();
  auto source = port->source();
  for (std::int16_t i = 1; i <= 6; ++i) port->downlink().push(constant(i));
  MixFrame out;
  source->read(out);
  EXPECT_EQ(out, constant(4));  // 1-3 were older than the newest three
  source->read(out);
  EXPECT_EQ(out, constant(5));
}

TEST(MixerPortTest, FlagsReadBackAsSet) {
  ConferenceMixer mixer;
  auto port = mixer.add_port();
  EXPECT_FALSE(port->muted());
  EXPECT_FALSE(port->hold());
  EXPECT_TRUE(port->listening());
  EXPECT_FALSE(port->speaking());
  EXPECT_EQ(port->coaching(), std::nullopt);
  port->set_muted(true);
  port->set_hold(true);
  port->set_listening(false);
  port->set_coaching(0);
  EXPECT_TRUE(port->muted());
  EXPECT_TRUE(port->hold());
  EXPECT_FALSE(port->listening());
  EXPECT_EQ(port->coaching(), std::optional<MixerPort::Id>(0));
  port->set_coaching(0xffffffffu);
  EXPECT_EQ(port->coaching(), std::optional<MixerPort::Id>(0xffffffffu));
  port->set_coaching(std::nullopt);
  EXPECT_EQ(port->coaching(), std::nullopt);
}

// --- ConferenceMixer ----------------------------------------------------------------------------

class ConferenceMixerTest : public ::testing::Test {
 protected:
  ConferenceMixerTest() {
    mixer.set_active(true);
    mixer.set_recorder([this](std::span<const std::int16_t> mix) {
      MixFrame f;
      std::copy(mix.begin(), mix.end(), f.begin());
      recorded.push_back(f);
    });
  }
  void tick(int n = 1) {
    for (int i = 0; i < n; ++i) {
      mixer.on_tick_done(now, 20);
      now += std::chrono::milliseconds(20);
      ++ticks;
    }
  }
  static void send(MixerPort& port, const MixFrame& frame) {
    ASSERT_TRUE(port.uplink().push(frame));
  }
  static std::optional<MixFrame> heard(MixerPort& port) { return take(port.downlink()); }

  std::vector<std::pair<MixerPort::Id, bool>> speaking;
  std::vector<int> speaking_at;  // the tick of each event
  int ticks = 0;
  ConferenceMixer mixer{{}, {[this](MixerPort::Id id, bool on) {
                          speaking.emplace_back(id, on);
                          speaking_at.push_back(ticks + 1);  // called within that tick
                        }}};
  std::vector<MixFrame> recorded;
  Clock::time_point now = Clock::now();
};

TEST_F(ConferenceMixerTest, EachPortHearsExactlyTheSumOfTheOthers) {
  auto a = mixer.add_port();
  auto b = mixer.add_port();
  auto c = mixer.add_port();
  EXPECT_EQ(mixer.ports(), 3u);
  EXPECT_NE(a->id(), b->id());
  ToneSource tone_b({{{440, 0, -13, 1000}}, 1});
  ToneSource tone_c({{{1000, 1300, -10, 1000}}, 1});
  for (int t = 0; t < 3; ++t) {
    const MixFrame fa = constant(static_cast<std::int16_t>(1000 - t * 300));
    const MixFrame fb = next_frame(tone_b);
    const MixFrame fc = next_frame(tone_c);
    ASSERT_NE(fb, fc);
    send(*a, fa);
    send(*b, fb);
    send(*c, fc);
    tick();
    EXPECT_EQ(heard(*a), add(fb, fc)) << "tick " << t;
    EXPECT_EQ(heard(*b), add(fa, fc)) << "tick " << t;
    EXPECT_EQ(heard(*c), add(fa, fb)) << "tick " << t;
    ASSERT_EQ(recorded.size(), static_cast<std::size_t>(t + 1));
    EXPECT_EQ(recorded.back(), add(add(fa, fb), fc));
  }
  EXPECT_EQ(mixer.stats().ticks, 3u);
  EXPECT_EQ(mixer.stats().underruns, 0u);
  EXPECT_EQ(mixer.stats().overruns, 0u);
}

TEST_F(ConferenceMixerTest, MutedPortIsNotHeardButHearsTheOthers) {
  auto a = mixer.add_port();
  auto b = mixer.add_port();
  auto c = mixer.add_port();
  b->set_muted(true);
  send(*a, constant(100));
  send(*b, constant(200));
  send(*c, constant(400));
  tick();
  EXPECT_EQ(heard(*a), constant(400));
  EXPECT_EQ(heard(*b), constant(500));
  EXPECT_EQ(heard(*c), constant(100));
  EXPECT_EQ(recorded.back(), constant(500));

  b->set_muted(false);
  send(*a, constant(100));
  send(*b, constant(200));
  send(*c, constant(400));
  tick();
  EXPECT_EQ(heard(*a), constant(600));
  EXPECT_EQ(heard(*b), constant(500));
}

TEST_F(ConferenceMixerTest, HeldPortIsNeitherHeardNorWrittenAndItsUplinkIsDrained) {
  auto a = mixer.add_port();
  auto b = mixer.add_port();
  auto c = mixer.add_port();
  b->set_hold(true);
  for (int i = 0; i < 3; ++i) send(*b, constant(999));  // stale by the time b is back
  send(*a, constant(100));
  send(*c, constant(400));
  tick();
  EXPECT_EQ(heard(*a), constant(400));
  EXPECT_EQ(heard(*c), constant(100));
  EXPECT_EQ(b->downlink().size(), 0u);
  EXPECT_EQ(b->uplink().size(), 0u);
  EXPECT_EQ(mixer.stats().underruns, 0u);  // a held port's silence is not an underrun

  b->set_hold(false);
  send(*a, constant(100));
  send(*b, constant(200));
  send(*c, constant(400));
  tick();
  EXPECT_EQ(heard(*a), constant(600));
  EXPECT_EQ(heard(*b), constant(500));
  EXPECT_EQ(heard(*c), constant(300));
}

TEST_F(ConferenceMixerTest, CoachIsHeardOnlyByItsTargetAndHearsEveryone) {
  auto a = mixer.add_port();
  auto b = mixer.add_port();
  auto coach = mixer.add_port();
  coach->set_coaching(a->id());
  send(*a, constant(100));
  send(*b, constant(200));
  send(*coach, constant(1000));
  tick();
  EXPECT_EQ(heard(*a), constant(1200));
  EXPECT_EQ(heard(*b), constant(100));
  EXPECT_EQ(heard(*coach), constant(300));
  EXPECT_EQ(recorded.back(), constant(300));  // coaches stay out of the recording

  // A held target hears nobody, the coach included; the others are unchanged.
  a->set_hold(true);
  send(*b, constant(200));
  send(*coach, constant(1000));
  tick();
  EXPECT_EQ(heard(*a), std::nullopt);
  EXPECT_EQ(heard(*b), constant(0));
  EXPECT_EQ(heard(*coach), constant(200));

  // Coaching ended: a participant like the others.
  a->set_hold(false);
  coach->set_coaching(std::nullopt);
  send(*a, constant(100));
  send(*b, constant(200));
  send(*coach, constant(1000));
  tick();
  EXPECT_EQ(heard(*a), constant(1200));
  EXPECT_EQ(heard(*b), constant(1100));
  EXPECT_EQ(heard(*coach), constant(300));
}

TEST_F(ConferenceMixerTest, TwoCoachesOfOneTargetAddUp) {
  auto a = mixer.add_port();
  auto b = mixer.add_port();
  auto coach1 = mixer.add_port();
  auto coach2 = mixer.add_port();
  coach1->set_coaching(b->id());
  coach2->set_coaching(b->id());
  send(*a, constant(1));
  send(*b, constant(10));
  send(*coach1, constant(100));
  send(*coach2, constant(1000));
  tick();
  EXPECT_EQ(heard(*a), constant(10));
  EXPECT_EQ(heard(*b), constant(1101));
  EXPECT_EQ(heard(*coach1), constant(11));
  EXPECT_EQ(heard(*coach2), constant(11));
}

TEST_F(ConferenceMixerTest, MixSaturatesAtTheInt16Limits) {
  auto a = mixer.add_port();
  auto b = mixer.add_port();
  auto c = mixer.add_port();
  send(*a, constant(30000));
  send(*b, constant(30000));
  send(*c, constant(0));
  tick();
  EXPECT_EQ(heard(*c), constant(32767));
  EXPECT_EQ(heard(*a), constant(30000));
  EXPECT_EQ(heard(*b), constant(30000));
  EXPECT_EQ(recorded.back(), constant(32767));

  send(*a, constant(-30000));
  send(*b, constant(-30000));
  send(*c, constant(0));
  tick();
  EXPECT_EQ(heard(*c), constant(-32768));
  EXPECT_EQ(heard(*b), constant(-30000));
  EXPECT_EQ(recorded.back(), constant(-32768));
}

TEST_F(ConferenceMixerTest, MissingUplinkFrameIsSilenceAndCountsAnUnderrun) {
  auto a = mixer.add_port();
  auto b = mixer.add_port();
  send(*a, constant(500));
  tick();
  EXPECT_EQ(heard(*a), constant(0));
  EXPECT_EQ(heard(*b), constant(500));
  EXPECT_EQ(mixer.stats().underruns, 1u);
  tick();
  EXPECT_EQ(heard(*a), constant(0));
  EXPECT_EQ(heard(*b), constant(0));
  EXPECT_EQ(mixer.stats().underruns, 3u);
}

TEST_F(ConferenceMixerTest, UplinkLatencyIsBoundedByDroppingTheOldestFrames) {
  auto a = mixer.add_port();
  auto b = mixer.add_port();
  for (std::int16_t i = 1; i <= 6; ++i) send(*a, constant(static_cast<std::int16_t>(i * 100)));
  tick();
  EXPECT_EQ(heard(*b), constant(400));  // 100-300 dropped: the newest 3 are kept
  EXPECT_EQ(a->uplink().size(), 2u);
  tick();
  EXPECT_EQ(heard(*b), constant(500));
  tick();
  EXPECT_EQ(heard(*b), constant(600));
  const std::uint64_t underruns = mixer.stats().underruns;
  tick();
  EXPECT_EQ(heard(*b), constant(0));
  EXPECT_EQ(mixer.stats().underruns, underruns + 2);  // a, and b which never sent
}

TEST_F(ConferenceMixerTest, PlayToAllReachesEveryListenerInOrderThenCallsDone) {
  auto a = mixer.add_port();
  auto held = mixer.add_port();
  auto c = mixer.add_port();
  held->set_hold(true);
  auto pcm = [](std::size_t n, std::int16_t v) {
    return std::make_unique<PcmSource>(std::make_shared<const std::vector<std::int16_t>>(n, v));
  };
  std::vector<std::pair<int, int>> done;  // (which, tick)
  mixer.play_to_all(pcm(240, 50), [&] { done.emplace_back(1, ticks + 1); });
  mixer.play_to_all(pcm(160, 70), [&] { done.emplace_back(2, ticks + 1); });

  send(*a, constant(100));
  tick();
  EXPECT_EQ(heard(*a), constant(50));
  EXPECT_EQ(heard(*c), constant(150));
  EXPECT_EQ(heard(*held), std::nullopt);
  EXPECT_EQ(recorded.back(), constant(150));
  EXPECT_TRUE(done.empty());

  // The first ends mid-frame; the second goes on from there in the same frame.
  tick();
  MixFrame expected = constant(70);
  std::fill_n(expected.begin(), 80, std::int16_t{50});
  EXPECT_EQ(heard(*a), expected);
  EXPECT_EQ(heard(*c), expected);
  EXPECT_EQ(recorded.back(), expected);
  EXPECT_EQ(done, (std::vector<std::pair<int, int>>{{1, 2}}));

  tick();
  expected = constant(0);
  std::fill_n(expected.begin(), 80, std::int16_t{70});
  EXPECT_EQ(heard(*a), expected);
  EXPECT_EQ(done, (std::vector<std::pair<int, int>>{{1, 2}, {2, 3}}));

  tick();
  EXPECT_EQ(heard(*a), constant(0));
  EXPECT_EQ(done.size(), 2u);
}

TEST_F(ConferenceMixerTest, PlayToAllWaitsUntilTheConferenceIsActive) {
  auto a = mixer.add_port();
  mixer.set_active(false);
  bool done = false;
  mixer.play_to_all(
      std::make_unique<PcmSource>(std::make_shared<const std::vector<std::int16_t>>(160, 50)),
      [&] { done = true; });
  tick(3);
  EXPECT_EQ(heard(*a), std::nullopt);
  EXPECT_FALSE(done);

  mixer.set_active(true);
  tick();
  EXPECT_EQ(heard(*a), constant(50));
  EXPECT_FALSE(done);  // it ended exactly on the frame: known on the next read
  tick();
  EXPECT_EQ(heard(*a), constant(0));
  EXPECT_TRUE(done);
}

TEST_F(ConferenceMixerTest, DoneMayQueueTheNextAnnouncement) {
  auto a = mixer.add_port();
  int played = 0;
  std::function<void()> again = [&] {
    if (++played < 3) {
      mixer.play_to_all(
          std::make_unique<PcmSource>(std::make_shared<const std::vector<std::int16_t>>(80, 9)),
          again);
    }
  };
  mixer.play_to_all(
      std::make_unique<PcmSource>(std::make_shared<const std::vector<std::int16_t>>(80, 9)), again);
  tick(4);
  EXPECT_EQ(played, 3);
  MixFrame expected = constant(0);
  std::fill_n(expected.begin(), 80, std::int16_t{9});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(heard(*a), expected) << i;
  EXPECT_EQ(heard(*a), constant(0));
}

TEST_F(ConferenceMixerTest, InactiveMixerDrainsUplinksAndWritesNothing) {
  auto a = mixer.add_port();
  auto b = mixer.add_port();
  mixer.set_active(false);
  EXPECT_FALSE(mixer.active());
  for (int i = 0; i < 4; ++i) {
    send(*a, constant(100));
    send(*b, constant(200));
  }
  tick();
  EXPECT_EQ(a->uplink().size(), 0u);
  EXPECT_EQ(b->uplink().size(), 0u);
  EXPECT_EQ(a->downlink().size(), 0u);
  EXPECT_EQ(b->downlink().size(), 0u);
  EXPECT_TRUE(recorded.empty());
  EXPECT_EQ(mixer.stats().underruns, 0u);

  mixer.set_active(true);
  send(*a, constant(100));
  tick();
  EXPECT_EQ(heard(*b), constant(100));
  EXPECT_EQ(heard(*a), constant(0));  // nothing stale of b's
  EXPECT_EQ(recorded.size(), 1u);
}

TEST_F(ConferenceMixerTest, SpeakingStartsAfterThreeLoudFramesAndStopsAfter25QuietOnes) {
  auto a = mixer.add_port();
  auto b = mixer.add_port();
  const MixFrame loud = constant(1000);  // RMS 1000 > 500
  const MixFrame quiet = constant(400);  // RMS 400

  // Two loud frames, a quiet one: the run starts over.
  send(*a, loud);
  send(*a, loud);
  tick(2);
  send(*a, quiet);
  tick();
  send(*a, loud);
  send(*a, loud);
  tick(2);
  EXPECT_TRUE(speaking.empty());
  EXPECT_FALSE(a->speaking());

  send(*a, loud);
  tick();  // tick 6: the third in a row
  EXPECT_EQ(speaking, (std::vector<std::pair<MixerPort::Id, bool>>{{a->id(), true}}));
  EXPECT_EQ(speaking_at, std::vector<int>{6});
  EXPECT_TRUE(a->speaking());
  EXPECT_FALSE(b->speaking());

  for (int i = 0; i < 10; ++i) {  // more speech: no new event
    send(*a, loud);
    tick();
  }
  EXPECT_EQ(speaking.size(), 1u);

  for (int i = 0; i < 24; ++i) {
    send(*a, quiet);
    tick();
  }
  EXPECT_EQ(speaking.size(), 1u);
  EXPECT_TRUE(a->speaking());
  send(*a, quiet);
  tick();  // the 25th quiet frame
  EXPECT_EQ(speaking,
            (std::vector<std::pair<MixerPort::Id, bool>>{{a->id(), true}, {a->id(), false}}));
  EXPECT_EQ(speaking_at, (std::vector<int>{6, 16 + 25}));
  EXPECT_FALSE(a->speaking());
}

TEST_F(ConferenceMixerTest, MutedPortNeverStartsSpeakingAndAHeldSpeakerStops) {
  auto a = mixer.add_port();
  auto b = mixer.add_port();
  a->set_muted(true);
  for (int i = 0; i < 10; ++i) {
    send(*a, constant(5000));
    tick();
  }
  EXPECT_TRUE(speaking.empty());
  EXPECT_FALSE(a->speaking());

  for (int i = 0; i < 3; ++i) {
    send(*b, constant(5000));
    tick();
  }
  ASSERT_EQ(speaking.size(), 1u);
  b->set_hold(true);  // not heard: silent to the detector
  for (int i = 0; i < 24; ++i) {
    send(*b, constant(5000));
    tick();
  }
  EXPECT_EQ(speaking.size(), 1u);
  tick();
  EXPECT_EQ(speaking,
            (std::vector<std::pair<MixerPort::Id, bool>>{{b->id(), true}, {b->id(), false}}));
}

TEST_F(ConferenceMixerTest, PortNotListeningNeitherReceivesNorIsHeard) {
  auto a = mixer.add_port();
  auto b = mixer.add_port();
  auto c = mixer.add_port();
  a->set_listening(false);
  send(*a, constant(300));
  send(*a, constant(300));
  send(*b, constant(100));
  send(*c, constant(200));
  tick();
  EXPECT_EQ(a->downlink().size(), 0u);
  EXPECT_EQ(a->uplink().size(), 0u);
  EXPECT_EQ(heard(*b), constant(200));
  EXPECT_EQ(heard(*c), constant(100));

  a->set_listening(true);
  send(*a, constant(300));
  send(*b, constant(100));
  send(*c, constant(200));
  tick();
  EXPECT_EQ(heard(*a), constant(300));
  EXPECT_EQ(heard(*b), constant(500));
}

TEST_F(ConferenceMixerTest, FullDownlinkCountsAnOverrun) {
  auto a = mixer.add_port();
  tick(static_cast<int>(FrameChannel::kCapacity));
  EXPECT_EQ(mixer.stats().overruns, 0u);
  tick();
  EXPECT_EQ(mixer.stats().overruns, 1u);
  EXPECT_EQ(a->downlink().size(), FrameChannel::kCapacity);
}

TEST_F(ConferenceMixerTest, RemovedPortIsNoLongerMixed) {
  auto a = mixer.add_port();
  auto b = mixer.add_port();
  auto c = mixer.add_port();
  mixer.remove_port(b->id());
  mixer.remove_port(12345);  // unknown: ignored
  EXPECT_EQ(mixer.ports(), 2u);
  send(*a, constant(100));
  send(*b, constant(200));
  send(*c, constant(400));
  tick();
  EXPECT_EQ(heard(*a), constant(400));
  EXPECT_EQ(heard(*c), constant(100));
  EXPECT_EQ(b->downlink().size(), 0u);
  EXPECT_EQ(b->uplink().size(), 1u);  // nobody reads it any more

  auto d = mixer.add_port();  // ids are not reused
  EXPECT_NE(d->id(), b->id());
  EXPECT_NE(d->id(), c->id());
}

TEST_F(ConferenceMixerTest, RecorderMayRemoveItselfFromItsOwnCall) {
  auto a = mixer.add_port();
  int calls = 0;
  mixer.set_recorder([&](std::span<const std::int16_t> mix) {
    ++calls;
    EXPECT_EQ(mix.size(), kMixFrame);
    mixer.set_recorder(nullptr);
  });
  tick(3);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(a->downlink().size(), 3u);
}

TEST_F(ConferenceMixerTest, TapAndSourceCarryAParticipantsAudioThroughTheMix) {
  auto a = mixer.add_port();
  auto b = mixer.add_port();
  auto tap_a = a->tap();
  auto hear_b = b->source();
  ToneSource tone({{{697, 1209, -10, 1000}}, 1});
  for (int i = 0; i < 5; ++i) {
    const MixFrame spoken = next_frame(tone);
    tap_a->on_audio(spoken, MixFrame{});
    tick();
    MixFrame played;
    EXPECT_EQ(hear_b->read(played), kMixFrame);
    EXPECT_EQ(played, spoken) << i;
  }
}

}  // namespace
}  // namespace sb::media
