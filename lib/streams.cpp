// stream_reader, stream_writer and open_connection over a connection
// (connection.hpp).
#include "corio/streams.hpp"

#include <asio/bind_allocator.hpp>
#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/ssl/error.hpp>
#include <asio/ssl/host_name_verification.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "connection.hpp"
#include "corio/detail/dropped_handlers.hpp"
#include "corio/errors.hpp"
#include "corio/policy.hpp"
#include "corio/use_task.hpp"
#include "drained_read.hpp"

namespace corio {
namespace detail {

namespace {

/// Calls start_write on the connection's io thread: here when this is it,
/// else posted there in the memory set aside for it, so that the write,
/// which `writing` now says is on its way, cannot fail to start.
void start_write_on_io(const std::shared_ptr<connection>& c) {
    if (runs_io_here(c->io))
        c->start_write();
    else
        asio::post(c->io, asio::bind_allocator(reserved_allocator<void>(c->start_memory),
                                               [self = c] { self->start_write(); }));
}

/// The completion of one write of start_write. Dropped by Asio uncalled
/// (dropped_handlers.hpp), it ends the write as failed.
class write_completion {
public:
    explicit write_completion(std::shared_ptr<connection> c) noexcept : c_(std::move(c)) {}
    write_completion(write_completion&&) noexcept = default;
    write_completion& operator=(write_completion&&) = delete;
    ~write_completion() {
        if (c_ && dropped_handler_ends_operation()) c_->written(asio::error::operation_aborted);
    }
    void operator()(std::error_code ec, std::size_t) { std::exchange(c_, nullptr)->written(ec); }

private:
    std::shared_ptr<connection> c_;
};

/// Reads more into the buffer. False at EOF (or after our own close()).
task<bool> fill(connection& c) {
    if (c.eof) co_return false;
    constexpr std::size_t min_read = 16 * 1024;
    if (c.in_capacity - c.in_end < min_read) {
        const std::size_t held = c.buffered_in();
        if (c.in_capacity - held >= min_read && c.in_begin > 0) {
            std::memmove(c.in.get(), c.in.get() + c.in_begin, held);
        } else {
            std::size_t cap = std::max<std::size_t>(c.in_capacity * 2, min_read * 4);
            while (cap - held < min_read) cap *= 2;
            auto bigger = std::make_unique<char[]>(cap);
            if (held) std::memcpy(bigger.get(), c.in.get() + c.in_begin, held);
            c.in = std::move(bigger);
            c.in_capacity = cap;
        }
        c.in_begin = 0;
        c.in_end = held;
    }
    std::error_code ec;
    std::size_t n = 0;
    try {
        const auto space = asio::buffer(c.in.get() + c.in_end, c.in_capacity - c.in_end);
        if (c.tls) n = co_await c.tls->async_read_some(space, use_task);
        else if (c.pipe) n = co_await c.pipe->async_read_some(space, use_task);
        else n = co_await c.plain.async_read_some(drain_buffer(space), use_task);
    } catch (const std::system_error& e) {
        ec = e.code();
    }
    if (ec) {
        bool closed_here;
        {
            std::lock_guard guard(c.out_lock);
            closed_here = c.closed || c.closing;
        }
        // EOF, or our own close() aborted the read: the stream has ended.
        // A TLS peer that closes without close_notify (as corio itself
        // does, see finish_closing_locked) counts as EOF too, as in most
        // HTTP clients: the length or the framing tells truncation apart.
        if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
            (ec == asio::error::operation_aborted && closed_here)) {
            c.eof = true;
            co_return false;
        }
        throw std::system_error(ec);
    }
    c.in_end += n;
    co_return true;
}

/// Where `sep` starts in the buffer, searching from `from`; npos if absent.
std::size_t find_separator(const connection& c, std::string_view sep, std::size_t from) {
    const std::string_view data = c.buffered_view();
    return from >= data.size() ? std::string_view::npos : data.find(sep, from);
}

}  // namespace

// ---- writer side (io thread) ---------------------------------------------------

void connection::start_write() {
    {
        std::lock_guard guard(out_lock);
        if (out_queued.empty() || closed) {
            writing = false;
            finish_closing_locked();
            return;
        }
        out_sending.swap(out_queued);
    }
    try {
        const dropped_handler_scope failure_ends_it(false);  // the catch below ends a failed start
        write_completion done(shared_from_this());
        if (tls) asio::async_write(*tls, asio::buffer(out_sending), std::move(done));
        else if (pipe) asio::async_write(*pipe, asio::buffer(out_sending), std::move(done));
        else asio::async_write(plain, asio::buffer(out_sending), std::move(done));
    } catch (...) {
        written(asio::error::no_memory);
    }
}

void connection::written(std::error_code ec) {
    bool more;
    {
        std::lock_guard guard(out_lock);
        out_sending.clear();
        if (ec && !out_error) out_error = ec;
        if (paused && (ec || buffered_out() <= low_water)) {
            paused = false;
            serve_all(drain_waiters);
        }
        more = !ec && !out_queued.empty();
        if (!more) {
            writing = false;
            if (ec) closing = true;  // a failed connection closes
            finish_closing_locked();
        }
    }
    if (more) start_write();
}

void connection::finish_closing_locked() {
    if (writing || closed) return;
    // A pipe has no half-close: write_eof closes it (asyncio's write pipe transport).
    if (eof_requested && pipe) closing = true;
    if (closing) {
        // TLS: no close_notify exchange (it waits for the peer's answer,
        // which may never come); the peer sees a truncated stream, which
        // corio's reader, like most HTTP clients, takes as EOF.
        std::error_code ignored;
        if (pipe) {
            pipe->close(ignored);
        } else {
            socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
            socket().close(ignored);
        }
        closed = true;
        paused = false;
        serve_all(drain_waiters);
        serve_all(closed_waiters);
    } else if (eof_requested) {
        std::error_code ignored;
        socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    }
}

namespace {

/// Parks the current task on `list` of `c` until served (under out_lock).
struct connection_wait {
    connection& c;
    wait_list& list;
    bool (*ready)(const connection&);
    parked_waiter w;

    bool await_ready() {
        std::lock_guard guard(c.out_lock);
        return w.served = ready(c);
    }
    bool await_suspend(std::coroutine_handle<> h) {
        std::lock_guard guard(c.out_lock);
        if ((w.served = ready(c))) return false;
        return park_locked(w, h, list);
    }
    void await_resume() { finish_wait(c.out_lock, w, list); }
};

}  // namespace
}  // namespace detail

// ---- stream_reader -----------------------------------------------------------------

task<std::string> stream_reader::read(std::ptrdiff_t n) {
    detail::connection& c = *conn_;
    if (n == 0) co_return std::string();
    if (n < 0) {
        while (co_await detail::fill(c)) {
        }
        co_return c.take_in(c.buffered_in());
    }
    if (c.buffered_in() == 0) co_await detail::fill(c);
    co_return c.take_in(std::min(c.buffered_in(), static_cast<std::size_t>(n)));
}

task<std::string> stream_reader::readexactly(std::size_t n) {
    detail::connection& c = *conn_;
    while (c.buffered_in() < n) {
        if (!co_await detail::fill(c)) throw incomplete_read_error(c.take_in(c.buffered_in()), n);
    }
    co_return c.take_in(n);
}

task<std::string> stream_reader::readuntil(std::string_view separator) {
    if (separator.empty()) throw std::invalid_argument("readuntil: the separator must not be empty");
    detail::connection& c = *conn_;
    std::size_t searched = 0;  // no match starts before this offset
    for (;;) {
        const std::size_t at = detail::find_separator(c, separator, searched);
        if (at != std::string_view::npos) {
            const std::size_t end = at + separator.size();
            if (end > c.limit) throw limit_overrun_error("separator is found, but chunk is longer than limit", at);
            co_return c.take_in(end);
        }
        const std::size_t held = c.buffered_in();
        if (held > c.limit) throw limit_overrun_error("separator is not found, and chunk exceed the limit", held);
        searched = held >= separator.size() ? held - separator.size() + 1 : 0;
        if (!co_await detail::fill(c)) {
            std::string partial = c.take_in(held);
            throw incomplete_read_error(std::move(partial), 0);  // expected: unknown (asyncio's None)
        }
    }
}

task<std::string> stream_reader::readline() {
    detail::connection& c = *conn_;
    std::string line;
    std::exception_ptr overrun;
    try {
        line = co_await readuntil("\n");
    } catch (const incomplete_read_error& e) {
        line = e.partial();  // the last line without its "\n"
    } catch (const limit_overrun_error& e) {
        // asyncio: drop the over-long line (through its "\n" if it arrived,
        // else everything buffered) and raise.
        const std::string_view data = c.buffered_view();
        const std::size_t nl = data.find('\n', e.consumed());
        c.take_in(nl != std::string_view::npos ? nl + 1 : data.size());
        overrun = std::current_exception();
    }
    if (overrun) std::rethrow_exception(overrun);
    co_return line;
}

bool stream_reader::at_eof() const noexcept { return conn_->eof && conn_->buffered_in() == 0; }
std::size_t stream_reader::limit() const noexcept { return conn_->limit; }

// ---- stream_writer -----------------------------------------------------------------

void stream_writer::write(std::string_view data) {
    detail::connection& c = *conn_;
    bool start = false;
    bool send_now = false;
    {
        std::lock_guard guard(c.out_lock);
        if (c.out_error) throw std::system_error(c.out_error);
        if (c.closing || c.eof_requested) throw std::runtime_error("stream_writer: write after close() or write_eof()");
        if (data.empty()) return;
        // Nothing queued, no write in flight, on the socket's own thread:
        // send at once (asyncio's transport.write does too) and buffer only
        // what the socket does not take. `writing` keeps other writers
        // appending behind us meanwhile.
        // (Not a pipe: its descriptor may still be blocking, and `plain` is not it.)
        send_now = !c.writing && !c.tls && !c.pipe && detail::runs_io_here(c.io);
        if (send_now) {
            c.writing = true;
        } else {
            c.out_queued.append(data);
            if (c.buffered_out() > detail::connection::high_water) c.paused = true;
            if (!c.writing) start = c.writing = true;
        }
    }
    if (send_now) {
        std::error_code ec;
        std::size_t sent = c.plain.write_some(asio::buffer(data), ec);  // the socket is non-blocking
        if (ec == asio::error::would_block || ec == asio::error::try_again) ec.clear();
        if (ec) sent = data.size();  // failed: nothing more will be sent
        try {
            std::lock_guard guard(c.out_lock);
            if (ec && !c.out_error) {
                c.out_error = ec;
                c.closing = true;  // a failed connection closes
            }
            // Our unsent rest goes before what others appended meanwhile.
            c.out_queued.insert(0, data.substr(sent));
            if (c.buffered_out() > detail::connection::high_water) c.paused = true;
            if (c.out_queued.empty()) {
                c.writing = false;
                c.finish_closing_locked();  // a close() that came meanwhile
            } else {
                start = true;
            }
        } catch (...) {
            // Out of memory for the unsent rest, part of `data` sent: the
            // stream is broken; it closes, failed, and the caller learns.
            c.written(asio::error::no_memory);
            throw;
        }
        if (start) c.start_write();  // this thread is the socket's
        return;
    }
    if (start) detail::start_write_on_io(conn_);
}

void stream_writer::writelines(const std::vector<std::string>& lines) {
    std::string joined;
    for (const std::string& l : lines) joined += l;
    write(joined);
}

task<void> stream_writer::drain() {
    detail::connection& c = *conn_;
    co_await detail::connection_wait{c, c.drain_waiters, [](const detail::connection& c) { return !c.paused; }, {}};
    std::lock_guard guard(c.out_lock);
    if (c.out_error) throw std::system_error(c.out_error);
}

// TLS, where asyncio raises NotImplementedError: the TCP send side is shut
// down without a close_notify, as close() does (finish_closing_locked), so
// the peer's TLS reads end as a truncated stream, which corio's reader and
// most HTTP clients take as EOF; our TLS reads go on. The HTTP server's
// lingering close relies on that to work over https too.
void stream_writer::write_eof() {
    detail::connection& c = *conn_;
    {
        std::lock_guard guard(c.out_lock);
        if (c.closing || c.eof_requested) return;
        c.eof_requested = true;
        if (c.writing) return;  // the last write completion half-closes
        c.writing = true;       // keeps a concurrent write from starting before the half-close
    }
    detail::start_write_on_io(conn_);
}

void stream_writer::close() {
    detail::connection& c = *conn_;
    {
        std::lock_guard guard(c.out_lock);
        if (c.closing) return;
        c.closing = true;
        if (c.writing) return;  // the last write completion closes
        c.writing = true;
    }
    detail::start_write_on_io(conn_);
}

bool stream_writer::is_closing() const noexcept {
    std::lock_guard guard(conn_->out_lock);
    return conn_->closing;
}

task<void> stream_writer::wait_closed() {
    detail::connection& c = *conn_;
    co_await detail::connection_wait{c, c.closed_waiters, [](const detail::connection& c) { return c.closed; }, {}};
}

std::any stream_writer::get_extra_info(std::string_view name) const {
    std::error_code ec;
    if (name == "peername") {
        auto ep = conn_->socket().remote_endpoint(ec);
        return ec ? std::any() : std::any(ep);
    }
    if (name == "sockname") {
        auto ep = conn_->socket().local_endpoint(ec);
        return ec ? std::any() : std::any(ep);
    }
    if (name == "socket" && !conn_->pipe) return std::any(static_cast<int>(conn_->socket().native_handle()));
    if (name == "pipe" && conn_->pipe) return std::any(static_cast<int>(conn_->pipe->native_handle()));
    if (name == "ssl_object" && conn_->tls) return std::any(conn_->tls->native_handle());  // SSL*
    return {};
}

// ---- open_connection -----------------------------------------------------------------

namespace detail {
namespace {

/// SNI, and the name the server's certificate must carry (checked when
/// the context's verify mode asks for peer verification). An IP address
/// is checked but not sent: SNI carries host names only (RFC 6066; Python's
/// ssl and curl send none for an address either).
void expect_server_name(connection& c, const std::string& host, const std::string& server_hostname) {
    const std::string& name = server_hostname.empty() ? host : server_hostname;
    SSL* const ssl = c.tls->native_handle();
    std::error_code not_an_address;
    asio::ip::make_address(name, not_an_address);
    if (not_an_address) {
        // OpenSSL refuses a name that is too long, and one it could not
        // copy (which it reports as an "internal error").
        if (name.size() > TLSEXT_MAXLEN_host_name)
            throw std::invalid_argument("server name longer than 255 bytes: " + name);
        if (!SSL_set_tlsext_host_name(ssl, name.c_str())) throw std::bad_alloc();
    }
    // Asio keeps the verify callback in the SSL's app data and does not
    // check that storing it worked: when OpenSSL cannot allocate the slot,
    // the callback leaks and every certificate fails to verify. Storing
    // nothing first allocates the slot, so Asio's store cannot fail.
    if (!SSL_set_app_data(ssl, nullptr)) throw std::bad_alloc();
    c.tls->set_verify_callback(asio::ssl::host_name_verification(name));
}

task<stream_pair> connect(std::string host, unsigned short port, std::size_t limit,
                          asio::ssl::context* ssl, std::string server_hostname) {
    asio::io_context& io = get_running_loop().io_context();
    asio::ip::tcp::socket socket(io);
    std::error_code ec;
    const asio::ip::address address = asio::ip::make_address(host, ec);
    if (!ec) {
        const asio::ip::tcp::endpoint to(address, port);
        co_await socket.async_connect(to, use_task);
    } else {
        // A name: Asio's resolver runs getaddrinfo on its own thread.
        asio::ip::tcp::resolver resolver(io);
        const std::string service = std::to_string(port);
        auto endpoints = co_await resolver.async_resolve(host, service, use_task);
        co_await asio::async_connect(socket, endpoints, use_task);
    }
    socket.set_option(asio::ip::tcp::no_delay(true), ec);  // asyncio sets TCP_NODELAY too
    std::shared_ptr<connection> conn;
    if (!ssl) {
        conn = std::make_shared<connection>(std::move(socket), limit);
    } else {
        conn = std::make_shared<connection>(std::move(socket), *ssl, limit);
        expect_server_name(*conn, host, server_hostname);
        co_await conn->tls->async_handshake(asio::ssl::stream_base::client, use_task);
    }
    co_return stream_pair{stream_reader(conn), stream_writer(conn)};
}

}  // namespace
}  // namespace detail

task<stream_pair> open_connection(std::string host, unsigned short port, connection_options options) {
    return detail::connect(std::move(host), port, options.limit, options.ssl, std::string(options.server_hostname));
}

}  // namespace corio
