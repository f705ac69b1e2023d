// The HTTP server: aiohttp's web.Application, AppRunner and TCPSite.
//
//   corio::http::application app;
//   app.router().get("/", [](http::request&) -> corio::task<http::response> {
//       co_return http::response{.text = "hello"};
//   });
//   co_await corio::http::serve(app, "127.0.0.1", 8080);   // until cancelled
//
// or, to start and stop it (tests):
//
//   http::app_runner runner(app);
//   http::tcp_site site(runner, "127.0.0.1", 0);
//   co_await site.start();            // site.port() is the port
//   ...
//   co_await runner.cleanup();        // graceful: stop accepting, finish in-flight requests
//
// Connections are HTTP/1.1 with keep-alive and pipelining (responses go
// out in request order); every worker's loop accepts its own share.
// Limits as aiohttp's: request line and each header field at most 8190
// bytes, at most 100 headers, a body at most client_max_size (1 MiB);
// malformed input gets 400, an oversized header 431, an oversized body
// 413, and the connection is closed after the answer with a lingering
// close (nginx's lingering_close): the server half-closes, then reads and
// discards what the client still sends (an upload it refused) until the
// client closes, for at most lingering_timeout and lingering_max_size
// bytes, so that the client reads the answer instead of a reset. A client
// that sends part of a request head and then stalls is disconnected after
// request_head_timeout (the head only); one whose body stops arriving for
// body_read_timeout is disconnected too, while a slow body that keeps
// arriving is never cut; an idle keep-alive connection is closed after
// keepalive_timeout. A handler that throws gets 500 without the exception
// text (it goes to the loop's exception handler); http_error gives its
// own status and text.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "corio/http/request.hpp"
#include "corio/http/response.hpp"
#include "corio/http/router.hpp"
#include "corio/task.hpp"

namespace asio::ssl {
class context;
}

namespace corio::http {

namespace detail {
struct runner_state;
}

/// Wraps every request (aiohttp's middlewares): call `next(req)` to go on,
/// or answer directly. The first added is the outermost.
using middleware = std::function<task<response>(request&, const handler& next)>;

class application {
public:
    http::router& router() noexcept { return router_; }
    const http::router& router() const noexcept { return router_; }
    void add_middleware(middleware m) { middlewares_.push_back(std::move(m)); }
    const std::vector<middleware>& middlewares() const noexcept { return middlewares_; }

    /// The largest request body accepted (aiohttp's client_max_size).
    std::size_t client_max_size = 1024 * 1024;

private:
    http::router router_;
    std::vector<middleware> middlewares_;
};

/// Trivially copyable on purpose (see corio::connection_options).
struct site_options {
    /// TLS: the server context (certificate and key); it must outlive the site.
    asio::ssl::context* ssl = nullptr;
    std::chrono::milliseconds keepalive_timeout{75'000};
    /// From a request's first byte to the end of its header fields.
    std::chrono::milliseconds request_head_timeout{10'000};
    /// The longest silence while a request body arrives: measured since
    /// bytes last arrived, not since the body began, so a slow upload that
    /// keeps progressing is never cut.
    std::chrono::milliseconds body_read_timeout{60'000};
    /// After an error answer (400, 413, 431), how long the server goes on
    /// reading and discarding what the client still sends before it closes,
    /// and how many bytes at most (see the lingering close above).
    std::chrono::milliseconds lingering_timeout{5'000};
    std::size_t lingering_max_size = 16 * 1024 * 1024;
    /// How long a graceful stop waits for in-flight requests before it
    /// cancels them.
    std::chrono::milliseconds shutdown_timeout{60'000};
    int backlog = 1024;
    /// Keep each connection on the loop that accepted it (see
    /// corio::server_options::pin_connections); handlers' own tasks still spread.
    bool pin_connections = true;
};
static_assert(std::is_trivially_copyable_v<site_options>);

/// Owns the connections of an application's sites. The application must
/// outlive it.
class app_runner {
public:
    explicit app_runner(application& app);
    ~app_runner();
    app_runner(const app_runner&) = delete;
    app_runner& operator=(const app_runner&) = delete;

    /// Stops every site: no new connections; idle ones close at once,
    /// requests in flight get up to shutdown_timeout to finish, then are
    /// cancelled. Returns when every connection is closed.
    task<void> cleanup();

    std::shared_ptr<detail::runner_state> state() const noexcept { return state_; }

private:
    std::shared_ptr<detail::runner_state> state_;
};

class tcp_site {
public:
    tcp_site(app_runner& runner, std::string host, unsigned short port, site_options options);
    tcp_site(app_runner& runner, std::string host, unsigned short port)
        : tcp_site(runner, std::move(host), port, site_options{}) {}

    /// Listens; port() is known afterwards.
    task<void> start();
    /// Stops this site as app_runner::cleanup does.
    task<void> stop();
    unsigned short port() const noexcept { return port_; }
    /// "http://127.0.0.1:8080".
    std::string name() const;

private:
    std::shared_ptr<detail::runner_state> state_;
    std::string host_;
    unsigned short port_;
    site_options options_;
    std::size_t index_ = static_cast<std::size_t>(-1);  // in the runner's sites
};

/// Serves `app` on host:port until cancelled, then stops gracefully.
task<void> serve(application& app, std::string host, unsigned short port, site_options options);
inline task<void> serve(application& app, std::string host, unsigned short port) {
    return serve(app, std::move(host), port, site_options{});
}

}  // namespace corio::http
