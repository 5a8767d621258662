// Conferences.json, Conferences/{Sid}.json and their Participants (TWILIO-VOICE-2.md §3.4-3.5).
// A conference's record comes from the store (the registry writes it as the room changes); its
// participants are live state, asked of the ConferenceRegistry. Creating a participant places an
// outbound call, as Calls.json does, whose inline TwiML dials it into the room.
#include <algorithm>
#include <array>
#include <utility>

#include "api/auth.hpp"
#include "api/json.hpp"
#include "api/pagination.hpp"
#include "api/resources.hpp"
#include "api/validation.hpp"
#include "core/sid.hpp"
#include "core/text.hpp"
#include "core/time.hpp"
#include "twiml/parser.hpp"

namespace sb::api {
namespace {

// A live room first (its stored row is written behind it, so it may not be there yet), then the
// store (rooms that ended).
Result<std::optional<store::Conference>> find_conference_row(Context& ctx,
                                                             const std::string& account_sid,
                                                             std::string_view sid) {
  if (ctx.conferences) {
    if (auto row = ctx.conferences->live_row(account_sid, std::string(sid))) {
      return std::optional<store::Conference>(std::move(*row));
    }
  }
  return ctx.store.find_conference(account_sid, sid);
}

constexpr std::size_t kMaxConferenceNameChars = 128;  // Twilio's FriendlyName limit
constexpr std::size_t kMaxLabelChars = 128;           // participantLabel
// The Voice API's numbers for a bad URL and method, as Calls.json refuses them.
constexpr int kInvalidVoiceUrl = 21205;
constexpr int kInvalidVoiceMethod = 21209;

boost::json::value conference_text_or_null(const std::string& s) {
  return s.empty() ? boost::json::value(nullptr) : boost::json::value(s);
}

std::string conference_path(std::string_view account_sid, std::string_view sid) {
  return account_child_path(account_sid, "Conferences/" + std::string(sid));
}

boost::json::object conference_json(const store::Conference& c) {
  const std::string path = conference_path(c.account_sid, c.sid);
  boost::json::object o;
  o["account_sid"] = c.account_sid;
  o["date_created"] = rfc2822(c.date_created);
  o["date_updated"] = rfc2822(c.date_updated);
  o["api_version"] = "2010-04-01";
  o["friendly_name"] = c.friendly_name;
  o["region"] = conference_text_or_null(c.region);
  o["sid"] = c.sid;
  o["status"] = c.status;
  o["uri"] = path + ".json";
  boost::json::object subs;
  subs["participants"] = path + "/Participants.json";
  subs["recordings"] = path + "/Recordings.json";
  o["subresource_uris"] = std::move(subs);
  o["reason_conference_ended"] = conference_text_or_null(c.reason_conference_ended);
  o["call_sid_ending_conference"] = conference_text_or_null(c.call_sid_ending_conference);
  return o;
}

boost::json::object participant_json(const voice::ParticipantView& p) {
  boost::json::object o;
  o["account_sid"] = p.account_sid;
  o["call_sid"] = p.call_sid;
  o["label"] = conference_text_or_null(p.label);
  o["call_sid_to_coach"] = conference_text_or_null(p.call_sid_to_coach);
  o["coaching"] = p.coaching;
  o["conference_sid"] = p.conference_sid;
  o["date_created"] = rfc2822(p.date_created);
  o["date_updated"] = rfc2822(p.date_updated);
  o["end_conference_on_exit"] = p.end_conference_on_exit;
  o["muted"] = p.muted;
  o["hold"] = p.hold;
  o["start_conference_on_enter"] = p.start_conference_on_enter;
  o["status"] = p.status;
  o["uri"] =
      conference_path(p.account_sid, p.conference_sid) + "/Participants/" + p.call_sid + ".json";
  return o;
}

Error conference_param_error(std::string message) {
  return Error::bad_request(codes::kInvalidParameter, std::move(message));
}

http::Response conferences_unavailable() {
  return http::error_response(
      Error{codes::kServiceUnavailable, 503, "Conferences are not available: SIP is not running"});
}

// A registry refusal as the response: its 404s name the request's path, as every 404 here does.
http::Response registry_refusal(const Error& e, const Scope& scope) {
  if (e.status == 404) return http::error_response(not_found_error(scope.path));
  return http::error_response(e);
}

// Participant flags are Twilio's loose booleans: "true" is true, any other value false.
// nullopt when the parameter is absent or empty.
std::optional<bool> participant_flag(const http::Form& params, std::string_view key) {
  auto v = params.get(key);
  if (!v || v->empty()) return std::nullopt;
  return iequals(*v, "true");
}

std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool has_control_character(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) == 0x7F;
  });
}

// A conference name or participant label: 1..`max` characters, no control characters.
Status check_conference_text(std::string_view what, std::string_view text, std::size_t max) {
  const std::size_t n = code_points(text);
  if (n < 1 || n > max || has_control_character(text)) {
    return conference_param_error(std::string(what) + " must be 1 to " + std::to_string(max) +
                                  " characters, without control characters");
  }
  return Ok{};
}

void append_xml_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += c;
    }
  }
}

// Values from a list parameter: repeated, or space- or comma-separated in one value (as the
// helper libraries send a list). Each must be one of `allowed`.
Result<std::string> conference_event_list(const http::Form& params, std::string_view key,
                                          std::initializer_list<std::string_view> allowed) {
  std::string joined;
  for (std::string_view value : params.get_all(key)) {
    while (!value.empty()) {
      const auto cut = value.find_first_of(" ,");
      const std::string_view item = value.substr(0, cut);
      if (!item.empty()) {
        if (std::find(allowed.begin(), allowed.end(), item) == allowed.end()) {
          std::string names;
          for (std::string_view a : allowed) names += (names.empty() ? "" : ", ") + std::string(a);
          return conference_param_error(std::string(key) + " values must be among " + names +
                                        ", not " + std::string(item));
        }
        if (!joined.empty()) joined += ' ';
        joined += item;
      }
      value = cut == std::string_view::npos ? std::string_view{} : value.substr(cut + 1);
    }
  }
  return joined;
}

// What Participants.json create says of the participant: the <Conference> noun's attributes (in
// the order given here, only those given) and what the 201 shows.
struct ParticipantPlan {
  std::vector<std::pair<std::string, std::string>> attributes;
  std::string label, coach;
  bool muted = false, start_on_enter = true, end_on_exit = false;
};

Result<ParticipantPlan> participant_plan(const http::Form& params) {
  ParticipantPlan plan;
  auto add = [&plan](std::string name, std::string value) {
    plan.attributes.emplace_back(std::move(name), std::move(value));
  };
  auto text = [&params](std::string_view key) -> std::optional<std::string_view> {
    auto v = params.get(key);
    if (!v || v->empty()) return std::nullopt;
    return v;
  };
  if (auto muted = participant_flag(params, "Muted")) {
    plan.muted = *muted;
    add("muted", *muted ? "true" : "false");
  }
  if (auto v = text("Beep")) {
    std::string beep;
    for (std::string_view b : {"true", "false", "onEnter", "onExit"}) {
      if (iequals(*v, b)) beep = b;
    }
    if (beep.empty()) return conference_param_error("Beep must be true, false, onEnter or onExit");
    add("beep", beep);
  }
  if (auto start = participant_flag(params, "StartConferenceOnEnter")) {
    plan.start_on_enter = *start;
    add("startConferenceOnEnter", *start ? "true" : "false");
  }
  if (auto end = participant_flag(params, "EndConferenceOnExit")) {
    plan.end_on_exit = *end;
    add("endConferenceOnExit", *end ? "true" : "false");
  }
  // WaitUrl="" is silence, as waitUrl="" is.
  if (auto v = params.get("WaitUrl")) {
    if (!v->empty() && !is_valid_webhook_url(*v)) {
      return Error::bad_request(kInvalidVoiceUrl, "WaitUrl is not a valid URL: " + std::string(*v));
    }
    add("waitUrl", std::string(*v));
  }
  struct MethodAttribute {
    const char* key;
    const char* attribute;
  };
  for (auto [key, attribute] :
       {MethodAttribute{"WaitMethod", "waitMethod"},
        MethodAttribute{"ConferenceStatusCallbackMethod", "statusCallbackMethod"},
        MethodAttribute{"ConferenceRecordingStatusCallbackMethod",
                        "recordingStatusCallbackMethod"}}) {
    if (auto v = text(key)) {
      auto m = normalize_method(*v);
      if (!m) {
        return Error::bad_request(kInvalidVoiceMethod, std::string(key) + " must be GET or POST");
      }
      add(attribute, *m);
    }
  }
  if (auto v = text("MaxParticipants")) {
    int n = 0;
    const bool digits = v->size() <= 3 && std::all_of(v->begin(), v->end(),
                                                      [](char c) { return c >= '0' && c <= '9'; });
    if (digits) {
      for (char c : *v) n = n * 10 + (c - '0');
    }
    if (!digits || n < 2 || n > 250) {
      return conference_param_error("MaxParticipants must be a whole number from 2 to 250");
    }
    add("maxParticipants", std::to_string(n));
  }
  if (auto v = text("ConferenceRecord")) {
    if (iequals(*v, "true") || *v == "record-from-start") {
      add("record", "record-from-start");
    } else if (iequals(*v, "false") || *v == "do-not-record") {
      add("record", "do-not-record");
    } else {
      return conference_param_error(
          "ConferenceRecord must be true, false, record-from-start or do-not-record");
    }
  }
  if (auto v = text("ConferenceTrim")) {
    if (*v != "trim-silence" && *v != "do-not-trim") {
      return conference_param_error("ConferenceTrim must be trim-silence or do-not-trim");
    }
    add("trim", std::string(*v));
  }
  // Coaching defaults to true when CallSidToCoach is given (Twilio); Coaching=true needs it.
  const auto coaching = participant_flag(params, "Coaching");
  if (auto v = text("CallSidToCoach")) {
    if (!is_sid(*v, sid_prefix::kCall)) {
      return conference_param_error("CallSidToCoach must be a CallSid (CA…)");
    }
    if (coaching.value_or(true)) plan.coach = std::string(*v);
  } else if (coaching.value_or(false)) {
    return Error::bad_request(voice::ConferenceRegistry::kCoachTargetMissing,
                              "Coaching=true needs CallSidToCoach: the call to coach");
  }
  if (!plan.coach.empty()) add("coach", plan.coach);
  if (auto v = text("Label")) {
    if (auto s = check_conference_text("Label", *v, kMaxLabelChars); !s) return s.error();
    plan.label = std::string(*v);
    add("participantLabel", plan.label);
  }
  struct UrlAttribute {
    const char* key;
    const char* attribute;
  };
  for (auto [key, attribute] :
       {UrlAttribute{"ConferenceStatusCallback", "statusCallback"},
        UrlAttribute{"ConferenceRecordingStatusCallback", "recordingStatusCallback"}}) {
    if (auto v = text(key)) {
      if (!is_valid_webhook_url(*v)) {
        return Error::bad_request(kInvalidVoiceUrl,
                                  std::string(key) + " is not a valid URL: " + std::string(*v));
      }
      add(attribute, std::string(*v));
    }
  }
  auto events = conference_event_list(
      params, "ConferenceStatusCallbackEvent",
      {"start", "end", "join", "leave", "mute", "hold", "modify", "speaker", "announcement"});
  if (!events) return events.error();
  if (!events->empty()) add("statusCallbackEvent", *events);
  auto recording_events = conference_event_list(params, "ConferenceRecordingStatusCallbackEvent",
                                                {"in-progress", "completed", "absent"});
  if (!recording_events) return recording_events.error();
  if (!recording_events->empty()) add("recordingStatusCallbackEvent", *recording_events);
  if (auto v = text("Region")) {
    constexpr std::array<std::string_view, 8> kRegions = {"us1", "us2", "ie1", "de1",
                                                          "sg1", "br1", "au1", "jp1"};
    if (std::find(kRegions.begin(), kRegions.end(), *v) == kRegions.end()) {
      return conference_param_error("Region must be one of us1, us2, ie1, de1, sg1, br1, au1, jp1");
    }
    add("region", std::string(*v));
  }
  if (auto v = text("JitterBufferSize")) {
    if (*v != "off" && *v != "small" && *v != "medium" && *v != "large") {
      return conference_param_error("JitterBufferSize must be off, small, medium or large");
    }
    add("jitterBufferSize", std::string(*v));
  }
  return plan;
}

// The participant's document: <Dial> (timeLimit when given) around the <Conference> noun.
std::string participant_twiml(const ParticipantPlan& plan, std::string_view name,
                              std::optional<std::string_view> time_limit) {
  std::string out = R"(<?xml version="1.0" encoding="UTF-8"?><Response><Dial)";
  if (time_limit) {
    out += " timeLimit=\"";
    append_xml_escaped(out, *time_limit);
    out += '"';
  }
  out += "><Conference";
  for (const auto& [attribute, value] : plan.attributes) {
    out += ' ';
    out += attribute;
    out += "=\"";
    append_xml_escaped(out, value);
    out += '"';
  }
  out += '>';
  append_xml_escaped(out, name);
  out += "</Conference></Dial></Response>";
  return out;
}

}  // namespace

http::Response live_list_response(std::string_view key, std::vector<LiveRow> rows,
                                  const http::Form& query, std::string_view path,
                                  std::string_view filters) {
  auto page = parse_page_params(query);
  if (!page) return http::error_response(page.error());
  const store::PageRequest request = page->request();
  std::size_t begin = 0;
  if (request.after_id > 0) {
    while (begin < rows.size() && rows[begin].id <= request.after_id) ++begin;
  } else {
    begin = std::min(rows.size(), static_cast<std::size_t>(request.offset));
  }
  const std::size_t end = std::min(rows.size(), begin + request.limit);
  store::Page<LiveRow> out;
  out.items.assign(std::make_move_iterator(rows.begin() + static_cast<std::ptrdiff_t>(begin)),
                   std::make_move_iterator(rows.begin() + static_cast<std::ptrdiff_t>(end)));
  out.has_more = end < rows.size();
  return page_response(
      key, out, [](const LiveRow& row) { return row.json; }, path, filters, *page);
}

asio::awaitable<http::Response> list_conferences(Context& ctx, const Scope& scope,
                                                 const http::Form& query) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  store::ConferenceFilter filter;
  filter.account_sid = scope.account.sid;
  filter.friendly_name = std::string(query.get("FriendlyName").value_or(""));
  if (auto status = query.get("Status"); status && !status->empty()) {
    if (*status != "init" && *status != "in-progress" && *status != "completed") {
      co_return http::error_response(
          conference_param_error("Status must be init, in-progress or completed"));
    }
    filter.status = std::string(*status);
  }
  // DateCreated< and DateCreated> arrive as `DateCreated<=…`, `DateCreated>=…`.
  if (auto s = parse_date_filters(query, "DateCreated", filter.created_on_day_start,
                                  filter.created_before, filter.created_after);
      !s) {
    co_return http::error_response(s.error());
  }
  if (auto s = parse_date_filters(query, "DateUpdated", filter.updated_on_day_start,
                                  filter.updated_before, filter.updated_after);
      !s) {
    co_return http::error_response(s.error());
  }
  auto rows = ctx.store.list_conferences(filter, page->request());
  if (!rows) co_return store_error(rows.error());
  co_return page_response(
      "conferences", *rows, conference_json, scope.path,
      encode_filters(query, {"FriendlyName", "Status", "DateCreated", "DateCreated<",
                             "DateCreated>", "DateUpdated", "DateUpdated<", "DateUpdated>"}),
      *page);
}

asio::awaitable<http::Response> fetch_conference(Context& ctx, const Scope& scope,
                                                 std::string_view sid) {
  auto found = find_conference_row(ctx, scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  co_return http::json_response(200, conference_json(**found));
}

asio::awaitable<http::Response> update_conference(Context& ctx, const Scope& scope,
                                                  std::string_view sid, const http::Form& params) {
  auto found = find_conference_row(ctx, scope.account.sid, sid);
  if (!found) co_return store_error(found.error());
  if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
  store::Conference row = std::move(**found);

  const auto status = params.get("Status");
  const bool end = status && !status->empty();
  if (end && *status != "completed") {
    co_return http::error_response(conference_param_error(
        "Status must be completed (the only change a conference's status takes)"));
  }
  if (auto m = params.get("AnnounceMethod"); m && !m->empty() && !normalize_method(*m)) {
    co_return http::error_response(
        Error::bad_request(kInvalidVoiceMethod, "AnnounceMethod must be GET or POST"));
  }
  if (auto url = params.get("AnnounceUrl"); url && !url->empty()) {
    // Nothing plays one announcement to a whole room yet; refused rather than ignored.
    co_return http::error_response(Error::bad_request(
        21218,
        "AnnounceUrl on a conference is not supported yet: announce to each participant "
        "with AnnounceUrl on Participants/{CallSid}.json instead"));
  }
  if (end && row.status != "completed") {
    if (!ctx.conferences) co_return conferences_unavailable();
    const std::string account_sid = scope.account.sid;
    const std::string conference_sid(sid);
    const bool live = ctx.conferences->participants(account_sid, conference_sid).has_value();
    if (auto s = ctx.conferences->end(account_sid, conference_sid); !s) {
      co_return registry_refusal(s.error(), scope);
    }
    if (live) {
      // The registry writes the ended room's record on the store's writer: show it ended now.
      row.status = "completed";
      row.reason_conference_ended = "conference-ended-via-api";
      row.call_sid_ending_conference.clear();
      row.date_updated = ctx.clock.now_unix();
    }
  }
  co_return http::json_response(200, conference_json(row));
}

asio::awaitable<http::Response> list_participants(Context& ctx, const Scope& scope,
                                                  std::string_view conference_sid,
                                                  const http::Form& query) {
  auto page = parse_page_params(query);
  if (!page) co_return http::error_response(page.error());
  struct FlagFilter {
    const char* key;
    std::optional<bool> want;
  };
  std::array<FlagFilter, 3> filters = {FlagFilter{"Muted", {}}, FlagFilter{"Hold", {}},
                                       FlagFilter{"Coaching", {}}};
  for (auto& f : filters) {
    auto v = query.get(f.key);
    if (!v || v->empty()) continue;
    if (*v != "true" && *v != "false") {
      co_return http::error_response(
          conference_param_error(std::string(f.key) + " must be true or false"));
    }
    f.want = *v == "true";
  }
  std::optional<std::vector<voice::ParticipantView>> live;
  if (ctx.conferences) {
    live = ctx.conferences->participants(scope.account.sid, std::string(conference_sid));
  }
  if (!live) {
    // Not live: an ended (or not yet started) conference has no participants to show.
    auto found = find_conference_row(ctx, scope.account.sid, conference_sid);
    if (!found) co_return store_error(found.error());
    if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
    live.emplace();
  }
  std::vector<LiveRow> rows;
  std::int64_t order = 0;
  for (const auto& p : *live) {
    ++order;  // join order: what PageToken counts
    if ((filters[0].want && *filters[0].want != p.muted) ||
        (filters[1].want && *filters[1].want != p.hold) ||
        (filters[2].want && *filters[2].want != p.coaching)) {
      continue;
    }
    rows.push_back({order, participant_json(p)});
  }
  co_return live_list_response("participants", std::move(rows), query, scope.path,
                               encode_filters(query, {"Muted", "Hold", "Coaching"}));
}

asio::awaitable<http::Response> create_participant(Context& ctx, const Scope& scope,
                                                   std::string_view conference,
                                                   const http::Form& params) {
  if (!ctx.dialer) {
    co_return http::error_response(
        Error{codes::kInternal, 503, "Outbound calls are not available: SIP is not running"});
  }
  if (!ctx.conferences) co_return conferences_unavailable();
  const std::string account_sid = scope.account.sid;

  // The room: a live conference by SID, or one by name (opened when none is live).
  std::string name;
  std::string expected_sid;
  if (is_sid(conference, sid_prefix::kConference)) {
    auto found = find_conference_row(ctx, account_sid, conference);
    if (!found) co_return store_error(found.error());
    if (!found->has_value()) co_return http::error_response(not_found_error(scope.path));
    expected_sid = std::string(conference);
    if (!ctx.conferences->participants(account_sid, expected_sid)) {
      co_return http::error_response(conference_param_error(
          "Conference " + expected_sid +
          " is over: add participants to a live conference, or name one (its FriendlyName) to "
          "open it"));
    }
    name = (*found)->friendly_name;
  } else {
    // As <Conference> reads its name: trimmed.
    name = std::string(trim(conference));
    if (auto s =
            check_conference_text("The conference's FriendlyName", name, kMaxConferenceNameChars);
        !s) {
      co_return http::error_response(s.error());
    }
  }

  voice::OutboundRequest request;
  if (auto refused = check_call_parties(ctx, scope, params, request)) co_return std::move(*refused);
  if (auto s = apply_call_webhooks(params, request.application, false); !s) {
    co_return http::error_response(s.error());
  }
  // Twilio's Participants Timeout is 5-600 s (Calls.json: up to 600).
  if (auto s = apply_call_settings(params, 5, request); !s) {
    co_return http::error_response(s.error());
  }
  auto plan = participant_plan(params);
  if (!plan) co_return http::error_response(plan.error());

  auto record = queued_call_record(ctx, scope, request);
  if (!record) co_return http::error_response(record.error());
  // A room by name is opened last, once nothing can refuse the call but the store.
  Result<std::string> conference_sid = expected_sid;
  if (expected_sid.empty()) conference_sid = ctx.conferences->open(account_sid, name);
  if (!conference_sid) co_return http::error_response(conference_sid.error());
  // A label taken in the room would fail the join once the call answers (16025): say it now. (A
  // room that has members was not opened here, so refusing leaves nothing behind.)
  if (!plan->label.empty() &&
      ctx.conferences->participant(account_sid, *conference_sid, plan->label).ok()) {
    co_return http::error_response(
        Error::bad_request(voice::ConferenceRegistry::kParticipantLabelTaken,
                           "Label " + plan->label + " is taken in conference " + *conference_sid +
                               ": a participant's label is unique within its conference"));
  }
  auto time_limit = params.get("TimeLimit");
  if (time_limit && time_limit->empty()) time_limit.reset();
  request.twiml = participant_twiml(*plan, name, time_limit);
  // Everything in it was checked above: a diagnostic here is a bug of this file.
  const auto doc = twiml::parse(request.twiml);
  for (const auto& d : doc.diagnostics) {
    if (d.level == twiml::Level::kError) {
      ctx.conferences->add_failed(account_sid, *conference_sid, record->sid, "failed");
      co_return http::error_response(
          Error::internal("The participant's TwiML is not valid: " + d.message));
    }
  }
  request.conference_sid = *conference_sid;

  store::Mutation insert = store::InsertCall{*record};
  if (auto s = co_await commit(ctx.store, insert); !s) {
    ctx.conferences->add_failed(account_sid, *conference_sid, record->sid, "failed");
    co_return store_error(s.error());
  }
  dial_queued_call(ctx, scope, *record, std::move(request));

  voice::ParticipantView view;
  view.account_sid = account_sid;
  view.conference_sid = *conference_sid;
  view.call_sid = record->sid;
  view.label = plan->label;
  view.muted = plan->muted;
  view.coaching = !plan->coach.empty();
  view.call_sid_to_coach = plan->coach;
  view.start_conference_on_enter = plan->start_on_enter;
  view.end_conference_on_exit = plan->end_on_exit;
  view.status = "queued";
  view.date_created = view.date_updated = record->date_created;
  auto body = participant_json(view);
  body["queue_time"] = "0";
  co_return http::json_response(201, body);
}

asio::awaitable<http::Response> fetch_participant(Context& ctx, const Scope& scope,
                                                  std::string_view conference_sid,
                                                  std::string_view who) {
  if (!ctx.conferences) co_return http::error_response(not_found_error(scope.path));
  auto found = ctx.conferences->participant(scope.account.sid, std::string(conference_sid),
                                            std::string(who));
  if (!found) co_return registry_refusal(found.error(), scope);
  co_return http::json_response(200, participant_json(*found));
}

asio::awaitable<http::Response> update_participant(Context& ctx, const Scope& scope,
                                                   std::string_view conference_sid,
                                                   std::string_view who, const http::Form& params) {
  if (!ctx.conferences) co_return conferences_unavailable();
  voice::ParticipantUpdate u;
  u.muted = participant_flag(params, "Muted");
  u.hold = participant_flag(params, "Hold");
  u.beep_on_exit = participant_flag(params, "BeepOnExit");
  u.end_conference_on_exit = participant_flag(params, "EndConferenceOnExit");
  u.coaching = participant_flag(params, "Coaching");
  // A URL and its method; the method takes its default (`fallback`) when only the URL is given,
  // as Twilio does, rather than keeping an earlier one. An empty URL is kept (hold music, or
  // silence for WaitUrl).
  struct Audio {
    const char* url_key;
    const char* method_key;
    const char* fallback;
    std::optional<std::string>* url;
    std::optional<std::string>* method;
  };
  for (const Audio& a :
       {Audio{"HoldUrl", "HoldMethod", "GET", &u.hold_url, &u.hold_method},
        Audio{"AnnounceUrl", "AnnounceMethod", "POST", &u.announce_url, &u.announce_method},
        Audio{"WaitUrl", "WaitMethod", "POST", &u.wait_url, &u.wait_method}}) {
    if (auto v = params.get(a.url_key)) {
      if (!v->empty() && !is_valid_webhook_url(*v)) {
        co_return http::error_response(Error::bad_request(
            kInvalidVoiceUrl, std::string(a.url_key) + " is not a valid URL: " + std::string(*v)));
      }
      *a.url = std::string(*v);
    }
    if (auto v = params.get(a.method_key); v && !v->empty()) {
      auto m = normalize_method(*v);
      if (!m) {
        co_return http::error_response(Error::bad_request(
            kInvalidVoiceMethod, std::string(a.method_key) + " must be GET or POST"));
      }
      *a.method = *m;
    } else if (a.url->has_value()) {
      *a.method = a.fallback;
    }
  }
  if (auto v = params.get("CallSidToCoach"); v && !v->empty()) {
    if (!is_sid(*v, sid_prefix::kCall)) {
      co_return http::error_response(
          conference_param_error("CallSidToCoach must be a CallSid (CA…)"));
    }
    u.call_sid_to_coach = std::string(*v);
  }
  const bool changes = u.muted || u.hold || u.beep_on_exit || u.end_conference_on_exit ||
                       u.coaching || u.hold_url || u.hold_method || u.announce_url || u.wait_url ||
                       u.wait_method || u.call_sid_to_coach;
  const std::string account_sid = scope.account.sid;
  auto result = changes ? ctx.conferences->update(account_sid, std::string(conference_sid),
                                                  std::string(who), u)
                        : ctx.conferences->participant(account_sid, std::string(conference_sid),
                                                       std::string(who));
  if (!result) co_return registry_refusal(result.error(), scope);
  co_return http::json_response(200, participant_json(*result));
}

asio::awaitable<http::Response> delete_participant(Context& ctx, const Scope& scope,
                                                   std::string_view conference_sid,
                                                   std::string_view who) {
  if (!ctx.conferences) co_return conferences_unavailable();
  if (auto s =
          ctx.conferences->kick(scope.account.sid, std::string(conference_sid), std::string(who));
      !s) {
    co_return registry_refusal(s.error(), scope);
  }
  co_return http::Response{boost::beast::http::status::no_content, 11};
}

}  // namespace sb::api
