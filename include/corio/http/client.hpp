// The HTTP client: aiohttp's ClientSession.
//
//   corio::http::client_session session;
//   auto r = co_await session.get("http://localhost:10056/test/");
//   std::cout << r.status() << (co_await r.json())["data"];
//   co_await session.close();
//
// A session keeps idle keep-alive connections per (scheme, host, port) and
// reuses them; it may be used by many tasks on many workers at once. The
// response body is read completely before the request's task returns (the
// connection then goes back to the pool at once), so read(), text() and
// json() complete immediately. Like any stream, a pooled connection belongs
// to the loop that opened it: close (or destroy) the session before the
// runtime or loop that ran its requests ends.
//
// Redirects: at most max_redirects are followed; the next 30x is a
// client_response_error. A duration of zero (timeout, total_timeout,
// connect_timeout) means no limit, as aiohttp's None.
//
// GCC 12 note: a braced options temporary inside a co_await expression
// (`co_await s.get(url, {.params = ...})`) is destroyed twice by GCC 12's
// coroutine lowering (a compiler bug; Clang is fine). With GCC 12, name the
// options first: `http::request_options o{.params = ...}; co_await s.get(url, o);`
// The same goes for other owning temporaries beside a co_await (a lambda
// turned into a std::function argument; `n ? co_await f() : std::string()`).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "corio/http/errors.hpp"
#include "corio/http/headers.hpp"
#include "corio/task.hpp"

namespace asio::ssl {
class context;
}

namespace corio::http {

namespace detail {
struct session_state;
}

struct request_options {
    /// Query parameters, appended to the URL's own (encoded).
    std::vector<std::pair<std::string, std::string>> params;
    http::headers headers;
    /// A JSON body (content type application/json). Giving both json and
    /// data is an error (std::invalid_argument), as in aiohttp.
    std::optional<nlohmann::json> json;
    /// A raw body (content type application/octet-stream unless a header says otherwise).
    std::optional<std::string> data;
    /// Total time for this request, redirects included; overrides the session's.
    std::optional<std::chrono::milliseconds> timeout;
    bool allow_redirects = true;
    int max_redirects = 10;
};

struct client_options {
    /// Prepended to relative URLs ("http://localhost:10056" + "/test/").
    std::string base_url;
    /// Sent with every request unless the request sets the same header.
    http::headers headers;
    /// Total time per request (aiohttp's ClientTimeout.total, 5 minutes).
    std::chrono::milliseconds total_timeout{300'000};
    /// Time to open a connection (resolve, connect, TLS handshake).
    std::chrono::milliseconds connect_timeout{30'000};
    /// For https: the client context (trusted CAs, verification). Without
    /// one the session makes a context that verifies against the system's CAs.
    asio::ssl::context* ssl = nullptr;
    /// The largest response body read (a bigger one: client_payload_error).
    std::size_t max_body = 64 * 1024 * 1024;
};

class client_response {
public:
    client_response(int status, std::string reason, http::headers h, std::string body, std::string url)
        : status_(status), reason_(std::move(reason)), headers_(std::move(h)), body_(std::move(body)), url_(std::move(url)) {}

    int status() const noexcept { return status_; }
    const std::string& reason() const noexcept { return reason_; }
    const http::headers& headers() const noexcept { return headers_; }
    /// The final URL (after redirects).
    const std::string& url() const noexcept { return url_; }
    bool ok() const noexcept { return status_ < 400; }
    /// Throws client_response_error if status() >= 400.
    void raise_for_status() const;

    task<std::string> read() const;
    task<std::string> text() const;
    /// Throws nlohmann::json::parse_error if the body is not JSON.
    task<nlohmann::json> json() const;

private:
    int status_;
    std::string reason_;
    http::headers headers_;
    std::string body_;
    std::string url_;
};

class client_session {
public:
    explicit client_session(client_options options = {});
    /// Closes the idle connections (call close() to do it from a task).
    ~client_session();
    client_session(const client_session&) = delete;
    client_session& operator=(const client_session&) = delete;

    /// Throws std::invalid_argument for a URL it cannot use (no host,
    /// scheme not http/https) or json + data; timeout_error past a timeout;
    /// std::system_error for connection failures; client_payload_error for
    /// a malformed or truncated response; client_response_error after
    /// max_redirects redirects.
    task<client_response> request(std::string method, std::string url, request_options options);
    task<client_response> get(std::string url, request_options options) {
        return request("GET", std::move(url), std::move(options));
    }
    task<client_response> post(std::string url, request_options options) {
        return request("POST", std::move(url), std::move(options));
    }
    task<client_response> put(std::string url, request_options options) {
        return request("PUT", std::move(url), std::move(options));
    }
    task<client_response> patch(std::string url, request_options options) {
        return request("PATCH", std::move(url), std::move(options));
    }
    task<client_response> delete_(std::string url, request_options options) {
        return request("DELETE", std::move(url), std::move(options));
    }
    task<client_response> head(std::string url, request_options options) {
        return request("HEAD", std::move(url), std::move(options));
    }
    // Overloads, not default arguments: a defaulted request_options is the
    // same braced temporary in the caller's co_await expression that GCC 12
    // destroys twice (see the note at the top); here it is made inside a
    // plain function instead.
    task<client_response> request(std::string method, std::string url) {
        return request(std::move(method), std::move(url), request_options{});
    }
    task<client_response> get(std::string url) { return get(std::move(url), request_options{}); }
    task<client_response> post(std::string url) { return post(std::move(url), request_options{}); }
    task<client_response> put(std::string url) { return put(std::move(url), request_options{}); }
    task<client_response> patch(std::string url) { return patch(std::move(url), request_options{}); }
    task<client_response> delete_(std::string url) { return delete_(std::move(url), request_options{}); }
    task<client_response> head(std::string url) { return head(std::move(url), request_options{}); }

    /// Closes the pooled connections; later requests throw std::runtime_error.
    task<void> close();
    bool closed() const noexcept;

private:
    std::shared_ptr<detail::session_state> state_;
};

}  // namespace corio::http
