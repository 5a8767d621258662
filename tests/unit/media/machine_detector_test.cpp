#include "media/machine_detector.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

namespace sb::media {
namespace {

// Signals built from parts: noise bursts stand in for speech (loud, not tonal), tones for beeps
// and fax, zeros for silence. The noise is a fixed LCG: the same samples every run.
class Signal {
 public:
  Signal& silence(int ms) {
    pcm_.insert(pcm_.end(), static_cast<std::size_t>(ms * 8), 0);
    return *this;
  }
  Signal& speech(int ms, int amplitude = 6000) {
    for (int i = 0; i < ms * 8; ++i) {
      seed_ = seed_ * 1103515245u + 12345u;
      pcm_.push_back(static_cast<std::int16_t>(int((seed_ >> 16) % 2001) - 1000) * amplitude /
                     1000);
    }
    return *this;
  }
  Signal& tone(int ms, double hz, int amplitude = 12000) {
    for (int i = 0; i < ms * 8; ++i) {
      pcm_.push_back(static_cast<std::int16_t>(
          amplitude * std::sin(2 * std::numbers::pi * hz * double(phase_++) / 8000)));
    }
    return *this;
  }
  const std::vector<std::int16_t>& pcm() const { return pcm_; }

 private:
  std::vector<std::int16_t> pcm_;
  std::uint32_t seed_ = 7;
  std::uint64_t phase_ = 0;
};

// Feeds the signal in 20 ms slices, then silence, until the detector decides.
MachineVerdict run(const Signal& signal, MachineDetectorOptions options = {}) {
  MachineDetector detector(options);
  const auto& pcm = signal.pcm();
  const std::vector<std::int16_t> quiet(160, 0);
  for (std::size_t at = 0; at < 8 * 120000; at += 160) {
    std::span<const std::int16_t> slice(quiet);
    if (at < pcm.size()) {
      slice = std::span<const std::int16_t>(pcm).subspan(
          at, std::min<std::size_t>(160, pcm.size() - at));
    }
    if (auto v = detector.feed(slice)) return *v;
  }
  ADD_FAILURE() << "no verdict after two minutes";
  return {};
}

TEST(MachineDetector, NamesAreTwilios) {
  EXPECT_EQ(answered_by_name(AnsweredBy::kHuman), "human");
  EXPECT_EQ(answered_by_name(AnsweredBy::kMachineStart), "machine_start");
  EXPECT_EQ(answered_by_name(AnsweredBy::kMachineEndBeep), "machine_end_beep");
  EXPECT_EQ(answered_by_name(AnsweredBy::kMachineEndSilence), "machine_end_silence");
  EXPECT_EQ(answered_by_name(AnsweredBy::kMachineEndOther), "machine_end_other");
  EXPECT_EQ(answered_by_name(AnsweredBy::kFax), "fax");
  EXPECT_EQ(answered_by_name(AnsweredBy::kUnknown), "unknown");
}

TEST(MachineDetector, AnalysisTellsTonesFromNoise) {
  Signal tone;
  tone.tone(20, 1000);
  const auto t = MachineDetector::analyse(
      std::span<const std::int16_t, MachineDetector::kFrameSamples>(tone.pcm().data(), 160));
  EXPECT_LT(t.tonality_db, -40);
  EXPECT_NEAR(t.frequency_hz, 1000, 2);
  EXPECT_NEAR(t.level_db, -11.7, 0.5);  // 12000 peak: a sine's power is half its peak's
  Signal noise;
  noise.speech(20);
  const auto n = MachineDetector::analyse(
      std::span<const std::int16_t, MachineDetector::kFrameSamples>(noise.pcm().data(), 160));
  EXPECT_GT(n.tonality_db, -5);
  const std::vector<std::int16_t> zeros(160, 0);
  EXPECT_EQ(
      MachineDetector::analyse(std::span<const std::int16_t, 160>(zeros.data(), 160)).level_db,
      -100);
}

TEST(MachineDetector, ShortSpeechThenSilenceIsAHuman) {
  const auto v = run(Signal().silence(400).speech(700).silence(3000));
  EXPECT_EQ(v.answered_by, AnsweredBy::kHuman);
  // Decided once the speech-end threshold (1200 ms) of silence followed the speech.
  EXPECT_EQ(v.after_ms, 400u + 700 + 1200);
}

TEST(MachineDetector, SpeechPastTheThresholdIsAMachineStart) {
  const auto v = run(Signal().silence(500).speech(1500).silence(300).speech(4000));
  EXPECT_EQ(v.answered_by, AnsweredBy::kMachineStart);
  EXPECT_EQ(v.after_ms, 500u + 2400);  // pauses shorter than the end threshold do not end it
}

TEST(MachineDetector, ThresholdsAreHonoured) {
  MachineDetectorOptions options;
  options.speech_threshold_ms = 1000;
  EXPECT_EQ(run(Signal().speech(1500).silence(3000), options).answered_by,
            AnsweredBy::kMachineStart);
  options = {};
  options.speech_end_threshold_ms = 500;
  // A 700 ms pause now ends the activity: "Hello?" ... "Hello?" is a person.
  EXPECT_EQ(run(Signal().speech(600).silence(700).speech(2500), options).answered_by,
            AnsweredBy::kHuman);
  options = {};
  options.silence_timeout_ms = 2000;
  const auto v = run(Signal().silence(10000), options);
  EXPECT_EQ(v.answered_by, AnsweredBy::kUnknown);
  EXPECT_EQ(v.after_ms, 2000u);
}

TEST(MachineDetector, InitialSilenceIsUnknown) {
  const auto v = run(Signal().silence(8000));
  EXPECT_EQ(v.answered_by, AnsweredBy::kUnknown);
  EXPECT_EQ(v.after_ms, 5000u);
}

TEST(MachineDetector, MessageEndIsTheBeepsEnd) {
  MachineDetectorOptions options;
  options.detect_message_end = true;
  const auto v =
      run(Signal().silence(300).speech(6000).silence(400).tone(500, 850).silence(3000), options);
  EXPECT_EQ(v.answered_by, AnsweredBy::kMachineEndBeep);
  EXPECT_GE(v.after_ms, 300u + 6000 + 400 + 500);  // once the beep is over, not during it
  EXPECT_LE(v.after_ms, 300u + 6000 + 400 + 500 + 40);
}

TEST(MachineDetector, MessageEndIsSilenceWithoutABeep) {
  MachineDetectorOptions options;
  options.detect_message_end = true;
  const auto v = run(Signal().speech(5000).silence(5000), options);
  EXPECT_EQ(v.answered_by, AnsweredBy::kMachineEndSilence);
  EXPECT_EQ(v.after_ms, 5000u + 1200);
}

TEST(MachineDetector, AGreetingThatNeverEndsIsMachineEndOtherAtTheTimeout) {
  MachineDetectorOptions options;
  options.detect_message_end = true;
  options.timeout_ms = 10000;
  const auto v = run(Signal().speech(20000), options);
  EXPECT_EQ(v.answered_by, AnsweredBy::kMachineEndOther);
  EXPECT_EQ(v.after_ms, 10000u);
  // Without a message-end wait, speech that never pauses is still a machine at once.
  EXPECT_EQ(run(Signal().speech(20000)).answered_by, AnsweredBy::kMachineStart);
}

TEST(MachineDetector, ContinuousNoiseWithoutCadenceTimesOutUnknown) {
  // Speech that stops and starts with pauses too short to end it, and a timeout that comes
  // before the speech threshold: no verdict but unknown.
  Signal s;
  for (int i = 0; i < 30; ++i) s.speech(500).silence(1000);
  MachineDetectorOptions options;
  options.speech_threshold_ms = 6000;
  options.speech_end_threshold_ms = 1100;
  options.timeout_ms = 5000;
  const auto v = run(s, options);
  EXPECT_EQ(v.answered_by, AnsweredBy::kUnknown);
  EXPECT_EQ(v.after_ms, 5000u);
}

TEST(MachineDetector, ABeepAfterAShortGreetingIsAMachine) {
  EXPECT_EQ(run(Signal().speech(900).silence(300).tone(400, 1000).silence(3000)).answered_by,
            AnsweredBy::kMachineStart);
  MachineDetectorOptions options;
  options.detect_message_end = true;
  EXPECT_EQ(
      run(Signal().speech(900).silence(300).tone(400, 1000).silence(3000), options).answered_by,
      AnsweredBy::kMachineEndBeep);
}

TEST(MachineDetector, FaxTonesAreFax) {
  const auto ced = run(Signal().silence(200).tone(3000, 2100));
  EXPECT_EQ(ced.answered_by, AnsweredBy::kFax);
  EXPECT_LE(ced.after_ms, 200u + 500);
  Signal cng;
  cng.tone(500, 1100).silence(3000).tone(500, 1100).silence(3000);
  EXPECT_EQ(run(cng).answered_by, AnsweredBy::kFax);
}

TEST(MachineDetector, QuietLineNoiseIsNotSpeech) {
  // Noise 40 dB below speech level, steady: the floor follows it and nobody "speaks".
  EXPECT_EQ(run(Signal().speech(8000, 60)).answered_by, AnsweredBy::kUnknown);
}

TEST(MachineDetector, FeedsInAnySliceLengthAndKeepsItsVerdict) {
  Signal s;
  s.silence(300).speech(600).silence(3000);
  MachineDetector detector({});
  std::optional<MachineVerdict> v;
  const auto& pcm = s.pcm();
  for (std::size_t at = 0; at < pcm.size() && !v; at += 37) {
    v = detector.feed(
        std::span<const std::int16_t>(pcm).subspan(at, std::min<std::size_t>(37, pcm.size() - at)));
  }
  ASSERT_TRUE(v);
  EXPECT_EQ(v->answered_by, AnsweredBy::kHuman);
  EXPECT_EQ(v->after_ms, 300u + 600 + 1200);
  // Later audio changes nothing.
  Signal more;
  more.speech(5000);
  EXPECT_EQ(detector.feed(more.pcm())->answered_by, AnsweredBy::kHuman);
  EXPECT_EQ(detector.verdict()->after_ms, 300u + 600 + 1200);
}

}  // namespace
}  // namespace sb::media
