// <Gather input="speech"> on a call: the caller's audio (an AudioTap on its RTP session, on the
// call's worker) goes to an Endpointer, which decides when speech began and when speechTimeout
// of silence (or maxSpeechTime) ended it, and to a Recognition of the engine chosen for the
// account and speechModel, which decodes off the worker and answers with the transcript.
// With input="dtmf speech" a key pressed before any speech turns the Gather into a DTMF one.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "twiml/call_control.hpp"

namespace sb::voice {

class CallSession;

// Listens once the Gather's prompts are over. The call's hang-up (or a live modification)
// cancels it as any verb.
boost::asio::awaitable<twiml::SpeechInput> run_speech_gather(CallSession& session,
                                                             const twiml::Gather& gather,
                                                             std::string document_url);

}  // namespace sb::voice
