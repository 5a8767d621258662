// Dotted paths ("data.status", "metadata.vip") into JSON objects: lookup, insert and removal,
// the addressing every channel attribute (filter, translate, when) uses.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string_view>

namespace sb::events {

namespace json = boost::json;

// The value at `path`, or nullptr when any segment is missing or not an object.
const json::value* find_path(const json::object& root, std::string_view path);
// Sets `path`, creating intermediate objects; false when an intermediate is not an object.
bool set_path(json::object& root, std::string_view path, json::value value);
// Removes and returns the value at `path`.
std::optional<json::value> take_path(json::object& root, std::string_view path);

// A path is 1..8 segments of 1..64 characters, no empty segment.
bool valid_path(std::string_view path);

}  // namespace sb::events
