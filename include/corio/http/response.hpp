// What a server handler returns: aiohttp's web.Response.
//
//   co_return http::response{.text = "hello"};                  // 200, text/plain; charset=utf-8
//   co_return http::response{.status = 201, .body = bytes, .content_type = "image/png"};
//   co_return http::json_response({{"data", "hello"}});           // application/json
//
// `text` wins over `body` when both are set. Content-Length, Date and
// Server are written by the server.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "corio/http/headers.hpp"

namespace corio::http {

struct response {
    int status = 200;
    // {} on each member: GCC's -Wmissing-field-initializers (in -Wextra)
    // warns on response{.text = "hi"} for members without an initializer.
    std::string text{};  // a text body, sent as UTF-8 (content type text/plain unless set)
    std::string body{};  // a byte body (content type application/octet-stream unless set)
    http::headers headers{};
    std::string content_type{};
    std::string reason{};  // empty: the standard phrase for `status`
};

/// `j` serialised, content type application/json (aiohttp's web.json_response).
response json_response(const nlohmann::json& j, int status = 200);

/// The standard reason phrase ("Not Found"); "Unknown" for codes without one.
std::string_view reason_phrase(int status) noexcept;

}  // namespace corio::http
