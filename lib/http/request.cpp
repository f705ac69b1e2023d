#include "corio/http/request.hpp"

#include "corio/http/errors.hpp"
#include "http/url.hpp"

namespace corio::http {

request::request(request_head head) : head_(std::move(head)) {
    // Only origin-form targets ("/path?query"): absolute-form is for
    // proxies, "*" for OPTIONS to the server as a whole.
    if (head_.target.empty() || head_.target.front() != '/') throw http_error(400, "the request target must be a path");
    const std::size_t q = head_.target.find('?');
    path_ = detail::percent_decode(std::string_view(head_.target).substr(0, q), false);
    if (q != std::string::npos) query_ = detail::parse_query(std::string_view(head_.target).substr(q + 1));
}

// Computed on each call, not kept as a view: a view into head_.target would
// dangle in a copied or moved request.
std::string_view request::query_string() const noexcept {
    const std::size_t q = head_.target.find('?');
    return q == std::string::npos ? std::string_view() : std::string_view(head_.target).substr(q + 1);
}

std::string_view request::content_type() const noexcept {
    std::string_view type = head_.fields.get("Content-Type");
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    return type;
}

task<std::string> request::read() const { co_return head_.body; }

task<std::string> request::text() const { co_return head_.body; }

task<nlohmann::json> request::json() const {
    nlohmann::json j = nlohmann::json::parse(head_.body, nullptr, false);
    if (j.is_discarded()) throw http_error(400, "the request body is not valid JSON");
    co_return j;
}

}  // namespace corio::http
