// Conferences and Participants through Api::handle: the conference records (list, filters,
// fetch, Status=completed), the live participants of a real ConferenceRegistry, and
// Participants.json create placing a call whose TwiML dials it into the room.
#include <gtest/gtest.h>

#include <mutex>

#include "twiml/parser.hpp"
#include "unit/api/api_fixture.hpp"
#include "voice/conference.hpp"

namespace sb::api::test {
namespace {

constexpr std::int64_t kDec1 = 1796083200;  // 2026-12-01 00:00:00 GMT

// Keeps the calls the API places. (No shared fake of voice::Dialer exists in tests/support yet.)
class PlacedCalls final : public voice::Dialer {
 public:
  void place(voice::OutboundRequest request) override {
    std::lock_guard lock(mu_);
    placed_.push_back(std::move(request));
  }
  bool cancel_queued(const std::string&, const std::string&) override { return false; }
  bool queue_full(const std::string&) const override { return false; }
  std::vector<voice::OutboundRequest> placed() const {
    std::lock_guard lock(mu_);
    return placed_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<voice::OutboundRequest> placed_;
};

class ConferencesTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    rooms_ = std::make_unique<voice::ConferenceRegistry>(*store_, clock_, nullptr);
  }
  void TearDown() override { store_->flush(); }

  store::Conference add(const Account& account, const std::string& name, const std::string& status,
                        std::int64_t created, std::int64_t updated) {
    store::Conference c;
    c.sid = make_sid("CF");
    c.account_sid = account.sid;
    c.friendly_name = name;
    c.status = status;
    c.date_created = created;
    c.date_updated = updated;
    if (status == "completed") c.reason_conference_ended = "last-participant-left";
    EXPECT_TRUE(store_->write_sync(store::InsertConference{c}));
    return c;
  }

  static std::string base(const Account& a) { return "/2010-04-01/Accounts/" + a.sid; }
  static std::string list_path(const Account& a) { return base(a) + "/Conferences.json"; }
  static std::string one_path(const Account& a, std::string_view sid) {
    return base(a) + "/Conferences/" + std::string(sid) + ".json";
  }
  static std::string participants(const Account& a, std::string_view conference) {
    return base(a) + "/Conferences/" + std::string(conference) + "/Participants.json";
  }
  static std::string participant(const Account& a, std::string_view conference,
                                 std::string_view who) {
    return base(a) + "/Conferences/" + std::string(conference) + "/Participants/" +
           std::string(who) + ".json";
  }

  std::vector<std::string> listed(const std::string& target, const char* key = "conferences") {
    auto res = call(bhttp::verb::get, target, &main_);
    EXPECT_EQ(res.result_int(), 200) << target << ": " << res.body();
    std::vector<std::string> out;
    if (res.result_int() != 200) return out;
    const auto body = json(res);
    for (const auto& r : body.at(key).as_array()) {
      const auto& o = r.as_object();
      out.emplace_back(o.contains("sid") ? o.at("sid").as_string() : o.at("call_sid").as_string());
    }
    return out;
  }

  // The registry's room of `name`, written to the store as it would be when a call joins.
  std::string open_room(const std::string& name) {
    auto sid = rooms_->open(main_.sid, name);
    EXPECT_TRUE(sid.ok());
    store_->flush();
    return sid.ok() ? *sid : std::string();
  }

  std::unique_ptr<voice::ConferenceRegistry> rooms_;
  PlacedCalls dialer_;
};

using Sids = std::vector<std::string>;

TEST_F(ConferencesTest, FetchHasTwilioShape) {
  const auto c = add(main_, "standup", "completed", kDec1, kDec1 + 60);
  auto res = call(bhttp::verb::get, one_path(main_, c.sid), &main_);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto o = json(res);
  EXPECT_EQ(o["sid"].as_string(), c.sid);
  EXPECT_EQ(o["account_sid"].as_string(), main_.sid);
  EXPECT_EQ(o["friendly_name"].as_string(), "standup");
  EXPECT_EQ(o["status"].as_string(), "completed");
  EXPECT_EQ(o["api_version"].as_string(), "2010-04-01");
  EXPECT_TRUE(o["region"].is_null());
  EXPECT_EQ(o["reason_conference_ended"].as_string(), "last-participant-left");
  EXPECT_TRUE(o["call_sid_ending_conference"].is_null());
  EXPECT_EQ(o["date_created"].as_string(), "Tue, 01 Dec 2026 00:00:00 +0000");
  EXPECT_EQ(o["date_updated"].as_string(), "Tue, 01 Dec 2026 00:01:00 +0000");
  EXPECT_EQ(o["uri"].as_string(), one_path(main_, c.sid));
  const auto& subs = o["subresource_uris"].as_object();
  EXPECT_EQ(subs.at("participants").as_string(), participants(main_, c.sid));
  EXPECT_EQ(subs.at("recordings").as_string(),
            base(main_) + "/Conferences/" + c.sid + "/Recordings.json");

  // Another account's conference, an unknown one and a malformed SID are all 404 (20404).
  const auto theirs = add(other_, "standup", "init", kDec1, kDec1);
  for (const std::string& target :
       {one_path(main_, theirs.sid), one_path(main_, make_sid("CF")), one_path(main_, "CFnope")}) {
    auto r = call(bhttp::verb::get, target, &main_);
    EXPECT_EQ(r.result_int(), 404) << target;
    EXPECT_EQ(json(r)["code"].as_int64(), 20404);
  }
  EXPECT_EQ(call(bhttp::verb::get, one_path(main_, c.sid), nullptr).result_int(), 401);
  EXPECT_EQ(call(bhttp::verb::delete_, one_path(main_, c.sid), &main_).result_int(), 405);
  EXPECT_EQ(call(bhttp::verb::post, list_path(main_), &main_).result_int(), 405);
}

TEST_F(ConferencesTest, ListNewestFirstWithFilters) {
  const auto a = add(main_, "alpha", "completed", kDec1 - 10, kDec1 + 86400);
  const auto b = add(main_, "beta", "in-progress", kDec1 + 10, kDec1 + 20);
  const auto c = add(main_, "alpha", "init", kDec1 + 86400, kDec1 + 86400);
  add(other_, "alpha", "init", kDec1, kDec1);
  const std::string path = list_path(main_);

  EXPECT_EQ(listed(path), (Sids{c.sid, b.sid, a.sid}));
  EXPECT_EQ(listed(path + "?FriendlyName=alpha"), (Sids{c.sid, a.sid}));
  EXPECT_EQ(listed(path + "?Status=in-progress"), (Sids{b.sid}));
  EXPECT_EQ(listed(path + "?DateCreated=2026-12-01"), (Sids{b.sid}));
  EXPECT_EQ(listed(path + "?DateCreated<=2026-12-01"), (Sids{a.sid}));  // up to 00:00:00
  EXPECT_EQ(listed(path + "?DateCreated%3C=2026-12-01T00%3A00%3A10Z"), (Sids{b.sid, a.sid}));
  EXPECT_EQ(listed(path + "?DateUpdated=2026-12-02"), (Sids{c.sid, a.sid}));
  EXPECT_EQ(listed(path + "?DateUpdated>=2026-12-02&FriendlyName=alpha&Status=completed"),
            (Sids{a.sid}));

  auto page = json(call(bhttp::verb::get, path + "?FriendlyName=alpha&PageSize=1", &main_));
  ASSERT_FALSE(page["next_page_uri"].is_null());
  const std::string next(page["next_page_uri"].as_string());
  EXPECT_NE(next.find("FriendlyName=alpha"), std::string::npos) << next;
  EXPECT_EQ(listed(next), (Sids{a.sid}));

  for (const char* bad : {"?Status=ringing", "?DateUpdated=tomorrow", "?DateCreated>=2026-13-01"}) {
    auto res = call(bhttp::verb::get, path + bad, &main_);
    EXPECT_EQ(res.result_int(), 400) << bad;
    EXPECT_EQ(json(res)["code"].as_int64(), 20001) << bad;
  }
}

TEST_F(ConferencesTest, UpdateEndsALiveRoomAndRefusesWhatItCannotDo) {
  api_->set_conferences(rooms_.get());
  const std::string sid = open_room("standup");
  const std::string path = one_path(main_, sid);

  auto announce =
      call(bhttp::verb::post, path, &main_, "AnnounceUrl=https%3A%2F%2Fapp.example%2Fannounce.xml");
  EXPECT_EQ(announce.result_int(), 400);
  EXPECT_EQ(json(announce)["code"].as_int64(), 21218);
  EXPECT_NE(json(announce)["message"].as_string().find("not supported yet"), std::string::npos);
  auto bad = call(bhttp::verb::post, path, &main_, "Status=in-progress");
  EXPECT_EQ(bad.result_int(), 400);
  EXPECT_EQ(json(bad)["code"].as_int64(), 20001);
  ASSERT_TRUE(rooms_->participants(main_.sid, sid).has_value()) << "a refusal changes nothing";

  // An empty update shows the conference as it is.
  auto same = call(bhttp::verb::post, path, &main_, "");
  ASSERT_EQ(same.result_int(), 200) << same.body();
  EXPECT_EQ(json(same)["status"].as_string(), "init");

  auto ended = call(bhttp::verb::post, path, &main_, "Status=completed");
  ASSERT_EQ(ended.result_int(), 200) << ended.body();
  auto o = json(ended);
  EXPECT_EQ(o["status"].as_string(), "completed");
  EXPECT_EQ(o["reason_conference_ended"].as_string(), "conference-ended-via-api");
  EXPECT_FALSE(rooms_->participants(main_.sid, sid).has_value()) << "the room is gone";
  store_->flush();
  EXPECT_EQ(json(call(bhttp::verb::get, path, &main_))["status"].as_string(), "completed");

  // Ending an ended conference is a no-op that shows it.
  auto again = call(bhttp::verb::post, path, &main_, "Status=completed");
  EXPECT_EQ(again.result_int(), 200);
  EXPECT_EQ(call(bhttp::verb::post, one_path(main_, make_sid("CF")), &main_, "Status=completed")
                .result_int(),
            404);
}

TEST_F(ConferencesTest, UpdateWithoutLiveRoomsIsUnavailable) {
  const auto c = add(main_, "standup", "in-progress", kDec1, kDec1);
  auto res = call(bhttp::verb::post, one_path(main_, c.sid), &main_, "Status=completed");
  EXPECT_EQ(res.result_int(), 503);
}

TEST_F(ConferencesTest, ParticipantsOfRoomsThatAreNotLive) {
  const auto over = add(main_, "standup", "completed", kDec1, kDec1);
  // Without a registry and with one: an ended conference lists nobody.
  EXPECT_TRUE(listed(participants(main_, over.sid), "participants").empty());
  api_->set_conferences(rooms_.get());
  auto res = call(bhttp::verb::get, participants(main_, over.sid) + "?Muted=true", &main_);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto o = json(res);
  EXPECT_TRUE(o["participants"].as_array().empty());
  EXPECT_EQ(o["page"].as_int64(), 0);
  EXPECT_TRUE(o["next_page_uri"].is_null());

  // A live room with nobody in it yet.
  const std::string live = open_room("fresh");
  EXPECT_TRUE(listed(participants(main_, live), "participants").empty());

  EXPECT_EQ(call(bhttp::verb::get, participants(main_, make_sid("CF")), &main_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::get, participants(other_, over.sid), &other_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::get, participants(main_, "standup"), &main_).result_int(), 404);
  auto bad = call(bhttp::verb::get, participants(main_, over.sid) + "?Hold=yes", &main_);
  EXPECT_EQ(bad.result_int(), 400);

  // No such participant, by CallSid or by a percent-encoded label.
  for (const std::string& who : {make_sid("CA"), std::string("agent%20one")}) {
    EXPECT_EQ(call(bhttp::verb::get, participant(main_, live, who), &main_).result_int(), 404);
    EXPECT_EQ(
        call(bhttp::verb::post, participant(main_, live, who), &main_, "Muted=true").result_int(),
        404);
    EXPECT_EQ(call(bhttp::verb::delete_, participant(main_, live, who), &main_).result_int(), 404);
  }
  EXPECT_EQ(call(bhttp::verb::get, participant(main_, live, "bad%zz"), &main_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::put, participant(main_, live, make_sid("CA")), &main_).result_int(),
            405);
}

TEST_F(ConferencesTest, ParticipantWritesNeedTheRegistryAndTheDialer) {
  const auto c = add(main_, "standup", "in-progress", kDec1, kDec1);
  const std::string who = make_sid("CA");
  EXPECT_EQ(call(bhttp::verb::delete_, participant(main_, c.sid, who), &main_).result_int(), 503);
  EXPECT_EQ(
      call(bhttp::verb::post, participant(main_, c.sid, who), &main_, "Muted=true").result_int(),
      503);
  EXPECT_EQ(call(bhttp::verb::post, participants(main_, "standup"), &main_,
                 "From=%2B14155550100&To=%2B14155550199")
                .result_int(),
            503);
  EXPECT_TRUE(dialer_.placed().empty());
}

TEST_F(ConferencesTest, CreateParticipantByNamePlacesACallIntoTheRoom) {
  api_->set_conferences(rooms_.get());
  api_->set_dialer(&dialer_);
  create_number(main_, "+14155550100");
  auto res = call(bhttp::verb::post, participants(main_, "Sales%20%26%20%22Ops%22"), &main_,
                  "From=%2B14155550100&To=%2B14155550199&Label=agent%3Cone%3E&Muted=yes&"
                  "Beep=onEnter&EndConferenceOnExit=true&WaitUrl=&MaxParticipants=10&"
                  "ConferenceRecord=true&ConferenceStatusCallback=https%3A%2F%2Fapp.example%2Fcf&"
                  "ConferenceStatusCallbackEvent=start%20join&ConferenceStatusCallbackEvent=leave&"
                  "StatusCallback=https%3A%2F%2Fapp.example%2Fcall&TimeLimit=600&Timeout=30");
  ASSERT_EQ(res.result_int(), 201) << res.body();
  auto o = json(res);
  const auto placed = dialer_.placed();
  ASSERT_EQ(placed.size(), 1u);
  const voice::OutboundRequest& r = placed[0];

  // The room of that name is live, and the call is on its way to it.
  const auto room = rooms_->open(main_.sid, "Sales & \"Ops\"");
  ASSERT_TRUE(room.ok());
  EXPECT_EQ(r.conference_sid, *room);
  EXPECT_EQ(o["conference_sid"].as_string(), *room);
  EXPECT_EQ(o["call_sid"].as_string(), r.info.call_sid);
  EXPECT_EQ(o["status"].as_string(), "queued");
  EXPECT_EQ(o["label"].as_string(), "agent<one>");
  EXPECT_FALSE(o["muted"].as_bool()) << "Muted other than true is false";
  EXPECT_FALSE(o["hold"].as_bool());
  EXPECT_FALSE(o["coaching"].as_bool());
  EXPECT_TRUE(o["end_conference_on_exit"].as_bool());
  EXPECT_TRUE(o["start_conference_on_enter"].as_bool());
  EXPECT_EQ(o["queue_time"].as_string(), "0");
  EXPECT_EQ(o["uri"].as_string(), participant(main_, *room, r.info.call_sid));

  // As Calls.json: From, To, the status callback, the ring timeout and the time limit.
  EXPECT_EQ(r.info.from, "+14155550100");
  EXPECT_EQ(r.info.to, "+14155550199");
  EXPECT_EQ(r.application.status_callback, "https://app.example/call");
  EXPECT_EQ(r.timeout_s, 30);
  EXPECT_EQ(r.time_limit_s, 600);
  EXPECT_FALSE(r.phone_number_sid.empty());
  auto call_row = store_->find_call(main_.sid, r.info.call_sid);
  ASSERT_TRUE(call_row.ok() && call_row->has_value());
  EXPECT_EQ((*call_row)->status, "queued");

  // The inline document: escaped, and only what was given.
  EXPECT_EQ(r.twiml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial timeLimit=\"600\">"
            "<Conference muted=\"false\" beep=\"onEnter\" endConferenceOnExit=\"true\" "
            "waitUrl=\"\" maxParticipants=\"10\" record=\"record-from-start\" "
            "participantLabel=\"agent&lt;one&gt;\" statusCallback=\"https://app.example/cf\" "
            "statusCallbackEvent=\"start join leave\">Sales &amp; &quot;Ops&quot;</Conference>"
            "</Dial></Response>");
  auto doc = twiml::parse(r.twiml);
  for (const auto& d : doc.diagnostics) ADD_FAILURE() << d.message;
}

TEST_F(ConferencesTest, CreateParticipantInALiveRoomBySidAndCoaching) {
  api_->set_conferences(rooms_.get());
  api_->set_dialer(&dialer_);
  create_number(main_, "+14155550100");
  const std::string sid = open_room("standup");
  const std::string coached = make_sid("CA");
  auto res = call(bhttp::verb::post, participants(main_, sid), &main_,
                  "From=%2B14155550100&To=sip%3Aagent%40pbx.example&CallSidToCoach=" + coached +
                      "&Muted=true&StartConferenceOnEnter=false");
  ASSERT_EQ(res.result_int(), 201) << res.body();
  auto o = json(res);
  EXPECT_EQ(o["conference_sid"].as_string(), sid);
  EXPECT_TRUE(o["coaching"].as_bool());
  EXPECT_EQ(o["call_sid_to_coach"].as_string(), coached);
  EXPECT_TRUE(o["muted"].as_bool());
  EXPECT_FALSE(o["start_conference_on_enter"].as_bool());
  EXPECT_TRUE(o["label"].is_null());
  const auto placed = dialer_.placed();
  ASSERT_EQ(placed.size(), 1u);
  const auto& r = placed[0];
  EXPECT_EQ(r.conference_sid, sid);
  EXPECT_EQ(r.twiml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Dial><Conference muted=\"true\" "
            "startConferenceOnEnter=\"false\" coach=\"" +
                coached + "\">standup</Conference></Dial></Response>");

  // A conference that is over takes no one; an unknown SID is not found.
  rooms_->end(main_.sid, sid);
  store_->flush();
  auto over = call(bhttp::verb::post, participants(main_, sid), &main_,
                   "From=%2B14155550100&To=%2B14155550199");
  EXPECT_EQ(over.result_int(), 400) << over.body();
  EXPECT_EQ(call(bhttp::verb::post, participants(main_, make_sid("CF")), &main_,
                 "From=%2B14155550100&To=%2B14155550199")
                .result_int(),
            404);
  EXPECT_EQ(dialer_.placed().size(), 1u);
}

TEST_F(ConferencesTest, CreateParticipantRefusesBadParameters) {
  api_->set_conferences(rooms_.get());
  api_->set_dialer(&dialer_);
  create_number(main_, "+14155550100");
  const std::string ok = "From=%2B14155550100&To=%2B14155550199";
  struct Case {
    std::string body;
    int code;
  };
  for (const Case& c :
       {Case{"To=%2B14155550199", 21213}, Case{"From=%2B14155550111&To=%2B14155550199", 21210},
        Case{ok + "&Timeout=4", 21208}, Case{ok + "&Beep=loud", 20001},
        Case{ok + "&MaxParticipants=1", 20001}, Case{ok + "&MaxParticipants=251", 20001},
        Case{ok + "&ConferenceRecord=maybe", 20001}, Case{ok + "&ConferenceTrim=yes", 20001},
        Case{ok + "&ConferenceStatusCallbackEvent=start%20explode", 20001},
        Case{ok + "&ConferenceStatusCallback=ftp%3A%2F%2Fx", 21205},
        Case{ok + "&WaitUrl=not-a-url", 21205}, Case{ok + "&WaitMethod=PUT", 21209},
        Case{ok + "&Coaching=true", 13240}, Case{ok + "&CallSidToCoach=CAnope", 20001},
        Case{ok + "&Region=mars1", 20001}, Case{ok + "&StatusCallbackEvent=exploded", 20001}}) {
    auto res = call(bhttp::verb::post, participants(main_, "room"), &main_, c.body);
    EXPECT_EQ(res.result_int(), 400) << c.body << ": " << res.body();
    EXPECT_EQ(json(res)["code"].as_int64(), c.code) << c.body << ": " << res.body();
  }
  // A name that cannot be a conference's.
  const std::string too_long(129, 'x');
  for (const std::string& name : {too_long, std::string("%20%20"), std::string("a%01b")}) {
    auto res = call(bhttp::verb::post, participants(main_, name), &main_, ok);
    EXPECT_GE(res.result_int(), 400) << name;
    EXPECT_LT(res.result_int(), 500) << name;
  }
  EXPECT_TRUE(dialer_.placed().empty());
  EXPECT_EQ(rooms_->size(), 0u) << "a refused participant opens no room";
}

}  // namespace
}  // namespace sb::api::test
