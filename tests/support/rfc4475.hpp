// The RFC 4475 SIP torture messages, read by file name from tests/unit/sip/data/rfc4475 (its
// INDEX.md says what each one expects of a UAS). Only for targets that define SB_TESTS_DIR.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace sb::testing {

inline std::string read_rfc4475_case(const std::string& name) {
  const auto path = std::filesystem::path(SB_TESTS_DIR) / "unit/sip/data/rfc4475" / name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing test data " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace sb::testing
