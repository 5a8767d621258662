// The console's web assets (src/console/web, built by esbuild), embedded into the binary at
// build time by cmake/embed_assets.mjs: the daemon serves them with no files beside it.
#pragma once

#include <span>
#include <string_view>

namespace sb::console {

struct Asset {
  std::string_view path;          // "index.html", "app.js", …
  std::string_view content_type;  // with charset for text
  std::string_view etag;          // a quoted strong ETag: the first 16 hex of its SHA-256
  std::string_view body;
};

// Every embedded asset (generated).
std::span<const Asset> assets();
// The asset at `path` (relative, no leading slash), or nullptr.
const Asset* find_asset(std::string_view path);

}  // namespace sb::console
