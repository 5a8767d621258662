// Queues and Members through Api::handle: the queue rows (create, fetch, update, delete, list)
// and the callers a real QueueRegistry holds (sizes, members, Front, dequeue to a URL).
#include <gtest/gtest.h>

#include "unit/api/api_fixture.hpp"
#include "voice/call_queue.hpp"

namespace sb::api::test {
namespace {

class QueuesTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    queues_ = std::make_unique<voice::QueueRegistry>(*store_, clock_, nullptr);
  }
  void TearDown() override { store_->flush(); }

  static std::string base(const Account& a) { return "/2010-04-01/Accounts/" + a.sid; }
  static std::string list_path(const Account& a) { return base(a) + "/Queues.json"; }
  static std::string one_path(const Account& a, std::string_view sid) {
    return base(a) + "/Queues/" + std::string(sid) + ".json";
  }
  static std::string members(const Account& a, std::string_view sid) {
    return base(a) + "/Queues/" + std::string(sid) + "/Members.json";
  }
  static std::string member(const Account& a, std::string_view sid, std::string_view who) {
    return base(a) + "/Queues/" + std::string(sid) + "/Members/" + std::string(who) + ".json";
  }

  boost::json::object create(const std::string& body, const Account& who) {
    auto res = call(bhttp::verb::post, list_path(who), &who, body);
    EXPECT_EQ(res.result_int(), 201) << body << ": " << res.body();
    return json(res);
  }

  // A caller waiting in the queue named `name`, as <Enqueue> puts one there.
  std::shared_ptr<voice::MemberInbox> enqueue(const std::string& name,
                                              const std::string& call_sid) {
    auto inbox = std::make_shared<voice::MemberInbox>(io_.get_executor());
    auto entered = queues_->enter(main_.sid, name, call_sid, io_.get_executor(), inbox);
    EXPECT_TRUE(entered.ok());
    return inbox;
  }

  asio::io_context io_;  // the waiting callers' "worker"
  std::unique_ptr<voice::QueueRegistry> queues_;
};

TEST_F(QueuesTest, CreateFetchUpdateDelete) {
  auto q = create("FriendlyName=support", main_);
  const std::string sid(q["sid"].as_string());
  EXPECT_TRUE(is_sid(sid, "QU"));
  EXPECT_EQ(q["account_sid"].as_string(), main_.sid);
  EXPECT_EQ(q["friendly_name"].as_string(), "support");
  EXPECT_EQ(q["max_size"].as_int64(), 1000) << "Twilio's default";
  EXPECT_EQ(q["current_size"].as_int64(), 0);
  EXPECT_EQ(q["average_wait_time"].as_int64(), 0);
  EXPECT_EQ(q["date_created"].as_string(), "Tue, 01 Dec 2026 17:00:00 +0000");
  EXPECT_EQ(q["uri"].as_string(), one_path(main_, sid));
  EXPECT_EQ(q["subresource_uris"].as_object().at("members").as_string(), members(main_, sid));

  auto fetched = call(bhttp::verb::get, one_path(main_, sid), &main_);
  ASSERT_EQ(fetched.result_int(), 200);
  EXPECT_EQ(json(fetched)["friendly_name"].as_string(), "support");

  clock_.advance(60);
  auto updated =
      call(bhttp::verb::post, one_path(main_, sid), &main_, "FriendlyName=sales&MaxSize=5000");
  ASSERT_EQ(updated.result_int(), 200) << updated.body();
  EXPECT_EQ(json(updated)["friendly_name"].as_string(), "sales");
  EXPECT_EQ(json(updated)["max_size"].as_int64(), 5000);
  EXPECT_EQ(json(updated)["date_updated"].as_string(), "Tue, 01 Dec 2026 17:01:00 +0000");
  auto again = json(call(bhttp::verb::get, one_path(main_, sid), &main_));
  EXPECT_EQ(again["max_size"].as_int64(), 5000);
  EXPECT_EQ(again["friendly_name"].as_string(), "sales");

  // Another account sees none of it.
  EXPECT_EQ(call(bhttp::verb::get, one_path(other_, sid), &other_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::delete_, one_path(other_, sid), &other_).result_int(), 404);

  EXPECT_EQ(call(bhttp::verb::delete_, one_path(main_, sid), &main_).result_int(), 204);
  EXPECT_EQ(call(bhttp::verb::get, one_path(main_, sid), &main_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::delete_, one_path(main_, sid), &main_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::get, one_path(main_, "QUnope"), &main_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::put, one_path(main_, sid), &main_).result_int(), 405);
  EXPECT_EQ(call(bhttp::verb::get, list_path(main_), nullptr).result_int(), 401);
}

TEST_F(QueuesTest, RefusesBadNamesSizesAndDuplicates) {
  for (const char* body :
       {"", "MaxSize=10", "FriendlyName=", "FriendlyName=q&MaxSize=0",
        "FriendlyName=q&MaxSize=5001", "FriendlyName=q&MaxSize=ten", "FriendlyName=q&MaxSize=-1"}) {
    auto res = call(bhttp::verb::post, list_path(main_), &main_, body);
    EXPECT_EQ(res.result_int(), 400) << body << ": " << res.body();
    EXPECT_EQ(json(res)["code"].as_int64(), 20001) << body;
  }
  const std::string long_name(65, 'q');
  EXPECT_EQ(
      call(bhttp::verb::post, list_path(main_), &main_, "FriendlyName=" + long_name).result_int(),
      400);
  EXPECT_EQ(create("FriendlyName=q&MaxSize=1", main_)["max_size"].as_int64(), 1);

  // Names are unique within an account, not across accounts.
  auto dup = call(bhttp::verb::post, list_path(main_), &main_, "FriendlyName=q");
  EXPECT_EQ(dup.result_int(), 400);
  EXPECT_NE(json(dup)["message"].as_string().find("already has a queue named 'q'"),
            std::string::npos)
      << dup.body();
  create("FriendlyName=q", other_);
  const std::string other(create("FriendlyName=r", main_)["sid"].as_string());
  auto renamed = call(bhttp::verb::post, one_path(main_, other), &main_, "FriendlyName=q");
  EXPECT_EQ(renamed.result_int(), 400) << renamed.body();
  auto bad_size = call(bhttp::verb::post, one_path(main_, other), &main_, "MaxSize=9999");
  EXPECT_EQ(bad_size.result_int(), 400);
}

TEST_F(QueuesTest, ListOldestFirstAndPaged) {
  std::vector<std::string> sids;
  for (const char* name : {"a", "b", "c"}) {
    sids.emplace_back(create(std::string("FriendlyName=") + name, main_)["sid"].as_string());
  }
  create("FriendlyName=theirs", other_);
  auto page = json(call(bhttp::verb::get, list_path(main_) + "?PageSize=2", &main_));
  const auto& rows = page["queues"].as_array();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].as_object().at("sid").as_string(), sids[0]);
  EXPECT_EQ(rows[1].as_object().at("sid").as_string(), sids[1]);
  ASSERT_FALSE(page["next_page_uri"].is_null());
  auto next = json(call(bhttp::verb::get, std::string(page["next_page_uri"].as_string()), &main_));
  ASSERT_EQ(next["queues"].as_array().size(), 1u);
  EXPECT_EQ(next["queues"].as_array()[0].as_object().at("sid").as_string(), sids[2]);
}

TEST_F(QueuesTest, MembersAreTheCallersWaiting) {
  api_->set_queues(queues_.get());
  const std::string sid(create("FriendlyName=support", main_)["sid"].as_string());
  const std::string first = make_sid("CA"), second = make_sid("CA");

  // Empty: no members, no Front.
  auto empty = json(call(bhttp::verb::get, members(main_, sid), &main_));
  EXPECT_TRUE(empty["queue_members"].as_array().empty());
  EXPECT_EQ(call(bhttp::verb::get, member(main_, sid, "Front"), &main_).result_int(), 404);

  auto first_inbox = enqueue("support", first);
  clock_.advance(30);
  auto second_inbox = enqueue("support", second);
  clock_.advance(10);

  auto q = json(call(bhttp::verb::get, one_path(main_, sid), &main_));
  EXPECT_EQ(q["current_size"].as_int64(), 2);
  auto listed = json(call(bhttp::verb::get, members(main_, sid), &main_));
  const auto& rows = listed["queue_members"].as_array();
  ASSERT_EQ(rows.size(), 2u);
  const auto& front = rows[0].as_object();
  EXPECT_EQ(front.at("call_sid").as_string(), first);
  EXPECT_EQ(front.at("position").as_int64(), 1);
  EXPECT_EQ(front.at("wait_time").as_int64(), 40);
  EXPECT_EQ(front.at("queue_sid").as_string(), sid);
  EXPECT_EQ(front.at("date_enqueued").as_string(), "Tue, 01 Dec 2026 17:00:00 +0000");
  EXPECT_EQ(front.at("uri").as_string(), member(main_, sid, first));
  EXPECT_EQ(rows[1].as_object().at("position").as_int64(), 2);

  // Paged by position.
  auto page = json(call(bhttp::verb::get, members(main_, sid) + "?PageSize=1", &main_));
  ASSERT_EQ(page["queue_members"].as_array().size(), 1u);
  auto next = json(call(bhttp::verb::get, std::string(page["next_page_uri"].as_string()), &main_));
  ASSERT_EQ(next["queue_members"].as_array().size(), 1u);
  EXPECT_EQ(next["queue_members"].as_array()[0].as_object().at("call_sid").as_string(), second);
  EXPECT_TRUE(next["next_page_uri"].is_null());

  auto by_sid = json(call(bhttp::verb::get, member(main_, sid, second), &main_));
  EXPECT_EQ(by_sid["position"].as_int64(), 2);
  EXPECT_EQ(
      json(call(bhttp::verb::get, member(main_, sid, "Front"), &main_))["call_sid"].as_string(),
      first);
  EXPECT_EQ(call(bhttp::verb::get, member(main_, sid, make_sid("CA")), &main_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::get, member(main_, sid, "Back"), &main_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::get, members(other_, sid), &other_).result_int(), 404);

  // A queue with callers in it stays.
  auto busy = call(bhttp::verb::delete_, one_path(main_, sid), &main_);
  EXPECT_EQ(busy.result_int(), 400);
  EXPECT_NE(json(busy)["message"].as_string().find("Queue is not empty"), std::string::npos);

  // Dequeue: Url is required and must be absolute; Method GET or POST.
  for (const char* body : {"", "Url=%2Frelative.xml", "Url=ftp%3A%2F%2Fapp.example%2Fx"}) {
    auto res = call(bhttp::verb::post, member(main_, sid, "Front"), &main_, body);
    EXPECT_EQ(res.result_int(), 400) << body;
    EXPECT_EQ(json(res)["code"].as_int64(), 21205) << body;
  }
  auto bad_method = call(bhttp::verb::post, member(main_, sid, "Front"), &main_,
                         "Url=https%3A%2F%2Fapp.example%2Fagent.xml&Method=PUT");
  EXPECT_EQ(bad_method.result_int(), 400);
  auto gone = call(bhttp::verb::post, member(main_, sid, make_sid("CA")), &main_,
                   "Url=https%3A%2F%2Fapp.example%2Fagent.xml");
  EXPECT_EQ(gone.result_int(), 404);

  auto dequeued = call(bhttp::verb::post, member(main_, sid, "Front"), &main_,
                       "Url=https%3A%2F%2Fapp.example%2Fagent.xml&Method=get");
  ASSERT_EQ(dequeued.result_int(), 200) << dequeued.body();
  EXPECT_EQ(json(dequeued)["call_sid"].as_string(), first);
  io_.run();  // the member's worker hears where to go
  EXPECT_EQ(first_inbox->state, voice::MemberInbox::State::kRedirected);
  EXPECT_EQ(first_inbox->url, "https://app.example/agent.xml");
  EXPECT_EQ(first_inbox->method, "GET");
  EXPECT_EQ(second_inbox->state, voice::MemberInbox::State::kWaiting);

  auto after = json(call(bhttp::verb::get, members(main_, sid), &main_));
  ASSERT_EQ(after["queue_members"].as_array().size(), 1u);
  EXPECT_EQ(after["queue_members"].as_array()[0].as_object().at("position").as_int64(), 1);
  auto by_call = call(bhttp::verb::post, member(main_, sid, second), &main_,
                      "Url=https%3A%2F%2Fapp.example%2Fagent.xml");
  ASSERT_EQ(by_call.result_int(), 200);
  io_.restart();
  io_.run();
  EXPECT_EQ(second_inbox->method, "POST") << "Method defaults to POST";
  EXPECT_EQ(call(bhttp::verb::delete_, one_path(main_, sid), &main_).result_int(), 204);
}

TEST_F(QueuesTest, MaxSizeReachesTheLiveQueue) {
  api_->set_queues(queues_.get());
  const std::string sid(create("FriendlyName=tiny", main_)["sid"].as_string());
  enqueue("tiny", make_sid("CA"));
  auto updated = call(bhttp::verb::post, one_path(main_, sid), &main_, "MaxSize=1");
  ASSERT_EQ(updated.result_int(), 200) << updated.body();
  auto inbox = std::make_shared<voice::MemberInbox>(io_.get_executor());
  EXPECT_FALSE(queues_->enter(main_.sid, "tiny", make_sid("CA"), io_.get_executor(), inbox).ok())
      << "the queue is full at its new size";
  EXPECT_EQ(queues_->figures(sid, 1).current_size, 1);
}

}  // namespace
}  // namespace sb::api::test
