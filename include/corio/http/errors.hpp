// corio::http's exceptions, after aiohttp's.
#pragma once

#include <string>
#include <utility>

#include "corio/errors.hpp"

namespace corio::http {

/// Thrown by a handler or middleware to answer with `status` and `text`
/// (aiohttp's web.HTTPException: `throw http_error(404, "no such user")`).
class http_error : public corio::error {
public:
    explicit http_error(int status, std::string text = {})
        : corio::error("http " + std::to_string(status) + (text.empty() ? "" : ": " + text)),
          status_(status),
          text_(std::move(text)) {}
    int status() const noexcept { return status_; }
    const std::string& text() const noexcept { return text_; }

private:
    int status_;
    std::string text_;
};

/// Base of the client's errors (aiohttp.ClientError): a refused or reset
/// connection arrives as std::system_error, a timeout as timeout_error.
class client_error : public corio::error {
public:
    using corio::error::error;
};

/// A response the client cannot read: malformed, over a limit, or cut
/// short by the server closing (aiohttp's ClientPayloadError /
/// ServerDisconnectedError).
class client_payload_error : public client_error {
public:
    using client_error::client_error;
};

/// raise_for_status() on a status >= 400, or too many redirects
/// (aiohttp.ClientResponseError).
class client_response_error : public client_error {
public:
    client_response_error(int status, std::string reason, std::string url)
        : client_error(std::to_string(status) + ", message='" + reason + "', url='" + url + "'"),
          status_(status),
          reason_(std::move(reason)),
          url_(std::move(url)) {}
    int status() const noexcept { return status_; }
    const std::string& reason() const noexcept { return reason_; }
    const std::string& url() const noexcept { return url_; }

private:
    int status_;
    std::string reason_;
    std::string url_;
};

}  // namespace corio::http
