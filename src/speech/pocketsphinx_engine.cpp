#include "speech/pocketsphinx_engine.hpp"

#include <pocketsphinx.h>
#include <samplerate.h>
#include <sphinxbase/ckd_alloc.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/fsg_model.h>
#include <sphinxbase/jsgf.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>
#include <vector>

#include "speech/transcript.hpp"

namespace sb::speech {
namespace {

constexpr int kModelRate = 16000;

// Words a caller's answer is made of whatever the hints say: they are always in the grammar.
constexpr std::string_view kGrammarWords =
    "zero | one | two | three | four | five | six | seven | eight | nine | yes | no";

std::string hmm_dir(const PocketSphinxOptions& o) { return o.model_dir + "/en-us"; }
std::string lm_file(const PocketSphinxOptions& o) { return o.model_dir + "/en-us.lm.bin"; }
std::string dict_file(const PocketSphinxOptions& o) { return o.model_dir + "/cmudict-en-us.dict"; }

// The model's feature parameters with the filter bank cut at 3.5 kHz, for decoding at 8 kHz
// (the model's own say 6.8 kHz, which the front end refuses below 13.6 kHz). A temporary file,
// as pocketsphinx reads them from one and lets them override the command line.
class NarrowbandParams {
 public:
  explicit NarrowbandParams(const std::string& hmm) {
    std::ifstream in(hmm + "/feat.params");
    std::stringstream text;
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("-upperf", 0) == 0) line = "-upperf 3500";
      text << line << '\n';
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "sb-feat8-XXXXXX").string();
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0) return;
    const std::string body = text.str();
    const bool written = ::write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size());
    ::close(fd);
    path_ = pattern;
    if (!written) path_.clear();
  }
  ~NarrowbandParams() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  NarrowbandParams(const NarrowbandParams&) = delete;
  NarrowbandParams& operator=(const NarrowbandParams&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One loaded model: a decoder with its configuration. Used by one thread at a time.
class Decoder {
 public:
  static Result<std::unique_ptr<Decoder>> load(const PocketSphinxOptions& o) {
    // pocketsphinx logs through a process-wide FILE*: set once, before any decoder exists, and
    // load one at a time (its loaders share that and other globals).
    static std::mutex load_mu;
    static std::once_flag quiet;
    std::lock_guard lock(load_mu);
    std::call_once(quiet, [] { err_set_logfp(nullptr); });
    const std::string hmm = hmm_dir(o), lm = lm_file(o), dict = dict_file(o);
    cmd_ln_t* config = nullptr;
    if (o.upsample) {
      config = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", hmm.c_str(), "-lm", lm.c_str(),
                           "-dict", dict.c_str(), nullptr);
    } else {
      NarrowbandParams params(hmm);
      if (params.path().empty()) return engine_error("pocketsphinx: cannot write feature params");
      config = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", hmm.c_str(), "-lm", lm.c_str(),
                           "-dict", dict.c_str(), "-samprate", "8000", "-nfft", "256",
                           "-featparams", params.path().c_str(), nullptr);
      if (config != nullptr) {
        // ps_init reads the file: keep it until then.
        ps_decoder_t* ps = ps_init(config);
        return wrap(ps, config);
      }
    }
    if (config == nullptr) return engine_error("pocketsphinx: bad configuration");
    return wrap(ps_init(config), config);
  }

  ~Decoder() {
    ps_free(ps_);
    cmd_ln_free_r(config_);
  }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  ps_decoder_t* ps() const { return ps_; }
  // The language model's search, as ps_init names it (ps_get_search would say so too, but
  // leaks an iterator in this version).
  static constexpr const char* kLmSearch = "_default";
  bool in_utterance = false;  // a recognition cancelled mid-utterance left it open

 private:
  Decoder(ps_decoder_t* ps, cmd_ln_t* config) : ps_(ps), config_(config) {}
  static Result<std::unique_ptr<Decoder>> wrap(ps_decoder_t* ps, cmd_ln_t* config) {
    if (ps == nullptr) {
      cmd_ln_free_r(config);
      return engine_error("pocketsphinx: the model does not load");
    }
    return std::unique_ptr<Decoder>(new Decoder(ps, config));
  }

  ps_decoder_t* ps_;
  cmd_ln_t* config_;
};

// 8 kHz to the model's 16 kHz, in pieces as the audio comes (libsamplerate keeps the filter's
// state between them).
class Upsampler {
 public:
  Upsampler() {
    int err = 0;
    state_ = src_new(SRC_SINC_MEDIUM_QUALITY, 1, &err);
  }
  ~Upsampler() {
    if (state_ != nullptr) src_delete(state_);
  }
  Upsampler(const Upsampler&) = delete;
  Upsampler& operator=(const Upsampler&) = delete;

  // Appends the converted samples of `in` to `out`; `last` flushes the filter.
  void process(std::span<const std::int16_t> in, bool last, std::vector<std::int16_t>& out) {
    if (state_ == nullptr) return;
    in_.resize(in.size());
    std::transform(in.begin(), in.end(), in_.begin(),
                   [](std::int16_t s) { return static_cast<float>(s) / 32768.0f; });
    out_.resize(in.size() * 2 + 256);
    SRC_DATA data{};
    data.data_in = in_.data();
    data.input_frames = static_cast<long>(in_.size());
    data.src_ratio = 2.0;
    data.end_of_input = last ? 1 : 0;
    for (;;) {
      data.data_out = out_.data();
      data.output_frames = static_cast<long>(out_.size());
      if (src_process(state_, &data) != 0) return;
      for (long i = 0; i < data.output_frames_gen; ++i) {
        out.push_back(static_cast<std::int16_t>(
            std::lround(std::clamp(out_[static_cast<std::size_t>(i)], -1.0f, 1.0f) * 32767.0f)));
      }
      data.data_in += data.input_frames_used;
      data.input_frames -= data.input_frames_used;
      if (data.input_frames == 0 && (!last || data.output_frames_gen == 0)) return;
    }
  }

 private:
  SRC_STATE* state_ = nullptr;
  std::vector<float> in_, out_;
};

std::string hypothesis(ps_decoder_t* ps, std::int32_t* score) {
  std::int32_t s = 0;
  const char* hyp = ps_get_hyp(ps, &s);
  if (score != nullptr) *score = s;
  if (hyp == nullptr) return {};
  // Alternate pronunciations come back as "word(2)"; the caller wants the word.
  std::string out;
  std::istringstream words(hyp);
  std::string word;
  while (words >> word) {
    if (const auto paren = word.find('('); paren != std::string::npos) word.resize(paren);
    if (word.empty()) continue;
    if (!out.empty()) out += ' ';
    out += word;
  }
  return out;
}

// Installs `jsgf` as the search "hints". (ps_set_jsgf_string does the same but never frees the
// parsed grammar: some 26 kB a call in this version.)
bool set_grammar(ps_decoder_t* ps, const std::string& jsgf) {
  jsgf_t* grammar = jsgf_parse_string(jsgf.c_str(), nullptr);
  if (grammar == nullptr) return false;
  bool ok = false;
  if (jsgf_rule_t* rule = jsgf_get_public_rule(grammar); rule != nullptr) {
    const float lw = cmd_ln_float32_r(ps_get_config(ps), "-lw");
    if (fsg_model_t* fsg = jsgf_build_fsg(grammar, rule, ps_get_logmath(ps), lw); fsg != nullptr) {
      ok = ps_set_fsg(ps, "hints", fsg) == 0;
      fsg_model_free(fsg);  // the decoder holds its own reference
    }
  }
  jsgf_grammar_free(grammar);
  return ok;
}

// The grammar decoded beside the language model when the caller gave hints: any sequence of
// the hint phrases (those whose every word is in the dictionary), digits, yes and no.
std::string hints_grammar(ps_decoder_t* ps, const std::vector<std::string>& hints) {
  std::string items(kGrammarWords);
  for (const auto& phrase : hints) {
    const auto words = words_of(phrase);
    if (words.empty()) continue;
    bool known = true;
    std::string joined;
    for (const auto& w : words) {
      char* phones = ps_lookup_word(ps, w.c_str());
      if (phones == nullptr) {
        known = false;
        break;
      }
      ckd_free(phones);
      joined += (joined.empty() ? "" : " ") + w;
    }
    if (known) items += " | " + joined;
  }
  return "#JSGF V1.0;\ngrammar hints;\npublic <utterance> = <item>+;\n<item> = " + items + ";\n";
}

}  // namespace

class PsRecognition;

class PocketSphinxEngine::Core {
 public:
  explicit Core(PocketSphinxOptions o)
      : options(normalized(std::move(o))),
        model_present(std::filesystem::is_directory(hmm_dir(options)) &&
                      std::filesystem::is_regular_file(lm_file(options)) &&
                      std::filesystem::is_regular_file(dict_file(options))),
        pool_(options.threads) {}

  // A decoder slot for `r`: granted at once (the decoder may still have to be loaded: null) or
  // queued. False when the queue is full.
  bool acquire(const std::shared_ptr<PsRecognition>& r);
  // A slot back (its decoder, null when it was never loaded or failed to): to the next waiter.
  // `newly_loaded`: the decoder was just loaded (counted in the same step, so the figures never
  // show it loaded but held by nobody's recognition).
  void release(std::unique_ptr<Decoder> decoder, bool newly_loaded = false);
  // Drops `r` from the queue; false when it is not there (granted meanwhile).
  bool withdraw(const PsRecognition* r);
  // Runs `task` on the pool; false once the engine is shutting down.
  template <typename F>
  bool post(F task) {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    asio::post(pool_, std::move(task));
    return true;
  }
  void shutdown();
  void count_final(bool grammar) {
    std::lock_guard lock(mu_);
    ++stats_.recognitions;
    if (grammar) ++stats_.grammar_wins;
  }
  Stats stats() const {
    std::lock_guard lock(mu_);
    Stats s = stats_;
    s.decoders = loaded_;
    s.busy = slots_ - idle_.size();
    s.waiting = waiting_.size();
    return s;
  }
  void loaded() {
    std::lock_guard lock(mu_);
    ++loaded_;
  }
  // Loads a decoder into the idle set when none is loaded and a slot is free.
  void warm_up(const std::shared_ptr<Core>& self);

  const PocketSphinxOptions options;
  const bool model_present;

 private:
  static PocketSphinxOptions normalized(PocketSphinxOptions o) {
    o.threads = std::max(1u, o.threads);
    o.max_decoders = std::max(1u, o.max_decoders);
    return o;
  }

  mutable std::mutex mu_;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Decoder>> idle_;
  std::size_t slots_ = 0;   // decoders loaded, being loaded or held (<= max_decoders)
  std::size_t loaded_ = 0;  // decoders loaded
  std::deque<std::shared_ptr<PsRecognition>> waiting_;
  Stats stats_;
  asio::thread_pool pool_;
};

namespace {

// The decoding side of a recognition: touched only by its one running task.
struct DecodeState {
  std::unique_ptr<Upsampler> upsampler;
  std::vector<std::int16_t> pcm;  // at the model's rate, this piece
  // The whole utterance at the model's rate: decoded at once (batch), or again at the end of a
  // streaming recognition and for the hints grammar.
  std::vector<std::int16_t> all;
  bool started = false;
  std::size_t since_partial = 0;  // samples at 8 kHz
  std::string last_partial;
};

}  // namespace

class PsRecognition final : public Recognition, public std::enable_shared_from_this<PsRecognition> {
 public:
  PsRecognition(std::shared_ptr<PocketSphinxEngine::Core> core, RecognitionOptions options,
                asio::any_io_executor executor, RecognitionCallbacks callbacks)
      : core_(std::move(core)),
        options_(std::move(options)),
        executor_(std::move(executor)),
        callbacks_(std::move(callbacks)),
        streaming_(options_.partial_results && callbacks_.on_partial),
        use_grammar_(!options_.hints.empty() && core_->options.grammar_accept_ratio > 0) {}

  ~PsRecognition() override {
    // Dropped while holding a decoder (streaming, never finished or cancelled): give it back.
    if (has_slot_) core_->release(std::move(decoder_));
  }

  // After construction: a streaming recognition decodes as the audio comes, so it wants its
  // decoder now; the others ask at finish().
  void begin() {
    if (streaming_) request_decoder();
  }

  void feed(std::span<const std::int16_t> pcm) override {
    bool run = false;
    {
      std::lock_guard lock(mu_);
      if (cancelled_ || finished_) return;
      const std::size_t room = kMaxUtteranceSamples - std::min(kMaxUtteranceSamples, audio_.size());
      const std::size_t take = std::min(room, pcm.size());
      audio_.insert(audio_.end(), pcm.begin(), pcm.begin() + static_cast<std::ptrdiff_t>(take));
      dropped_ += pcm.size() - take;
      if (phase_ == Phase::kBound && take > 0) {
        phase_ = Phase::kRunning;
        run = true;
      }
    }
    if (run) schedule();
  }

  void finish() override {
    bool run = false, request = false;
    {
      std::lock_guard lock(mu_);
      if (cancelled_ || finished_) return;
      finished_ = true;
      if (phase_ == Phase::kIdle) request = true;
      if (phase_ == Phase::kBound) {
        phase_ = Phase::kRunning;
        run = true;
      }
    }
    if (request) request_decoder();
    if (run) schedule();
  }

  void cancel() override {
    std::unique_ptr<Decoder> back;
    bool give_back = false, withdraw = false;
    {
      std::lock_guard lock(mu_);
      if (cancelled_) return;
      cancelled_ = true;
      cancelled_flag_.store(true);
      if (phase_ == Phase::kWaiting) withdraw = true;
      if (phase_ == Phase::kBound) {
        back = std::move(decoder_);
        has_slot_ = false;
        give_back = true;
        phase_ = Phase::kDone;
      }
      // kRunning: the task sees cancelled_ and gives the decoder back itself.
    }
    if (withdraw && core_->withdraw(this)) {
      std::lock_guard lock(mu_);
      phase_ = Phase::kDone;
    }
    if (give_back) core_->release(std::move(back));
    callbacks_ = {};  // on the executor, like every callback: nothing can run them now
  }

  std::size_t dropped_samples() const override {
    std::lock_guard lock(mu_);
    return dropped_;
  }

  // From Core, with no lock held: the slot asked for (decoder null: load one).
  void granted(std::unique_ptr<Decoder> decoder) {
    bool run = false, back = false;
    {
      std::lock_guard lock(mu_);
      if (cancelled_) {
        back = true;
      } else {
        decoder_ = std::move(decoder);
        has_slot_ = true;
        phase_ = Phase::kBound;
        if (finished_ || consumed_ < audio_.size()) {
          phase_ = Phase::kRunning;
          run = true;
        }
      }
    }
    if (back) core_->release(std::move(decoder));
    if (run) schedule();
  }

  // Fails at once (model missing, language, queue full), on the executor.
  void fail(Error error) {
    {
      std::lock_guard lock(mu_);
      phase_ = Phase::kDone;
    }
    post_final(std::move(error));
  }

 private:
  enum class Phase { kIdle, kWaiting, kBound, kRunning, kDone };

  void request_decoder() {
    {
      std::lock_guard lock(mu_);
      phase_ = Phase::kWaiting;
    }
    if (!core_->acquire(shared_from_this())) {
      fail(engine_error("speech recognition is overloaded: too many recognitions waiting"));
    }
  }

  void schedule() {
    if (!core_->post([self = shared_from_this()] { self->run(); })) {
      // Shutting down: the engine answers nothing more.
      std::lock_guard lock(mu_);
      phase_ = Phase::kDone;
    }
  }

  // On a pool thread; the only code touching decoder_ and state_ while the phase is kRunning.
  void run() {
    std::vector<std::int16_t> piece;
    for (;;) {
      bool last = false;
      {
        std::lock_guard lock(mu_);
        if (cancelled_) break;
        piece.assign(audio_.begin() + static_cast<std::ptrdiff_t>(consumed_), audio_.end());
        consumed_ = audio_.size();
        last = finished_;
      }
      if (!decoder_) {
        auto loaded = Decoder::load(core_->options);
        if (!loaded) {
          post_final(loaded.error());
          break;
        }
        decoder_ = std::move(*loaded);
        core_->loaded();
      }
      decode(piece, last);
      if (cancelled_flag_.load()) break;
      if (last) {
        post_final(conclude());
        break;
      }
      std::lock_guard lock(mu_);
      if (cancelled_) break;
      if (consumed_ < audio_.size() || finished_) continue;
      phase_ = Phase::kBound;  // feed() or finish() schedules the next run
      return;
    }
    std::unique_ptr<Decoder> back;
    {
      std::lock_guard lock(mu_);
      phase_ = Phase::kDone;
      back = std::move(decoder_);
      has_slot_ = false;
    }
    core_->release(std::move(back));
  }

  void decode(std::span<const std::int16_t> piece, bool last) {
    ps_decoder_t* ps = decoder_->ps();
    if (!state_.started) {
      if (decoder_->in_utterance) ps_end_utt(ps);
      // Streaming needs the running mean the model's batch normalization cannot give (it would
      // normalize every piece on its own); a whole utterance uses the batch mean.
      ps_get_feat(ps)->cmn = streaming_ ? CMN_LIVE : CMN_BATCH;
      if (ps_set_search(ps, Decoder::kLmSearch) < 0 || ps_start_utt(ps) < 0) return;
      decoder_->in_utterance = true;
      state_.started = true;
      if (core_->options.upsample) state_.upsampler = std::make_unique<Upsampler>();
    }
    std::span<const std::int16_t> pcm = piece;
    if (state_.upsampler) {
      state_.pcm.clear();
      state_.upsampler->process(piece, last, state_.pcm);
      pcm = state_.pcm;
    }
    state_.all.insert(state_.all.end(), pcm.begin(), pcm.end());
    if (!streaming_) {
      // The whole utterance at once: cepstral mean normalization over all of it, so that the
      // result depends on this audio only, not on what the decoder heard before.
      if (last && !state_.all.empty()) {
        ps_process_raw(ps, state_.all.data(), state_.all.size(), FALSE, TRUE);
      }
      return;
    }
    // In half-second pieces, so that a cancelled recognition gives its decoder back soon.
    const std::size_t step = static_cast<std::size_t>(kModelRate) / 2;
    for (std::size_t i = 0; i < pcm.size() && !cancelled_flag_.load(); i += step) {
      ps_process_raw(ps, pcm.data() + i, std::min(step, pcm.size() - i), FALSE, FALSE);
    }

    if (!streaming_ || last) return;
    state_.since_partial += piece.size();
    const auto interval =
        static_cast<std::size_t>(core_->options.partial_interval_ms) * kSampleRate / 1000;
    if (state_.since_partial < interval) return;
    state_.since_partial = 0;
    std::string text = hypothesis(ps, nullptr);
    if (text.empty() || text == state_.last_partial) return;
    state_.last_partial = text;
    if (options_.profanity_filter) text = mask_profanities(text);
    asio::post(executor_, [self = shared_from_this(), text = std::move(text)] {
      if (self->cancelled_flag_.load() || self->final_posted_ || !self->callbacks_.on_partial) {
        return;
      }
      self->callbacks_.on_partial(Partial{text, {}});
    });
  }

  // The utterance's transcript: the language model's, or the hints grammar's when it wins.
  Result<Transcript> conclude() {
    ps_decoder_t* ps = decoder_->ps();
    if (!state_.started) return Transcript{};
    ps_end_utt(ps);
    decoder_->in_utterance = false;
    if (streaming_ && !state_.all.empty()) {
      // The live pass (for the partials) recognizes markedly worse than a pass over the whole
      // utterance, whose normalization sees all of it: the final comes from the latter.
      ps_get_feat(ps)->cmn = CMN_BATCH;
      if (ps_start_utt(ps) == 0) {
        ps_process_raw(ps, state_.all.data(), state_.all.size(), FALSE, TRUE);
        ps_end_utt(ps);
      }
    }
    std::int32_t lm_score = 0;
    Transcript best{hypothesis(ps, &lm_score), 0};
    if (!best.text.empty()) {
      best.confidence = std::clamp(logmath_exp(ps_get_logmath(ps), ps_get_prob(ps)), 0.0, 1.0);
    }
    bool grammar_won = false;
    if (use_grammar_ && !state_.all.empty() && lm_score < 0) {
      const std::string grammar = hints_grammar(ps, options_.hints);
      ps_get_feat(ps)->cmn = CMN_BATCH;
      if (set_grammar(ps, grammar) && ps_set_search(ps, "hints") == 0 && ps_start_utt(ps) == 0) {
        ps_process_raw(ps, state_.all.data(), state_.all.size(), FALSE, TRUE);
        ps_end_utt(ps);
        std::int32_t score = 0;
        std::string text = hypothesis(ps, &score);
        const double ratio = static_cast<double>(score) / lm_score;
        const double accept = core_->options.grammar_accept_ratio;
        if (!text.empty() && score < 0 && ratio <= accept) {
          // The grammar search has no posterior: its margin over the open model stands in
          // (0.5 at the acceptance limit, towards 1 as the grammar's path scores better).
          best = {std::move(text), std::clamp(1 - ratio / (2 * accept), 0.5, 0.99)};
          grammar_won = true;
        }
      }
      ps_set_search(ps, Decoder::kLmSearch);
    }
    core_->count_final(grammar_won);
    if (options_.profanity_filter) best.text = mask_profanities(best.text);
    return best;
  }

  void post_final(Result<Transcript> result) {
    asio::post(executor_, [self = shared_from_this(), result = std::move(result)]() mutable {
      if (self->cancelled_flag_.load() || self->final_posted_) return;
      self->final_posted_ = true;
      auto on_final = std::move(self->callbacks_.on_final);
      self->callbacks_ = {};  // callbacks holding the recognition release it
      if (on_final) on_final(std::move(result));
    });
  }

  const std::shared_ptr<PocketSphinxEngine::Core> core_;
  const RecognitionOptions options_;
  const asio::any_io_executor executor_;
  RecognitionCallbacks callbacks_;  // on the executor only
  const bool streaming_;
  const bool use_grammar_;
  bool final_posted_ = false;  // on the executor only
  std::atomic<bool> cancelled_flag_{false};

  mutable std::mutex mu_;
  std::vector<std::int16_t> audio_;
  std::size_t dropped_ = 0;
  std::size_t consumed_ = 0;  // samples handed to the decoder
  bool finished_ = false;
  bool cancelled_ = false;
  Phase phase_ = Phase::kIdle;
  bool has_slot_ = false;
  std::unique_ptr<Decoder> decoder_;  // null in a slot whose decoder is still to be loaded

  DecodeState state_;
};

bool PocketSphinxEngine::Core::acquire(const std::shared_ptr<PsRecognition>& r) {
  std::unique_ptr<Decoder> decoder;
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      decoder = std::move(idle_.back());
      idle_.pop_back();
    } else if (slots_ < options.max_decoders) {
      ++slots_;
    } else if (waiting_.size() >= options.max_queued) {
      ++stats_.overloaded;
      return false;
    } else {
      waiting_.push_back(r);
      return true;
    }
  }
  r->granted(std::move(decoder));
  return true;
}

void PocketSphinxEngine::Core::release(std::unique_ptr<Decoder> decoder, bool newly_loaded) {
  std::shared_ptr<PsRecognition> next;
  {
    std::lock_guard lock(mu_);
    if (newly_loaded && decoder) ++loaded_;
    if (!waiting_.empty() && !stopping_) {
      next = std::move(waiting_.front());
      waiting_.pop_front();
    } else if (decoder) {
      idle_.push_back(std::move(decoder));
      return;
    } else {
      --slots_;
      return;
    }
  }
  next->granted(std::move(decoder));
}

bool PocketSphinxEngine::Core::withdraw(const PsRecognition* r) {
  std::shared_ptr<PsRecognition> dropped;  // released outside the lock
  std::lock_guard lock(mu_);
  const auto it =
      std::find_if(waiting_.begin(), waiting_.end(), [r](const auto& w) { return w.get() == r; });
  if (it == waiting_.end()) return false;
  dropped = std::move(*it);
  waiting_.erase(it);
  return true;
}

void PocketSphinxEngine::Core::shutdown() {
  std::deque<std::shared_ptr<PsRecognition>> waiting;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    waiting.swap(waiting_);
  }
  waiting.clear();
  pool_.join();
  std::vector<std::unique_ptr<Decoder>> idle;
  {
    std::lock_guard lock(mu_);
    idle.swap(idle_);
    loaded_ -= idle.size();
  }
}

PocketSphinxEngine::PocketSphinxEngine(PocketSphinxOptions options)
    : core_(std::make_shared<Core>(std::move(options))) {}

PocketSphinxEngine::~PocketSphinxEngine() { core_->shutdown(); }

bool PocketSphinxEngine::available() const { return core_->model_present; }

PocketSphinxEngine::Stats PocketSphinxEngine::stats() const { return core_->stats(); }

void PocketSphinxEngine::warm_up() { core_->warm_up(core_); }

void PocketSphinxEngine::Core::warm_up(const std::shared_ptr<Core>& self) {
  {
    std::lock_guard lock(mu_);
    if (loaded_ > 0 || slots_ >= options.max_decoders) return;
    ++slots_;
  }
  const bool posted = post([self] {
    auto loaded = Decoder::load(self->options);
    const bool ok = static_cast<bool>(loaded);
    self->release(ok ? std::move(*loaded) : nullptr, ok);
  });
  if (!posted) release(nullptr);
}

std::shared_ptr<Recognition> PocketSphinxEngine::start(RecognitionOptions options,
                                                       asio::any_io_executor executor,
                                                       RecognitionCallbacks callbacks) {
  const std::string language = options.language;
  auto r = std::make_shared<PsRecognition>(core_, std::move(options), std::move(executor),
                                           std::move(callbacks));
  if (!core_->model_present) {
    r->fail(engine_error("pocketsphinx: no model in " + core_->options.model_dir));
  } else if (!language.empty() && language.rfind("en", 0) != 0) {
    r->fail(engine_error("pocketsphinx recognizes English only, not " + language));
  } else {
    r->begin();
  }
  return r;
}

}  // namespace sb::speech
