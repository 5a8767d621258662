#include "metrics/exposition.hpp"

#include <gtest/gtest.h>

#include <array>

#include "metrics/registry.hpp"

namespace sb::metrics {
namespace {

TEST(Exposition, FamilyHeaderOnceThenSamplesWithEscapedLabels) {
  Exposition out;
  out.family("x_requests_total", "Requests, by path.\nSecond line \\ done.", Kind::kCounter);
  out.sample(std::uint64_t{3}, {{"path", "/a\"b\\c\nd"}});
  out.sample(std::uint64_t{4}, {{"path", "/e"}, {"method", "GET"}});
  EXPECT_EQ(out.text(),
            "# HELP x_requests_total Requests, by path.\\nSecond line \\\\ done.\n"
            "# TYPE x_requests_total counter\n"
            "x_requests_total{path=\"/a\\\"b\\\\c\\nd\"} 3\n"
            "x_requests_total{path=\"/e\",method=\"GET\"} 4\n");
}

TEST(Exposition, GaugesWriteShortestRoundTripNumbers) {
  Exposition out;
  out.family("x_lateness_seconds", "Lateness.", Kind::kGauge);
  out.sample(0.00125);
  out.sample(2.0);
  EXPECT_EQ(out.text(),
            "# HELP x_lateness_seconds Lateness.\n# TYPE x_lateness_seconds gauge\n"
            "x_lateness_seconds 0.00125\nx_lateness_seconds 2\n");
}

TEST(Exposition, HistogramBucketsAreCumulativeAndEndInInf) {
  Exposition out;
  out.family("x_duration_seconds", "Duration.", Kind::kHistogram);
  const std::array<double, 3> bounds = {0.001, 0.01, 0.1};
  const std::array<std::uint64_t, 3> counts = {1, 0, 2};
  out.histogram(bounds, counts, 4, 0.5, {{"route", "/r"}});
  EXPECT_EQ(out.text(),
            "# HELP x_duration_seconds Duration.\n# TYPE x_duration_seconds histogram\n"
            "x_duration_seconds_bucket{route=\"/r\",le=\"0.001\"} 1\n"
            "x_duration_seconds_bucket{route=\"/r\",le=\"0.01\"} 1\n"
            "x_duration_seconds_bucket{route=\"/r\",le=\"0.1\"} 3\n"
            "x_duration_seconds_bucket{route=\"/r\",le=\"+Inf\"} 4\n"
            "x_duration_seconds_sum{route=\"/r\"} 0.5\n"
            "x_duration_seconds_count{route=\"/r\"} 4\n");
}

TEST(Exposition, NamesFollowTheTextFormatGrammar) {
  EXPECT_TRUE(valid_metric_name("switchboard_calls_active"));
  EXPECT_TRUE(valid_metric_name("ns:sub_total"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_FALSE(valid_metric_name("9lives"));
  EXPECT_FALSE(valid_metric_name("with-dash"));
  EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_value(0.0005), "0.0005");
  EXPECT_EQ(format_value(1e20), "1e+20");
  EXPECT_EQ(format_value(0), "0");
}

TEST(Registry, CollectorsInOrderThenProcessFigures) {
  Registry registry;
  registry.add([](Exposition& out) {
    out.family("a_total", "A.", Kind::kCounter);
    out.sample(std::uint64_t{1});
  });
  registry.add([](Exposition& out) {
    out.family("b", "B.", Kind::kGauge);
    out.sample(std::uint64_t{2});
  });
  const std::string text = registry.render();
  const auto a = text.find("a_total 1\n");
  const auto b = text.find("b 2\n");
  ASSERT_NE(a, std::string::npos) << text;
  ASSERT_NE(b, std::string::npos) << text;
  EXPECT_LT(a, b);
  EXPECT_NE(text.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(text.find("process_cpu_seconds_total "), std::string::npos);
  EXPECT_NE(text.find("process_open_fds "), std::string::npos);
  EXPECT_NE(text.find("# TYPE process_start_time_seconds gauge\n"), std::string::npos);
}

}  // namespace
}  // namespace sb::metrics
