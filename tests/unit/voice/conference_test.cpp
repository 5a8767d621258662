// ConferenceRegistry and QueueRegistry: the rooms' and queues' rules without calls (joins,
// starts, labels, limits, kicks, ends, mutes; positions, dequeues, agents), their records and
// their events. What each participant is told arrives on its executor: the tests run it.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "store/sqlite_store.hpp"
#include "support/fake_call_event_sink.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "voice/call_queue.hpp"
#include "voice/conference.hpp"

namespace sb::voice {
namespace {

constexpr const char* kAccount = "AC00000000000000000000000000000001";

class ConferenceRegistryTest : public ::testing::Test {
 protected:
  ConferenceRegistryTest()
      : store_(std::move(store::SqliteStore::open(dir_.file("c.db")).value())),
        worker_(io_.get_executor()),
        rooms_(*store_, clock_, &events_) {}

  struct Caller {
    std::string call_sid;
    std::shared_ptr<ParticipantInbox> inbox;
  };

  Result<std::shared_ptr<Conference>> join(Caller& c, twiml::DialConference noun) {
    c.inbox = std::make_shared<ParticipantInbox>(io_.get_executor());
    JoinRequest r;
    r.account_sid = kAccount;
    r.auth_token = "token";
    r.call_sid = c.call_sid;
    r.noun = std::move(noun);
    r.executor = io_.get_executor();
    r.worker = &worker_;
    r.inbox = c.inbox;
    auto got = rooms_.join(std::move(r));
    run();
    return got;
  }
  static twiml::DialConference room(std::string name = "Room") {
    twiml::DialConference n;
    n.name = std::move(name);
    return n;
  }
  void run() {
    io_.restart();
    io_.poll();
  }
  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const auto& e : events_.events()) out.push_back(e.channel + " " + e.type);
    return out;
  }
  store::Conference stored(const std::string& sid) {
    store_->flush();
    auto c = store_->find_conference(kAccount, sid);
    EXPECT_TRUE(c && c->has_value());
    return c && c->has_value() ? **c : store::Conference{};
  }

  testing::TempDir dir_;
  std::unique_ptr<store::SqliteStore> store_;
  testing::FakeClock clock_;
  testing::FakeCallEventSink events_;
  boost::asio::io_context io_;
  media::MediaWorker worker_;
  ConferenceRegistry rooms_;
};

TEST_F(ConferenceRegistryTest, RoomStartsWithTheSecondParticipantAndEndsWithTheLast) {
  Caller a{"CA01"}, b{"CA02"};
  auto first = join(a, room());
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)->status, "init");
  EXPECT_EQ(a.inbox->mode, ParticipantMode::kWaiting);
  EXPECT_EQ(stored((*first)->sid).status, "init");

  auto second = join(b, room());
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, *first) << "same name, same room";
  EXPECT_EQ((*first)->status, "in-progress");
  EXPECT_EQ(a.inbox->mode, ParticipantMode::kListening);
  EXPECT_EQ(b.inbox->mode, ParticipantMode::kListening);
  EXPECT_EQ(stored((*first)->sid).status, "in-progress");
  EXPECT_EQ(rooms_.participants_total(), 2U);

  rooms_.leave(*first, "CA01");
  run();
  EXPECT_EQ((*first)->status, "in-progress") << "one left: the room goes on";
  rooms_.leave(*first, "CA02");
  run();
  EXPECT_EQ((*first)->status, "completed");
  EXPECT_EQ(rooms_.size(), 0U);
  const store::Conference row = stored((*first)->sid);
  EXPECT_EQ(row.status, "completed");
  EXPECT_EQ(row.reason_conference_ended, "last-participant-left");
  EXPECT_EQ(row.call_sid_ending_conference, "CA02");
  EXPECT_EQ(types(),
            (std::vector<std::string>{
                "conferences.join participant.join", "conferences.join participant.join",
                "conferences.start conference.start", "conferences.leave participant.leave",
                "conferences.leave participant.leave", "conferences.end conference.end"}));

  Caller c{"CA03"};
  auto again = join(c, room());
  ASSERT_TRUE(again);
  EXPECT_NE((*again)->sid, (*first)->sid) << "the name opens a new room once the old one ended";
}

TEST_F(ConferenceRegistryTest, WithoutAStarterEveryoneWaits) {
  Caller a{"CA01"}, b{"CA02"}, c{"CA03"};
  auto n = room();
  n.start_conference_on_enter = false;
  auto r = join(a, n);
  join(b, n);
  EXPECT_EQ((*r)->status, "init");
  EXPECT_EQ(a.inbox->mode, ParticipantMode::kWaiting);
  EXPECT_EQ(b.inbox->mode, ParticipantMode::kWaiting);
  join(c, room());  // the moderator
  EXPECT_EQ((*r)->status, "in-progress");
  EXPECT_EQ(a.inbox->mode, ParticipantMode::kListening);
}

TEST_F(ConferenceRegistryTest, LabelsAreUniqueAndTheRoomHasALimit) {
  Caller a{"CA01"}, b{"CA02"}, c{"CA03"}, d{"CA04"};
  auto n = room();
  n.max_participants = 2;
  n.participant_label = "agent";
  ASSERT_TRUE(join(a, n));
  auto dup = join(b, n);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, ConferenceRegistry::kParticipantLabelTaken);
  n.participant_label = "customer";
  ASSERT_TRUE(join(c, n));
  n.participant_label.clear();
  auto full = join(d, n);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, ConferenceRegistry::kConferenceFull);
}

TEST_F(ConferenceRegistryTest, KickByLabelAndEndOnExit) {
  Caller a{"CA01"}, b{"CA02"}, c{"CA03"};
  auto n = room();
  n.participant_label = "moderator";
  n.end_conference_on_exit = true;
  auto r = join(a, n);
  join(b, room());
  join(c, room());
  const std::string sid = (*r)->sid;
  ASSERT_TRUE(rooms_.kick(kAccount, sid, "CA03"));
  run();
  EXPECT_EQ(c.inbox->mode, ParticipantMode::kLeft);
  EXPECT_EQ(c.inbox->left_reason, "participant_updated_via_api");
  EXPECT_FALSE(rooms_.kick(kAccount, sid, "CA03")) << "gone already";
  EXPECT_FALSE(rooms_.kick("AC00000000000000000000000000000002", sid, "CA02"))
      << "another account's room is invisible";

  ASSERT_TRUE(rooms_.kick(kAccount, sid, "moderator"));
  run();
  EXPECT_EQ(a.inbox->mode, ParticipantMode::kLeft);
  EXPECT_EQ(b.inbox->mode, ParticipantMode::kLeft);
  EXPECT_EQ(b.inbox->left_reason, "moderator_ended_conference");
  const store::Conference row = stored(sid);
  EXPECT_EQ(row.status, "completed");
  EXPECT_EQ(row.reason_conference_ended, "participant-with-end-conference-on-exit-kicked");
  EXPECT_EQ(row.call_sid_ending_conference, "CA01");
}

TEST_F(ConferenceRegistryTest, MuteAndHoldThroughTheApi) {
  Caller a{"CA01"}, b{"CA02"};
  auto r = join(a, room());
  join(b, room());
  ParticipantUpdate u;
  u.muted = true;
  auto v = rooms_.update(kAccount, (*r)->sid, "CA02", u);
  ASSERT_TRUE(v);
  EXPECT_TRUE(v->muted);
  u = {};
  u.hold = true;
  u.hold_url = "http://app/hold";
  ASSERT_TRUE(rooms_.update(kAccount, (*r)->sid, "CA01", u));
  run();
  EXPECT_EQ(a.inbox->mode, ParticipantMode::kHeld);
  EXPECT_EQ(a.inbox->audio_url, "http://app/hold");
  EXPECT_EQ(a.inbox->audio_method, "GET") << "HoldMethod defaults to GET";
  auto list = rooms_.participants(kAccount, (*r)->sid);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2U);
  EXPECT_TRUE((*list)[0].hold);
  EXPECT_TRUE((*list)[1].muted);
  EXPECT_FALSE(rooms_.update(kAccount, (*r)->sid, "CA09", u));
  const auto seen = types();
  EXPECT_NE(std::find(seen.begin(), seen.end(), "conferences.mute participant.mute"), seen.end());
  EXPECT_NE(std::find(seen.begin(), seen.end(), "conferences.hold participant.hold"), seen.end());
  ASSERT_TRUE(rooms_.end(kAccount, (*r)->sid));
  run();
  EXPECT_EQ(a.inbox->left_reason, "conference_ended_via_api");
  EXPECT_EQ(stored((*r)->sid).reason_conference_ended, "conference-ended-via-api");
}

class QueueRegistryTest : public ::testing::Test {
 protected:
  QueueRegistryTest()
      : store_(std::move(store::SqliteStore::open(dir_.file("q.db")).value())),
        queues_(*store_, clock_, &events_) {}

  std::shared_ptr<MemberInbox> enter(const std::string& call_sid, const std::string& name,
                                     int* position = nullptr) {
    auto inbox = std::make_shared<MemberInbox>(io_.get_executor());
    auto got = queues_.enter(kAccount, name, call_sid, io_.get_executor(), inbox);
    EXPECT_TRUE(got) << (got ? "" : got.error().message);
    if (got) {
      sid_ = got->queue.sid;
      if (position) *position = got->position;
    }
    return inbox;
  }
  void run() {
    io_.restart();
    io_.poll();
  }

  testing::TempDir dir_;
  std::unique_ptr<store::SqliteStore> store_;
  testing::FakeClock clock_;
  testing::FakeCallEventSink events_;
  boost::asio::io_context io_;
  QueueRegistry queues_;
  std::string sid_;
};

TEST_F(QueueRegistryTest, PositionsCountFromOneAndDequeueTakesTheFront) {
  int p1 = 0, p2 = 0;
  auto a = enter("CA01", "support", &p1);
  clock_.advance(10);
  auto b = enter("CA02", "support", &p2);
  EXPECT_EQ(p1, 1);
  EXPECT_EQ(p2, 2);
  store_->flush();
  auto row = store_->find_queue_by_name(kAccount, "support");
  ASSERT_TRUE(row && row->has_value()) << "made on demand";
  EXPECT_EQ((*row)->sid, sid_);
  EXPECT_EQ(queues_.figures(sid_, 1000).current_size, 2);
  EXPECT_EQ(queues_.member(sid_, "Front")->call_sid, "CA01");
  EXPECT_EQ(queues_.member(sid_, "Front")->wait_time, 10);

  auto out = queues_.dequeue(sid_, "Front", "http://app/next", "GET");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->call_sid, "CA01");
  run();
  EXPECT_EQ(a->state, MemberInbox::State::kRedirected);
  EXPECT_EQ(a->url, "http://app/next");
  EXPECT_EQ(queues_.position_of(sid_, "CA02")->position, 1);
  EXPECT_EQ(queues_.figures(sid_, 1000).average_wait_time, 5) << "(10 + 0) / 2 at request time";
  EXPECT_FALSE(queues_.dequeue(sid_, "CA01", "http://app/next", "GET"));
  queues_.leave(sid_, "CA02", "hangup");
  EXPECT_FALSE(queues_.member(sid_, "Front")) << "empty";
  EXPECT_EQ(b->state, MemberInbox::State::kWaiting);
}

TEST_F(QueueRegistryTest, AStoredMaxSizeLimitsTheQueue) {
  store::Queue q;
  q.sid = "QU00000000000000000000000000000001";
  q.account_sid = kAccount;
  q.friendly_name = "small";
  q.max_size = 1;
  bool done = false;
  store_->write(store::InsertQueue{q}, [&](Status s) { done = static_cast<bool>(s); });
  store_->flush();
  ASSERT_TRUE(done);
  enter("CA01", "small");
  EXPECT_EQ(sid_, q.sid);
  auto full = queues_.enter(kAccount, "small", "CA02", io_.get_executor(),
                            std::make_shared<MemberInbox>(io_.get_executor()));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().status, 400);
}

TEST_F(QueueRegistryTest, AnAgentWaitsForACallerAndTakesIt) {
  enter("CA00", "support");
  queues_.leave(sid_, "CA00", "leave");
  auto agent = std::make_shared<AgentInbox>(io_.get_executor());
  auto bridge = std::make_shared<QueueBridge>();
  bridge->agent = agent;
  bridge->agent_executor = io_.get_executor();
  EXPECT_FALSE(queues_.take(sid_, bridge, "http://app/whisper", "POST", io_.get_executor(), agent))
      << "nobody waits yet";
  auto member = enter("CA01", "support");
  run();
  EXPECT_TRUE(agent->member_arrived);
  auto taken = queues_.take(sid_, bridge, "http://app/whisper", "POST", io_.get_executor(), agent);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->call_sid, "CA01");
  run();
  EXPECT_EQ(member->state, MemberInbox::State::kTaken);
  EXPECT_EQ(member->bridge, bridge);
  EXPECT_EQ(member->url, "http://app/whisper");
  EXPECT_EQ(queues_.figures(sid_, 1000).current_size, 0);

  // A caller whose wait ended before the agent's word arrived: the agent hears it is gone.
  auto agent2 = std::make_shared<AgentInbox>(io_.get_executor());
  auto bridge2 = std::make_shared<QueueBridge>();
  bridge2->agent = agent2;
  bridge2->agent_executor = io_.get_executor();
  auto gone = enter("CA02", "support");
  ASSERT_TRUE(queues_.take(sid_, bridge2, "", "POST", io_.get_executor(), agent2));
  gone.reset();
  run();
  EXPECT_TRUE(agent2->member_gone);
}

}  // namespace
}  // namespace sb::voice
