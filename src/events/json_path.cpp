#include "events/json_path.hpp"

namespace sb::events {

namespace {

template <typename F>
void for_segments(std::string_view path, F&& f) {
  while (true) {
    const auto dot = path.find('.');
    const bool last = dot == std::string_view::npos;
    if (!f(path.substr(0, dot), last) || last) return;
    path.remove_prefix(dot + 1);
  }
}

}  // namespace

bool valid_path(std::string_view path) {
  if (path.empty() || path.size() > 256) return false;
  int segments = 0;
  bool ok = true;
  for_segments(path, [&](std::string_view seg, bool) {
    ++segments;
    if (seg.empty() || seg.size() > 64) ok = false;
    return ok;
  });
  return ok && segments <= 8;
}

const json::value* find_path(const json::object& root, std::string_view path) {
  const json::object* obj = &root;
  const json::value* found = nullptr;
  for_segments(path, [&](std::string_view seg, bool last) {
    found = obj ? obj->if_contains(seg) : nullptr;
    if (!found) return false;
    if (!last) {
      obj = found->if_object();
      if (!obj) {
        found = nullptr;
        return false;
      }
    }
    return true;
  });
  return found;
}

bool set_path(json::object& root, std::string_view path, json::value value) {
  json::object* obj = &root;
  bool ok = true;
  for_segments(path, [&](std::string_view seg, bool last) {
    if (last) {
      (*obj)[seg] = std::move(value);
      return false;
    }
    auto& next = (*obj)[seg];
    if (next.is_null()) next = json::object();
    obj = next.if_object();
    if (!obj) ok = false;
    return ok;
  });
  return ok;
}

std::optional<json::value> take_path(json::object& root, std::string_view path) {
  json::object* obj = &root;
  std::optional<json::value> out;
  for_segments(path, [&](std::string_view seg, bool last) {
    auto it = obj->find(seg);
    if (it == obj->end()) return false;
    if (last) {
      out = std::move(it->value());
      obj->erase(it);
      return false;
    }
    obj = it->value().if_object();
    return obj != nullptr;
  });
  return out;
}

}  // namespace sb::events
