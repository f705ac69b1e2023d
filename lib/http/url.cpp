#include "http/url.hpp"

#include <charconv>
#include <stdexcept>

namespace corio::http::detail {
namespace {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_unreserved(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~';
}

}  // namespace

std::string percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '%' && i + 2 < s.size()) {
            const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out += static_cast<char>(hi * 16 + lo);
                i += 2;
                continue;
            }
        }
        out += (plus_is_space && c == '+') ? ' ' : c;
    }
    return out;
}

std::string percent_encode(std::string_view s) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (const char c : s) {
        if (is_unreserved(c)) {
            out += c;
        } else {
            const auto b = static_cast<unsigned char>(c);
            out += '%';
            out += digits[b >> 4];
            out += digits[b & 15];
        }
    }
    return out;
}

query_params parse_query(std::string_view query) {
    query_params params;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (pair.empty()) continue;
        const std::size_t eq = pair.find('=');
        const std::string_view key = pair.substr(0, eq);
        const std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
        params.emplace(percent_decode(key, true), percent_decode(value, true));
    }
    return params;
}

std::string encode_query(const std::vector<std::pair<std::string, std::string>>& params) {
    std::string out;
    for (const auto& [key, value] : params) {
        if (!out.empty()) out += '&';
        out += percent_encode(key);
        out += '=';
        out += percent_encode(value);
    }
    return out;
}

url_parts parse_url(std::string_view url) {
    url_parts parts;
    const std::size_t colon = url.find("://");
    if (colon == std::string_view::npos) throw std::invalid_argument("url '" + std::string(url) + "' is not absolute");
    for (const char c : url.substr(0, colon)) parts.scheme += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    if (parts.scheme != "http" && parts.scheme != "https")
        throw std::invalid_argument("url '" + std::string(url) + "': scheme must be http or https");
    std::string_view rest = url.substr(colon + 3);
    rest = rest.substr(0, rest.find('#'));
    const std::size_t path_at = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, path_at);
    std::string_view target = path_at == std::string_view::npos ? std::string_view() : rest.substr(path_at);
    if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) authority = authority.substr(at + 1);
    std::string_view port_text;
    if (!authority.empty() && authority.front() == '[') {  // [::1]:8080
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) throw std::invalid_argument("url '" + std::string(url) + "': bad IPv6 host");
        parts.host = std::string(authority.substr(1, close - 1));
        if (close + 1 < authority.size() && authority[close + 1] == ':') port_text = authority.substr(close + 2);
    } else {
        const std::size_t c = authority.rfind(':');
        parts.host = std::string(authority.substr(0, c));
        if (c != std::string_view::npos) port_text = authority.substr(c + 1);
    }
    if (parts.host.empty()) throw std::invalid_argument("url '" + std::string(url) + "' has no host");
    parts.port = parts.scheme == "https" ? 443 : 80;
    if (!port_text.empty()) {
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 || value > 65535)
            throw std::invalid_argument("url '" + std::string(url) + "': bad port");
        parts.port = static_cast<unsigned short>(value);
    }
    // Built with push_back and append: GCC 12 warns falsely (-Wrestrict,
    // its bug 105329) on "literal" + std::string and on assigning a literal.
    if (target.empty() || target.front() == '?') parts.target.push_back('/');
    parts.target.append(target);
    return parts;
}

std::string resolve_location(const url_parts& base, std::string_view location) {
    if (location.find("://") != std::string_view::npos) return std::string(location);
    const bool default_port = (base.scheme == "http" && base.port == 80) || (base.scheme == "https" && base.port == 443);
    const bool ipv6 = base.host.find(':') != std::string::npos;
    std::string origin = base.scheme + "://";
    if (ipv6) origin += '[';
    origin += base.host;
    if (ipv6) origin += ']';
    if (!default_port) {
        origin += ':';
        origin += std::to_string(base.port);
    }
    if (location.starts_with("//")) return base.scheme + ":" + std::string(location);
    if (location.starts_with("/")) return origin + std::string(location);
    // Relative to the base path's directory.
    std::string path = base.target.substr(0, base.target.find('?'));
    path = path.substr(0, path.rfind('/') + 1);
    return origin + path + std::string(location);
}

}  // namespace corio::http::detail
