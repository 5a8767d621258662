// On-disk cache of fetched media, decoded (8 kHz PCM) so a prompt is decoded once. Entries keep
// the validators and freshness of the response: Cache-Control no-store / no-cache / max-age and
// ETag, so a stale entry is revalidated with If-None-Match and a 304 reuses it. Also a small
// content-addressed store used by the TTS cache.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/time.hpp"
#include "media/audio_source.hpp"

namespace sb::media {

struct CachePolicy {
  bool no_store = false;
  bool no_cache = false;  // store, but revalidate before every use
  std::optional<std::int64_t> max_age_s;
};
CachePolicy parse_cache_control(std::string_view header);

// Lowercase hex SHA-256, the file name of a cache key.
std::string sha256_hex(std::string_view data);

class MediaCache {
 public:
  struct Entry {
    SharedPcm pcm;
    std::string etag;
    std::int64_t fresh_until = 0;  // unix seconds; stale at or after
    bool fresh = false;            // at lookup time
  };

  // `max_entry_samples` bounds what is written (the decoder already bounds what is read).
  MediaCache(std::filesystem::path dir, const Clock& clock,
             std::size_t max_entry_samples = std::size_t{8000} * 60 * 40);

  std::optional<Entry> lookup(const std::string& key) const;
  // Stores decoded audio under `key` unless the policy says no-store; returns whether stored.
  bool store(const std::string& key, const SharedPcm& pcm, std::string_view etag,
             const CachePolicy& policy);
  // After a 304: the entry is fresh again per the new policy (and possibly a new ETag).
  void refresh(const std::string& key, std::string_view etag, const CachePolicy& policy);
  void erase(const std::string& key);

  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path path_of(const std::string& key, const char* ext) const;
  bool write_meta(const std::string& key, std::string_view etag, std::int64_t fresh_until) const;

  std::filesystem::path dir_;
  const Clock& clock_;
  std::size_t max_entry_samples_;
};

}  // namespace sb::media
