// GET responses kept for revalidation: when an application's document carries an ETag or
// Last-Modified, the next GET of the same URL asks If-None-Match / If-Modified-Since and a 304
// reuses the kept body. One cache per worker thread (no locks), bounded in entries and bytes.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>

namespace sb::voice {

struct CachedDocument {
  std::string etag;
  std::string last_modified;
  std::string content_type;
  std::string body;
};

class DocumentCache {
 public:
  explicit DocumentCache(std::size_t max_entries = 256, std::size_t max_body_bytes = 256 * 1024)
      : max_entries_(max_entries), max_body_bytes_(max_body_bytes) {}

  // Shared: a fetch holds the entry across its request while other calls on the worker may
  // replace or evict it, and a 304 must still find the body its validator named.
  std::shared_ptr<const CachedDocument> find(const std::string& url);
  // Keeps `doc` when it has a validator and fits; evicts the least recently used beyond the cap.
  void put(const std::string& url, CachedDocument doc);
  void erase(const std::string& url);
  std::size_t size() const { return entries_.size(); }

 private:
  using Lru = std::list<std::string>;
  struct Entry {
    std::shared_ptr<const CachedDocument> doc;
    Lru::iterator lru;
  };
  std::size_t max_entries_;
  std::size_t max_body_bytes_;
  Lru lru_;  // most recent first
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace sb::voice
