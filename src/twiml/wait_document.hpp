// Rules for the TwiML a <Conference waitUrl> (or hold/announce URL) returns: Twilio allows only
// Say, Play, Pause and Redirect there (13238).
#pragma once

#include "twiml/document.hpp"

namespace sb::twiml {

// Adds a 13238 error for every other verb; the document then is not ok() and must not run.
void check_wait_document(Document& doc);

}  // namespace sb::twiml
