// A call's side of a queue (voice/call_queue.hpp), on its own worker: <Enqueue> (wait with
// the waitUrl looping until an agent takes the call, the API dequeues it, <Leave> or a hang-up)
// and <Dial><Queue> (an agent takes the front caller and talks to it through a two-port mixer,
// so the two calls may run on different workers).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "twiml/call_control.hpp"

namespace sb::voice {

class CallSession;

boost::asio::awaitable<twiml::EnqueueOutcome> run_enqueue(CallSession& session,
                                                          const twiml::Enqueue& enqueue,
                                                          const std::string& document_url);

// DialCallStatus completed with DialCallSid (the caller taken), QueueSid and QueueTime once
// bridged; no-answer when nobody was waiting before the Dial's timeout; failed when the queue
// does not exist.
boost::asio::awaitable<twiml::DialOutcome> run_dial_queue(CallSession& session,
                                                          const twiml::Dial& dial,
                                                          const twiml::DialQueue& queue,
                                                          const std::string& document_url);

}  // namespace sb::voice
