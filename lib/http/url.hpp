// URL pieces both halves of corio::http need: percent-encoding, query
// strings, and splitting an absolute http(s) URL.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corio/http/request.hpp"

namespace corio::http::detail {

/// "%2F" -> "/"; with plus_is_space (query strings) "+" -> " ". Malformed
/// escapes are kept as they are (as Python's unquote does).
std::string percent_decode(std::string_view s, bool plus_is_space);
/// Encodes everything but RFC 3986 unreserved characters (query keys and values).
std::string percent_encode(std::string_view s);
/// "a=1&b=x%20y&a=2" -> {a: 1, a: 2, b: "x y"}.
query_params parse_query(std::string_view query);
/// {{"a","1"},{"b","x y"}} -> "a=1&b=x%20y".
std::string encode_query(const std::vector<std::pair<std::string, std::string>>& params);

struct url_parts {
    std::string scheme;  // "http" / "https"
    std::string host;    // without brackets for IPv6
    unsigned short port = 0;
    std::string target;  // "/path?query" ("/" if empty); no fragment
};
/// Throws std::invalid_argument for a URL that is not absolute http(s)
/// with a host, or has a bad port.
url_parts parse_url(std::string_view url);
/// Resolves a redirect's Location against the URL it came from.
std::string resolve_location(const url_parts& base, std::string_view location);

}  // namespace corio::http::detail
