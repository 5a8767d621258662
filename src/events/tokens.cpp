#include "events/tokens.hpp"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>
#include <future>

#include "core/random.hpp"
#include "events/attributes.hpp"
#include "events/event.hpp"
#include "http/base64.hpp"

namespace sb::events {

namespace {

std::string base64url(std::string_view bytes) {
  std::string s = http::base64_encode(bytes);
  for (char& c : s) {
    if (c == '+') {
      c = '-';
    } else if (c == '/') {
      c = '_';
    }
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::optional<std::string> unbase64url(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    }
  }
  while (s.size() % 4) s += '=';
  return http::base64_decode(s);
}

std::string hmac256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

}  // namespace

bool AccessToken::allows(std::string_view channel) const {
  for (const auto& c : channels) {
    if (type_matches(c, channel)) return true;
  }
  return false;
}

Status TokenSigner::load(Db& db) {
  auto st = db.prepare("SELECT value FROM meta WHERE key='token_key'");
  if (!st) return st.error();
  if ((*st)->row()) key_ = (*st)->text(0);
  return Ok{};
}

Status TokenSigner::ensure_key(EventStore& store) {
  if (!key_.empty()) return Ok{};
  std::string key = random_hex(32);
  std::promise<Status> stored;
  store.write(
      [key](Db& db) -> Status {
        auto st = db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES('token_key', ?1)");
        if (!st) return st.error();
        (*st)->bind(1, key);
        return step_done(db, **st, "meta");
      },
      [&stored](Status s) { stored.set_value(std::move(s)); });
  // Kept even when storing failed: tokens then work until a restart, and nothing is ever
  // signed with an empty key.
  key_ = std::move(key);
  return stored.get_future().get();
}

std::string TokenSigner::issue(const AccessToken& token) const {
  json::object p;
  p["a"] = token.account_sid;
  json::array ch;
  for (const auto& c : token.channels) ch.push_back(json::value(c));
  p["c"] = std::move(ch);
  p["p"] = token.publish;
  p["s"] = token.subscribe;
  p["e"] = token.expires_s;
  const std::string payload = base64url(json::serialize(p));
  return "sbt_" + payload + "." + base64url(hmac256(key_, payload));
}

std::optional<AccessToken> TokenSigner::verify(std::string_view token) const {
  if (token.size() > 4096 || token.substr(0, 4) != "sbt_") return std::nullopt;
  token.remove_prefix(4);
  const auto dot = token.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view payload = token.substr(0, dot);
  const std::string expected = base64url(hmac256(key_, payload));
  const std::string_view given = token.substr(dot + 1);
  if (given.size() != expected.size() ||
      CRYPTO_memcmp(given.data(), expected.data(), given.size()) != 0) {
    return std::nullopt;
  }
  auto raw = unbase64url(payload);
  if (!raw) return std::nullopt;
  auto v = parse_json_or_null(*raw);
  if (!v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  AccessToken t;
  try {
    t.account_sid = std::string(o.at("a").as_string());
    for (const auto& c : o.at("c").as_array()) t.channels.emplace_back(c.as_string());
    t.publish = o.at("p").as_bool();
    t.subscribe = o.at("s").as_bool();
    t.expires_s = o.at("e").as_int64();
  } catch (const std::exception&) {
    return std::nullopt;
  }
  if (t.expires_s < clock_.now_unix()) return std::nullopt;
  return t;
}

}  // namespace sb::events
