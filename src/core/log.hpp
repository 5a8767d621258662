// Process-wide logging setup (spdlog). Secrets (auth tokens, passwords) are never logged.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace sb {

// Level names as spdlog spells them: trace, debug, info, warn, error, critical, off.
void init_logging(std::string_view level);

}  // namespace sb
