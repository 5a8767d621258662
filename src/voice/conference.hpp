// Conferences (TWILIO-VOICE-2.md §3): the live rooms of this process, by account and name, and
// what each knows of its participants. A room mixes on the worker of the participant that
// opened it (media::ConferenceMixer on that worker's tick); participants are calls on any
// worker, exchanging audio with the mixer through lock-free frame channels. The room's control
// state (who is in, muted, held, the status) sits under one mutex per room, taken for joins,
// leaves and API updates, never by the audio; what a participant must do about a change (hear
// the mix, hear the wait or hold audio, leave) is posted to its own worker.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"
#include "core/time.hpp"
#include "core/wakeup.hpp"
#include "media/conference_mixer.hpp"
#include "media/media_worker.hpp"
#include "media/recorder.hpp"
#include "store/store.hpp"
#include "twiml/document.hpp"
#include "voice/application_source.hpp"
#include "voice/call_events.hpp"

namespace sb::voice {

class StatusCallbacks;

// A participant as the Participants resource shows it.
struct ParticipantView {
  std::string account_sid, conference_sid, call_sid, label;
  bool muted = false, hold = false, coaching = false;
  bool start_conference_on_enter = true, end_conference_on_exit = false;
  std::string call_sid_to_coach;
  std::string status = "connected";
  std::int64_t date_created = 0, date_updated = 0;
};

// Participants/{CallSid|Label}.json update: only what is given changes.
struct ParticipantUpdate {
  std::optional<bool> muted, hold, beep_on_exit, end_conference_on_exit, coaching;
  std::optional<std::string> hold_url, hold_method;  // HoldMethod defaults to GET (Twilio)
  std::optional<std::string> announce_url, announce_method;
  std::optional<std::string> wait_url, wait_method;
  std::optional<std::string> call_sid_to_coach;
};

// What a participant's worker does now, as its room decides.
enum class ParticipantMode {
  kWaiting,    // the room has not started: the wait audio (waitUrl, or hold music)
  kListening,  // in the mix
  kHeld,       // hold: the hold audio, neither heard nor hearing
  kLeft,       // out of the room (kicked, the room ended): the <Dial> is over
};

// The participant's side of the room, touched on its own worker only (the room posts to it).
struct ParticipantInbox {
  explicit ParticipantInbox(boost::asio::any_io_executor ex) : wake(ex) {}
  ParticipantMode mode = ParticipantMode::kWaiting;
  std::string audio_url, audio_method;  // for kWaiting / kHeld; "" = hold music, "-" = silence
  std::vector<std::pair<std::string, std::string>> announcements;  // url, method: to this one
  std::string left_reason;    // ReasonParticipantLeft once kLeft
  std::uint64_t version = 0;  // bumped at each change, so the participant sees every one
  Wakeup wake;
};

// One live conference. Public for the participant side (conference_call.cpp) and tests; the
// registry is how everything else reaches it.
class Conference : public std::enable_shared_from_this<Conference> {
 public:
  struct Member {
    std::string call_sid, label;
    boost::asio::any_io_executor executor;
    std::weak_ptr<ParticipantInbox> inbox;
    std::shared_ptr<media::MixerPort> port;  // set once the mixer has made it (home thread)
    bool muted = false, hold = false, start_on_enter = true, end_on_exit = false;
    bool beep_on_enter = true, beep_on_exit = true;
    std::string coach_of;  // the CallSid this one coaches; "" = not a coach
    std::string hold_url, hold_method = "GET", wait_url, wait_method = "POST";
    std::int64_t date_created = 0, date_updated = 0;
    ParticipantMode mode = ParticipantMode::kWaiting;
  };

  Conference(std::string sid, std::string account_sid, std::string friendly_name, std::int64_t now);
  const std::string sid, account_sid, friendly_name;
  const std::int64_t date_created;

  std::mutex mu;
  std::string status = "init";  // init, in-progress, completed
  int max_participants = 250;
  std::vector<Member> members;  // in order of joining
  std::string reason_ended, call_sid_ending;
  std::shared_ptr<StatusCallbacks> callbacks;  // the first participant's statusCallback
  bool settled = false;  // statusCallback, region and the rest come from the first joiner
  // The home worker: where the mixer ticks and callbacks are sent from.
  boost::asio::any_io_executor home;
  media::MediaWorker* worker = nullptr;
  std::shared_ptr<media::ConferenceMixer> mixer;
  std::int64_t date_updated = 0;
  // record="record-from-start" (the first participant's): the mix, from the start to the end.
  struct Recording {
    std::string sid;
    std::int64_t start_time = 0;
    std::shared_ptr<media::WavRecorder> file;  // home thread only
  };
  bool record = false, trim = true;
  std::string recording_callback, recording_callback_method = "POST";
  std::string auth_token, recordings_dir, public_url;
  std::optional<WebhookServices> webhooks;  // the home worker's
  std::shared_ptr<Recording> recording;
};

// What a call brings to the room (<Dial><Conference> and the Dial around it).
struct JoinRequest {
  std::string account_sid, auth_token, call_sid;
  twiml::DialConference noun;
  std::string document_url;  // waitUrl, statusCallback resolve against it
  boost::asio::any_io_executor executor;
  media::MediaWorker* worker = nullptr;
  WebhookServices* webhooks = nullptr;  // the caller's worker's (outlives the room's use)
  std::shared_ptr<ParticipantInbox> inbox;
  std::string recordings_dir, public_url;  // where a record="record-from-start" goes
};

class ConferenceRegistry {
 public:
  static constexpr int kParticipantLabelTaken = 16025;
  static constexpr int kConferenceFull = 16001;  // no Twilio number is documented; ours
  static constexpr int kCoachTargetMissing = 13240;

  ConferenceRegistry(store::Store& store, const Clock& clock, CallEventSink* events);
  ~ConferenceRegistry();

  // A call enters `request.noun.name` (the room opens when none is live). The error says why
  // it cannot (full, label taken); the Dial then fails and the document goes on.
  Result<std::shared_ptr<Conference>> join(JoinRequest request);
  // The call has left (hung up, pressed *, its time limit, a live modification). Idempotent.
  void leave(const std::shared_ptr<Conference>& room, const std::string& call_sid,
             const std::string& reason = "participant_hung_up");
  // The mixer port of a member, made on the home worker (call there).
  void attach_port(const std::shared_ptr<Conference>& room, const std::string& call_sid,
                   std::shared_ptr<media::MixerPort> port);

  // For the REST API (any thread). `who` is a CallSid or a participant label.
  std::optional<std::vector<ParticipantView>> participants(const std::string& account_sid,
                                                           const std::string& conference_sid);
  Result<ParticipantView> participant(const std::string& account_sid,
                                      const std::string& conference_sid, const std::string& who);
  Result<ParticipantView> update(const std::string& account_sid, const std::string& conference_sid,
                                 const std::string& who, const ParticipantUpdate& update);
  Status kick(const std::string& account_sid, const std::string& conference_sid,
              const std::string& who);
  // Status=completed: everyone leaves, their documents go on after the <Dial>.
  Status end(const std::string& account_sid, const std::string& conference_sid);
  // The live conference of that name, opening one (status init, no participants) when there is
  // none: Participants.json create for a FriendlyName. Returns its SID.
  Result<std::string> open(const std::string& account_sid, const std::string& friendly_name);
  // A Participants.json call that never joined: participant-leave with participant_add_failed.
  void add_failed(const std::string& account_sid, const std::string& conference_sid,
                  const std::string& call_sid, const std::string& call_status);
  // The record of a live room as it is now (the store's copy is written behind it), or nullopt.
  std::optional<store::Conference> live_row(const std::string& account_sid,
                                            const std::string& conference_sid);
  std::size_t size() const;
  std::size_t participants_total() const;

 private:
  std::shared_ptr<Conference> find_live(const std::string& account_sid,
                                        const std::string& conference_sid);
  std::shared_ptr<Conference> create(const std::string& account_sid, const std::string& name);
  // Under room.mu: what each member should be doing now, told to those whose mode changed.
  void settle_modes(Conference& room);
  void tell(Conference::Member& m, ParticipantMode mode, const std::string& reason = {});
  // Under room.mu: the room is over (reason as Twilio names it), everyone told to leave.
  void finish(Conference& room, const std::string& reason, const std::string& call_sid);
  void remove_member(Conference& room, std::size_t index, const std::string& reason);
  // Under room.mu: a status callback and a conferences.* event.
  void notify(Conference& room, const std::string& event, const Conference::Member* member,
              twiml::Params extra = {});
  void save(Conference& room, bool insert);
  static store::Conference row_of(const Conference& room);
  void beep(Conference& room);
  // Under room.mu: the room's recording starts (the room started) / ends and is stored.
  void start_recording(Conference& room);
  void finish_recording(Conference& room);
  ParticipantView view(const Conference& room, const Conference::Member& m) const;
  Conference::Member* find_member(Conference& room, const std::string& who);

  store::Store& store_;
  const Clock& clock_;
  CallEventSink* events_;
  mutable std::mutex mu_;
  // Live rooms by SID and by account + name.
  std::unordered_map<std::string, std::shared_ptr<Conference>> by_sid_;
  std::unordered_map<std::string, std::shared_ptr<Conference>> by_name_;
};

}  // namespace sb::voice
