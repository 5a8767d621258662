#include "voice/document_cache.hpp"

namespace sb::voice {

std::shared_ptr<const CachedDocument> DocumentCache::find(const std::string& url) {
  auto it = entries_.find(url);
  if (it == entries_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.doc;
}

void DocumentCache::put(const std::string& url, CachedDocument doc) {
  if (doc.etag.empty() && doc.last_modified.empty()) return;
  if (doc.body.size() > max_body_bytes_) return;
  auto kept = std::make_shared<const CachedDocument>(std::move(doc));
  if (auto it = entries_.find(url); it != entries_.end()) {
    it->second.doc = std::move(kept);
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return;
  }
  lru_.push_front(url);
  entries_.emplace(url, Entry{std::move(kept), lru_.begin()});
  while (entries_.size() > max_entries_) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
}

void DocumentCache::erase(const std::string& url) {
  auto it = entries_.find(url);
  if (it == entries_.end()) return;
  lru_.erase(it->second.lru);
  entries_.erase(it);
}

}  // namespace sb::voice
