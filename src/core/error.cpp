#include "core/error.hpp"

namespace sb {

std::string more_info_url(int code) {
  return "https://www.twilio.com/docs/errors/" + std::to_string(code);
}

}  // namespace sb
