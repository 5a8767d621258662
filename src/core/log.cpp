#include "core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <string>

namespace sb {

void init_logging(std::string_view level) {
  auto logger = spdlog::stderr_color_mt("switchboard");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_default_logger(logger);
}

}  // namespace sb
