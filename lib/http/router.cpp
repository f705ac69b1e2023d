#include "corio/http/router.hpp"

#include <algorithm>
#include <stdexcept>

#include "corio/http/errors.hpp"

namespace corio::http {
namespace {

/// "/u/{id}/" -> {"u", "{id}", ""}: a trailing slash is a segment of its
/// own, so "/a" and "/a/" are different routes (as in aiohttp).
std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> segments;
    path.remove_prefix(1);  // the leading '/'
    for (;;) {
        const std::size_t slash = path.find('/');
        segments.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) return segments;
        path.remove_prefix(slash + 1);
    }
}

bool is_parameter(std::string_view segment) noexcept {
    return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

}  // namespace

void router::add_route(std::string method, std::string pattern, handler h) {
    if (pattern.empty() || pattern.front() != '/')
        throw std::invalid_argument("route '" + pattern + "' must start with '/'");
    if (!h) throw std::invalid_argument("route '" + pattern + "' has no handler");
    route r{std::move(method), {}, std::move(h)};
    std::vector<std::string_view> names;
    for (const std::string_view segment : split_path(pattern)) {
        const bool opens = segment.find('{') != std::string_view::npos;
        const bool closes = segment.find('}') != std::string_view::npos;
        if (opens || closes) {
            if (!is_parameter(segment) || segment.size() == 2 ||
                segment.substr(1, segment.size() - 2).find_first_of("{}") != std::string_view::npos)
                throw std::invalid_argument("route '" + pattern + "': a parameter is a whole segment '{name}'");
            const std::string_view name = segment.substr(1, segment.size() - 2);
            if (std::find(names.begin(), names.end(), name) != names.end())
                throw std::invalid_argument("route '" + pattern + "' repeats the parameter '" + std::string(name) + "'");
            names.push_back(name);
        }
        r.segments.emplace_back(segment);
    }
    routes_.push_back(std::move(r));
}

bool router::match(const route& r, std::string_view path, match_info_map* params) {
    if (path.empty() || path.front() != '/') return false;
    const std::vector<std::string_view> segments = split_path(path);
    if (segments.size() != r.segments.size()) return false;
    for (std::size_t i = 0; i < segments.size(); ++i) {
        if (is_parameter(r.segments[i])) {
            if (segments[i].empty()) return false;
        } else if (segments[i] != r.segments[i]) {
            return false;
        }
    }
    if (params) {
        for (std::size_t i = 0; i < segments.size(); ++i)
            if (is_parameter(r.segments[i]))
                (*params)[r.segments[i].substr(1, r.segments[i].size() - 2)] = std::string(segments[i]);
    }
    return true;
}

const handler& router::resolve(request& req) const {
    const std::string_view method = req.method() == "HEAD" ? std::string_view("GET") : std::string_view(req.method());
    bool path_known = false;
    for (const route& r : routes_) {
        if (!match(r, req.path(), nullptr)) continue;
        path_known = true;
        if (r.method != method && !(req.method() == "HEAD" && r.method == "HEAD")) continue;
        match_info_map params;
        match(r, req.path(), &params);
        req.set_match_info(std::move(params));
        return r.h;
    }
    if (path_known) throw http_error(405);  // the server adds Allow: allowed_methods(path)
    throw http_error(404);
}

std::string router::allowed_methods(std::string_view path) const {
    std::vector<std::string_view> methods;
    for (const route& r : routes_)
        if (match(r, path, nullptr) && std::find(methods.begin(), methods.end(), r.method) == methods.end())
            methods.push_back(r.method);
    std::sort(methods.begin(), methods.end());
    std::string allow;
    for (const std::string_view m : methods) {
        if (!allow.empty()) allow += ", ";
        allow += m;
    }
    return allow;
}

}  // namespace corio::http
