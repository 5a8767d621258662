#include "media/media_cache.hpp"

#include <openssl/evp.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

#include "core/random.hpp"
#include "core/text.hpp"

namespace sb::media {
namespace {}  // namespace

CachePolicy parse_cache_control(std::string_view header) {
  CachePolicy p;
  while (!header.empty()) {
    const std::size_t comma = header.find(',');
    std::string_view item = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    const std::size_t eq = item.find('=');
    const std::string_view name = trim(item.substr(0, eq));
    std::string_view value =
        eq == std::string_view::npos ? std::string_view{} : trim(item.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (iequals(name, "no-store") || iequals(name, "private")) {
      p.no_store = p.no_store || iequals(name, "no-store");
    }
    if (iequals(name, "no-cache")) p.no_cache = true;
    if (iequals(name, "max-age")) {
      std::int64_t v = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec == std::errc() && ptr == value.data() + value.size() && v >= 0) p.max_age_s = v;
    }
  }
  return p;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::size_t{len} * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 15]);
  }
  return out;
}

MediaCache::MediaCache(std::filesystem::path dir, const Clock& clock, std::size_t max_entry_samples)
    : dir_(std::move(dir)), clock_(clock), max_entry_samples_(max_entry_samples) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
}

std::filesystem::path MediaCache::path_of(const std::string& key, const char* ext) const {
  return dir_ / (sha256_hex(key) + ext);
}

bool MediaCache::write_meta(const std::string& key, std::string_view etag,
                            std::int64_t fresh_until) const {
  // Written beside the audio, then renamed: a reader sees the old or the new, never half.
  const auto meta = path_of(key, ".meta");
  const auto tmp = path_of(key, (".meta." + random_hex(4)).c_str());
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return false;
    std::string clean_etag(etag);
    for (char& c : clean_etag) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    out << "v1\n" << fresh_until << "\n" << clean_etag << "\n";
    if (!out) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, meta, ec);
  return !ec;
}

std::optional<MediaCache::Entry> MediaCache::lookup(const std::string& key) const {
  std::ifstream meta(path_of(key, ".meta"));
  if (!meta) return std::nullopt;
  std::string version, fresh_line, etag;
  if (!std::getline(meta, version) || version != "v1" || !std::getline(meta, fresh_line)) {
    return std::nullopt;
  }
  std::getline(meta, etag);
  Entry e;
  e.etag = etag;
  auto [ptr, ec] =
      std::from_chars(fresh_line.data(), fresh_line.data() + fresh_line.size(), e.fresh_until);
  if (ec != std::errc()) return std::nullopt;
  std::ifstream audio(path_of(key, ".pcm"), std::ios::binary | std::ios::ate);
  if (!audio) return std::nullopt;
  const auto bytes = static_cast<std::size_t>(audio.tellg());
  if (bytes % 2 != 0 || bytes / 2 > max_entry_samples_) return std::nullopt;
  std::vector<std::int16_t> samples(bytes / 2);
  audio.seekg(0);
  audio.read(reinterpret_cast<char*>(samples.data()), static_cast<std::streamsize>(bytes));
  if (!audio) return std::nullopt;
  e.pcm = std::make_shared<const std::vector<std::int16_t>>(std::move(samples));
  e.fresh = clock_.now_unix() < e.fresh_until;
  return e;
}

bool MediaCache::store(const std::string& key, const SharedPcm& pcm, std::string_view etag,
                       const CachePolicy& policy) {
  if (policy.no_store || !pcm || pcm->size() > max_entry_samples_) {
    erase(key);
    return false;
  }
  const auto audio = path_of(key, ".pcm");
  const auto tmp = path_of(key, (".pcm." + random_hex(4)).c_str());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out.write(reinterpret_cast<const char*>(pcm->data()),
              static_cast<std::streamsize>(pcm->size() * sizeof(std::int16_t)));
    if (!out) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, audio, ec);
  if (ec) return false;
  const std::int64_t fresh_until =
      policy.no_cache || !policy.max_age_s ? 0 : clock_.now_unix() + *policy.max_age_s;
  return write_meta(key, etag, fresh_until);
}

void MediaCache::refresh(const std::string& key, std::string_view etag, const CachePolicy& policy) {
  if (policy.no_store) {
    erase(key);
    return;
  }
  auto current = lookup(key);
  if (!current) return;
  const std::int64_t fresh_until =
      policy.no_cache || !policy.max_age_s ? 0 : clock_.now_unix() + *policy.max_age_s;
  write_meta(key, etag.empty() ? std::string_view(current->etag) : etag, fresh_until);
}

void MediaCache::erase(const std::string& key) {
  std::error_code ec;
  std::filesystem::remove(path_of(key, ".meta"), ec);
  std::filesystem::remove(path_of(key, ".pcm"), ec);
}

}  // namespace sb::media
