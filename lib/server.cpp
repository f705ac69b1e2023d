// start_server and server: one listening socket and one pinned accept task
// per loop of the runtime (SO_REUSEPORT, so the kernel spreads connections
// over the cores and each connection's IO stays on the loop that accepted
// it); a standalone loop has one.
#include <asio/ip/tcp.hpp>

#include <cerrno>
#include <memory>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <vector>

#include "connection.hpp"
#include "context.hpp"
#include "corio/create_task.hpp"
#include "corio/future.hpp"
#include "corio/policy.hpp"
#include "corio/shield.hpp"
#include "corio/sleep.hpp"
#include "corio/streams.hpp"
#include "corio/use_task.hpp"
#include "corio/wait.hpp"
#include "loop_core.hpp"
#include "socket_census.hpp"

namespace corio {
namespace detail {

struct server_state {
    server_state(client_connected h, server_options o, future<void> closed, future<void> finished)
        : handler(std::move(h)), options(o), closed(std::move(closed)), finished(std::move(finished)) {}

    const client_connected handler;
    const server_options options;
    future<void> closed;    // set by close()
    future<void> finished;  // set once closed and every accept task and connection handler ended
    std::vector<std::string> endpoints;
    unsigned short port = 0;

    std::mutex mutex;
    std::vector<task_handle<void>> acceptors;
    std::size_t live = 0;  // accept tasks + connection handlers still running
    bool serving = true;

    void started() {
        std::lock_guard guard(mutex);
        ++live;
    }
    /// Sets `f` unless it was cancelled: its waiters await it from shielded
    /// tasks (wait_uncancelled), which only a runtime shutdown cancels, and
    /// ended() runs in a destructor, where invalid_state_error must not escape.
    static void settle(future<void>& f) noexcept {
        try {
            f.set_result();
        } catch (const invalid_state_error&) {
        }
    }
    void ended() {
        bool done;
        {
            std::lock_guard guard(mutex);
            done = --live == 0 && !serving;
        }
        if (done) settle(finished);
    }
    void close() {
        std::vector<task_handle<void>> to_cancel;
        bool done;
        {
            std::lock_guard guard(mutex);
            if (!serving) return;
            serving = false;
            to_cancel = std::move(acceptors);  // the handles would keep the accept frames (and their counts) alive
            done = live == 0;  // everything ended already (a runtime shutdown cancelled it)
        }
        settle(closed);
        if (done) settle(finished);
        for (auto& a : to_cancel) a.cancel();  // each accept task's frame closes its listener
    }
};

namespace {

/// One count in the server's `live`, taken when an accept task or a
/// handler task is created and given back when its frame goes. It is the
/// task's parameter, not a local: a task cancelled before its first poll
/// never runs its body, but its parameters are destroyed all the same.
class live_guard {
public:
    explicit live_guard(std::shared_ptr<server_state> s) : s_(std::move(s)) { s_->started(); }
    live_guard(live_guard&& o) noexcept : s_(std::move(o.s_)) {}
    live_guard& operator=(live_guard&&) = delete;
    ~live_guard() {
        if (s_) s_->ended();
    }
    server_state& state() const noexcept { return *s_; }
    std::shared_ptr<server_state> share() const { return s_; }

private:
    std::shared_ptr<server_state> s_;
};

/// Tells the loop's exception handler; a report that itself runs out of
/// memory is dropped (nothing is left to tell it with).
void report(const char* message, std::exception_ptr e) noexcept {
    if (!tl_core || !tl_core->owner) return;
    try {
        tl_core->owner->call_exception_handler(exception_context{message, std::move(e)});
    } catch (...) {
    }
}

/// One accepted connection: its TLS handshake, if any, then the handler.
/// A failure is reported and ends this connection only (asyncio logs a
/// handler's exception; the other connections go on).
task<void> serve_connection(live_guard counted, asio::ip::tcp::socket socket) {
    server_state* const s = &counted.state();
    const char* failed = "connection setup failed";
    std::exception_ptr failure;
    try {
        std::shared_ptr<connection> c;
        if (s->options.ssl) {
            c = std::make_shared<connection>(std::move(socket), *s->options.ssl, s->options.limit);
            failed = "TLS handshake failed";
            co_await c->tls->async_handshake(asio::ssl::stream_base::server, use_task);
        } else {
            c = std::make_shared<connection>(std::move(socket), s->options.limit);
        }
        failed = "Unhandled exception in client_connected_cb";
        co_await s->handler(stream_reader(c), stream_writer(c));
    } catch (const cancelled_error&) {
        throw;
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) report(failed, std::move(failure));
}

/// A listening socket, counted in open_sockets while it is open.
struct listener {
    asio::ip::tcp::acceptor acceptor;
    census_entry census;
};

/// True if `failure` is a lack of descriptors (or of kernel memory for
/// them). Asio's error category does not map to std::errc: its enums.
bool out_of_descriptors(const std::exception_ptr& failure) {
    try {
        std::rethrow_exception(failure);
    } catch (const std::system_error& e) {
        const std::error_code ec = e.code();
        return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
               ec == asio::error::no_memory || (ec.category() == asio::system_category() && ec.value() == ENFILE);
    } catch (...) {
        return false;
    }
}

/// The listener's accept task. Nothing but its cancellation (close(), a
/// runtime shutdown) ends it: a failed accept, or a connection whose task
/// cannot be created, is reported, and accepting pauses for a while
/// (asyncio: out of descriptors, the pending connections wait in the
/// backlog until descriptors free up). The pause allocates no frame and
/// always suspends, so a loop that keeps failing lets the others run.
task<void> accept_loop(live_guard counted, listener l) {
    for (;;) {
        std::exception_ptr failure;
        try {
            auto socket = co_await l.acceptor.async_accept(use_task);
            std::error_code ignored;
            socket.set_option(asio::ip::tcp::no_delay(true), ignored);  // asyncio sets TCP_NODELAY
            const bool pinned = counted.state().options.pin_connections;
            create_task(serve_connection(live_guard(counted.share()), std::move(socket)),
                        task_options{.name = "connection", .pinned = pinned});
        } catch (const cancelled_error&) {
            throw;
        } catch (...) {
            failure = std::current_exception();
        }
        if (!failure) continue;
        const auto pause = out_of_descriptors(failure) ? std::chrono::milliseconds(100) : std::chrono::milliseconds(1);
        report("accept failed", std::move(failure));
        bool slept = false;
        try {
            co_await sleep(pause);
            slept = true;
        } catch (const cancelled_error&) {
            throw;
        } catch (...) {  // no memory for the timer
        }
        if (!slept) co_await yield();
    }
}

listener open_listener(asio::io_context& io, const asio::ip::tcp::endpoint& at, bool reuse_port, int backlog) {
    asio::ip::tcp::acceptor a(io);
    a.open(at.protocol());
    a.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    if (reuse_port) a.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
    a.bind(at);
    a.listen(backlog);
    return listener{std::move(a), census_entry(io)};
}

}  // namespace
}  // namespace detail

namespace detail {
namespace {

task<server> listen(client_connected handler, std::string host, unsigned short port, server_options options) {
    event_loop& here = get_running_loop();
    asio::ip::tcp::endpoint at;
    std::error_code ec;
    const asio::ip::address address = asio::ip::make_address(host, ec);
    if (!ec) {
        at = asio::ip::tcp::endpoint(address, port);
    } else {
        asio::ip::tcp::resolver resolver(here.io_context());
        auto found = co_await resolver.async_resolve(host, std::to_string(port), asio::ip::tcp::resolver::passive,
                                                     use_task);
        at = found.begin()->endpoint();
    }
    auto state = std::make_shared<detail::server_state>(std::move(handler), options, here.create_future<void>(),
                                                        here.create_future<void>());
    // Every loop of this runtime listens; the first bind picks the port when
    // it is 0, the others share it.
    const std::vector<detail::loop_core*>& loops = here.core()->sched.loops;
    std::vector<detail::listener> listeners;
    for (detail::loop_core* loop : loops) {
        listeners.push_back(detail::open_listener(loop->io_reactor.io(), at, loops.size() > 1, options.backlog));
        if (at.port() == 0) at.port(listeners.back().acceptor.local_endpoint().port());
    }
    state->port = at.port();
    for (const detail::listener& l : listeners) {
        const auto ep = l.acceptor.local_endpoint();
        state->endpoints.push_back(ep.address().to_string() + ":" + std::to_string(ep.port()));
    }
    {
        std::lock_guard guard(state->mutex);
        state->acceptors.reserve(loops.size());  // a task started is always recorded
    }
    try {
        for (std::size_t i = 0; i < loops.size(); ++i) {
            auto accept = loops[i]->owner->create_task(
                detail::accept_loop(detail::live_guard(state), std::move(listeners[i])),
                task_options{.name = "accept", .pinned = true});
            std::lock_guard guard(state->mutex);
            state->acceptors.push_back(std::move(accept));
        }
    } catch (...) {
        // Out of memory for the next accept task: the ones started stop
        // (each holds the state, which holds its handle, until close()).
        state->close();
        throw;
    }
    co_return server(state);
}

}  // namespace
}  // namespace detail

task<server> start_server(client_connected handler, std::string host, unsigned short port, server_options options) {
    if (!handler) throw std::invalid_argument("start_server: the connection handler is empty");
    return detail::listen(std::move(handler), std::move(host), port, options);
}

void server::close() { state_->close(); }

namespace {

/// Awaits a future that close() sets, through a task of its own: a task
/// cancelled while it awaits a future cancels that future (asyncio), and
/// these two are shared by every waiter and set later by close(), which
/// would then throw invalid_state_error (a wait_closed() under a timeout did).
task<void> wait_uncancelled(future<void> f) {
    co_await shield([](future<void> shared) -> task<void> { co_await shared; }(std::move(f)));
}

}  // namespace

task<void> server::wait_closed() {
    co_await wait_uncancelled(state_->finished);
}

task<void> server::serve_forever() {
    std::exception_ptr cancelled;
    try {
        co_await wait_uncancelled(state_->closed);
    } catch (const cancelled_error&) {
        cancelled = std::current_exception();
    }
    if (cancelled) {
        close();
        std::rethrow_exception(cancelled);
    }
}

bool server::is_serving() const noexcept {
    std::lock_guard guard(state_->mutex);
    return state_->serving;
}

std::vector<std::string> server::sockets() const { return state_->endpoints; }
unsigned short server::port() const noexcept { return state_->port; }

}  // namespace corio
