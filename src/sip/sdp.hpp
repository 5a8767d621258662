// SDP (RFC 4566) parsing and building, and offer/answer (RFC 3264) for one audio stream:
// PCMU, PCMA, telephone-event (RFC 4733), ptime, direction attributes and hold (sendonly,
// inactive, or the RFC 2543 c=0.0.0.0 form); RTP/SAVP streams keyed by a=crypto (RFC 4568: the
// suites are matched here by name, the keys are the media layer's).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace sb::sip {

enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };
std::string_view to_string(Direction d);
// The direction the other side uses when one side says `d` (sendonly <-> recvonly).
Direction reverse(Direction d);

struct Codec {
  int payload_type = -1;
  std::string name;  // "PCMU", "PCMA", "telephone-event"
  int clock_rate = 8000;
  std::string fmtp;  // e.g. "0-16" for telephone-event
};

struct MediaDescription {
  std::string media;                 // "audio", "video", ...
  std::uint16_t port = 0;            // 0: stream rejected/disabled
  std::string proto;                 // "RTP/AVP"
  std::vector<std::string> formats;  // as listed on the m= line
  std::vector<Codec> codecs;         // RTP formats with rtpmap/static names resolved
  std::string connection;            // media-level c= address ("" when inherited)
  std::optional<int> ptime;
  std::optional<Direction> direction;
  std::vector<std::string> other_attributes;  // "a=" lines we do not interpret, verbatim
};

struct SessionDescription {
  std::string origin_user = "-";
  std::uint64_t session_id = 0;
  std::uint64_t session_version = 0;
  std::string origin_address = "0.0.0.0";
  std::string session_name = "-";
  std::string connection;              // session-level c= address
  std::optional<Direction> direction;  // session-level attribute
  std::vector<MediaDescription> media;

  // The address and direction that apply to one m= line (media-level wins).
  const std::string& address_of(const MediaDescription& m) const;
  Direction direction_of(const MediaDescription& m) const;
};

struct SdpLimits {
  std::size_t max_bytes = 16384;
  std::size_t max_lines = 256;
  std::size_t max_media = 8;
  std::size_t max_formats = 32;
};

Result<SessionDescription> parse_sdp(std::string_view text, const SdpLimits& limits = {});
std::string to_string(const SessionDescription& sdp);

// What this endpoint can do with audio.
struct AudioCapabilities {
  std::vector<Codec> codecs = {{0, "PCMU", 8000, {}}, {8, "PCMA", 8000, {}}};
  bool telephone_event = true;
  int telephone_event_pt = 101;  // used in our offers
  int ptime = 20;
};

struct LocalMedia {
  std::string address;  // IPv4 dotted quad (or IPv6 literal) where we receive RTP
  std::uint16_t port = 0;
  Direction direction = Direction::kSendRecv;  // kSendOnly to put the peer on hold
  // SRTP: our a=crypto values ("1 AES_CM_128_HMAC_SHA1_80 inline:..."), one per suite we take,
  // most preferred first. Empty: RTP/SAVP offers are refused. With require_srtp, our offers are
  // RTP/SAVP with all of them and plain RTP/AVP offers are refused.
  std::vector<std::string> crypto;
  bool require_srtp = false;
  std::uint64_t session_id = 1;
  std::uint64_t session_version = 1;
};

// The outcome of offer/answer for the audio stream, from our point of view.
struct AudioSession {
  std::string remote_address;
  std::uint16_t remote_port = 0;
  Codec codec;
  std::optional<int> telephone_event_pt;
  int ptime = 20;
  Direction direction = Direction::kSendRecv;  // what we do: send? receive?
  bool remote_hold = false;  // the peer asked us to stop sending (sendonly/inactive/0.0.0.0)
  std::size_t media_index = 0;
  // RTP/SAVP: the a=crypto values agreed (same tag and suite): ours keys what we send, theirs
  // what they send.
  bool secure = false;
  std::string local_crypto;
  std::string remote_crypto;
};

SessionDescription make_offer(const LocalMedia& local, const AudioCapabilities& caps);

struct Answer {
  SessionDescription sdp;
  AudioSession audio;
};
// Answers `offer` (RFC 3264 §6): every m= line answered in order, non-audio or unusable ones
// with port 0; an error (to be sent as 488) when no audio stream is acceptable.
Result<Answer> make_answer(const SessionDescription& offer, const LocalMedia& local,
                           const AudioCapabilities& caps);
// Applies the peer's answer to our offer.
Result<AudioSession> apply_answer(const SessionDescription& offer,
                                  const SessionDescription& answer);

}  // namespace sb::sip
