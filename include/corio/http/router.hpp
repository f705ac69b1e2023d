// Routes from (method, path) to handlers: aiohttp's UrlDispatcher.
//
//   app.router().get("/u/{id}", get_user);   // req.match_info().at("id")
//
// A pattern is a path of literal segments and `{name}` segments, each of
// which matches one non-empty segment. A path that matches no route gets
// 404; one that matches only with other methods gets 405 and an `Allow`
// header. HEAD is answered by a GET route (the body is not sent).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "corio/http/request.hpp"
#include "corio/http/response.hpp"
#include "corio/task.hpp"

namespace corio::http {

using handler = std::function<task<response>(request&)>;

class router {
public:
    /// Throws std::invalid_argument for a pattern that does not start with
    /// '/', has an empty or unclosed `{}` segment, or repeats a name.
    void add_route(std::string method, std::string pattern, handler h);
    void get(std::string pattern, handler h) { add_route("GET", std::move(pattern), std::move(h)); }
    void post(std::string pattern, handler h) { add_route("POST", std::move(pattern), std::move(h)); }
    void put(std::string pattern, handler h) { add_route("PUT", std::move(pattern), std::move(h)); }
    void patch(std::string pattern, handler h) { add_route("PATCH", std::move(pattern), std::move(h)); }
    void delete_(std::string pattern, handler h) { add_route("DELETE", std::move(pattern), std::move(h)); }

    /// The handler for `req`, with its match_info set; throws http_error
    /// 404, or 405 when only other methods match (see allowed_methods).
    const handler& resolve(request& req) const;

    /// The methods that `path` has routes for ("GET, POST"); empty if none.
    std::string allowed_methods(std::string_view path) const;

private:
    struct route {
        std::string method;
        std::vector<std::string> segments;  // "{id}" marks a parameter
        handler h;
    };
    static bool match(const route& r, std::string_view path, match_info_map* params);

    std::vector<route> routes_;
};

}  // namespace corio::http
