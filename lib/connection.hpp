// One TCP connection behind a stream_reader / stream_writer pair: the
// socket (or the TLS stream over it, or a pipe's end for a subprocess's
// stdio), the reader's buffer and the writer's outgoing buffers.
//
// Threads: every operation on the socket runs on the thread of the loop
// that owns it (`io`): reads through use_task (which posts there when the
// reading task migrated), writes and closes through run_on_io. The writer's
// state is shared between writing tasks (any worker) and write completions
// (the io thread), under `out_lock`; the reader's buffer is used by one
// reading task at a time and needs no lock.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/stream.hpp>

#include <cstddef>
#include <memory>
#include <new>
#include <string>
#include <system_error>

#include "corio/detail/reserved_allocator.hpp"
#include "corio/detail/spinlock.hpp"
#include "corio/detail/wait_list.hpp"
#include "drained_read.hpp"
#include "socket_census.hpp"

namespace corio::detail {

struct connection : std::enable_shared_from_this<connection> {
    /// asyncio's write-buffer water marks: drain() waits above `high`
    /// until the buffer falls to `low`.
    static constexpr std::size_t high_water = 64 * 1024;
    static constexpr std::size_t low_water = 16 * 1024;

    using tls_stream = asio::ssl::stream<asio::ip::tcp::socket>;

    /// A plain TCP connection.
    connection(asio::ip::tcp::socket s, std::size_t limit)
        : plain(std::move(s)),
          io(static_cast<asio::io_context&>(plain.get_executor().context())),
          limit(limit),
          census(io) {
        std::error_code ignored;
        plain.non_blocking(true, ignored);  // stream_writer::write sends at once when it can
        enable_queue_reports(plain);        // reads flag an emptied socket (drained_read.hpp)
    }
    /// A TLS connection over `s`; the handshake is still to be done.
    connection(asio::ip::tcp::socket s, asio::ssl::context& ctx, std::size_t limit)
        : plain(s.get_executor()),
          tls(std::make_unique<tls_stream>(std::move(s), ctx)),
          io(static_cast<asio::io_context&>(plain.get_executor().context())),
          limit(limit),
          census(io) {
        // Asio does not check the BIO pair it makes for the engine, which
        // only an allocation can fail; without it the handshake would end
        // in a vague "unspecified system error".
        if (!SSL_get_rbio(tls->native_handle())) throw std::bad_alloc();
    }
    /// One end of a pipe (a subprocess's stdin, stdout or stderr).
    connection(asio::posix::stream_descriptor d, std::size_t limit)
        : plain(d.get_executor()),
          pipe(std::make_unique<asio::posix::stream_descriptor>(std::move(d))),
          io(static_cast<asio::io_context&>(plain.get_executor().context())),
          limit(limit) {}

    asio::ip::tcp::socket plain;       // the connection, when it is neither TLS nor a pipe (else unused)
    std::unique_ptr<tls_stream> tls;  // the TLS stream, which owns the socket
    std::unique_ptr<asio::posix::stream_descriptor> pipe;  // the pipe's end
    asio::io_context& io;
    const std::size_t limit;
    census_entry census;  // TCP connections count in open_sockets, pipes do not

    asio::ip::tcp::socket& socket() noexcept { return tls ? tls->next_layer() : plain; }

    // ---- reader (one task at a time) -------------------------------------
    std::unique_ptr<char[]> in;
    std::size_t in_capacity = 0, in_begin = 0, in_end = 0;  // buffered: [in_begin, in_end)
    bool eof = false;
    std::size_t buffered_in() const noexcept { return in_end - in_begin; }
    std::string_view buffered_view() const noexcept { return {in.get() + in_begin, buffered_in()}; }
    std::string take_in(std::size_t n) {
        std::string out(in.get() + in_begin, n);
        in_begin += n;
        if (in_begin == in_end) in_begin = in_end = 0;
        return out;
    }

    // ---- writer (under out_lock) ---------------------------------------------
    spinlock out_lock;
    std::string out_sending;  // what the write in flight sends
    std::string out_queued;   // written since that write started
    bool writing = false;     // a write is in flight or posted
    bool paused = false;      // above high water: drain() waits
    bool closing = false;     // close() called
    bool eof_requested = false;
    bool closed = false;      // the socket is closed
    std::error_code out_error;
    wait_list drain_waiters, closed_waiters;
    std::size_t buffered_out() const noexcept { return out_sending.size() + out_queued.size(); }

    handler_memory start_memory;  // start_write's post: one at a time (its poster set `writing`)

    /// [io thread] Sends out_queued, and goes on until nothing is queued.
    /// Out of memory to start the write, the write fails (written()).
    void start_write();
    /// [io thread] A write ended (`ec`: it failed, and the connection closes).
    void written(std::error_code ec);
    /// [io thread] After the buffers are sent: half-close or close as asked.
    void finish_closing_locked();
};

}  // namespace corio::detail
