// Fault-injection sweeps (sweep.hpp) of stream round trips: plain TCP,
// and TLS on each side in turn, OpenSSL's allocations included.
#include <catch2/catch.hpp>

#include <asio/error.hpp>
#include <asio/ssl/context.hpp>
#include <asio/ssl/error.hpp>
#include <openssl/ssl.h>

#include <any>
#include <exception>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include "corio/corio.hpp"
#include "echo_lines.hpp"
#include "failing_new.hpp"
#include "sweep.hpp"
#include "tls_contexts.hpp"

using namespace std::chrono_literals;
using corio_oom::check;
using corio_oom::sweep;
using corio_oom::sweep_frames_cached;

namespace {

/// Two lines there and back on a new connection (over TLS with `tls`, the
/// client's context, to "localhost"); false if the server's side ended the connection first.
/// `connected`, if given, is set once the connection (and its handshake)
/// is made.
corio::task<bool> echo_two_lines(unsigned short port, asio::ssl::context* tls, bool* connected = nullptr) {
    auto [reader, writer] =
        co_await corio::open_connection("127.0.0.1", port, {.ssl = tls, .server_hostname = "localhost"});
    if (connected) *connected = true;
    const std::string line(40, 'z');
    bool echoed = true;
    for (int i = 0; i < 2 && echoed; ++i) {
        writer.write(line + "\n");
        co_await writer.drain();
        echoed = co_await reader.readline() == line + "\n";
    }
    writer.close();
    co_return echoed;
}

/// echo_two_lines on this loop, given 5 s.
corio::task<bool> echo_here(unsigned short port, asio::ssl::context* tls) {
    co_return co_await corio::wait_for(echo_two_lines(port, tls), 5s);
}

/// echo_two_lines on a loop of its own on a blocking-pool thread, out of
/// reach of the failures injected on this one.
corio::task<bool> echo_from_another_thread(unsigned short port, asio::ssl::context* tls) {
    co_return co_await corio::to_thread(
        [port, tls] { return corio::new_event_loop()->run_until_complete(echo_here(port, tls)); });
}

/// The server's side of a connection that runs out of memory (its accept,
/// its handshake, its handler) is reported to the loop's exception handler
/// and the connection ends; the listener must go on, so a second
/// connection after such a failure gets its lines back. `echo` is the
/// client's side.
corio::task<void> stream_round_trip(asio::ssl::context* server_tls, asio::ssl::context* client_tls,
                                    corio::task<bool> (*echo)(unsigned short, asio::ssl::context*)) {
    const auto server_failed = corio_oom::watch_reported_failures();
    corio::server srv =
        co_await corio::start_server(corio_test::echo_lines, "127.0.0.1", 0, corio::server_options{.ssl = server_tls});
    bool echoed = false;
    try {
        for (int attempt = 0; attempt < 2 && !echoed; ++attempt) {
            try {
                echoed = co_await echo(srv.port(), client_tls);
            } catch (const std::system_error& e) {
                // Reset by the server's side, unless the client's own side
                // ran out of memory (a plain stream's write that could not
                // start).
                if (corio_oom::out_of_memory(e)) throw;
            }
            if (!echoed) co_await corio_oom::expect_reported_failure(*server_failed);
        }
    } catch (...) {
        srv.close();
        throw;
    }
    srv.close();
    co_await srv.wait_closed();
    if (!echoed) throw std::logic_error("no echo after the server's failure");
}

/// echo_lines for a client that sent its server name (SNI); one that did
/// not is hung up on.
corio::task<void> echo_lines_if_named(corio::stream_reader reader, corio::stream_writer writer) {
    SSL* const ssl = std::any_cast<SSL*>(writer.get_extra_info("ssl_object"));
    const char* const name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name || std::string_view(name) != "localhost") {
        writer.close();
        co_return;
    }
    co_await corio_test::echo_lines(std::move(reader), std::move(writer));
}

/// A TLS echo server on a loop of its own on a blocking-pool thread, out
/// of reach of the failures injected on this one: it tells its port
/// through `port` (or why it could not start) and serves until `stop` is set.
corio::task<void> serve_from_another_thread(asio::ssl::context& tls, corio::future<unsigned short> port,
                                            corio::event& stop) {
    try {
        co_await corio::to_thread([&tls, port, &stop] {
            corio::new_event_loop()->run_until_complete([](asio::ssl::context& tls, corio::future<unsigned short> port,
                                                           corio::event& stop) -> corio::task<void> {
                // Its side of a connection fails whenever the client's does.
                corio::get_running_loop().set_exception_handler([](corio::event_loop&, const corio::exception_context&) {});
                corio::server srv = co_await corio::start_server(echo_lines_if_named, "127.0.0.1", 0,
                                                                 corio::server_options{.ssl = &tls});
                port.set_result(srv.port());
                co_await stop.wait();
                srv.close();
                co_await srv.wait_closed();
            }(tls, port, stop));
        });
    } catch (...) {
        if (!port.done()) port.set_exception(std::current_exception());
        throw;
    }
}

/// The client's side of a TLS round trip that runs out of memory fails
/// with a clear error. Besides std::bad_alloc, that is OpenSSL's error for
/// what it could not do: inside its handshake and its records it reports
/// an allocation failure in its own words ("internal error", "not able to
/// copy ctx", or none: Asio's "unspecified system error"), and only the
/// client allocates on this thread, so such an error after the injected
/// failure is that failure. Not so while the connection is set up: what
/// corio asks of OpenSSL there fails with bad_alloc, never with Asio's
/// unspecified error or a connection without its server name (which the
/// server hangs up on). A step of a composed operation (a handshake's
/// socket write) that throws bad_alloc inside its completion ends the
/// operation with that bad_alloc (README, Out of memory).
corio::task<void> tls_client_round_trip(corio_test::tls_contexts& tls) {
    corio::event stop;
    corio::future<unsigned short> port = corio::get_running_loop().create_future<unsigned short>();
    corio::task_handle<void> server = corio::create_task(serve_from_another_thread(tls.server, port, stop));
    std::exception_ptr failure;
    bool connected = false;
    try {
        if (!co_await corio::wait_for(echo_two_lines(co_await port, &tls.client, &connected), 5s))
            throw std::logic_error("the server hung up (no server name?)");
    } catch (const std::system_error& e) {
        const std::error_category& category = e.code().category();
        const bool openssl_failed = (category == asio::error::get_ssl_category() ||
                                     (category == asio::ssl::error::get_stream_category() && connected)) &&
            !corio_oom::failure_pending();
        if (openssl_failed)
            failure = std::make_exception_ptr(std::bad_alloc());
        else
            failure = std::current_exception();
    } catch (...) {
        failure = std::current_exception();
    }
    {
        // It wakes a task on the server's loop: a queue there that cannot
        // grow for it ends the process (README, Out of memory).
        const corio_oom::failures_paused across_threads;
        stop.set();
    }
    try {
        co_await server;
    } catch (...) {  // it could not start: the client failed for the same reason
        if (!failure) failure = std::current_exception();
    }
    if (failure) std::rethrow_exception(failure);
}

}  // namespace

TEST_CASE("out of memory at each allocation of a stream round trip", "[oom][streams]") {
    check(sweep([]() { return stream_round_trip(nullptr, nullptr, echo_here); }));
}

TEST_CASE("out of memory at each allocation of a TLS server's side", "[oom][streams][tls]") {
    corio_test::tls_contexts tls;
    check(sweep_frames_cached([&tls]() { return stream_round_trip(&tls.server, &tls.client, echo_from_another_thread); }));
}

TEST_CASE("out of memory at each allocation of a TLS client's side", "[oom][streams][tls]") {
    corio_test::tls_contexts tls;
    check(sweep_frames_cached([&tls]() { return tls_client_round_trip(tls); }));
}

