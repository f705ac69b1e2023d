// asyncio streams over TCP: open_connection / start_server give a
// stream_reader and a stream_writer per connection.
//
//   auto [reader, writer] = co_await corio::open_connection("127.0.0.1", 8888);
//   writer.write("ping\n");
//   co_await writer.drain();
//   std::string line = co_await reader.readline();
//   writer.close();
//   co_await writer.wait_closed();
//
// A connection's socket belongs to the loop that opened or accepted it, and
// every operation on it runs on that loop's thread (use_task posts an
// operation there when the awaiting task has migrated to another worker),
// so a reader and a writer may be used from different tasks on different
// workers at the same time. One task at a time per reader; writes from
// several tasks are appended in call order.
//
// Errors as asyncio raises them: a read past EOF gets incomplete_read_error
// (readexactly, readuntil), a separator not found within the limit gets
// limit_overrun_error with the data kept (readuntil), a reset or refused
// connection gets std::system_error in the task that awaited.
#pragma once

#include <any>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "corio/task.hpp"

namespace asio::ssl {
class context;
}

namespace corio {

namespace detail {
struct connection;
struct server_state;
}  // namespace detail

/// asyncio's default stream limit: the longest line / separator search.
inline constexpr std::size_t default_stream_limit = 64 * 1024;

class stream_reader {
public:
    explicit stream_reader(std::shared_ptr<detail::connection> c) noexcept : conn_(std::move(c)) {}

    /// Up to n bytes (n < 0: everything until EOF); "" at EOF.
    task<std::string> read(std::ptrdiff_t n = -1);
    /// Exactly n bytes, or incomplete_read_error (with what arrived) at EOF.
    task<std::string> readexactly(std::size_t n);
    /// Through the first `separator` (included). At EOF before it:
    /// incomplete_read_error with the partial data (consumed). No separator
    /// within the limit: limit_overrun_error, the data left in the buffer.
    task<std::string> readuntil(std::string_view separator = "\n");
    /// One line, "\n" included; the partial last line at EOF; "" at EOF.
    /// A line longer than the limit: limit_overrun_error, and the line (or,
    /// if its end has not arrived, the buffer) is discarded, as asyncio does.
    task<std::string> readline();
    /// True when the buffer is empty and the peer has closed its side.
    bool at_eof() const noexcept;
    std::size_t limit() const noexcept;

private:
    std::shared_ptr<detail::connection> conn_;
};

class stream_writer {
public:
    explicit stream_writer(std::shared_ptr<detail::connection> c) noexcept : conn_(std::move(c)) {}

    /// Buffers `data` and starts sending it; never blocks. Throws
    /// std::runtime_error after close(), std::system_error once the
    /// connection failed.
    void write(std::string_view data);
    void writelines(const std::vector<std::string>& lines);
    /// Waits while more than the high-water mark (64 KiB) is buffered
    /// (backpressure). Throws std::system_error if the connection failed.
    task<void> drain();
    /// Half-closes (asyncio's write_eof) after the buffered data; TLS: no close_notify (README).
    void write_eof();
    /// Closes the connection once the buffered data is sent.
    void close();
    bool is_closing() const noexcept;
    /// Waits until the connection is closed.
    task<void> wait_closed();
    /// "peername" / "sockname" (asio::ip::tcp::endpoint), "socket" (the native handle, int),
    /// "ssl_object" (the connection's SSL*, TLS only); an empty std::any for anything else.
    std::any get_extra_info(std::string_view name) const;

private:
    std::shared_ptr<detail::connection> conn_;
};

struct stream_pair {
    stream_reader reader;
    stream_writer writer;
};

/// Options structs are trivially copyable on purpose: GCC 12 copies a
/// braced temporary that sits in a co_await expression bitwise and then
/// destroys it twice (`co_await open_connection(h, p, {.ssl = &ctx})`), which
/// a std::string or std::shared_ptr member would not survive.
struct connection_options {
    std::size_t limit = default_stream_limit;
    /// TLS (asyncio's ssl=): the client context, e.g. with verify_peer and
    /// the CA to trust; it must outlive the open_connection call. The
    /// server's certificate must name `server_hostname` (default: the host
    /// connected to), which is also sent as SNI unless it is an IP address;
    /// it is copied.
    asio::ssl::context* ssl = nullptr;
    std::string_view server_hostname{};
};

/// Resolves `host` (without blocking the worker) and connects.
task<stream_pair> open_connection(std::string host, unsigned short port, connection_options options);
/// (An overload, not a default argument: see connection_options.)
inline task<stream_pair> open_connection(std::string host, unsigned short port) {
    return open_connection(std::move(host), port, connection_options{});
}

/// What start_server calls for each accepted connection, in its own task.
using client_connected = std::function<task<void>(stream_reader, stream_writer)>;

struct server_options {
    std::size_t limit = default_stream_limit;
    int backlog = 1024;
    /// Each connection's handler task stays on the loop that accepted it
    /// (as with an io_context per thread, or one asyncio loop per process),
    /// so its socket operations never hop threads: about 1.4x the HTTP
    /// requests per second of letting idle workers steal handlers. Tasks a
    /// handler creates are shared across the workers either way. Set false
    /// when handlers themselves do long computations.
    bool pin_connections = true;
    /// TLS: the server context with its certificate and key; it must
    /// outlive the server. Each accepted connection does its handshake
    /// before the handler is called; one that fails is reported to the
    /// loop's exception handler and closed.
    asio::ssl::context* ssl = nullptr;
};

/// A listening server (asyncio.Server). Copies share the same server.
class server {
public:
    explicit server(std::shared_ptr<detail::server_state> s) noexcept : state_(std::move(s)) {}
    /// Stops accepting; the listening sockets close. Open connections go on.
    void close();
    /// Waits until closed and every connection's handler has returned.
    task<void> wait_closed();
    /// Waits until close(); cancelling it closes the server.
    task<void> serve_forever();
    bool is_serving() const noexcept;
    /// Where it listens ("host:port"), one per listening socket.
    std::vector<std::string> sockets() const;
    /// The port it listens on (useful with port 0).
    unsigned short port() const noexcept;

private:
    std::shared_ptr<detail::server_state> state_;
};

static_assert(std::is_trivially_copyable_v<connection_options> && std::is_trivially_copyable_v<server_options>);

/// Listens on host:port (port 0: any free port) and calls `handler` for
/// every connection. In a runtime, every worker's loop accepts on its own
/// SO_REUSEPORT listener, so connections spread over the cores.
task<server> start_server(client_connected handler, std::string host, unsigned short port, server_options options);
inline task<server> start_server(client_connected handler, std::string host, unsigned short port) {
    return start_server(std::move(handler), std::move(host), port, server_options{});
}

}  // namespace corio
