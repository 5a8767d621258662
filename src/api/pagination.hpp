// Twilio list paging: Page, PageSize (1..1000, default 50) and PageToken in; the page meta
// (page, page_size, uri, first/next/previous_page_uri, start, end) out.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "http/form.hpp"
#include "http/response.hpp"
#include "store/store.hpp"

namespace sb::api {

inline constexpr std::size_t kDefaultPageSize = 50;
inline constexpr std::size_t kMaxPageSize = 1000;

struct PageParams {
  std::size_t page = 0;
  std::size_t page_size = kDefaultPageSize;
  std::int64_t after_id = 0;  // from PageToken "PA<id>": the last row id of the previous page
  // From PageToken "PT<time>_<id>" (a list in time order, e.g. calls filtered by StartTime):
  // the previous page's last row's time; -1 for "PA" tokens.
  std::int64_t after_time = -1;

  store::PageRequest request() const;
};

Result<PageParams> parse_page_params(const http::Form& query);

// Adds the meta fields to `out`. `path` is the list path ("/2010-04-01/…/Applications.json");
// `filters` is an already-encoded query fragment ("FriendlyName=x&") carried into every URI.
void add_page_meta(boost::json::object& out, std::string_view path, std::string_view filters,
                   const PageParams& params, std::size_t count, bool has_more, std::int64_t last_id,
                   std::int64_t last_time = -1);

// A list response: the page's records under `key` (as `to_json` renders each) plus the meta.
// `time_of` (a list in time order) gives the last row's time for the next page's token.
template <typename Row, typename ToJson>
http::Response page_response(std::string_view key, const store::Page<Row>& rows, ToJson to_json,
                             std::string_view path, std::string_view filters,
                             const PageParams& params,
                             std::int64_t (*time_of)(const Row&) = nullptr) {
  boost::json::object out;
  boost::json::array items;
  items.reserve(rows.items.size());
  for (const auto& row : rows.items) items.push_back(to_json(row));
  out[key] = std::move(items);
  add_page_meta(out, path, filters, params, rows.items.size(), rows.has_more,
                rows.items.empty() ? 0 : rows.items.back().id,
                rows.items.empty() || !time_of ? -1 : time_of(rows.items.back()));
  return http::json_response(200, out);
}

}  // namespace sb::api
