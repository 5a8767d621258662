// The TwiML document model: every voice verb and noun with its attributes, as parsed (strings
// already checked and converted; defaults are Twilio's). Diagnostics carry Twilio error codes.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace sb::twiml {

enum class Level { kError, kWarning };

struct Diagnostic {
  int code = 0;  // Twilio's number: 12100, 12200, 13310, …
  Level level = Level::kError;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string message;
};

// Where an element stood in the source, for diagnostics raised while executing it.
struct Position {
  int line = 0;
  int column = 0;
};

// ---- nouns and verbs that nest in others ----

struct Say {
  std::string text;
  std::string voice = "man";  // man, woman, alice, Polly.*, Google.*
  std::string language = "en-US";
  int loop = 1;  // 0 = repeat until interrupted (Twilio: up to 1000)
  Position at;
};

struct Play {
  std::string url;     // empty when only digits are played
  std::string digits;  // DTMF to send ("w" = 0.5 s pause)
  int loop = 1;        // 0 = repeat (Twilio: up to 1000)
  Position at;
};

struct Pause {
  int length = 1;  // seconds
  Position at;
};

using Prompt = std::variant<Say, Play, Pause>;

// ---- verbs ----

struct Gather {
  std::vector<std::string> input = {"dtmf"};  // dtmf, speech
  std::string action;                         // empty: the current document's URL
  std::string method = "POST";
  int timeout = 5;                  // seconds to wait for the first/next digit
  std::string finish_on_key = "#";  // "" disables; one of 0-9 * #
  std::optional<int> num_digits;
  bool action_on_empty_result = false;
  std::string partial_result_callback;
  std::string partial_result_callback_method = "POST";
  std::string language = "en-US";
  std::string hints;
  std::string speech_timeout;  // "auto" or seconds
  std::string speech_model;
  bool profanity_filter = true;
  int max_speech_time = 60;     // seconds of speech at most
  bool barge_in = true;         // speech or a key stops the nested prompts
  std::vector<Prompt> prompts;  // nested Say, Play, Pause
  Position at;
};

struct Record {
  std::string action;
  std::string method = "POST";
  int timeout = 5;  // seconds of silence that end the recording; 0 = none
  std::string finish_on_key = "1234567890*#";
  int max_length = 3600;  // seconds
  bool play_beep = true;
  std::string trim = "trim-silence";  // trim-silence | do-not-trim
  std::string recording_status_callback;
  std::string recording_status_callback_method = "POST";
  std::vector<std::string> recording_status_callback_event = {"completed"};
  bool transcribe = false;
  std::string transcribe_callback;
  Position at;
};

struct DialNumber {
  std::string number;
  std::string send_digits;
  std::string url;  // whisper TwiML for the called party
  std::string method = "POST";
  std::string status_callback;
  std::string status_callback_method = "POST";
  std::vector<std::string> status_callback_event;
  std::string byoc;
};

struct DialSip {
  std::string uri;
  std::string username;
  std::string password;
  std::string url;
  std::string method = "POST";
  std::string status_callback;
  std::string status_callback_method = "POST";
  std::vector<std::string> status_callback_event;
};

struct DialClient {
  std::string identity;
  std::vector<std::pair<std::string, std::string>> parameters;  // <Parameter name value/>
  std::string url;
  std::string method = "POST";
  std::string status_callback;
  std::string status_callback_method = "POST";
  std::vector<std::string> status_callback_event;
};

struct DialConference {
  std::string name;
  bool muted = false;
  std::string beep = "true";  // true | false | onEnter | onExit
  bool start_conference_on_enter = true;
  bool end_conference_on_exit = false;
  std::string wait_url;
  bool wait_url_set = false;  // waitUrl="" (silence) differs from none (hold music)
  std::string wait_method = "POST";
  int max_participants = 250;
  std::string record = "do-not-record";
  std::string region;
  std::string trim = "trim-silence";
  std::string coach;
  std::string status_callback;
  std::string status_callback_method = "POST";
  std::vector<std::string> status_callback_event;
  std::string recording_status_callback;
  std::string recording_status_callback_method = "POST";
  std::string jitter_buffer_size = "large";
  std::string participant_label;
};

struct DialQueue {
  std::string name;
  std::string url;
  std::string method = "POST";
  std::string reservation_sid;
  std::string post_work_activity_sid;
};

using DialTarget = std::variant<DialNumber, DialSip, DialClient, DialConference, DialQueue>;

struct Dial {
  std::string action;
  std::string method = "POST";
  int timeout = 30;        // seconds to ring
  int time_limit = 14400;  // seconds of talk
  std::string caller_id;
  bool hangup_on_star = false;
  std::string record = "do-not-record";  // do-not-record | record-from-answer | …-dual …
  std::string recording_status_callback;
  std::string recording_status_callback_method = "POST";
  std::vector<std::string> recording_status_callback_event = {"completed"};
  std::string trim = "do-not-trim";
  bool answer_on_bridge = false;
  std::string ring_tone;
  bool sequential = false;
  std::string refer_url;
  std::string refer_method = "POST";
  std::vector<DialTarget> targets;  // a bare text number becomes one DialNumber
  Position at;
};

struct Hangup {
  Position at;
};

struct Redirect {
  std::string url;
  std::string method = "POST";
  Position at;
};

struct Reject {
  std::string reason = "rejected";  // rejected | busy
  Position at;
};

struct Enqueue {
  std::string queue_name;
  std::string action;
  std::string method = "POST";
  std::string wait_url;
  bool wait_url_set = false;  // waitUrl="" (no hold audio) differs from none (hold music)
  std::string wait_url_method = "POST";
  std::string workflow_sid;
  std::string task;  // nested <Task> JSON text
  Position at;
};

struct Leave {
  Position at;
};

struct Refer {
  std::string sip_uri;  // nested <Sip>
  std::string action;
  std::string method = "POST";
  Position at;
};

struct Message {  // <Message> and the older <Sms>
  std::string body;
  std::string to;
  std::string from;
  std::string action;
  std::string method = "POST";
  std::string status_callback;
  bool legacy_sms = false;  // written as <Sms>
  Position at;
};

struct StreamNoun {
  std::string name;
  std::string url;                      // wss://…
  std::string track = "inbound_track";  // inbound_track | outbound_track | both_tracks
  std::string status_callback;
  std::string status_callback_method = "POST";
  std::vector<std::pair<std::string, std::string>> parameters;  // nested <Parameter>
};

struct Connect {
  std::optional<StreamNoun> stream;  // <Connect><Stream> (other Connect nouns: later)
  std::string action;
  std::string method = "POST";
  Position at;
};

struct Start {
  std::vector<StreamNoun> streams;  // <Start><Stream>; <Siprec>, <Transcription>: later
  Position at;
};

struct Stop {
  std::vector<std::string> stream_names;
  Position at;
};

using Verb = std::variant<Say, Play, Pause, Gather, Record, Dial, Hangup, Redirect, Reject, Enqueue,
                          Leave, Refer, Message, Connect, Start, Stop>;

inline constexpr std::array<const char*, std::variant_size_v<Verb>> kVerbNames = {
    "Say",    "Play",    "Pause", "Gather", "Record",  "Dial",    "Hangup", "Redirect",
    "Reject", "Enqueue", "Leave", "Refer",  "Message", "Connect", "Start",  "Stop"};

inline const char* verb_name(const Verb& verb) { return kVerbNames[verb.index()]; }

struct Document {
  std::vector<Verb> verbs;
  std::vector<Diagnostic> diagnostics;  // errors and warnings, in source order

  // False when any diagnostic is an error: such a document is not executed (fallback).
  bool ok() const {
    for (const auto& d : diagnostics) {
      if (d.level == Level::kError) return false;
    }
    return true;
  }
};

}  // namespace sb::twiml
