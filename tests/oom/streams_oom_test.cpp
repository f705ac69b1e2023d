// Out of memory in a stream_writer's write: a write that has sent part of
// its bytes and cannot buffer the rest breaks the stream. It throws
// std::bad_alloc, and the stream closes, failed, so that drain() and
// wait_closed() return instead of waiting for a write that will never be.
#include <catch2/catch.hpp>

#include <asio/error.hpp>

#include <cstddef>
#include <memory>
#include <new>
#include <string>
#include <system_error>

#include "corio/corio.hpp"
#include "failing_new.hpp"
#include "run_modes.hpp"

namespace {

/// Reads until EOF and counts the bytes.
corio::task<void> count_bytes(std::shared_ptr<std::size_t> total, corio::stream_reader reader,
                              corio::stream_writer writer) {
    for (;;) {
        const std::string chunk = co_await reader.read(64 * 1024);
        if (chunk.empty()) break;
        *total += chunk.size();
    }
    writer.close();
}

struct outcome {
    bool bad_alloc = false;
    bool drain_failed = false;
    bool closing = false;
    std::size_t server_got = 0;
};

}  // namespace

TEST_CASE("a write that cannot buffer its unsent rest fails the stream and closes it", "[streams][oom]") {
    const outcome o = corio_test::run_in(corio_test::standalone, []() -> corio::task<outcome> {
        outcome o;
        auto total = std::make_shared<std::size_t>(0);
        corio::server srv = co_await corio::start_server(
            [total](corio::stream_reader r, corio::stream_writer w) { return count_bytes(total, r, w); },
            "127.0.0.1", 0);
        auto [reader, writer] = co_await corio::open_connection("127.0.0.1", srv.port());
        // More than the socket takes at once: the first write sends what
        // it can right away and buffers the rest, which is the allocation
        // that fails (the send itself allocates nothing).
        const std::string big(16 << 20, 'b');
        corio_oom::fail_allocation({.skip = 0});
        try {
            writer.write(big);
        } catch (const std::bad_alloc&) {
            o.bad_alloc = true;
        }
        corio_oom::cancel_pending_failure();
        try {
            co_await writer.drain();
        } catch (const std::system_error& e) {
            o.drain_failed = e.code() == asio::error::no_memory;
        }
        o.closing = writer.is_closing();
        co_await writer.wait_closed();
        srv.close();
        co_await srv.wait_closed();
        o.server_got = *total;
        co_return o;
    });
    CHECK(o.bad_alloc);
    CHECK(o.drain_failed);
    CHECK(o.closing);
    CHECK(o.server_got < (16u << 20));  // part of it went out, the rest never will
}
