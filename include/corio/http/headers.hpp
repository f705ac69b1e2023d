// HTTP header fields: an ordered list of (name, value) pairs looked up
// without regard to case, as aiohttp's CIMultiDict. Order and repeated
// names are kept (Set-Cookie), and `at` / `get` return the first match.
//
//   http::headers h{{"Content-Type", "text/plain"}};
//   h.get("content-type");          // "text/plain"
//   h.add("Set-Cookie", "a=1");     // keeps earlier Set-Cookie fields
//   h.set("X-Id", "7");             // replaces every X-Id
//
// Names and values that would break the message (CR, LF or NUL anywhere, a
// name with a separator or empty) are refused with std::invalid_argument,
// so a header value built from user input cannot inject a second header.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corio::http {

/// ASCII case-insensitive equality (HTTP names are ASCII).
bool iequals(std::string_view a, std::string_view b) noexcept;

class headers {
public:
    using field = std::pair<std::string, std::string>;
    using const_iterator = std::vector<field>::const_iterator;

    headers() = default;
    headers(std::initializer_list<field> fields);

    /// The first value named `name`, or nullptr.
    const std::string* find(std::string_view name) const noexcept;
    /// The first value named `name`; std::out_of_range if there is none.
    const std::string& at(std::string_view name) const;
    /// The first value named `name`, or `fallback`.
    std::string_view get(std::string_view name, std::string_view fallback = {}) const noexcept;
    bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }
    /// Every value named `name`, in order.
    std::vector<std::string_view> get_all(std::string_view name) const;

    /// Appends a field, keeping those with the same name.
    void add(std::string name, std::string value);
    /// Replaces every field named `name` by one.
    void set(std::string name, std::string value);
    /// Removes every field named `name`; returns how many.
    std::size_t erase(std::string_view name) noexcept;

    std::size_t size() const noexcept { return fields_.size(); }
    bool empty() const noexcept { return fields_.empty(); }
    const_iterator begin() const noexcept { return fields_.begin(); }
    const_iterator end() const noexcept { return fields_.end(); }

    /// Appends without validation: for the parser, whose input llhttp has
    /// already checked.
    void add_unchecked(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }

private:
    std::vector<field> fields_;
};

}  // namespace corio::http
