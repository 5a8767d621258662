#include "api/pagination.hpp"

#include <charconv>

namespace sb::api {
namespace {

std::optional<std::uint64_t> parse_number(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty() || text.size() > 18) return std::nullopt;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// The keyset token: "PA<id>" for lists in id order, "PT<time>_<id>" for one in time order.
std::string page_uri(std::string_view path, std::string_view filters, std::size_t page_size,
                     std::size_t page, std::int64_t token, std::int64_t token_time = -1) {
  std::string uri(path);
  uri += '?';
  uri += filters;
  uri += "PageSize=" + std::to_string(page_size) + "&Page=" + std::to_string(page);
  if (token > 0 && token_time >= 0) {
    uri += "&PageToken=PT" + std::to_string(token_time) + "_" + std::to_string(token);
  } else if (token > 0) {
    uri += "&PageToken=PA" + std::to_string(token);
  }
  return uri;
}

}  // namespace

store::PageRequest PageParams::request() const {
  store::PageRequest r;
  r.limit = page_size;
  if (after_id > 0) {
    r.after_id = after_id;
    r.after_time = after_time;
  } else {
    r.offset = static_cast<std::int64_t>(page * page_size);
  }
  return r;
}

Result<PageParams> parse_page_params(const http::Form& query) {
  PageParams p;
  if (auto v = query.get("PageSize")) {
    auto n = parse_number(*v);
    if (!n || *n < 1 || *n > kMaxPageSize) {
      return Error::bad_request(codes::kInvalidParameter,
                                "PageSize must be an integer from 1 to 1000");
    }
    p.page_size = static_cast<std::size_t>(*n);
  }
  if (auto v = query.get("Page")) {
    auto n = parse_number(*v);
    if (!n || *n > 1'000'000) {
      return Error::bad_request(codes::kInvalidParameter, "Page must be a non-negative integer");
    }
    p.page = static_cast<std::size_t>(*n);
  }
  if (auto v = query.get("PageToken"); v && !v->empty()) {
    std::optional<std::uint64_t> id;
    std::optional<std::uint64_t> time;
    if (v->size() > 2 && v->substr(0, 2) == "PA") {
      id = parse_number(v->substr(2));
    } else if (v->size() > 2 && v->substr(0, 2) == "PT") {
      const auto cut = v->find('_');
      if (cut != std::string_view::npos) {
        time = parse_number(v->substr(2, cut - 2));
        id = parse_number(v->substr(cut + 1));
        if (!time) id.reset();
      }
    }
    if (!id || *id == 0) {
      return Error::bad_request(codes::kInvalidParameter, "PageToken is not valid");
    }
    p.after_id = static_cast<std::int64_t>(*id);
    if (time) p.after_time = static_cast<std::int64_t>(*time);
  }
  return p;
}

void add_page_meta(boost::json::object& out, std::string_view path, std::string_view filters,
                   const PageParams& params, std::size_t count, bool has_more, std::int64_t last_id,
                   std::int64_t last_time) {
  const std::size_t start = params.page * params.page_size;
  out["page"] = params.page;
  out["page_size"] = params.page_size;
  out["uri"] =
      page_uri(path, filters, params.page_size, params.page, params.after_id, params.after_time);
  out["first_page_uri"] = page_uri(path, filters, params.page_size, 0, 0);
  if (has_more) {
    out["next_page_uri"] =
        page_uri(path, filters, params.page_size, params.page + 1, last_id, last_time);
  } else {
    out["next_page_uri"] = nullptr;
  }
  if (params.page > 0) {
    // Offset paging back: rows before this page are counted from the start.
    out["previous_page_uri"] = page_uri(path, filters, params.page_size, params.page - 1, 0);
  } else {
    out["previous_page_uri"] = nullptr;
  }
  out["start"] = start;
  out["end"] = count > 0 ? start + count - 1 : start;
}

}  // namespace sb::api
