// Twilio error numbers the media engine reports as values (TWILIO-COMPAT.md): media that cannot
// be played is Play's 13420, a fetch that fails keeps the HTTP layer's 112xx number (as Twilio
// reports a Play URL it could not retrieve), synthesis failures are Say's 135xx.
#pragma once

#include <string>
#include <utility>

#include "core/error.hpp"

namespace sb::media {

namespace media_codes {
inline constexpr int kPlayInvalidContentType = 13420;  // undecodable, unsupported or oversize
inline constexpr int kRetrievalFailure = 11200;        // HTTP retrieval failure, non-2xx
inline constexpr int kSayInvalidVoice = 13511;
inline constexpr int kSayInvalidLanguage = 13512;
inline constexpr int kSayInvalidText = 13520;
}  // namespace media_codes

inline Error unplayable(std::string message) {
  return Error{media_codes::kPlayInvalidContentType, 415, "Play: " + std::move(message)};
}
inline Error retrieval_failure(std::string message) {
  return Error{media_codes::kRetrievalFailure, 502, "Play: " + std::move(message)};
}

}  // namespace sb::media
