// Versioned schema migrations, kept in code; the schema version is SQLite's user_version.
#pragma once

#include <sqlite3.h>
#include <span>
#include <string>

#include "core/error.hpp"

namespace sb::store {

struct Migration {
  int version;
  const char* description;
  const char* sql;
};

std::span<const Migration> migrations();
int latest_schema_version();

// Applies every migration above the file's current version, up to `target` (default: all),
// each in its own transaction. A file newer than this binary is refused.
Status migrate(sqlite3* db, int target = -1);

int schema_version(sqlite3* db);

}  // namespace sb::store
