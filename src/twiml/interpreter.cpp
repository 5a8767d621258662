#include "twiml/interpreter.hpp"

#include <algorithm>
#include <cstdio>

#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

namespace sb::twiml {

// Error number for a call that chained more documents than the limit (a redirect loop).
inline constexpr int kTooManyDocuments = 12400;

Interpreter::Interpreter(CallControl& call, DocumentSource& source, InterpreterLimits limits)
    : call_(call), source_(source), limits_(limits) {}

asio::awaitable<void> Interpreter::fail(InterpreterResult& result, int code, std::string message) {
  result.end = CallEnd::kError;
  result.error_code = code;
  result.error_message = std::move(message);
  if (call_.hung_up()) co_return;
  if (!call_.answered()) {
    co_await call_.answer();
  }
  Say apology;
  apology.text = kApplicationErrorText;
  co_await call_.say(apology, false);
  if (!call_.hung_up()) {
    co_await call_.hangup();
  }
}

asio::awaitable<InterpreterResult> Interpreter::run(FetchRequest first) {
  InterpreterResult result;
  try {
    result = co_await run_documents(std::move(first));
  } catch (const boost::system::system_error& e) {
    if (e.code() != boost::asio::error::operation_aborted) throw;
    result.end = CallEnd::kHungUp;  // cancelled: the call went away mid-operation
  }
  co_return result;
}

asio::awaitable<InterpreterResult> Interpreter::run_documents(FetchRequest first) {
  InterpreterResult result;
  FetchRequest request = std::move(first);
  for (;;) {
    if (call_.hung_up()) {
      result.end = CallEnd::kHungUp;
      co_return result;
    }
    if (result.documents >= limits_.max_documents) {
      co_await fail(result, kTooManyDocuments,
                    "More than " + std::to_string(limits_.max_documents) +
                        " TwiML documents on one call (a Redirect loop?)");
      co_return result;
    }
    FetchResult fetched = co_await source_.fetch(request);
    if (call_.hung_up()) {
      result.end = CallEnd::kHungUp;
      co_return result;
    }
    if (!fetched.ok) {
      co_await fail(result, fetched.error_code, fetched.error_message);
      co_return result;
    }
    ++result.documents;

    bool fetch_next = false;
    for (const Verb& verb : fetched.document.verbs) {
      call_.on_verb(verb_name(verb));
      Step step = co_await execute(verb, fetched.url);
      if (step.next == Next::kStop) {  // Hangup, Reject, or a verb that ends the document
        result.end = std::holds_alternative<Reject>(verb) && !call_.answered()
                         ? CallEnd::kRejected
                         : CallEnd::kCompleted;
        co_return result;
      }
      if (call_.hung_up()) {
        // A recording cut short by the caller, or a Dial the caller left, still reaches its
        // action URL, as on Twilio; whatever that returns cannot run any more.
        if (step.next == Next::kFetch &&
            (std::holds_alternative<Record>(verb) || std::holds_alternative<Dial>(verb) ||
             std::holds_alternative<Enqueue>(verb))) {
          co_await source_.fetch(step.fetch);
        }
        result.end = CallEnd::kHungUp;
        co_return result;
      }
      if (step.next == Next::kFetch) {
        request = std::move(step.fetch);
        fetch_next = true;
        break;
      }
    }
    if (!fetch_next) {
      // Out of verbs: Twilio hangs up (a whisper's end is the bridge's start instead).
      if (!call_.hung_up() && limits_.hang_up_at_end) {
        co_await call_.hangup();
      }
      result.end = CallEnd::kCompleted;
      co_return result;
    }
  }
}

asio::awaitable<Interpreter::Step> Interpreter::execute(const Verb& verb,
                                                        const std::string& doc_url) {
  Step step;
  if (const auto* say = std::get_if<Say>(&verb)) {
    co_await call_.answer();
    co_await call_.say(*say, false);
  } else if (const auto* play = std::get_if<Play>(&verb)) {
    co_await call_.answer();
    co_await call_.play(*play, false);
  } else if (const auto* pause = std::get_if<Pause>(&verb)) {
    co_await call_.answer();
    co_await call_.pause(pause->length, false);
  } else if (const auto* g = std::get_if<Gather>(&verb)) {
    step = co_await gather(*g, doc_url);
  } else if (const auto* r = std::get_if<Record>(&verb)) {
    step = co_await record(*r, doc_url);
  } else if (const auto* d = std::get_if<Dial>(&verb)) {
    step = co_await dial(*d, doc_url);
  } else if (std::holds_alternative<Hangup>(verb)) {
    co_await call_.hangup();
    step.next = Next::kStop;
  } else if (const auto* redirect = std::get_if<Redirect>(&verb)) {
    step.next = Next::kFetch;
    step.fetch.url = redirect->url;
    step.fetch.method = redirect->method;
    step.fetch.base = doc_url;
  } else if (const auto* e = std::get_if<Enqueue>(&verb)) {
    step = co_await enqueue(*e, doc_url);
  } else if (const auto* c = std::get_if<Connect>(&verb)) {
    step = co_await connect(*c, doc_url);
  } else if (const auto* st = std::get_if<Start>(&verb)) {
    if (!co_await call_.start(*st, doc_url)) step.next = Next::kStop;
  } else if (const auto* reject = std::get_if<Reject>(&verb)) {
    // Reject declines a call that is still ringing; once answered it can only hang up.
    if (call_.answered()) {
      co_await call_.hangup();
    } else {
      co_await call_.reject(reject->reason);
    }
    step.next = Next::kStop;
  } else {
    const bool go_on = co_await call_.other(verb);
    if (!go_on) step.next = Next::kStop;
  }
  co_return step;
}

asio::awaitable<Interpreter::Step> Interpreter::gather(const Gather& g,
                                                       const std::string& doc_url) {
  Step step;
  co_await call_.answer();
  for (const Prompt& prompt : g.prompts) {
    PromptEnd end = PromptEnd::kCompleted;
    if (const auto* say = std::get_if<Say>(&prompt)) {
      end = co_await call_.say(*say, true);
    } else if (const auto* play = std::get_if<Play>(&prompt)) {
      end = co_await call_.play(*play, true);
    } else if (const auto* pause = std::get_if<Pause>(&prompt)) {
      end = co_await call_.pause(pause->length, true);
    }
    if (end == PromptEnd::kHungUp) co_return step;
    if (end == PromptEnd::kInterrupted) break;  // barge-in: the remaining prompts are skipped
  }
  if (std::find(g.input.begin(), g.input.end(), "speech") != g.input.end()) {
    SpeechInput heard = co_await call_.collect_speech(g, doc_url);
    if (heard.hung_up) co_return step;
    if (heard.speech.empty() && heard.digits.empty() && !g.action_on_empty_result) {
      co_return step;  // nothing said or pressed: on to the next verb
    }
    step.next = Next::kFetch;
    step.fetch.url = g.action;
    step.fetch.method = g.method;
    step.fetch.base = doc_url;
    if (!heard.digits.empty()) {
      step.fetch.params = {{"Digits", heard.digits}, {"FinishedOnKey", heard.finished_on_key}};
    } else {
      step.fetch.params = {{"SpeechResult", heard.speech}};
      if (heard.confidence) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.8f", *heard.confidence);
        step.fetch.params.emplace_back("Confidence", buf);
      }
    }
    co_return step;
  }
  DigitCollection spec;
  spec.timeout_s = g.timeout;
  spec.finish_on_key = g.finish_on_key;
  spec.num_digits = g.num_digits;
  CollectedDigits got = co_await call_.collect_digits(spec);
  if (got.hung_up) co_return step;
  if (got.digits.empty() && !g.action_on_empty_result) {
    co_return step;  // nothing pressed: on to the next verb
  }
  step.next = Next::kFetch;
  step.fetch.url = g.action;  // empty: the current document's URL
  step.fetch.method = g.method;
  step.fetch.base = doc_url;
  step.fetch.params = {{"Digits", got.digits}, {"FinishedOnKey", got.finished_on_key}};
  co_return step;
}

asio::awaitable<Interpreter::Step> Interpreter::record(const Record& r,
                                                       const std::string& doc_url) {
  Step step;
  co_await call_.answer();
  RecordingOutcome got = co_await call_.record(r, doc_url);
  if (got.duration_s == 0 && got.recording_url.empty() && !got.hung_up) {
    co_return step;  // nothing recorded: Twilio moves on to the next verb
  }
  step.next = Next::kFetch;
  step.fetch.url = r.action;
  step.fetch.method = r.method;
  step.fetch.base = doc_url;
  step.fetch.params = {{"RecordingUrl", got.recording_url},
                       {"RecordingSid", got.recording_sid},
                       {"RecordingDuration", std::to_string(got.duration_s)},
                       {"Digits", got.digits}};
  co_return step;
}

asio::awaitable<Interpreter::Step> Interpreter::dial(const Dial& d, const std::string& doc_url) {
  Step step;
  DialOutcome got = co_await call_.dial(d, doc_url);
  if (d.action.empty()) co_return step;  // no action: continue after the Dial
  step.next = Next::kFetch;
  step.fetch.url = d.action;
  step.fetch.method = d.method;
  step.fetch.base = doc_url;
  step.fetch.params = {{"DialCallStatus", got.status}};
  if (!got.call_sid.empty()) step.fetch.params.emplace_back("DialCallSid", got.call_sid);
  if (!got.call_sid.empty() && !got.redirected) {
    step.fetch.params.emplace_back("DialCallDuration", std::to_string(got.duration_s));
  }
  step.fetch.params.emplace_back("DialBridged", got.bridged ? "true" : "false");
  for (auto& p : got.params) step.fetch.params.push_back(std::move(p));
  co_return step;
}

asio::awaitable<Interpreter::Step> Interpreter::connect(const Connect& c,
                                                        const std::string& doc_url) {
  Step step;
  co_await call_.answer();
  const ConnectOutcome got = co_await call_.connect(c, doc_url);
  // The server closed the socket: its action, if any, says what comes next. A stream that
  // never started goes on with the next verb, as Twilio does.
  if (!got.connected || c.action.empty() || call_.hung_up()) co_return step;
  step.next = Next::kFetch;
  step.fetch.url = c.action;
  step.fetch.method = c.method;
  step.fetch.base = doc_url;
  co_return step;
}

asio::awaitable<Interpreter::Step> Interpreter::enqueue(const Enqueue& e,
                                                        const std::string& doc_url) {
  Step step;
  co_await call_.answer();
  EnqueueOutcome got = co_await call_.enqueue(e, doc_url);
  Params params = {{"QueueResult", got.result}};
  if (!got.queue_sid.empty()) params.emplace_back("QueueSid", got.queue_sid);
  if (got.queue_time_s >= 0) params.emplace_back("QueueTime", std::to_string(got.queue_time_s));
  if (!got.redirect_url.empty()) {
    // Dequeued through the API: the given URL's document runs (told why, like an action).
    step.next = Next::kFetch;
    step.fetch.url = got.redirect_url;
    step.fetch.method = got.redirect_method;
    step.fetch.params = std::move(params);
    co_return step;
  }
  if (e.action.empty()) co_return step;  // no action: the next verb
  step.next = Next::kFetch;
  step.fetch.url = e.action;
  step.fetch.method = e.method;
  step.fetch.base = doc_url;
  step.fetch.params = std::move(params);
  co_return step;
}

}  // namespace sb::twiml
