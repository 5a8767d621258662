#include "sip/registrar.hpp"

#include <algorithm>

#include "sip/syntax.hpp"
#include "sip/uri.hpp"

namespace sb::sip {
namespace {

struct ContactRequest {
  std::string uri;
  std::int64_t expires = 0;  // seconds, after the limits
};

std::optional<std::int64_t> expires_of(std::string_view text) {
  auto v = parse_uint(trim(text), std::uint64_t{1} << 32);
  if (!v) return std::nullopt;
  return static_cast<std::int64_t>(*v);
}

RegisterOutcome failure(int status, std::string reason, std::string headers = {}) {
  return {status, std::move(reason), std::move(headers)};
}

}  // namespace

RegisterOutcome LocationService::apply(const std::string& aor, const Message& rq,
                                       const Endpoint& source, Millis now) {
  std::optional<std::int64_t> header_expires;
  if (auto e = rq.header(Hdr::kExpires)) {
    header_expires = expires_of(*e);
    if (!header_expires) return failure(400, "Malformed Expires");
  }
  const std::string call_id(rq.call_id());
  const std::uint32_t cseq = rq.cseq().number;

  bool star = false;
  bool bad = false;
  std::vector<ContactRequest> contacts;
  std::int64_t shortest = -1;
  rq.for_each_value(Hdr::kContact, [&](std::string_view value) {
    auto na = parse_name_addr(value);
    if (!na) {
      bad = true;
      return;
    }
    if (na->star) {
      star = true;
      return;
    }
    std::int64_t expires = header_expires.value_or(limits_.default_expires);
    if (auto p = na->param("expires")) {
      auto v = expires_of(*p);
      if (!v) {
        bad = true;
        return;
      }
      expires = *v;
    }
    if (expires != 0 && (shortest < 0 || expires < shortest)) shortest = expires;
    contacts.push_back(
        {std::string(na->uri.raw), std::min<std::int64_t>(expires, limits_.max_expires)});
  });
  if (bad) return failure(400, "Malformed Contact");
  if (contacts.size() > limits_.max_contacts) return failure(403, "Too many contacts");

  auto it = aors_.find(aor);
  if (star) {
    // "Contact: *" only with Expires: 0 and nothing else (§10.2.2).
    if (!contacts.empty() || header_expires != 0) return failure(400, "Invalid wildcard Contact");
    if (it != aors_.end()) {
      for (const auto& b : it->second) {
        if (b.call_id == call_id && cseq <= b.cseq) return failure(500, "Out of order REGISTER");
      }
      aors_.erase(it);
    }
    return {200, {}, {}};
  }
  if (shortest >= 0 && shortest < limits_.min_expires) {
    return failure(423, {}, "Min-Expires: " + std::to_string(limits_.min_expires) + "\r\n");
  }
  if (!contacts.empty()) {
    if (it == aors_.end()) {
      if (aors_.size() >= limits_.max_aors) return failure(503, "Registrar full");
      it = aors_.emplace(aor, std::vector<Binding>{}).first;
    }
    auto& bindings = it->second;
    // Check the ordering first, so that a refused request changes nothing (§10.3 step 7).
    for (const auto& c : contacts) {
      for (const auto& b : bindings) {
        if (b.contact == c.uri && b.call_id == call_id && cseq <= b.cseq) {
          return failure(500, "Out of order REGISTER");
        }
      }
    }
    for (const auto& c : contacts) {
      auto found = std::find_if(bindings.begin(), bindings.end(),
                                [&](const Binding& b) { return b.contact == c.uri; });
      if (c.expires == 0) {
        if (found != bindings.end()) bindings.erase(found);
        continue;
      }
      Binding b{c.uri, source, call_id, cseq, now + std::chrono::seconds(c.expires)};
      if (found != bindings.end()) {
        bindings.erase(found);
      } else if (bindings.size() >= limits_.max_contacts) {
        // The oldest refresh gives way to the newest device.
        auto oldest = std::min_element(
            bindings.begin(), bindings.end(),
            [](const Binding& a, const Binding& z) { return a.expires_at < z.expires_at; });
        bindings.erase(oldest);
      }
      bindings.insert(bindings.begin(), std::move(b));
    }
    if (bindings.empty()) {
      aors_.erase(it);
      it = aors_.end();
    }
  }
  RegisterOutcome out;
  for (const auto& b : lookup(aor, now)) {
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(b.expires_at - now).count();
    out.headers += "Contact: <" + b.contact + ">;expires=" + std::to_string(left) + "\r\n";
  }
  return out;
}

std::vector<Binding> LocationService::lookup(const std::string& aor, Millis now) const {
  std::vector<Binding> out;
  auto it = aors_.find(aor);
  if (it == aors_.end()) return out;
  for (const auto& b : it->second) {
    if (b.expires_at > now) out.push_back(b);
  }
  return out;
}

void LocationService::expire(Millis now) {
  for (auto it = aors_.begin(); it != aors_.end();) {
    auto& v = it->second;
    v.erase(
        std::remove_if(v.begin(), v.end(), [&](const Binding& b) { return b.expires_at <= now; }),
        v.end());
    it = v.empty() ? aors_.erase(it) : std::next(it);
  }
}

SourceBudget::Bucket& SourceBudget::refill(const std::string& source, Millis now) {
  if (now - last_sweep_ > std::chrono::seconds(60)) {
    // Forget sources that have been quiet long enough to be full again.
    const auto full_after =
        std::chrono::milliseconds(static_cast<std::int64_t>(burst_ / rate_ * 1000));
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      it = now - it->second.at > full_after ? buckets_.erase(it) : std::next(it);
    }
    last_sweep_ = now;
  }
  auto [it, fresh] = buckets_.try_emplace(source, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh && now > b.at) {
    const double secs = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(burst_, b.tokens + secs * rate_);
    b.at = now;
  }
  return b;
}

bool SourceBudget::take(const std::string& source, Millis now, double cost) {
  Bucket& b = refill(source, now);
  if (b.tokens < cost) return false;
  b.tokens -= cost;
  return true;
}

void SourceBudget::charge(const std::string& source, Millis now, double cost) {
  refill(source, now).tokens -= cost;
}

}  // namespace sb::sip
