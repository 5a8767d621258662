#include "http/response.hpp"

namespace sb::http {

Response json_response(unsigned status, const boost::json::value& body) {
  Response res{static_cast<boost::beast::http::status>(status), 11};
  res.set(boost::beast::http::field::content_type, "application/json; charset=utf-8");
  res.body() = boost::json::serialize(body);
  return res;
}

Response error_response(const Error& error) {
  boost::json::object body;
  body["code"] = error.code;
  body["message"] = error.message;
  body["more_info"] = more_info_url(error.code);
  body["status"] = error.status;
  return json_response(static_cast<unsigned>(error.status), body);
}

Response auth_error_response(const Error& error) {
  auto res = error_response(error);
  if (error.status == 401) {
    res.set(boost::beast::http::field::www_authenticate, "Basic realm=\"Switchboard\"");
  }
  return res;
}

Response method_not_allowed(std::string_view allow) {
  auto res = error_response(
      {codes::kMethodNotAllowed, 405, "The requested method is not allowed on this resource"});
  res.set(boost::beast::http::field::allow, allow);
  return res;
}

Response text_response(unsigned status, std::string body, std::string_view content_type) {
  Response res{static_cast<boost::beast::http::status>(status), 11};
  res.set(boost::beast::http::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

}  // namespace sb::http
