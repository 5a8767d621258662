// <Dial><Conference>: a call's time in a conference, on the call's own worker. It joins the
// room (voice/conference.hpp), puts its audio into the room's mixer and plays the mix back,
// and does what the room tells it: wait audio before the room starts, hold audio while held,
// announcements, and leaving when kicked or when the room ends. It leaves on its own when the
// caller hangs up, presses * (hangupOnStar), reaches timeLimit, or the call is modified.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "twiml/call_control.hpp"

namespace sb::voice {

class CallSession;

// The Dial's outcome: DialCallStatus answered once the call was in the room (however it
// left), failed when it could not join (the room is full, its label is taken).
boost::asio::awaitable<twiml::DialOutcome> run_conference(CallSession& session,
                                                          const twiml::Dial& dial,
                                                          const twiml::DialConference& noun,
                                                          const std::string& document_url);

}  // namespace sb::voice
