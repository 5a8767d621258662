#include "http/metrics.hpp"

#include <gtest/gtest.h>

#include "metrics/exposition.hpp"

namespace sb::http {
namespace {

std::string render(const Metrics& m) {
  metrics::Exposition out;
  m.collect(out);
  return out.take();
}

TEST(Metrics, CountsByRouteMethodAndStatusAcrossShards) {
  Metrics m(2);
  m.record_request(0, "/a", "GET", 200, 0.0001);
  m.record_request(1, "/a", "GET", 200, 0.003);
  m.record_request(1, "/a", "POST", 400, 0.2);
  const std::string out = render(m);
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
  const std::string out = render(m);
  const std::string b = "switchboard_http_request_duration_seconds_bucket{route=\"/r\",le=";
  EXPECT_NE(out.find(b + "\"0.0005\"} 1"), std::string::npos) << out;
  EXPECT_NE(out.find(b + "\"0.0025\"} 1"), std::string::npos);
  EXPECT_NE(out.find(b + "\"0.005\"} 2"), std::string::npos);
  EXPECT_NE(out.find(b + "\"5\"} 2"), std::string::npos);
  EXPECT_NE(out.find(b + "\"+Inf\"} 3"), std::string::npos);
  EXPECT_NE(out.find("switchboard_http_request_duration_seconds_count{route=\"/r\"} 3"),
            std::string::npos);
}

}  // namespace
}  // namespace sb::http
