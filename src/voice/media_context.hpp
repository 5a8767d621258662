// MediaContext: what a call worker gives the media of the calls it runs (one per worker; every
// member outlives those calls).
#pragma once

#include <filesystem>
#include <string>

#include "core/time.hpp"
#include "media/media_worker.hpp"
#include "media/port_pool.hpp"
#include "media/srtp.hpp"
#include "media/tts.hpp"
#include "media/url_audio.hpp"
#include "store/store.hpp"
#include "voice/notifications.hpp"

namespace sb::voice {

struct MediaContext {
  media::MediaWorker& worker;  // the worker's 20 ms pacing tick
  media::PortPool& ports;
  media::Synthesizer& tts;
  media::UrlAudioLoader& audio;
  std::string rtp_address;  // where we receive RTP (an address of this host)
  std::filesystem::path recordings_dir;
  std::string public_url;                     // RecordingUrl's base
  NotificationSink* notifications = nullptr;  // Play/Say failures (warnings, as Twilio)
  store::Store* store = nullptr;              // where recordings are listed
  const Clock* clock = nullptr;
  media::SrtpPolicy srtp = media::kDefaultSrtpPolicy;  // media.srtp (trunks, domains may differ)
};

}  // namespace sb::voice
