// What a server handler receives: aiohttp's web.Request.
//
//   corio::task<http::response> user(http::request& req) {
//       auto id = req.match_info().at("id");        // route "/u/{id}"
//       auto q = req.query().find("verbose");        // "?verbose=1"
//       nlohmann::json body = co_await req.json();
//       ...
//   }
//
// The server reads the whole body (bounded by the application's
// client_max_size, 413 beyond it) before it calls the handler, so read(),
// text() and json() complete at once; they are awaitables to keep
// aiohttp's shape and to allow streaming bodies later.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "corio/http/headers.hpp"
#include "corio/task.hpp"

namespace corio::http {

/// Decoded query parameters in arrival order per name (aiohttp's MultiDict).
using query_params = std::multimap<std::string, std::string, std::less<>>;
/// Path parameters of the matched route ("/u/{id}" -> "id").
using match_info_map = std::map<std::string, std::string, std::less<>>;

struct request_head {
    std::string method;
    std::string target;  // as sent: "/path%20x?a=1"
    int version_minor = 1;
    http::headers fields;
    std::string body;
    bool keep_alive = true;
    std::string remote;  // the peer's address
};

class request {
public:
    /// Throws http_error(400) when the target is not an origin-form path.
    explicit request(request_head head);

    const std::string& method() const noexcept { return head_.method; }
    /// The percent-decoded path ("/path x").
    const std::string& path() const noexcept { return path_; }
    /// The path and query as sent ("/path%20x?a=1").
    const std::string& raw_path() const noexcept { return head_.target; }
    std::string_view query_string() const noexcept;
    const query_params& query() const noexcept { return query_; }
    const http::headers& headers() const noexcept { return head_.fields; }
    const match_info_map& match_info() const noexcept { return match_info_; }
    /// "1.1" / "1.0".
    std::string version() const { return "1." + std::to_string(head_.version_minor); }
    bool keep_alive() const noexcept { return head_.keep_alive; }
    /// The peer's address ("127.0.0.1").
    const std::string& remote() const noexcept { return head_.remote; }
    /// The media type of the body without parameters ("application/json").
    std::string_view content_type() const noexcept;
    /// The body bytes (also what read() gives).
    const std::string& body() const noexcept { return head_.body; }

    task<std::string> read() const;
    task<std::string> text() const;
    /// Throws http_error(400) if the body is not JSON.
    task<nlohmann::json> json() const;

    /// Set by the router when it matches a route.
    void set_match_info(match_info_map m) { match_info_ = std::move(m); }

private:
    request_head head_;
    std::string path_;
    query_params query_;
    match_info_map match_info_;
};

}  // namespace corio::http
