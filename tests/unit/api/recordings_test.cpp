// Recordings through Api::handle: list, filters, paging, fetch, delete, the call-scoped routes,
// and the unauthenticated media (WAV) route.
#include <gtest/gtest.h>

#include <fstream>

#include "api/resources.hpp"
#include "unit/api/api_fixture.hpp"

namespace sb::api::test {
namespace {

constexpr std::int64_t kDec1 = 1796083200;  // 2026-12-01 00:00:00 GMT

// Bytes that are not text: a WAV header and samples with NULs and high bytes.
std::string wav_bytes(std::size_t samples) {
  std::string out("RIFF\x24\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0", 24);
  for (std::size_t i = 0; i < samples; ++i) out.push_back(static_cast<char>(i * 37));
  return out;
}

class RecordingsTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    recordings_dir_ = dir_.path() / "recordings";
    std::filesystem::create_directories(recordings_dir_);
    api_->set_recordings_dir(recordings_dir_);
  }

  // A completed recording of `account` with a WAV file under the recordings directory.
  store::Recording add(const Account& account, const std::string& call_sid, std::int64_t created,
                       const std::string& bytes = wav_bytes(64)) {
    store::Recording r;
    r.sid = make_sid("RE");
    r.account_sid = account.sid;
    r.call_sid = call_sid;
    r.duration = 3;
    r.start_time = created - 3;
    r.media_path = r.sid + ".wav";
    r.date_created = r.date_updated = created;
    std::ofstream(recordings_dir_ / r.media_path, std::ios::binary) << bytes;
    EXPECT_TRUE(store_->write_sync(store::InsertRecording{r}));
    return r;
  }

  static std::string list_path(const Account& a) {
    return "/2010-04-01/Accounts/" + a.sid + "/Recordings.json";
  }
  static std::string one_path(const Account& a, std::string_view sid, std::string_view ext) {
    return "/2010-04-01/Accounts/" + a.sid + "/Recordings/" + std::string(sid) + std::string(ext);
  }
  static std::string call_path(const Account& a, std::string_view call, std::string_view rest) {
    return "/2010-04-01/Accounts/" + a.sid + "/Calls/" + std::string(call) + "/Recordings" +
           std::string(rest);
  }

  std::vector<std::string> listed_sids(const std::string& target, const Account& who) {
    auto res = call(bhttp::verb::get, target, &who);
    EXPECT_EQ(res.result_int(), 200) << target << ": " << res.body();
    std::vector<std::string> out;
    if (res.result_int() != 200) return out;
    auto body = json(res);
    for (const auto& r : body["recordings"].as_array()) {
      out.emplace_back(r.as_object().at("sid").as_string());
    }
    return out;
  }

  std::filesystem::path recordings_dir_;
  const std::string call_a_ = make_sid("CA");
  const std::string call_b_ = make_sid("CA");
};

using Sids = std::vector<std::string>;

TEST_F(RecordingsTest, FetchHasTwilioShape) {
  api_->set_public_url("https://sb.example.com/");
  store::Recording r = add(main_, call_a_, kDec1 + 61200);  // Tue, 01 Dec 2026 17:00:00
  auto res = call(bhttp::verb::get, one_path(main_, r.sid, ".json"), &main_);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  auto o = json(res);
  EXPECT_EQ(o["sid"].as_string(), r.sid);
  EXPECT_EQ(o["account_sid"].as_string(), main_.sid);
  EXPECT_EQ(o["call_sid"].as_string(), call_a_);
  EXPECT_EQ(o["api_version"].as_string(), "2010-04-01");
  EXPECT_TRUE(o["conference_sid"].is_null());
  EXPECT_EQ(o["channels"].as_int64(), 1);
  EXPECT_EQ(o["status"].as_string(), "completed");
  EXPECT_EQ(o["source"].as_string(), "RecordVerb");
  EXPECT_EQ(o["duration"].as_string(), "3");
  EXPECT_EQ(o["date_created"].as_string(), "Tue, 01 Dec 2026 17:00:00 +0000");
  EXPECT_EQ(o["date_updated"].as_string(), "Tue, 01 Dec 2026 17:00:00 +0000");
  EXPECT_EQ(o["start_time"].as_string(), "Tue, 01 Dec 2026 16:59:57 +0000");
  EXPECT_TRUE(o["price"].is_null());
  EXPECT_EQ(o["price_unit"].as_string(), "USD");
  EXPECT_TRUE(o["error_code"].is_null());
  EXPECT_TRUE(o["encryption_details"].is_null());
  EXPECT_EQ(o["uri"].as_string(), one_path(main_, r.sid, ".json"));
  EXPECT_EQ(o["media_url"].as_string(), "https://sb.example.com" + one_path(main_, r.sid, ""));
  const auto& subs = o["subresource_uris"].as_object();
  EXPECT_EQ(subs.at("add_on_results").as_string(), one_path(main_, r.sid, "/AddOnResults.json"));
  EXPECT_EQ(subs.at("transcriptions").as_string(), one_path(main_, r.sid, "/Transcriptions.json"));

  // A failed recording carries its error code as a number.
  store::Recording failed = r;
  failed.status = "failed";
  failed.error_code = 16104;
  ASSERT_TRUE(store_->write_sync(store::UpdateRecording{failed}));
  auto f = json(call(bhttp::verb::get, one_path(main_, r.sid, ".json"), &main_));
  EXPECT_EQ(f["error_code"].as_int64(), 16104);
  EXPECT_EQ(f["status"].as_string(), "failed");

  // The account and the call point at their recordings.
  auto acct = json(call(bhttp::verb::get, account(main_), &main_));
  EXPECT_EQ(acct["subresource_uris"].as_object().at("recordings").as_string(), list_path(main_));
}

TEST_F(RecordingsTest, MediaUrlFollowsTheHostWithoutAPublicUrl) {
  store::Recording r = add(main_, call_a_, kDec1);
  http::Request req{bhttp::verb::get, one_path(main_, r.sid, ".json"), 11};
  req.set(bhttp::field::authorization,
          "Basic " + http::base64_encode(main_.sid + ":" + main_.auth_token));
  req.set(bhttp::field::host, "127.0.0.1:8080");
  EXPECT_EQ(json(send(req))["media_url"].as_string(),
            "http://127.0.0.1:8080" + one_path(main_, r.sid, ""));
  req.set(bhttp::field::host, "evil.example/\"x");  // not a host: no scheme and authority
  EXPECT_EQ(json(send(req))["media_url"].as_string(), one_path(main_, r.sid, ""));
}

TEST_F(RecordingsTest, ListNewestFirstScopedAndFiltered) {
  const auto r0 = add(main_, call_a_, kDec1 - 1);      // Nov 30 23:59:59
  const auto r1 = add(main_, call_a_, kDec1);          // Dec 1 00:00:00
  const auto r2 = add(main_, call_b_, kDec1 + 3600);   // Dec 1 01:00:00
  const auto r3 = add(main_, call_a_, kDec1 + 86400);  // Dec 2 00:00:00
  const auto theirs = add(other_, call_a_, kDec1);
  const std::string path = list_path(main_);

  EXPECT_EQ(listed_sids(path, main_), (Sids{r3.sid, r2.sid, r1.sid, r0.sid}));
  EXPECT_EQ(listed_sids(list_path(other_), other_), (Sids{theirs.sid}));
  EXPECT_EQ(listed_sids(path + "?CallSid=" + call_a_, main_), (Sids{r3.sid, r1.sid, r0.sid}));
  EXPECT_EQ(listed_sids(path + "?DateCreated=2026-12-01", main_), (Sids{r2.sid, r1.sid}));
  // The official client sends a date-time: DateCreated is still that whole day.
  EXPECT_EQ(listed_sids(path + "?DateCreated=2026-12-01T12%3A00%3A00Z", main_),
            (Sids{r2.sid, r1.sid}));
  // DateCreated<= and DateCreated>= (keys "DateCreated<", "DateCreated>") include the bound.
  EXPECT_EQ(listed_sids(path + "?DateCreated<=2026-12-01", main_), (Sids{r1.sid, r0.sid}));
  EXPECT_EQ(listed_sids(path + "?DateCreated%3C=2026-12-01T01%3A00%3A00Z", main_),
            (Sids{r2.sid, r1.sid, r0.sid}));
  EXPECT_EQ(listed_sids(path + "?DateCreated>=2026-12-01T01%3A00%3A00%2B01%3A00", main_),
            (Sids{r3.sid, r2.sid, r1.sid}));  // 00:00 GMT
  EXPECT_EQ(listed_sids(path +
                            "?DateCreated>=2026-12-01&DateCreated<=2026-12-01T01%3A00%3A00Z&"
                            "CallSid=" +
                            call_a_,
                        main_),
            (Sids{r1.sid}));

  for (const char* bad : {"?DateCreated=yesterday", "?DateCreated<=2026-02-30",
                          "?DateCreated>=2026-12-01T25%3A00%3A00Z", "?DateCreated=2026-12-01T10"}) {
    auto res = call(bhttp::verb::get, path + bad, &main_);
    EXPECT_EQ(res.result_int(), 400) << bad;
    EXPECT_EQ(json(res)["code"].as_int64(), 20001) << bad;
  }

  // Paging keeps the filters in next_page_uri and visits every recording once.
  auto first = json(call(bhttp::verb::get, path + "?CallSid=" + call_a_ + "&PageSize=2", &main_));
  ASSERT_EQ(first["recordings"].as_array().size(), 2u);
  ASSERT_FALSE(first["next_page_uri"].is_null());
  const std::string next(first["next_page_uri"].as_string());
  EXPECT_NE(next.find("CallSid=" + call_a_), std::string::npos) << next;
  EXPECT_EQ(listed_sids(next, main_), (Sids{r0.sid}));
  auto dated = json(call(bhttp::verb::get, path + "?DateCreated<=2026-12-02&PageSize=1", &main_));
  EXPECT_EQ(listed_sids(std::string(dated["next_page_uri"].as_string()), main_), (Sids{r2.sid}));

  // One call's recordings.
  EXPECT_EQ(listed_sids(call_path(main_, call_b_, ".json"), main_), (Sids{r2.sid}));
  EXPECT_EQ(listed_sids(call_path(main_, call_a_, ".json?DateCreated=2026-12-02"), main_),
            (Sids{r3.sid}));
  EXPECT_TRUE(listed_sids(call_path(main_, make_sid("CA"), ".json"), main_).empty());
  EXPECT_EQ(call(bhttp::verb::get, call_path(main_, "CAnope", ".json"), &main_).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::post, call_path(main_, call_a_, ".json"), &main_).result_int(), 405);
  EXPECT_EQ(call(bhttp::verb::post, path, &main_).result_int(), 405);
}

TEST_F(RecordingsTest, CredentialsAndScoping) {
  const auto mine = add(main_, call_a_, kDec1);
  const auto subs = add(sub_, call_b_, kDec1);
  const auto theirs = add(other_, call_a_, kDec1);

  for (const std::string& target :
       {list_path(main_), one_path(main_, mine.sid, ".json"), call_path(main_, call_a_, ".json")}) {
    auto res = call(bhttp::verb::get, target, nullptr);
    EXPECT_EQ(res.result_int(), 401) << target;
    EXPECT_EQ(json(res)["code"].as_int64(), 20003);
  }
  EXPECT_EQ(call(bhttp::verb::delete_, one_path(main_, mine.sid, ".json"), nullptr).result_int(),
            401);

  // Another account's recording is not found, through either account's path.
  auto foreign = call(bhttp::verb::get, one_path(main_, theirs.sid, ".json"), &main_);
  EXPECT_EQ(foreign.result_int(), 404);
  EXPECT_EQ(json(foreign)["code"].as_int64(), 20404);
  EXPECT_EQ(call(bhttp::verb::get, one_path(other_, theirs.sid, ".json"), &main_).result_int(),
            404);
  EXPECT_EQ(call(bhttp::verb::delete_, one_path(main_, theirs.sid, ".json"), &main_).result_int(),
            404);
  EXPECT_TRUE(std::filesystem::exists(recordings_dir_ / theirs.media_path));
  // A parent reaches its subaccount's recordings; the subaccount not its parent's.
  EXPECT_EQ(call(bhttp::verb::get, one_path(sub_, subs.sid, ".json"), &main_).result_int(), 200);
  EXPECT_EQ(call(bhttp::verb::get, one_path(main_, mine.sid, ".json"), &sub_).result_int(), 404);
  // A recording is only under its own call.
  EXPECT_EQ(call(bhttp::verb::get, call_path(main_, call_a_, "/" + mine.sid + ".json"), &main_)
                .result_int(),
            200);
  EXPECT_EQ(call(bhttp::verb::get, call_path(main_, call_b_, "/" + mine.sid + ".json"), &main_)
                .result_int(),
            404);
  EXPECT_EQ(call(bhttp::verb::get, one_path(main_, "REshort", ".json"), &main_).result_int(), 404);
  auto put = call(bhttp::verb::put, one_path(main_, mine.sid, ".json"), &main_);
  EXPECT_EQ(put.result_int(), 405);
  EXPECT_EQ(put[bhttp::field::allow], "GET, DELETE");
}

TEST_F(RecordingsTest, DeleteRemovesTheRowAndTheFile) {
  const auto r = add(main_, call_a_, kDec1);
  const auto kept = add(main_, call_a_, kDec1 + 1);
  const auto file = recordings_dir_ / r.media_path;
  ASSERT_TRUE(std::filesystem::exists(file));

  // Under another call it is not found, and stays.
  EXPECT_EQ(call(bhttp::verb::delete_, call_path(main_, call_b_, "/" + r.sid + ".json"), &main_)
                .result_int(),
            404);
  EXPECT_TRUE(std::filesystem::exists(file));

  auto deleted = call(bhttp::verb::delete_, one_path(main_, r.sid, ".json"), &main_);
  EXPECT_EQ(deleted.result_int(), 204);
  EXPECT_TRUE(deleted.body().empty());
  EXPECT_FALSE(std::filesystem::exists(file));
  auto gone = call(bhttp::verb::get, one_path(main_, r.sid, ".json"), &main_);
  EXPECT_EQ(gone.result_int(), 404);
  EXPECT_EQ(json(gone)["code"].as_int64(), 20404);
  EXPECT_EQ(call(bhttp::verb::get, one_path(main_, r.sid, ".wav"), nullptr).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::delete_, one_path(main_, r.sid, ".json"), &main_).result_int(), 404);
  EXPECT_EQ(listed_sids(list_path(main_), main_), (Sids{kept.sid}));

  // Through the call's path too; a missing file does not stop the row from going.
  std::filesystem::remove(recordings_dir_ / kept.media_path);
  EXPECT_EQ(call(bhttp::verb::delete_, call_path(main_, call_a_, "/" + kept.sid + ".json"), &main_)
                .result_int(),
            204);
  EXPECT_TRUE(listed_sids(list_path(main_), main_).empty());
}

TEST_F(RecordingsTest, ARecordingInProgressIsNotDeleted) {
  auto r = add(main_, call_a_, kDec1);
  r.status = "in-progress";
  ASSERT_TRUE(store_->write_sync(store::UpdateRecording{r}));
  auto refused = call(bhttp::verb::delete_, one_path(main_, r.sid, ".json"), &main_);
  EXPECT_EQ(refused.result_int(), 400);
  EXPECT_NE(json(refused)["message"].as_string().find("in-progress"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(recordings_dir_ / r.media_path));
  EXPECT_EQ(call(bhttp::verb::get, one_path(main_, r.sid, ".json"), &main_).result_int(), 200);
}

TEST_F(RecordingsTest, MediaIsServedWithoutCredentials) {
  const std::string bytes = wav_bytes(4000);
  const auto r = add(main_, call_a_, kDec1, bytes);
  for (const char* ext : {"", ".wav"}) {
    auto res = call(bhttp::verb::get, one_path(main_, r.sid, ext), nullptr);
    ASSERT_EQ(res.result_int(), 200) << ext << ": " << res.body();
    EXPECT_EQ(res[bhttp::field::content_type], "audio/x-wav");
    EXPECT_EQ(res.body(), bytes);
  }
  // Credentials, right or wrong, change nothing; HEAD answers as GET (the server drops the body).
  EXPECT_EQ(call(bhttp::verb::get, one_path(main_, r.sid, ".wav"), &other_).body(), bytes);
  auto head = call(bhttp::verb::head, one_path(main_, r.sid, ".wav"), nullptr);
  EXPECT_EQ(head.result_int(), 200);
  EXPECT_EQ(head[bhttp::field::content_type], "audio/x-wav");
  EXPECT_EQ(head.body().size(), bytes.size());

  auto mp3 = call(bhttp::verb::get, one_path(main_, r.sid, ".mp3"), nullptr);
  EXPECT_EQ(mp3.result_int(), 406);
  EXPECT_EQ(json(mp3)["code"].as_int64(), 20001);
  EXPECT_NE(json(mp3)["message"].as_string().find("no MP3 encoder"), std::string::npos);
  EXPECT_NE(json(mp3)["message"].as_string().find(one_path(main_, r.sid, ".wav")),
            std::string::npos);

  // The path's account must be the recording's; unknown SIDs and formats are not found.
  EXPECT_EQ(call(bhttp::verb::get, one_path(other_, r.sid, ".wav"), nullptr).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::get, one_path(main_, make_sid("RE"), ".wav"), nullptr).result_int(),
            404);
  EXPECT_EQ(call(bhttp::verb::get, one_path(main_, make_sid("RE"), ".mp3"), nullptr).result_int(),
            404);
  EXPECT_EQ(call(bhttp::verb::get, one_path(main_, r.sid, ".ogg"), nullptr).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::get, one_path(main_, "REnothex", ".wav"), nullptr).result_int(), 404);
  auto post = call(bhttp::verb::post, one_path(main_, r.sid, ".wav"), nullptr);
  EXPECT_EQ(post.result_int(), 405);
  EXPECT_EQ(post[bhttp::field::allow], "GET, HEAD");
  EXPECT_EQ(call(bhttp::verb::delete_, one_path(main_, r.sid, ""), nullptr).result_int(), 405);
  EXPECT_TRUE(std::filesystem::exists(recordings_dir_ / r.media_path));
}

TEST_F(RecordingsTest, MediaPathsResolveInsideTheRecordingsDirectory) {
  const std::string bytes = wav_bytes(16);
  auto r = add(main_, call_a_, kDec1, bytes);
  const std::string wav = one_path(main_, r.sid, ".wav");

  // Absolute paths are served as they are.
  testing::TempDir elsewhere;
  std::ofstream(elsewhere.file("abs.wav"), std::ios::binary) << "absolute";
  r.media_path = elsewhere.file("abs.wav");
  ASSERT_TRUE(store_->write_sync(store::UpdateRecording{r}));
  EXPECT_EQ(call(bhttp::verb::get, wav, nullptr).body(), "absolute");

  // Relative ones in a subdirectory, but never above the recordings directory.
  std::filesystem::create_directories(recordings_dir_ / "2026");
  std::ofstream(recordings_dir_ / "2026" / "x.wav", std::ios::binary) << "nested";
  std::ofstream(dir_.path() / "outside.wav", std::ios::binary) << "outside";
  r.media_path = "2026/../2026/x.wav";
  ASSERT_TRUE(store_->write_sync(store::UpdateRecording{r}));
  EXPECT_EQ(call(bhttp::verb::get, wav, nullptr).body(), "nested");
  r.media_path = "../outside.wav";
  ASSERT_TRUE(store_->write_sync(store::UpdateRecording{r}));
  EXPECT_EQ(call(bhttp::verb::get, wav, nullptr).result_int(), 404);

  // No file, or no path at all: the recording is there, its media is not.
  r.media_path = "missing.wav";
  ASSERT_TRUE(store_->write_sync(store::UpdateRecording{r}));
  EXPECT_EQ(call(bhttp::verb::get, wav, nullptr).result_int(), 404);
  r.media_path = "";
  ASSERT_TRUE(store_->write_sync(store::UpdateRecording{r}));
  EXPECT_EQ(call(bhttp::verb::get, wav, nullptr).result_int(), 404);
  EXPECT_EQ(call(bhttp::verb::get, one_path(main_, r.sid, ".json"), &main_).result_int(), 200);
}

TEST_F(RecordingsTest, WithoutARecordingsDirectoryOnlyAbsolutePathsAreServed) {
  auto api = std::make_unique<Api>(*store_, clock_, metrics_);  // never told the directory
  std::swap(api, api_);
  const auto r = add(main_, call_a_, kDec1);
  EXPECT_EQ(call(bhttp::verb::get, one_path(main_, r.sid, ".wav"), nullptr).result_int(), 404);
  auto absolute = r;
  absolute.media_path = (recordings_dir_ / r.media_path).string();
  ASSERT_TRUE(store_->write_sync(store::UpdateRecording{absolute}));
  EXPECT_EQ(call(bhttp::verb::get, one_path(main_, r.sid, ".wav"), nullptr).result_int(), 200);
}

TEST(ParseDateTime, DatesAndIsoDateTimes) {
  EXPECT_EQ(parse_date_time("2026-12-01"), kDec1);
  EXPECT_EQ(parse_date_time("2026-12-01T17:00:00Z"), kDec1 + 61200);
  EXPECT_EQ(parse_date_time("2026-12-01t17:00:00.123z"), kDec1 + 61200);
  EXPECT_EQ(parse_date_time("2026-12-01T17:00:00+02:00"), kDec1 + 54000);
  EXPECT_EQ(parse_date_time("2026-12-01T00:30:00-01:30"), kDec1 + 7200);
  for (const char* bad :
       {"", "2026-12-1", "2026-12-01T", "2026-12-01 17:00:00Z", "2026-12-01T17:00:00",
        "2026-12-01T17:00Z", "2026-12-01T24:00:00Z", "2026-12-01T17:00:00.Z",
        "2026-12-01T17:00:00+0200", "2026-12-01T17:00:00+02:60", "2026-13-01T00:00:00Z"}) {
    EXPECT_FALSE(parse_date_time(bad)) << bad;
  }
}

}  // namespace
}  // namespace sb::api::test
