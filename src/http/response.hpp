// Building HTTP responses: JSON bodies and Twilio-shaped error bodies.
#pragma once

#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "core/error.hpp"

namespace sb::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

Response json_response(unsigned status, const boost::json::value& body);
// {"code": N, "message": "...", "more_info": "https://www.twilio.com/docs/errors/N", "status": S}
Response error_response(const Error& error);
// error_response, and a 401 also asks for Basic credentials (WWW-Authenticate).
Response auth_error_response(const Error& error);
// 405 with Twilio's 20004 and the Allow header.
Response method_not_allowed(std::string_view allow);
Response text_response(unsigned status, std::string body, std::string_view content_type);

}  // namespace sb::http
