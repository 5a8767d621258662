// Recordings.json, Recordings/{Sid}.json (fetch, delete) and the call-scoped lists, plus the
// recording media itself (Recordings/{Sid}, .wav), which Twilio serves without credentials.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/pagination.hpp"
#include "api/resources.hpp"
#include "core/log.hpp"
#include "core/sid.hpp"
#include "core/time.hpp"

namespace sb::api {
namespace {

namespace fs = std::filesystem;

// A recording is at most a few hours of 16-bit 8 kHz audio (Record's maxLength is 4 h: about
// 460 MB in two channels); the media response is built in memory, so refuse anything larger.
constexpr std::uintmax_t kMaxMediaBytes = std::uintmax_t{512} << 20;

constexpr std::int64_t kDay = 86400;

boost::json::value string_or_null(const std::string& s) {
  return s.empty() ? boost::json::value(nullptr) : boost::json::value(s);
}

std::string recording_path(const store::Recording& r) {
  return account_child_path(r.account_sid, "Recordings/" + r.sid);
}

// The file a recording's media_path names: an absolute path as it is; a relative one inside
// the recordings directory (never above it). nullopt when there is none to serve.
std::optional<fs::path> media_file(const Context& ctx, const store::Recording& r) {
  if (r.media_path.empty()) return std::nullopt;
  fs::path p(r.media_path);
  if (p.is_absolute()) return p;
  if (ctx.recordings_dir.empty()) return std::nullopt;
  p = p.lexically_normal();
  if (p.empty() || *p.begin() == "..") return std::nullopt;
  return ctx.recordings_dir / p;
}

Error media_not_found(std::string_view path) {
  return Error::not_found("The requested resource " + std::string(path) +
                          " was not found: the recording has no media file");
}

// Looks a recording up in the scope's account and, for call-scoped paths, that call.
Result<std::optional<store::Recording>> find_scoped(Context& ctx, const Scope& scope,
                                                    std::string_view sid,
                                                    std::string_view call_sid) {
  auto found = ctx.store.find_recording(scope.account.sid, sid);
  if (!found) return found;
  if (found->has_value() && !call_sid.empty() && (*found)->call_sid != call_sid) {
    return std::optional<store::Recording>();
  }
  return found;
}

int two_digits(std::string_view text, std::size_t pos) {
  const char a = text[pos], b = text[pos + 1];
  if (a < '0' || a > '9' || b < '0' || b > '9') return -1;
  return (a - '0') * 10 + (b - '0');
}

}  // namespace

std::optional<std::int64_t> parse_date_time(std::string_view text) {
  auto day = parse_day(text.substr(0, 10));
  if (!day) return std::nullopt;
  if (text.size() == 10) return day;
  // YYYY-MM-DDThh:mm:ss, an optional fraction, then Z or ±hh:mm.
  if (text.size() < 20 || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':') {
    return std::nullopt;
  }
  const std::int64_t h = two_digits(text, 11), m = two_digits(text, 14), s = two_digits(text, 17);
  if (h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 60) return std::nullopt;
  std::string_view rest = text.substr(19);
  if (rest.front() == '.') {
    std::size_t digits = 1;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits == 1 || digits > 10) return std::nullopt;
    rest.remove_prefix(digits);
  }
  std::int64_t offset = 0;
  if (rest == "Z" || rest == "z") {
    offset = 0;
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    const std::int64_t oh = two_digits(rest, 1), om = two_digits(rest, 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return std::nullopt;
    offset = (rest[0] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  return *day + h * 3600 + m * 60 + s - offset;
}

Status parse_date_filters(const http::Form& query, std::string_view name,
                          std::optional<std::int64_t>& on_day, std::optional<std::int64_t>& before,
                          std::optional<std::int64_t>& after) {
  const std::string base(name);
  const std::pair<std::string, std::optional<std::int64_t>*> dates[] = {
      {base, &on_day}, {base + "<", &before}, {base + ">", &after}};
  for (const auto& [key, bound] : dates) {
    auto v = query.get(key);
    if (!v || v->empty()) continue;
    *bound = parse_date_time(*v);
    if (!*bound) {
      return Error::bad_request(
          codes::kInvalidParameter,
          key + " must be a date (YYYY-MM-DD) or a date-time (YYYY-MM-DDThh:mm:ssZ)");
    }
  }
  if (on_day) *on_day -= ((*on_day % kDay) + kDay) % kDay;
  return Ok{};
}

boost::json::object recording_json(const store::Recording& r, std::string_view public_base) {
  boost::json::object o;
  const std::string path = recording_path(r);
  o["account_sid"] = r.account_sid;
  o["api_version"] = "2010-04-01";
  o["call_sid"] = string_or_null(r.call_sid);
  o["conference_sid"] = string_or_null(r.conference_sid);
  o["date_created"] = rfc2822(r.date_created);
  o["date_updated"] = rfc2822(r.date_updated);
  o["start_time"] =
      r.start_time ? boost::json::value(rfc2822(r.start_time)) : boost::json::value(nullptr);
  o["duration"] = std::to_string(r.duration);  // seconds, as a string, as Twilio writes it
  o["sid"] = r.sid;
  o["price"] = nullptr;
  o["price_unit"] = "USD";
  o["status"] = r.status;
  o["channels"] = r.channels;
  o["source"] = r.source;
  o["error_code"] = r.error_code ? boost::json::value(r.error_code) : boost::json::value(nullptr);
  o["uri"] = path + ".json";
  o["encryption_details"] = nullptr;
  boost::json::object subs;
  subs["add_on_results"] = path + "/AddOnResults.json";
  subs["transcriptions"] = path + "/Transcriptions.json";
  o["subresource_uris"] = std::move(subs);
  // Without an extension the media is a WAV file, as Twilio serves it.
  o["media_url"] = std::string(public_base) + path;
  return o;
}

asio::awaitable<http::Response> list_recordings(Context& ctx, const Scope& scope,
                                                const http::Form& query, std::string_view call_sid,
                                                std::string_view public_base) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  store::RecordingFilter filter;
  filter.account_sid = scope.account.sid;
  if (!call_sid.empty()) {
    filter.call_sid = std::string(call_sid);
  } else if (auto call = query.get("CallSid")) {
    filter.call_sid = std::string(*call);
  }
  // DateCreated< and DateCreated> arrive as `DateCreated<=…`, `DateCreated>=…`.
  if (auto s = parse_date_filters(query, "DateCreated", filter.created_on_day_start,
                                  filter.created_before, filter.created_after);
      !s) {
    co_return http::error_response(s.error());
  }
  auto rows = ctx.store.list_recordings(filter, page->request());
  if (!rows) co_return store_error(rows.error());

  auto to_json = [public_base](const store::Recording& r) {
    return recording_json(r, public_base);
  };
  co_return page_response(
      "recordings", *rows, to_json, scope.path,
      encode_filters(query, {"CallSid", "DateCreated", "DateCreated<", "DateCreated>"}), *page);
}

asio::awaitable<http::Response> fetch_recording(Context& ctx, const Scope& scope,
                                                std::string_view sid, std::string_view call_sid,
                                                std::string_view public_base) {
  auto found = find_scoped(ctx, scope, sid, call_sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  co_return http::json_response(200, recording_json(**found, public_base));
}

asio::awaitable<http::Response> delete_recording(Context& ctx, const Scope& scope,
                                                 std::string_view sid, std::string_view call_sid) {
  auto found = find_scoped(ctx, scope, sid, call_sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  if ((*found)->status == "in-progress" || (*found)->status == "paused") {
    // The recorder still writes the file: it would go on writing into an unlinked inode.
    co_return http::error_response(Error::bad_request(
        codes::kInvalidParameter,
        "The recording is " + (*found)->status + ": stop it before deleting it"));
  }
  const auto file = media_file(ctx, **found);

  // The row goes first: once it is gone nothing points at the file, so a failure to remove the
  // file leaves an orphan on disk (logged), never a recording whose media has vanished.
  store::Mutation mutation = store::DeleteRecording{scope.account.sid, std::string(sid)};
  auto s = co_await commit(ctx.store, mutation);
  if (!s) {
    if (s.error().status == 404) co_return http::error_response(not_found_error(scope.path));
    co_return store_error(s.error());
  }
  if (file) {
    std::error_code ec;
    fs::remove(*file, ec);
    if (ec) spdlog::warn("recording {}: cannot remove {}: {}", sid, file->string(), ec.message());
  }
  http::Response res{boost::beast::http::status::no_content, 11};
  co_return res;
}

http::Response recording_media(Context& ctx, std::string_view account_sid, std::string_view sid,
                               std::string_view extension, std::string_view path) {
  if (!is_sid(sid, sid_prefix::kRecording) || !is_sid(account_sid, sid_prefix::kAccount) ||
      (!extension.empty() && extension != "wav" && extension != "mp3")) {
    return http::error_response(not_found_error(path));
  }
  auto found = ctx.store.find_recording(account_sid, sid);
  if (!found) return store_error(found.error());
  if (!found->has_value()) return http::error_response(not_found_error(path));
  if (extension == "mp3") {
    const std::string wav = std::string(path.substr(0, path.size() - 4)) + ".wav";
    return http::error_response(
        {codes::kInvalidParameter, 406,
         "MP3 is not available: Switchboard keeps recordings as WAV and has no MP3 encoder; "
         "fetch " +
             wav + " or the URL without an extension instead"});
  }
  const auto file = media_file(ctx, **found);
  if (!file) return http::error_response(media_not_found(path));

  std::error_code ec;
  const auto size = fs::file_size(*file, ec);
  if (ec) {
    if (ec != std::errc::no_such_file_or_directory) {
      spdlog::error("recording {}: {}: {}", sid, file->string(), ec.message());
    }
    return http::error_response(media_not_found(path));
  }
  if (size > kMaxMediaBytes) {
    spdlog::error("recording {}: {} is {} bytes, over the {} a response may carry", sid,
                  file->string(), size, kMaxMediaBytes);
    return http::error_response(Error::internal("The recording is too large to serve"));
  }
  std::string body(static_cast<std::size_t>(size), '\0');
  std::ifstream in(*file, std::ios::binary);
  if (!in.read(body.data(), static_cast<std::streamsize>(body.size()))) {
    spdlog::error("recording {}: cannot read {}: {}", sid, file->string(), std::strerror(errno));
    return http::error_response(media_not_found(path));
  }
  return http::text_response(200, std::move(body), "audio/x-wav");
}

}  // namespace sb::api
