// bench_speech_wer: the embedded recognizer (PocketSphinx) on synthesized telephone speech.
// Utterances (digits, yes/no, commands) spoken by every flite voice and a few espeak-ng voices,
// resampled to 8 kHz and through μ-law, with 0 % and 3 % packet loss (concealed as the media
// path does), recognized with and without the hints an application would give for them; and
// the real-time factor and recognitions per second with 1 and 2 decoding threads.
//
// usage: bench_speech_wer [--verbose] [--model-dir DIR] [--accept-ratio R]
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "speech/pocketsphinx_engine.hpp"
#include "speech/transcript.hpp"
#include "unit/speech/utterances.hpp"

namespace {

using namespace sb::speech;
namespace asio = boost::asio;

struct Utterance {
  std::string voice, text;
  const char* hints;
  std::vector<std::int16_t> audio;  // 8 kHz μ-law round trip, 300 ms of silence either side
};

const char* kDigitHints = "zero, one, two, three, four, five, six, seven, eight, nine";
const char* kYesNoHints = "yes, no";
const char* kCommandHints = "sales, support, operator, billing";

std::vector<Utterance> make_utterances() {
  const std::vector<std::pair<std::string, const char*>> texts = {
      {"one two three", kDigitHints},
      {"four five six", kDigitHints},
      {"seven eight nine zero", kDigitHints},
      {"yes", kYesNoHints},
      {"no", kYesNoHints},
      {"sales", kCommandHints},
      {"support", kCommandHints},
      {"operator", kCommandHints},
      {"billing", kCommandHints}};
  std::vector<test::Voice> voices = {{"flite", "kal"},       {"flite", "slt"},
                                     {"flite", "awb"},       {"flite", "rms"},
                                     {"espeak-ng", "en-us"}, {"espeak-ng", "en-us+f3"}};
  std::vector<Utterance> out;
  for (const auto& v : voices) {
    for (std::size_t t = 0; t < texts.size(); ++t) {
      // espeak-ng voices speak a subset: one digit string, yes, no and two commands.
      if (v.program == "espeak-ng" && t != 0 && t != 3 && t != 4 && t != 7 && t != 8) continue;
      auto pcm = test::synthesize(v, texts[t].first);
      if (!pcm) {
        std::fprintf(stderr, "skipped %s: cannot synthesize\n", v.label().c_str());
        break;
      }
      out.push_back({v.label(), texts[t].first, texts[t].second,
                     test::telephone(test::padded(*pcm, 300, 300))});
    }
  }
  return out;
}

std::size_t edit_distance(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Recognizes every utterance (all started at once, so the engine's threads share them) and
// returns the transcripts in order, with the wall time taken.
// Hints for another kind of answer than the utterance's: what a forced grammar match costs.
const char* wrong_hints(const char* hints) {
  return hints == kCommandHints ? kYesNoHints : kCommandHints;
}

std::vector<std::string> recognize_all(PocketSphinxEngine& engine,
                                       const std::vector<Utterance>& set, int hints,
                                       std::size_t loss_every, double* seconds) {
  asio::io_context io;
  std::vector<std::optional<std::string>> results(set.size());
  std::vector<std::shared_ptr<Recognition>> running;
  std::size_t done = 0;
  std::vector<std::vector<std::int16_t>> audio;
  for (const auto& u : set) {
    audio.push_back(loss_every > 0 ? test::with_loss(u.audio, loss_every) : u.audio);
  }
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < set.size(); ++i) {
    RecognitionOptions options;
    if (hints == 1) options.hints = parse_hints(set[i].hints);
    if (hints == 2) options.hints = parse_hints(wrong_hints(set[i].hints));
    RecognitionCallbacks cb;
    cb.on_final = [&results, &done, i](sb::Result<Transcript> r) {
      results[i] = r ? r->text : "(error: " + r.error().message + ")";
      ++done;
    };
    auto r = engine.start(options, io.get_executor(), std::move(cb));
    r->feed(audio[i]);
    r->finish();
    running.push_back(std::move(r));
  }
  while (done < set.size()) {
    io.restart();
    io.run_for(std::chrono::milliseconds(2));
  }
  *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<std::string> out;
  for (auto& r : results) out.push_back(*r);
  return out;
}

struct Score {
  double wer = 0;
  double sentence_accuracy = 0;
};

Score score(const std::vector<Utterance>& set, const std::vector<std::string>& hyps, bool verbose,
            const char* label) {
  std::size_t errors = 0, words = 0, right = 0;
  for (std::size_t i = 0; i < set.size(); ++i) {
    const auto ref = words_of(set[i].text);
    const auto hyp = words_of(hyps[i]);
    const std::size_t e = edit_distance(ref, hyp);
    errors += e;
    words += ref.size();
    right += e == 0;
    if (verbose) {
      std::printf("  %-24s %-18s %-22s -> %s\n", label, set[i].voice.c_str(), set[i].text.c_str(),
                  hyps[i].c_str());
    }
  }
  return {100.0 * static_cast<double>(errors) / static_cast<double>(words),
          100.0 * static_cast<double>(right) / static_cast<double>(set.size())};
}

}  // namespace

int main(int argc, char** argv) {
  bool verbose = false;
  PocketSphinxOptions base;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--verbose") == 0) verbose = true;
    if (std::strcmp(argv[i], "--model-dir") == 0 && i + 1 < argc) base.model_dir = argv[++i];
    if (std::strcmp(argv[i], "--accept-ratio") == 0 && i + 1 < argc) {
      base.grammar_accept_ratio = std::atof(argv[++i]);
    }
  }
  const auto set = make_utterances();
  double audio_seconds = 0;
  std::size_t words = 0;
  for (const auto& u : set) {
    audio_seconds += static_cast<double>(u.audio.size()) / kSampleRate;
    words += words_of(u.text).size();
  }
  std::printf(
      "%zu utterances, %zu words, %.1f s of audio (8 kHz μ-law, 300 ms silence each "
      "side)\n\n",
      set.size(), words, audio_seconds);

  std::printf("%-34s %-6s %-6s %8s %10s\n", "front end", "hints", "loss", "WER %", "utt. ok %");
  for (const bool upsample : {true, false}) {
    PocketSphinxOptions o = base;
    o.upsample = upsample;
    PocketSphinxEngine engine(o);
    for (const int hints : {0, 1, 2}) {
      for (const std::size_t loss : {std::size_t{0}, std::size_t{33}}) {
        // The narrowband front end and the wrong hints: one row each.
        if ((!upsample || hints == 2) && loss != 0) continue;
        if (!upsample && hints == 2) continue;
        double seconds = 0;
        const auto hyps = recognize_all(engine, set, hints, loss, &seconds);
        char label[64];
        std::snprintf(label, sizeof label, "%s/%s/%s", upsample ? "16k" : "8k",
                      hints == 0   ? "-"
                      : hints == 1 ? "hints"
                                   : "wrong",
                      loss ? "3%" : "0%");
        const Score s = score(set, hyps, verbose, label);
        std::printf("%-34s %-6s %-6s %8.1f %10.1f\n",
                    upsample ? "upsampled to 16 kHz (default)" : "native 8 kHz (-upperf 3500)",
                    hints == 0   ? "no"
                    : hints == 1 ? "yes"
                                 : "wrong",
                    loss ? "3 %" : "0 %", s.wer, s.sentence_accuracy);
      }
    }
  }

  std::printf("\n%-8s %12s %14s %16s\n", "threads", "wall s", "RTF (wall)", "recognitions/s");
  for (const unsigned threads : {1u, 2u}) {
    PocketSphinxOptions o = base;
    o.threads = threads;
    o.max_decoders = threads;
    PocketSphinxEngine engine(o);
    double warm = 0;
    recognize_all(engine, set, 0, 0, &warm);  // loads the decoders
    double seconds = 0;
    recognize_all(engine, set, 0, 0, &seconds);
    std::printf("%-8u %12.2f %14.3f %16.1f\n", threads, seconds, seconds / audio_seconds,
                static_cast<double>(set.size()) / seconds);
  }
  return 0;
}
