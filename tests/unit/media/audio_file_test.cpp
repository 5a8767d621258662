#include "media/audio_file.hpp"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <vector>

#include "media/media_errors.hpp"
#include "support/temp_dir.hpp"

namespace sb::media {
namespace {

// A stereo 1 kHz sine at `rate` written by libsndfile in `format`.
std::string write_sine(const testing::TempDir& dir, const std::string& name, int format, int rate,
                       double seconds) {
  const std::string path = dir.file(name);
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 2;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  EXPECT_NE(f, nullptr) << sf_strerror(nullptr);
  if (!f) return path;
  const auto frames = static_cast<std::size_t>(rate * seconds);
  std::vector<float> data(frames * 2);
  for (std::size_t i = 0; i < frames; ++i) {
    data[2 * i] = data[2 * i + 1] = 0.5f * static_cast<float>(std::sin(2 * M_PI * 1000 * i / rate));
  }
  sf_writef_float(f, data.data(), static_cast<sf_count_t>(frames));
  sf_close(f);
  return path;
}

int zero_crossings(const std::vector<std::int16_t>& v, std::size_t from, std::size_t to) {
  int n = 0;
  for (std::size_t i = from + 1; i < to; ++i) n += (v[i - 1] < 0) != (v[i] < 0);
  return n;
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct Format {
  const char* name;
  int format;
  int rate;
};

class DecodeFormats : public ::testing::TestWithParam<Format> {};

TEST_P(DecodeFormats, DecodesToEightKilohertzMono) {
  testing::TempDir dir;
  const Format& f = GetParam();
  const std::string path = write_sine(dir, f.name, f.format, f.rate, 1.0);
  auto pcm = decode_audio_file(path);
  ASSERT_TRUE(pcm) << pcm.error().message;
  const auto& v = **pcm;
  // MP3/Vorbis add encoder delay/padding: about a second either way.
  EXPECT_NEAR(static_cast<double>(v.size()), 8000, 900);
  EXPECT_NEAR(zero_crossings(v, 1000, 7000), 1500, 20);  // 1 kHz over 0.75 s: 2 per ms
  auto from_memory = decode_audio(read_bytes(path));
  ASSERT_TRUE(from_memory) << from_memory.error().message;
  EXPECT_EQ((*from_memory)->size(), v.size());
}

INSTANTIATE_TEST_SUITE_P(
    Media, DecodeFormats,
    ::testing::Values(Format{"a.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100},
                      Format{"a.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 48000},
                      Format{"a.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100},
                      Format{"a.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100},
                      Format{"u.wav", SF_FORMAT_WAV | SF_FORMAT_ULAW, 8000}),
    [](const auto& info) {
      std::string n = info.param.name;
      for (char& c : n) c = c == '.' ? '_' : c;
      return n;
    });

TEST(DecodeAudio, GarbageEmptyAndOversizeAre13420) {
  std::vector<std::uint8_t> junk(5000);
  for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<std::uint8_t>(i * 37);
  auto r = decode_audio(junk);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, media_codes::kPlayInvalidContentType);
  auto html = std::string("<html><body>Not found</body></html>");
  EXPECT_FALSE(decode_audio({reinterpret_cast<const std::uint8_t*>(html.data()), html.size()}));
  EXPECT_EQ(decode_audio({}).error().code, 13420);
  testing::TempDir dir;
  const auto path = write_sine(dir, "b.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 2.0);
  auto big = decode_audio_file(path, {.max_bytes = 1000});
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, 13420);
  auto long_audio = decode_audio_file(path, {.max_seconds = 1.0});
  ASSERT_FALSE(long_audio);
  EXPECT_NE(long_audio.error().message.find("longer"), std::string::npos);
  EXPECT_FALSE(decode_audio_file(dir.file("missing.wav")));
}

TEST(DecodeAudio, TruncatedWavStillDecodesWhatIsThere) {
  testing::TempDir dir;
  const auto path = write_sine(dir, "t.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1.0);
  auto bytes = read_bytes(path);
  bytes.resize(bytes.size() / 2);
  auto r = decode_audio(bytes);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NEAR(static_cast<double>((*r)->size()), 4000, 100);
}

TEST(DecodeAudio, ContentTypes) {
  EXPECT_TRUE(is_audio_content_type("audio/mpeg"));
  EXPECT_TRUE(is_audio_content_type("Audio/X-WAV; charset=binary"));
  EXPECT_TRUE(is_audio_content_type("application/octet-stream"));
  EXPECT_FALSE(is_audio_content_type("text/html"));
  EXPECT_FALSE(is_audio_content_type("application/json"));
}

TEST(WriteWav, RoundTrips) {
  testing::TempDir dir;
  std::vector<std::int16_t> s = {0, 100, -100, 32767, -32768};
  ASSERT_TRUE(write_wav(dir.file("w.wav"), s));
  auto back = decode_audio_file(dir.file("w.wav"));
  ASSERT_TRUE(back);
  ASSERT_EQ((*back)->size(), s.size());
  for (std::size_t i = 0; i < s.size(); ++i) EXPECT_NEAR((**back)[i], s[i], 1);
}

}  // namespace
}  // namespace sb::media
