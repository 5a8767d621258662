#include "http/metrics.hpp"

#include <gtest/gtest.h>

namespace sb::http {
namespace {

TEST(Metrics, CountsByRouteMethodAndStatusAcrossShards) {
  Metrics m(2);
  m.record_request(0, "/a", "GET", 200, 0.0001);
  m.record_request(1, "/a", "GET", 200, 0.003);
  m.record_request(1, "/a", "POST", 400, 0.2);
  const std::string out = m.render();
  EXPECT_NE(
      out.find("switchboard_http_requests_total{route=\"/a\",method=\"GET\",status=\"200\"} 2"),
      std::string::npos)
      << out;
  EXPECT_NE(
      out.find("switchboard_http_requests_total{route=\"/a\",method=\"POST\",status=\"400\"} 1"),
      std::string::npos);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Metrics m(1);
  m.record_request(0, "/r", "GET", 200, 0.0001);  // first bucket
  m.record_request(0, "/r", "GET", 200, 0.003);   // le 0.005
  m.record_request(0, "/r", "GET", 200, 60);      // only +Inf
  const std::string out = m.render();
  const std::string b = "switchboard_http_request_duration_seconds_bucket{route=\"/r\",le=";
  EXPECT_NE(out.find(b + "\"0.0005\"} 1"), std::string::npos) << out;
  EXPECT_NE(out.find(b + "\"0.0025\"} 1"), std::string::npos);
  EXPECT_NE(out.find(b + "\"0.005\"} 2"), std::string::npos);
  EXPECT_NE(out.find(b + "\"5\"} 2"), std::string::npos);
  EXPECT_NE(out.find(b + "\"+Inf\"} 3"), std::string::npos);
  EXPECT_NE(out.find("switchboard_http_request_duration_seconds_count{route=\"/r\"} 3"),
            std::string::npos);
}

TEST(Metrics, ProcessFiguresAndCollectors) {
  Metrics m(1);
  m.add_collector([](std::string& out) { out += "custom_total 7\n"; });
  const std::string out = m.render();
  EXPECT_NE(out.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(out.find("process_cpu_seconds_total "), std::string::npos);
  EXPECT_NE(out.find("process_open_fds "), std::string::npos);
  EXPECT_NE(out.find("custom_total 7\n"), std::string::npos);
}

TEST(Metrics, EscapesLabelValues) { EXPECT_EQ(prometheus_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd"); }

}  // namespace
}  // namespace sb::http
