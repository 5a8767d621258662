#include "voice/conference.hpp"

#include <boost/asio/post.hpp>
#include <cmath>

#include "core/log.hpp"
#include "core/sid.hpp"
#include "core/time.hpp"
#include "media/audio_source.hpp"
#include "voice/status_callbacks.hpp"
#include "voice/webhook.hpp"

namespace sb::voice {
namespace {

std::string name_key(const std::string& account_sid, const std::string& name) {
  return account_sid + '\n' + name;
}

const char* flag(bool b) { return b ? "true" : "false"; }

// The StatusCallbackEvent a callback reports, and the statusCallbackEvent family selecting it.
std::string family_of(const std::string& event) {
  if (event == "conference-start") return "start";
  if (event == "conference-end") return "end";
  if (event == "participant-join") return "join";
  if (event == "participant-leave") return "leave";
  if (event == "participant-mute" || event == "participant-unmute") return "mute";
  if (event == "participant-hold" || event == "participant-unhold") return "hold";
  if (event == "participant-modify") return "modify";
  if (event == "participant-speech-start" || event == "participant-speech-stop") return "speaker";
  return "announcement";
}

// conference-start -> conference.start, participant-speech-start -> participant.speech-start.
std::string event_type(const std::string& event) {
  std::string out = event;
  if (const auto dash = out.find('-'); dash != std::string::npos) out[dash] = '.';
  return out;
}

}  // namespace

Conference::Conference(std::string sid_, std::string account_sid_, std::string friendly_name_,
                       std::int64_t now)
    : sid(std::move(sid_)),
      account_sid(std::move(account_sid_)),
      friendly_name(std::move(friendly_name_)),
      date_created(now),
      date_updated(now) {}

ConferenceRegistry::ConferenceRegistry(store::Store& store, const Clock& clock,
                                       CallEventSink* events)
    : store_(store), clock_(clock), events_(events) {}

ConferenceRegistry::~ConferenceRegistry() = default;

std::shared_ptr<Conference> ConferenceRegistry::create(const std::string& account_sid,
                                                       const std::string& name) {
  auto room = std::make_shared<Conference>(make_sid(sid_prefix::kConference), account_sid, name,
                                           clock_.now_unix());
  by_sid_[room->sid] = room;
  by_name_[name_key(account_sid, name)] = room;
  save(*room, true);
  spdlog::info("conference {} ({}) opened", room->sid, name);
  return room;
}

Result<std::string> ConferenceRegistry::open(const std::string& account_sid,
                                             const std::string& friendly_name) {
  std::lock_guard lock(mu_);
  auto it = by_name_.find(name_key(account_sid, friendly_name));
  if (it != by_name_.end()) return it->second->sid;
  return create(account_sid, friendly_name)->sid;
}

Result<std::shared_ptr<Conference>> ConferenceRegistry::join(JoinRequest request) {
  std::shared_ptr<Conference> room;
  std::unique_lock<std::mutex> lock;
  for (;;) {
    {
      std::lock_guard registry(mu_);
      auto it = by_name_.find(name_key(request.account_sid, request.noun.name));
      room = it != by_name_.end() ? it->second : create(request.account_sid, request.noun.name);
    }
    lock = std::unique_lock(room->mu);
    // A room that ended between the lookup and now has left the registry: look again.
    if (room->status != "completed") break;
    lock.unlock();
  }
  const twiml::DialConference& noun = request.noun;
  if (!room->settled) {
    // The first participant sets what is the room's: its callbacks, its size, its home.
    room->settled = true;
    room->max_participants = noun.max_participants;
    room->home = request.executor;
    room->worker = request.worker;
    room->record = noun.record == "record-from-start";
    room->trim = noun.trim != "do-not-trim";
    if (!noun.recording_status_callback.empty()) {
      room->recording_callback = resolve_url(request.document_url, noun.recording_status_callback);
      room->recording_callback_method = noun.recording_status_callback_method;
    }
    room->auth_token = request.auth_token;
    room->recordings_dir = request.recordings_dir;
    room->public_url = request.public_url;
    if (request.webhooks) room->webhooks.emplace(*request.webhooks);
    if (!noun.status_callback.empty() && request.webhooks) {
      std::set<std::string> families(noun.status_callback_event.begin(),
                                     noun.status_callback_event.end());
      if (families.empty()) families = {"start", "end"};
      room->callbacks =
          StatusCallbacks::create(request.executor, *request.webhooks, request.auth_token,
                                  resolve_url(request.document_url, noun.status_callback),
                                  noun.status_callback_method, std::move(families));
    }
    media::ConferenceMixer::Events mixer_events;
    std::weak_ptr<Conference> weak = room;
    mixer_events.on_speaking = [this, weak](media::MixerPort::Id id, bool speaking) {
      auto r = weak.lock();
      if (!r) return;
      std::lock_guard l(r->mu);
      for (auto& m : r->members) {
        if (m.port && m.port->id() == id) {
          notify(*r, speaking ? "participant-speech-start" : "participant-speech-stop", &m);
          break;
        }
      }
    };
    room->mixer =
        std::make_shared<media::ConferenceMixer>(media::MixerOptions{}, std::move(mixer_events));
    boost::asio::post(room->home, [mixer = room->mixer, worker = room->worker] {
      if (worker) worker->add(mixer.get());
    });
  }
  if (static_cast<int>(room->members.size()) >= room->max_participants) {
    return Error::bad_request(kConferenceFull, "Conference " + room->friendly_name + " is full (" +
                                                   std::to_string(room->max_participants) +
                                                   " participants)");
  }
  if (!noun.participant_label.empty()) {
    for (const auto& m : room->members) {
      if (m.label == noun.participant_label) {
        return Error::bad_request(kParticipantLabelTaken,
                                  "Participant label " + noun.participant_label +
                                      " is already in conference " + room->friendly_name);
      }
    }
  }
  Conference::Member m;
  m.call_sid = request.call_sid;
  m.label = noun.participant_label;
  m.executor = request.executor;
  m.inbox = request.inbox;
  m.muted = noun.muted;
  m.start_on_enter = noun.start_conference_on_enter;
  m.end_on_exit = noun.end_conference_on_exit;
  m.beep_on_enter = noun.beep == "true" || noun.beep == "onEnter";
  m.beep_on_exit = noun.beep == "true" || noun.beep == "onExit";
  if (noun.wait_url_set) {
    m.wait_url = noun.wait_url.empty() ? "-" : resolve_url(request.document_url, noun.wait_url);
  }
  m.wait_method = noun.wait_method;
  if (!noun.coach.empty()) {
    if (!find_member(*room, noun.coach)) {
      return Error::bad_request(
          kCoachTargetMissing,
          "Conference coach: " + noun.coach + " is not a participant of " + room->friendly_name);
    }
    m.coach_of = noun.coach;
  }
  m.date_created = m.date_updated = clock_.now_unix();
  room->members.push_back(std::move(m));
  Conference::Member& joined = room->members.back();
  notify(*room, "participant-join", &joined);
  if (joined.beep_on_enter && room->status == "in-progress") beep(*room);
  settle_modes(*room);
  return room;
}

void ConferenceRegistry::attach_port(const std::shared_ptr<Conference>& room,
                                     const std::string& call_sid,
                                     std::shared_ptr<media::MixerPort> port) {
  std::lock_guard lock(room->mu);
  for (auto& m : room->members) {
    if (m.call_sid != call_sid) continue;
    m.port = std::move(port);
    settle_modes(*room);  // flags onto the new port
    return;
  }
}

void ConferenceRegistry::settle_modes(Conference& room) {
  if (room.status == "init") {
    const bool starter = std::any_of(room.members.begin(), room.members.end(),
                                     [](const auto& m) { return m.start_on_enter; });
    if (room.members.size() >= 2 && starter) {
      room.status = "in-progress";
      room.date_updated = clock_.now_unix();
      save(room, false);
      notify(room, "conference-start", nullptr);
      boost::asio::post(room.home, [mixer = room.mixer] { mixer->set_active(true); });
      spdlog::info("conference {} ({}) started", room.sid, room.friendly_name);
      if (room.record) start_recording(room);
    }
  }
  // Coach targets by port id (a coach whose target has no port yet is not heard until it has).
  for (auto& m : room.members) {
    const ParticipantMode mode =
        room.status == "in-progress"
            ? (m.hold ? ParticipantMode::kHeld : ParticipantMode::kListening)
            : (m.hold ? ParticipantMode::kHeld : ParticipantMode::kWaiting);
    if (m.port) {
      m.port->set_muted(m.muted);
      m.port->set_hold(m.hold);
      m.port->set_listening(mode == ParticipantMode::kListening);
      std::optional<media::MixerPort::Id> target;
      if (!m.coach_of.empty()) {
        for (const auto& t : room.members) {
          if (t.call_sid == m.coach_of && t.port) target = t.port->id();
        }
        if (!target) target = 0;  // its target left: heard by nobody
      }
      m.port->set_coaching(target);
    }
    if (mode != m.mode) tell(m, mode);
  }
}

void ConferenceRegistry::tell(Conference::Member& m, ParticipantMode mode,
                              const std::string& reason) {
  m.mode = mode;
  std::string url = mode == ParticipantMode::kHeld ? m.hold_url : m.wait_url;
  std::string method = mode == ParticipantMode::kHeld ? m.hold_method : m.wait_method;
  boost::asio::post(m.executor, [inbox = m.inbox, mode, url = std::move(url),
                                 method = std::move(method), reason] {
    auto in = inbox.lock();
    if (!in || in->mode == ParticipantMode::kLeft) return;
    in->mode = mode;
    in->audio_url = url;
    in->audio_method = method;
    if (mode == ParticipantMode::kLeft) in->left_reason = reason;
    ++in->version;
    in->wake.notify();
  });
}

void ConferenceRegistry::beep(Conference& room) {
  boost::asio::post(room.home, [mixer = room.mixer] {
    media::ToneSpec spec;
    spec.cadence = {{800, 0, -16, 150}, {0, 0, 0, 50}, {1000, 0, -16, 150}};
    mixer->play_to_all(std::make_unique<media::ToneSource>(std::move(spec)));
  });
}

void ConferenceRegistry::start_recording(Conference& room) {
  if (room.recordings_dir.empty()) return;
  auto rec = std::make_shared<Conference::Recording>();
  rec->sid = make_sid(sid_prefix::kRecording);
  rec->start_time = clock_.now_unix();
  room.recording = rec;
  media::RecordingOptions options;
  options.path = room.recordings_dir + "/" + rec->sid + ".wav";
  options.channels = media::RecordChannels::kInbound;  // the mix is one channel
  options.max_length_s = 0;
  options.silence_timeout_s = 0;
  options.finish_on_key.clear();
  options.trim_silence = room.trim;
  boost::asio::post(
      room.home, [rec, mixer = room.mixer, options = std::move(options), sid = room.sid]() mutable {
        auto opened = media::WavRecorder::open(std::move(options));
        if (!opened) {
          spdlog::warn("conference {}: recording not started: {}", sid, opened.error().message);
          return;
        }
        rec->file = std::move(*opened);
        mixer->set_recorder(
            [file = rec->file](std::span<const std::int16_t> mix) { (void)file->write(mix, mix); });
      });
}

void ConferenceRegistry::finish_recording(Conference& room) {
  auto rec = std::exchange(room.recording, nullptr);
  if (!rec || !room.home) return;
  store::Recording row;
  row.sid = rec->sid;
  row.account_sid = room.account_sid;
  row.conference_sid = room.sid;
  row.source = "Conference";
  row.channels = 1;
  row.start_time = rec->start_time;
  row.media_path = rec->sid + ".wav";
  std::shared_ptr<StatusCallbacks> callback;
  if (!room.recording_callback.empty() && room.webhooks) {
    callback =
        StatusCallbacks::create(room.home, *room.webhooks, room.auth_token, room.recording_callback,
                                room.recording_callback_method, {"completed"});
  }
  const std::string url =
      room.public_url + "/2010-04-01/Accounts/" + room.account_sid + "/Recordings/" + rec->sid;
  boost::asio::post(room.home, [this, rec, row = std::move(row), callback, url, mixer = room.mixer,
                                home = room.home]() mutable {
    mixer->set_recorder(nullptr);
    if (!rec->file) return;
    const media::RecordingResult done = rec->file->finish(media::RecordingEnd::kStopped);
    row.duration = static_cast<std::int64_t>(std::lround(done.duration_s()));
    row.date_created = row.date_updated = clock_.now_unix();
    twiml::Params params = {
        {"AccountSid", row.account_sid},  {"ConferenceSid", row.conference_sid},
        {"RecordingSid", row.sid},        {"RecordingUrl", url},
        {"RecordingStatus", "completed"}, {"RecordingDuration", std::to_string(row.duration)},
        {"RecordingChannels", "1"},       {"RecordingStartTime", rfc2822(row.start_time)},
        {"RecordingSource", "Conference"}};
    boost::json::object data = {{"conference_sid", row.conference_sid},
                                {"recording_sid", row.sid},
                                {"recording_url", url},
                                {"recording_duration", row.duration}};
    std::string account = row.account_sid, sid = row.sid;
    // Stored before anyone is told, as calls' recordings are.
    store_.write(store::InsertRecording{std::move(row)},
                 [this, callback, home, account, sid, params = std::move(params),
                  data = std::move(data)](Status s) mutable {
                   if (!s) spdlog::error("recording {} not stored: {}", sid, s.error().message);
                   if (events_) {
                     events_->publish(account, "conferences.recordings", "recording.completed",
                                      std::move(data));
                   }
                   if (!callback) return;
                   boost::asio::post(home, [callback, params = std::move(params)]() mutable {
                     callback->send_event("completed", std::move(params));
                   });
                 });
  });
}

void ConferenceRegistry::leave(const std::shared_ptr<Conference>& room, const std::string& call_sid,
                               const std::string& reason) {
  std::lock_guard lock(room->mu);
  for (std::size_t i = 0; i < room->members.size(); ++i) {
    if (room->members[i].call_sid == call_sid) {
      remove_member(*room, i, reason);
      return;
    }
  }
}

void ConferenceRegistry::remove_member(Conference& room, std::size_t index,
                                       const std::string& reason) {
  Conference::Member m = std::move(room.members[index]);
  room.members.erase(room.members.begin() + static_cast<std::ptrdiff_t>(index));
  if (m.mode != ParticipantMode::kLeft) tell(m, ParticipantMode::kLeft, reason);
  twiml::Params extra = {
      {"ReasonParticipantLeft", reason},
      {"ParticipantCallStatus", reason == "participant_hung_up" ? "completed" : "in-progress"}};
  notify(room, "participant-leave", &m, std::move(extra));
  if (m.port) {
    boost::asio::post(room.home,
                      [mixer = room.mixer, id = m.port->id()] { mixer->remove_port(id); });
  }
  if (room.status == "completed") return;
  const bool kicked = reason == "participant_updated_via_api";
  if (m.end_on_exit && room.status == "in-progress") {
    finish(room,
           kicked ? "participant-with-end-conference-on-exit-kicked"
                  : "participant-with-end-conference-on-exit-left",
           m.call_sid);
    return;
  }
  if (room.members.empty()) {
    finish(room, kicked ? "last-participant-kicked" : "last-participant-left", m.call_sid);
    return;
  }
  if (m.beep_on_exit && room.status == "in-progress") beep(room);
  settle_modes(room);  // a coach whose target left
}

void ConferenceRegistry::finish(Conference& room, const std::string& reason,
                                const std::string& call_sid) {
  room.status = "completed";
  room.reason_ended = reason;
  room.call_sid_ending = call_sid;
  room.date_updated = clock_.now_unix();
  const std::string left = reason == "conference-ended-via-api" ? "conference_ended_via_api"
                                                                : "moderator_ended_conference";
  while (!room.members.empty()) remove_member(room, room.members.size() - 1, left);
  twiml::Params extra = {{"ReasonConferenceEnded", reason}, {"Reason", reason}};
  if (!call_sid.empty()) extra.emplace_back("CallSidEndingConference", call_sid);
  notify(room, "conference-end", nullptr, std::move(extra));
  save(room, false);
  finish_recording(room);
  if (room.home) {
    boost::asio::post(room.home, [mixer = room.mixer, worker = room.worker] {
      if (worker) worker->remove(mixer.get());
    });
  }
  {
    std::lock_guard lock(mu_);
    by_sid_.erase(room.sid);
    auto it = by_name_.find(name_key(room.account_sid, room.friendly_name));
    if (it != by_name_.end() && it->second.get() == &room) by_name_.erase(it);
  }
  spdlog::info("conference {} ({}) ended: {}", room.sid, room.friendly_name, reason);
}

void ConferenceRegistry::notify(Conference& room, const std::string& event,
                                const Conference::Member* member, twiml::Params extra) {
  twiml::Params params = {{"ConferenceSid", room.sid},
                          {"FriendlyName", room.friendly_name},
                          {"AccountSid", room.account_sid},
                          {"StatusCallbackEvent", event}};
  boost::json::object data = {{"conference_sid", room.sid},
                              {"friendly_name", room.friendly_name},
                              {"account_sid", room.account_sid},
                              {"event", event}};
  if (member) {
    params.insert(params.end(), {{"CallSid", member->call_sid},
                                 {"Muted", flag(member->muted)},
                                 {"Hold", flag(member->hold)},
                                 {"Coaching", flag(!member->coach_of.empty())},
                                 {"EndConferenceOnExit", flag(member->end_on_exit)},
                                 {"StartConferenceOnEnter", flag(member->start_on_enter)}});
    if (!member->label.empty()) params.emplace_back("ParticipantLabel", member->label);
    data["call_sid"] = member->call_sid;
    data["muted"] = member->muted;
    data["hold"] = member->hold;
    if (!member->label.empty()) data["label"] = member->label;
  }
  for (const auto& [k, v] : extra) {
    data[k] = v;
    params.emplace_back(k, v);
  }
  if (events_) {
    events_->publish(room.account_sid, "conferences." + family_of(event), event_type(event),
                     std::move(data));
  }
  if (room.callbacks) {
    // The callbacks belong to the home worker; posts from under the room's lock keep the order.
    boost::asio::post(room.home, [cb = room.callbacks, family = family_of(event),
                                  params = std::move(params)]() mutable {
      cb->send_event(family, std::move(params));
    });
  }
}

store::Conference ConferenceRegistry::row_of(const Conference& room) {
  store::Conference row;
  row.sid = room.sid;
  row.account_sid = room.account_sid;
  row.friendly_name = room.friendly_name;
  row.status = room.status;
  row.reason_conference_ended = room.reason_ended;
  row.call_sid_ending_conference = room.call_sid_ending;
  row.date_created = room.date_created;
  row.date_updated = room.date_updated;
  return row;
}

std::optional<store::Conference> ConferenceRegistry::live_row(const std::string& account_sid,
                                                              const std::string& conference_sid) {
  auto room = find_live(account_sid, conference_sid);
  if (!room) return std::nullopt;
  std::lock_guard lock(room->mu);
  return row_of(*room);
}

void ConferenceRegistry::save(Conference& room, bool insert) {
  store::Conference row = row_of(room);
  store::Mutation mutation;
  if (insert) {
    mutation = store::InsertConference{std::move(row)};
  } else {
    mutation = store::UpdateConference{std::move(row)};
  }
  store_.write(std::move(mutation), [sid = room.sid](Status s) {
    if (!s) spdlog::warn("conference {}: record not saved: {}", sid, s.error().message);
  });
}

std::shared_ptr<Conference> ConferenceRegistry::find_live(const std::string& account_sid,
                                                          const std::string& conference_sid) {
  std::lock_guard lock(mu_);
  auto it = by_sid_.find(conference_sid);
  if (it == by_sid_.end() || it->second->account_sid != account_sid) return nullptr;
  return it->second;
}

Conference::Member* ConferenceRegistry::find_member(Conference& room, const std::string& who) {
  for (auto& m : room.members) {
    if (m.call_sid == who || (!m.label.empty() && m.label == who)) return &m;
  }
  return nullptr;
}

ParticipantView ConferenceRegistry::view(const Conference& room,
                                         const Conference::Member& m) const {
  ParticipantView v;
  v.account_sid = room.account_sid;
  v.conference_sid = room.sid;
  v.call_sid = m.call_sid;
  v.label = m.label;
  v.muted = m.muted;
  v.hold = m.hold;
  v.coaching = !m.coach_of.empty();
  v.call_sid_to_coach = m.coach_of;
  v.start_conference_on_enter = m.start_on_enter;
  v.end_conference_on_exit = m.end_on_exit;
  v.date_created = m.date_created;
  v.date_updated = m.date_updated;
  return v;
}

std::optional<std::vector<ParticipantView>> ConferenceRegistry::participants(
    const std::string& account_sid, const std::string& conference_sid) {
  auto room = find_live(account_sid, conference_sid);
  if (!room) return std::nullopt;
  std::lock_guard lock(room->mu);
  std::vector<ParticipantView> out;
  out.reserve(room->members.size());
  for (const auto& m : room->members) out.push_back(view(*room, m));
  return out;
}

namespace {
Error participant_not_found(const std::string& who, const std::string& conference_sid) {
  return Error::not_found("The requested resource /Conferences/" + conference_sid +
                          "/Participants/" + who + ".json was not found");
}
}  // namespace

Result<ParticipantView> ConferenceRegistry::participant(const std::string& account_sid,
                                                        const std::string& conference_sid,
                                                        const std::string& who) {
  auto room = find_live(account_sid, conference_sid);
  if (!room) return participant_not_found(who, conference_sid);
  std::lock_guard lock(room->mu);
  Conference::Member* m = find_member(*room, who);
  if (!m) return participant_not_found(who, conference_sid);
  return view(*room, *m);
}

Result<ParticipantView> ConferenceRegistry::update(const std::string& account_sid,
                                                   const std::string& conference_sid,
                                                   const std::string& who,
                                                   const ParticipantUpdate& u) {
  auto room = find_live(account_sid, conference_sid);
  if (!room) return participant_not_found(who, conference_sid);
  std::lock_guard lock(room->mu);
  Conference::Member* m = find_member(*room, who);
  if (!m) return participant_not_found(who, conference_sid);
  if (u.call_sid_to_coach && !u.call_sid_to_coach->empty()) {
    if (!find_member(*room, *u.call_sid_to_coach)) {
      return Error::bad_request(kCoachTargetMissing,
                                "CallSidToCoach " + *u.call_sid_to_coach + " is not a participant");
    }
  }
  if (u.coaching && *u.coaching && !u.call_sid_to_coach && m->coach_of.empty()) {
    return Error::bad_request(kCoachTargetMissing, "Coaching=true needs CallSidToCoach");
  }
  m->date_updated = clock_.now_unix();
  if (u.hold_url) m->hold_url = *u.hold_url;
  if (u.hold_method) m->hold_method = *u.hold_method;
  if (u.wait_url) m->wait_url = u.wait_url->empty() ? "-" : *u.wait_url;
  if (u.wait_method) m->wait_method = *u.wait_method;
  bool modified = false;
  if (u.beep_on_exit) {
    m->beep_on_exit = *u.beep_on_exit;
    modified = true;
  }
  if (u.end_conference_on_exit) {
    m->end_on_exit = *u.end_conference_on_exit;
    modified = true;
  }
  if (u.call_sid_to_coach) {
    m->coach_of = *u.call_sid_to_coach;
    modified = true;
  }
  if (u.coaching && !*u.coaching) {
    m->coach_of.clear();
    modified = true;
  }
  if (u.muted && *u.muted != m->muted) {
    m->muted = *u.muted;
    notify(*room, m->muted ? "participant-mute" : "participant-unmute", m);
  }
  if (u.hold && *u.hold != m->hold) {
    m->hold = *u.hold;
    notify(*room, m->hold ? "participant-hold" : "participant-unhold", m);
  } else if (u.hold_url && m->hold && m->mode == ParticipantMode::kHeld) {
    tell(*m, ParticipantMode::kHeld);  // new hold audio
  }
  if (modified) notify(*room, "participant-modify", m);
  if (u.announce_url && !u.announce_url->empty()) {
    boost::asio::post(m->executor, [inbox = m->inbox, url = *u.announce_url,
                                    method = u.announce_method.value_or("POST")] {
      if (auto in = inbox.lock()) {
        in->announcements.emplace_back(url, method);
        ++in->version;
        in->wake.notify();
      }
    });
  }
  ParticipantView out = view(*room, *m);
  settle_modes(*room);
  return out;
}

Status ConferenceRegistry::kick(const std::string& account_sid, const std::string& conference_sid,
                                const std::string& who) {
  auto room = find_live(account_sid, conference_sid);
  if (!room) return participant_not_found(who, conference_sid);
  std::lock_guard lock(room->mu);
  for (std::size_t i = 0; i < room->members.size(); ++i) {
    const auto& m = room->members[i];
    if (m.call_sid == who || (!m.label.empty() && m.label == who)) {
      remove_member(*room, i, "participant_updated_via_api");
      return Ok{};
    }
  }
  return participant_not_found(who, conference_sid);
}

Status ConferenceRegistry::end(const std::string& account_sid, const std::string& conference_sid) {
  auto room = find_live(account_sid, conference_sid);
  if (!room) return Ok{};  // already over: completed is what it is
  std::lock_guard lock(room->mu);
  if (room->status != "completed") finish(*room, "conference-ended-via-api", "");
  return Ok{};
}

void ConferenceRegistry::add_failed(const std::string& account_sid,
                                    const std::string& conference_sid, const std::string& call_sid,
                                    const std::string& call_status) {
  auto room = find_live(account_sid, conference_sid);
  if (!room) return;
  std::lock_guard lock(room->mu);
  Conference::Member m;
  m.call_sid = call_sid;
  notify(*room, "participant-leave", &m,
         {{"ReasonParticipantLeft", "participant_add_failed"},
          {"ParticipantCallStatus", call_status}});
  if (room->members.empty() && room->status == "init") {
    finish(*room, "last-participant-left", "");
  }
}

std::size_t ConferenceRegistry::size() const {
  std::lock_guard lock(mu_);
  return by_sid_.size();
}

std::size_t ConferenceRegistry::participants_total() const {
  std::vector<std::shared_ptr<Conference>> rooms;
  {
    std::lock_guard lock(mu_);
    for (const auto& [sid, room] : by_sid_) rooms.push_back(room);
  }
  std::size_t n = 0;
  for (const auto& room : rooms) {
    std::lock_guard lock(room->mu);
    n += room->members.size();
  }
  return n;
}

}  // namespace sb::voice
