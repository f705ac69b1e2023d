#include "corio/http/headers.hpp"

#include <algorithm>
#include <stdexcept>

namespace corio::http {
namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

/// RFC 9110 token characters: what a field name may contain.
bool is_token_char(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void check_field(std::string_view name, std::string_view value) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char))
        throw std::invalid_argument("http header name '" + std::string(name) + "' is not a token");
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
        throw std::invalid_argument("http header '" + std::string(name) + "': the value contains CR, LF or NUL");
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

headers::headers(std::initializer_list<field> fields) {
    for (const auto& [name, value] : fields) add(name, value);
}

const std::string* headers::find(std::string_view name) const noexcept {
    for (const auto& [n, v] : fields_)
        if (iequals(n, name)) return &v;
    return nullptr;
}

const std::string& headers::at(std::string_view name) const {
    if (const std::string* v = find(name)) return *v;
    throw std::out_of_range("no http header '" + std::string(name) + "'");
}

std::string_view headers::get(std::string_view name, std::string_view fallback) const noexcept {
    const std::string* v = find(name);
    return v ? std::string_view(*v) : fallback;
}

std::vector<std::string_view> headers::get_all(std::string_view name) const {
    std::vector<std::string_view> all;
    for (const auto& [n, v] : fields_)
        if (iequals(n, name)) all.emplace_back(v);
    return all;
}

void headers::add(std::string name, std::string value) {
    check_field(name, value);
    fields_.emplace_back(std::move(name), std::move(value));
}

void headers::set(std::string name, std::string value) {
    check_field(name, value);
    erase(name);
    fields_.emplace_back(std::move(name), std::move(value));
}

std::size_t headers::erase(std::string_view name) noexcept {
    return std::erase_if(fields_, [&](const field& f) { return iequals(f.first, name); });
}

}  // namespace corio::http
