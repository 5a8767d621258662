// Test utterances made at run time: synthesized by flite and espeak-ng (their command-line
// programs, for every installed voice), brought to telephone quality (8 kHz, a μ-law round
// trip), with silence or comfort noise around them and, optionally, packet loss concealed as the
// media path conceals it. Shared by the unit tests and bench/speech.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "media/audio_file.hpp"
#include "media/g711.hpp"
#include "media/loss_concealer.hpp"
#include "support/temp_dir.hpp"

namespace sb::speech::test {

inline constexpr std::size_t kFrame = 160;  // 20 ms at 8 kHz

struct Voice {
  std::string program;  // "flite" or "espeak-ng"
  std::string name;     // flite -voice NAME, espeak-ng -v NAME
  std::string label() const { return program + ":" + name; }
};

// 8 kHz PCM of `text` spoken by `voice`, or nullopt when the program or voice is missing.
inline std::optional<std::vector<std::int16_t>> synthesize(const Voice& voice,
                                                           const std::string& text) {
  sb::testing::TempDir dir;
  const std::string wav = dir.file("utterance.wav");
  // Our own fixed words: quoting them in single quotes is enough.
  const std::string command =
      voice.program == "flite"
          ? "flite -voice '" + voice.name + "' -t '" + text + "' -o '" + wav + "' 2>/dev/null"
          : "espeak-ng -v '" + voice.name + "' -w '" + wav + "' '" + text + "' 2>/dev/null";
  if (std::system(command.c_str()) != 0) return std::nullopt;
  auto pcm = media::decode_audio_file(wav);  // resampled to 8 kHz
  if (!pcm || (*pcm)->empty()) return std::nullopt;
  return std::vector<std::int16_t>((*pcm)->begin(), (*pcm)->end());
}

// Through a μ-law encoder and decoder, as a call's audio reaches the recognizer.
inline std::vector<std::int16_t> telephone(std::span<const std::int16_t> pcm) {
  std::vector<std::uint8_t> codes(pcm.size());
  media::encode(media::Codec::kPcmu, pcm, codes);
  std::vector<std::int16_t> out(pcm.size());
  media::decode(media::Codec::kPcmu, codes, out);
  return out;
}

// Deterministic low-level noise (a fixed linear congruential sequence) at about `rms`.
inline std::vector<std::int16_t> comfort_noise(std::size_t samples, double rms,
                                               std::uint32_t seed = 12345) {
  std::vector<std::int16_t> out(samples);
  std::uint32_t x = seed;
  for (auto& s : out) {
    x = x * 1664525u + 1013904223u;
    const double u = static_cast<double>(x >> 8) / static_cast<double>(1u << 24);  // [0, 1)
    s = static_cast<std::int16_t>(std::lround((u * 2 - 1) * rms * std::sqrt(3.0)));
  }
  return out;
}

// `pcm` with `lead_ms` and `trail_ms` of background (digital silence when noise_rms is 0).
inline std::vector<std::int16_t> padded(std::span<const std::int16_t> pcm, int lead_ms,
                                        int trail_ms, double noise_rms = 0) {
  const auto lead = static_cast<std::size_t>(lead_ms) * 8;
  const auto trail = static_cast<std::size_t>(trail_ms) * 8;
  std::vector<std::int16_t> out = comfort_noise(lead + pcm.size() + trail, noise_rms);
  for (std::size_t i = 0; i < pcm.size(); ++i) {
    out[lead + i] = static_cast<std::int16_t>(
        std::clamp(static_cast<int>(out[lead + i]) + pcm[i], -32768, 32767));
  }
  return out;
}

// Every `every`-th 20 ms frame lost and concealed as the media path does (G.711 Appendix I
// repetition); every = 33 is 3 % loss.
inline std::vector<std::int16_t> with_loss(std::span<const std::int16_t> pcm, std::size_t every) {
  std::vector<std::int16_t> out(pcm.begin(), pcm.end());
  media::LossConcealer concealer;
  for (std::size_t f = 0; (f + 1) * kFrame <= out.size(); ++f) {
    std::span<std::int16_t> frame(out.data() + f * kFrame, kFrame);
    if (every > 0 && f % every == every - 1) {
      concealer.conceal(frame);
    } else {
      concealer.received(frame);
    }
  }
  return out;
}

}  // namespace sb::speech::test
