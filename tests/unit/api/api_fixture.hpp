// The fixture of the REST API tests: Api::handle over a real SQLite store behind the cache the
// daemon puts in front of it, no sockets, with a main account, its subaccount and an unrelated
// account.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "api/api.hpp"
#include "core/sid.hpp"
#include "http/base64.hpp"
#include "store/cached_store.hpp"
#include "store/sqlite_store.hpp"
#include "support/counting_store.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

namespace sb::api::test {

namespace bhttp = boost::beast::http;
using store::Account;

inline asio::awaitable<void> run_call(Api& api, http::Request& req, http::Response& out) {
  http::RequestInfo info;
  out = co_await api.handle(req, info);
}

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite_ = std::move(store::SqliteStore::open(dir_.file("api.db")).value());
    reads_ = std::make_unique<testing::CountingStore>(*sqlite_);
    store_ = wire_store(*reads_);
    api_ = std::make_unique<Api>(*store_, clock_, metrics_);
    main_ = add_account("");
    sub_ = add_account(main_.sid);
    other_ = add_account("");
  }

  // The store as the daemon wires it in front of SQLite.
  static std::unique_ptr<store::Store> wire_store(store::Store& sqlite) {
    return std::move(store::CachedStore::open(sqlite).value());
  }

  Account add_account(const std::string& owner) {
    Account a;
    a.sid = make_sid("AC");
    a.owner_sid = owner;
    a.auth_token = make_sid("XX").substr(2);
    a.date_created = a.date_updated = clock_.now_unix();
    EXPECT_TRUE(store_->write_sync(store::InsertAccount{a}));
    return a;
  }

  http::Response call(bhttp::verb verb, const std::string& target, const Account* who,
                      const std::string& body = "",
                      const std::string& type = "application/x-www-form-urlencoded") {
    http::Request req{verb, target, 11};
    if (who) {
      req.set(bhttp::field::authorization,
              "Basic " + http::base64_encode(who->sid + ":" + who->auth_token));
    }
    if (!body.empty()) req.set(bhttp::field::content_type, type);
    req.body() = body;
    req.prepare_payload();
    return send(req);
  }

  http::Response send(http::Request& req) {
    asio::io_context io;
    http::Response res;
    asio::co_spawn(io, run_call(*api_, req, res), asio::detached);
    io.run();
    return res;
  }

  static boost::json::object json(const http::Response& res) {
    return boost::json::parse(res.body()).as_object();
  }

  static std::string numbers(const Account& a) {
    return "/2010-04-01/Accounts/" + a.sid + "/IncomingPhoneNumbers.json";
  }
  static std::string number(const Account& a, std::string_view sid) {
    return "/2010-04-01/Accounts/" + a.sid + "/IncomingPhoneNumbers/" + std::string(sid) + ".json";
  }
  static std::string account(const Account& a) { return "/2010-04-01/Accounts/" + a.sid + ".json"; }

  std::string create_number(const Account& owner, const std::string& phone,
                            const Account* who = nullptr) {
    auto res = call(
        bhttp::verb::post, numbers(owner), who ? who : &owner,
        "PhoneNumber=" + http::form_encode(phone) + "&VoiceUrl=https%3A%2F%2Fapp.example%2Fvoice");
    EXPECT_EQ(res.result_int(), 201) << res.body();
    return std::string(json(res)["sid"].as_string());
  }

  testing::TempDir dir_;
  testing::FakeClock clock_;
  metrics::Registry metrics_;
  std::unique_ptr<store::SqliteStore> sqlite_;
  std::unique_ptr<testing::CountingStore> reads_;  // the reads that reach SQLite
  std::unique_ptr<store::Store> store_;            // as the daemon wires it
  std::unique_ptr<Api> api_;
  Account main_, sub_, other_;
};

}  // namespace sb::api::test
