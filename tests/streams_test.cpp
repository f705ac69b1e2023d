#include "corio/streams.hpp"

#include <catch2/catch.hpp>

#include <asio/ip/tcp.hpp>
#include <asio/ssl/context.hpp>
#include <openssl/ssl.h>

#include <any>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <dirent.h>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <vector>

#include "corio/corio.hpp"
#include "corio/use_task.hpp"
#include "echo_lines.hpp"
#include "load_then_stop.hpp"
#include "run_modes.hpp"
#include "tls_contexts.hpp"

using namespace std::chrono_literals;

namespace {

/// Echoes raw bytes until EOF.
corio::task<void> echo_bytes(corio::stream_reader reader, corio::stream_writer writer) {
    for (;;) {
        std::string chunk = co_await reader.read(64 * 1024);
        if (chunk.empty()) break;
        writer.write(chunk);
        co_await writer.drain();
    }
    writer.close();
}

/// Sends `text` and closes; the server's handler gets exactly that.
corio::task<void> send_and_close(unsigned short port, std::string text) {
    auto [reader, writer] = co_await corio::open_connection("127.0.0.1", port);
    writer.write(text);
    writer.close();
    co_await writer.wait_closed();
}

std::size_t open_descriptors() {
    std::size_t n = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
        while (readdir(d)) ++n;
        closedir(d);
    }
    return n;
}

/// Lets this process open as many descriptors as the hard limit allows.
void raise_descriptor_limit() {
    rlimit r{};
    getrlimit(RLIMIT_NOFILE, &r);
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
}

}  // namespace

TEST_CASE("open_connection and start_server echo lines", "[streams]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto replies = corio_test::run_in(mode, []() -> corio::task<std::vector<std::string>> {
        corio::server srv = co_await corio::start_server(corio_test::echo_lines, "127.0.0.1", 0);
        auto [reader, writer] = co_await corio::open_connection("127.0.0.1", srv.port());
        std::vector<std::string> got;
        for (std::string line : {"hello\n", "world\n", "\n", "last\n"}) {
            writer.write(line);
            got.push_back(co_await reader.readline());
        }
        writer.write_eof();
        got.push_back(co_await reader.readline());  // "": the server closed after our EOF
        srv.close();
        co_await srv.wait_closed();
        co_return got;
    });
    REQUIRE(replies == std::vector<std::string>{"hello\n", "world\n", "\n", "last\n", ""});
}

TEST_CASE("server sockets and peername describe the connection", "[streams]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool ok = corio_test::run_in(mode, []() -> corio::task<bool> {
        corio::server srv = co_await corio::start_server(corio_test::echo_lines, "127.0.0.1", 0);
        auto [reader, writer] = co_await corio::open_connection("localhost", srv.port());  // through the resolver
        const auto peer = std::any_cast<asio::ip::tcp::endpoint>(writer.get_extra_info("peername"));
        const bool listed = !srv.sockets().empty() && srv.sockets()[0] == "127.0.0.1:" + std::to_string(srv.port());
        const bool unknown_empty = !writer.get_extra_info("no such key").has_value();
        writer.close();
        srv.close();
        co_await srv.wait_closed();
        co_return peer.port() == srv.port() && listed && unknown_empty && !srv.is_serving();
    });
    REQUIRE(ok);
}

TEST_CASE("readexactly, readuntil and readline at EOF and over the limit, as asyncio", "[streams]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct results {
        std::string exact, partial, line, last_line, after_eof;
        std::size_t expected = 0;
        std::size_t overrun_consumed = 0;
        std::string kept_after_overrun;
        bool readline_overrun = false;
        std::string line_after_overrun;
        bool at_eof = false;
    };
    const results r = corio_test::run_in(mode, []() -> corio::task<results> {
        results r;
        // Each connection starts with its case number, then its bytes, then EOF.
        corio::queue<int> finished;
        corio::server srv = co_await corio::start_server(
            [&r, &finished](corio::stream_reader reader, corio::stream_writer) -> corio::task<void> {
                const int which = (co_await reader.readexactly(1))[0] - '0';
                if (which == 0) {
                    r.exact = co_await reader.readexactly(3);      // "abc"
                    r.line = co_await reader.readuntil("--");      // "de--"
                    try {
                        co_await reader.readexactly(10);           // only "fgh" left before EOF
                    } catch (const corio::incomplete_read_error& e) {
                        r.partial = e.partial();
                        r.expected = e.expected();
                    }
                    r.after_eof = co_await reader.read();
                    r.at_eof = reader.at_eof();
                } else if (which == 1) {
                    try {
                        co_await reader.readuntil("\n");  // 100 bytes, limit 16, no separator
                    } catch (const corio::limit_overrun_error& e) {
                        r.overrun_consumed = e.consumed();
                    }
                    r.kept_after_overrun = co_await reader.read();  // the data was kept
                } else {
                    try {
                        co_await reader.readline();  // a 40-byte line with limit 16: dropped
                    } catch (const corio::limit_overrun_error&) {
                        r.readline_overrun = true;
                    }
                    r.line_after_overrun = co_await reader.readline();
                    r.last_line = co_await reader.readline();  // no "\n" before EOF
                }
                finished.put_nowait(which);
            },
            "127.0.0.1", 0, corio::server_options{.limit = 16});
        co_await send_and_close(srv.port(), "0abcde--fgh");
        co_await send_and_close(srv.port(), "1" + std::string(100, 'x'));
        co_await send_and_close(srv.port(), "2" + std::string(40, 'y') + "\nnext\ntail");
        // Each connection's handler has run before the server closes (a
        // connection still in the backlog at close() is never accepted).
        for (int i = 0; i < 3; ++i) co_await finished.get();
        srv.close();
        co_await srv.wait_closed();
        co_return r;
    });
    REQUIRE(r.exact == "abc");
    REQUIRE(r.line == "de--");
    REQUIRE(r.partial == "fgh");
    REQUIRE(r.expected == 10);
    REQUIRE(r.after_eof.empty());
    REQUIRE(r.at_eof);
    REQUIRE(r.overrun_consumed > 16);
    REQUIRE(r.kept_after_overrun == std::string(100, 'x'));
    REQUIRE(r.readline_overrun);
    REQUIRE(r.line_after_overrun == "next\n");
    REQUIRE(r.last_line == "tail");
}

TEST_CASE("1 MiB echoed through each of many concurrent connections on 8 workers", "[streams][stress]") {
    raise_descriptor_limit();
    // 1,000 connections of 1 MiB each in an optimised build; sanitizer
    // builds (which run 5-20x slower here) keep the connection count and
    // send 64 KiB each.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
    constexpr std::size_t bytes_each = 64 * 1024;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
    constexpr std::size_t bytes_each = 64 * 1024;
#else
    constexpr std::size_t bytes_each = 1024 * 1024;
#endif
#else
    constexpr std::size_t bytes_each = 1024 * 1024;
#endif
    constexpr int connections = 1000;
    const std::size_t ok = corio::run(
        []() -> corio::task<std::size_t> {
            corio::server srv = co_await corio::start_server(echo_bytes, "127.0.0.1", 0);
            std::vector<corio::task_handle<bool>> clients;
            for (int i = 0; i < connections; ++i) {
                clients.push_back(corio::create_task([](unsigned short port, int id) -> corio::task<bool> {
                    auto [reader, writer] = co_await corio::open_connection("127.0.0.1", port);
                    // Bytes that depend on the connection and the offset, so a
                    // byte that went to the wrong connection or place shows.
                    std::string payload(bytes_each, '\0');
                    for (std::size_t j = 0; j < payload.size(); ++j)
                        payload[j] = static_cast<char>((j * 131 + static_cast<std::size_t>(id) * 7) & 0xff);
                    auto sender = corio::create_task([](corio::stream_writer w, const std::string& p) -> corio::task<void> {
                        for (std::size_t off = 0; off < p.size(); off += 16 * 1024) {
                            w.write(std::string_view(p).substr(off, 16 * 1024));
                            co_await w.drain();
                        }
                        w.write_eof();
                    }(writer, payload));
                    const std::string back = co_await reader.readexactly(payload.size());
                    co_await sender;
                    const bool eof_after = (co_await reader.read()).empty();
                    writer.close();
                    co_return back == payload && eof_after;
                }(srv.port(), i)));
            }
            std::size_t good = 0;
            for (auto& c : clients) good += (co_await c) ? 1 : 0;
            srv.close();
            co_await srv.wait_closed();
            co_return good;
        }(),
        {.workers = 8});
    REQUIRE(ok == connections);
}

TEST_CASE("a peer reset surfaces as std::system_error in that task only", "[streams]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto outcome = corio_test::run_in(mode, []() -> corio::task<std::pair<bool, std::string>> {
        std::atomic<bool> saw_system_error{false};
        corio::server srv = co_await corio::start_server(
            [&saw_system_error](corio::stream_reader reader, corio::stream_writer writer) -> corio::task<void> {
                try {
                    for (;;) {
                        std::string line = co_await reader.readline();
                        if (line.empty()) break;
                        writer.write(line);
                    }
                } catch (const std::system_error&) {
                    saw_system_error = true;
                }
            },
            "127.0.0.1", 0);
        {
            // A raw socket that resets the connection: SO_LINGER 0, then close.
            asio::ip::tcp::socket raw(corio::get_running_loop().io_context());
            co_await raw.async_connect({asio::ip::make_address("127.0.0.1"), srv.port()}, corio::use_task);
            co_await corio::sleep(10ms);  // the server's handler is reading now
            raw.set_option(asio::socket_base::linger(true, 0));
            raw.close();
        }
        for (int i = 0; i < 200 && !saw_system_error; ++i) co_await corio::sleep(5ms);
        // The server still serves everybody else.
        auto [reader, writer] = co_await corio::open_connection("127.0.0.1", srv.port());
        writer.write("still here\n");
        std::string reply = co_await reader.readline();
        writer.close();
        srv.close();
        co_await srv.wait_closed();
        co_return std::pair{saw_system_error.load(), reply};
    });
    REQUIRE(outcome.first);
    REQUIRE(outcome.second == "still here\n");
}

TEST_CASE("cancelling a read leaves the connection usable", "[streams][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const std::string got = corio_test::run_in(mode, []() -> corio::task<std::string> {
        corio::server srv = co_await corio::start_server(corio_test::echo_lines, "127.0.0.1", 0);
        auto [reader, writer] = co_await corio::open_connection("127.0.0.1", srv.port());
        auto stuck = corio::create_task([](corio::stream_reader r) -> corio::task<std::string> {
            co_return co_await r.readline();  // nothing comes: the echo server waits for us
        }(reader));
        co_await corio::sleep(5ms);
        stuck.cancel();
        bool cancelled = false;
        try {
            co_await stuck;
        } catch (const corio::cancelled_error&) {
            cancelled = true;
        }
        writer.write("after cancel\n");
        std::string line = co_await reader.readline();
        writer.close();
        srv.close();
        co_await srv.wait_closed();
        co_return cancelled ? line : "not cancelled";
    });
    REQUIRE(got == "after cancel\n");
}

TEST_CASE("drain waits while the peer does not read, and returns once it does", "[streams]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::pair<bool, std::size_t>> {
        corio::future<void> start_reading = corio::get_running_loop().create_future<void>();
        std::size_t received = 0;
        corio::server srv = co_await corio::start_server(
            [&](corio::stream_reader reader, corio::stream_writer) -> corio::task<void> {
                co_await start_reading;
                received = (co_await reader.read()).size();
            },
            "127.0.0.1", 0);
        auto [reader, writer] = co_await corio::open_connection("127.0.0.1", srv.port());
        // More than the kernel's loopback buffers can absorb.
        const std::string block(1024 * 1024, 'z');
        for (int i = 0; i < 64; ++i) writer.write(block);
        auto drained = corio::create_task([](corio::stream_writer w) -> corio::task<void> { co_await w.drain(); }(writer));
        co_await corio::sleep(50ms);
        const bool waited = !drained.done();  // the peer has read nothing: drain cannot be done
        start_reading.set_result();
        co_await drained;
        writer.close();
        co_await writer.wait_closed();
        srv.close();
        co_await srv.wait_closed();
        co_return std::pair{waited, received};
    });
    REQUIRE(r.first);
    REQUIRE(r.second == 64u * 1024 * 1024);
}

TEST_CASE("no descriptor leaks after 10,000 connect/close cycles", "[streams][stress]") {
    const auto leaked = corio::run(
        []() -> corio::task<std::ptrdiff_t> {
            corio::server srv = co_await corio::start_server(corio_test::echo_lines, "127.0.0.1", 0);
            // One warm-up cycle opens the descriptors that stay (resolver, epoll) .
            co_await send_and_close(srv.port(), "warm-up\n");
            co_await corio::sleep(10ms);
            const auto before = static_cast<std::ptrdiff_t>(open_descriptors());
            for (int i = 0; i < 10000; ++i) co_await send_and_close(srv.port(), "x\n");
            // The server side closes each connection after its handler returns.
            std::ptrdiff_t after = 0;
            for (int i = 0; i < 400; ++i) {
                after = static_cast<std::ptrdiff_t>(open_descriptors());
                if (after <= before) break;
                co_await corio::sleep(5ms);
            }
            srv.close();
            co_await srv.wait_closed();
            co_return after - before;
        }(),
        {.workers = 2});
    REQUIRE(leaked <= 0);
}

TEST_CASE("TLS streams: a verified echo, a name mismatch that fails only its own handshake, and write_eof", "[streams][tls]") {
    corio_test::tls_contexts tls;

    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct results {
        std::vector<std::string> echoed;
        bool mismatch_failed = false;
        std::string after_mismatch;
        std::vector<std::string> after_write_eof;
    };
    const results r = corio_test::run_in(mode, [&]() -> corio::task<results> {
        results r;
        auto& loop = corio::get_running_loop();
        loop.set_exception_handler([](corio::event_loop&, const corio::exception_context&) {});  // the failed handshake
        corio::server srv = co_await corio::start_server(corio_test::echo_lines, "127.0.0.1", 0,
                                                         corio::server_options{.ssl = &tls.server});
        {
            auto [reader, writer] = co_await corio::open_connection("localhost", srv.port(), {.ssl = &tls.client});
            for (const std::string& line : std::vector<std::string>{"secret one\n", std::string(60000, 's') + "\n"}) {
                writer.write(line);
                r.echoed.push_back(co_await reader.readline());
            }
            writer.close();
        }
        try {
            co_await corio::open_connection("127.0.0.1", srv.port(), {.ssl = &tls.client, .server_hostname = "wrong.example"});
        } catch (const std::system_error&) {
            r.mismatch_failed = true;
        }
        auto [reader, writer] = co_await corio::open_connection("127.0.0.1", srv.port(), {.ssl = &tls.client});
        writer.write("still serving\n");
        r.after_mismatch = co_await reader.readline();
        writer.close();
        // write_eof over TLS: the server reads EOF, and our reads go on.
        auto half = co_await corio::open_connection("127.0.0.1", srv.port(), {.ssl = &tls.client});
        half.writer.write("half closed\n");
        half.writer.write_eof();
        for (int i = 0; i < 2; ++i) {
            std::string line = co_await half.reader.readline();
            r.after_write_eof.push_back(std::move(line));
        }
        half.writer.close();
        srv.close();
        co_await srv.wait_closed();
        co_return r;
    });
    REQUIRE(r.echoed.size() == 2);
    REQUIRE(r.echoed[0] == "secret one\n");
    REQUIRE(r.echoed[1] == std::string(60000, 's') + "\n");
    REQUIRE(r.mismatch_failed);
    REQUIRE(r.after_mismatch == "still serving\n");
    REQUIRE(r.after_write_eof == std::vector<std::string>{"half closed\n", ""});
}

TEST_CASE("TLS streams: SNI carries host names only, and one longer than TLS allows is refused", "[streams][tls]") {
    corio_test::tls_contexts tls;
    struct results {
        std::vector<std::string> names_sent;  // "-" for none
        std::string refusal;
        std::string echoed;
    };
    const results r = corio_test::run_in(corio_test::standalone, [&]() -> corio::task<results> {
        results r;
        auto record_name = [&r](corio::stream_reader reader, corio::stream_writer writer) -> corio::task<void> {
            SSL* const ssl = std::any_cast<SSL*>(writer.get_extra_info("ssl_object"));
            const char* const name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
            r.names_sent.push_back(name ? name : "-");
            co_await corio_test::echo_lines(std::move(reader), std::move(writer));
        };
        // The refused connection's handshake fails on the server's side.
        corio::get_running_loop().set_exception_handler([](corio::event_loop&, const corio::exception_context&) {});
        corio::server srv =
            co_await corio::start_server(record_name, "127.0.0.1", 0, corio::server_options{.ssl = &tls.server});
        const std::string long_name = std::string(250, 'a') + ".example";
        try {
            co_await corio::open_connection("127.0.0.1", srv.port(), {.ssl = &tls.client, .server_hostname = long_name});
        } catch (const std::invalid_argument& e) {
            r.refusal = e.what();
        }
        for (const corio::connection_options o : {corio::connection_options{.ssl = &tls.client},
                                                  corio::connection_options{.ssl = &tls.client, .server_hostname = "localhost"}}) {
            auto [reader, writer] = co_await corio::open_connection("127.0.0.1", srv.port(), o);
            writer.write("line\n");
            r.echoed += co_await reader.readline();
            writer.close();
        }
        {
            auto [reader, writer] = co_await corio::open_connection("localhost", srv.port(), {.ssl = &tls.client});
            writer.write("line\n");
            r.echoed += co_await reader.readline();
            writer.close();
        }
        srv.close();
        co_await srv.wait_closed();
        co_return r;
    });
    CHECK(r.refusal == "server name longer than 255 bytes: " + std::string(250, 'a') + ".example");
    CHECK(r.echoed == "line\nline\nline\n");
    CHECK(r.names_sent == std::vector<std::string>{"-", "localhost", "localhost"});
}

TEST_CASE("running out of descriptors gives clear errors, and the server recovers", "[streams]") {
    // Client and server share this process's descriptor table. When the
    // last free descriptor goes to a client socket, the kernel completes its
    // connect into the listener's backlog but the server's accept fails with
    // EMFILE: that connection waits, unanswered, until descriptors free up.
    // So each attempt is bounded, and the waiting ones must be answered once
    // the limit is lifted: that is the recovery.
    struct results {
        int answered = 0;
        int waiting_in_backlog = 0;
        int refused_clearly = 0;  // connections that failed with "too many open files"
        int other_failures = 0;
        int waiting_answered_later = 0;
        std::string reply_after;
        std::string first_other;
    };
    const results r = corio::run(
        []() -> corio::task<results> {
            results r;
            corio::get_running_loop().set_exception_handler([](corio::event_loop&, const corio::exception_context&) {});
            corio::server srv = co_await corio::start_server(corio_test::echo_lines, "127.0.0.1", 0);
            rlimit saved{};
            getrlimit(RLIMIT_NOFILE, &saved);
            rlimit tight = saved;
            tight.rlim_cur = open_descriptors() + 15;  // room for a few connections; the parity decides whether one waits
            setrlimit(RLIMIT_NOFILE, &tight);
            std::vector<corio::stream_pair> held;
            std::vector<corio::stream_pair> waiting;
            for (int i = 0; i < 40; ++i) {
                try {
                    auto [reader, writer] = co_await corio::open_connection("127.0.0.1", srv.port());
                    writer.write("ping\n");
                    std::string reply;
                    try {
                        reply = co_await corio::timeout(500ms).run(reader.readline());
                    } catch (const corio::timeout_error&) {
                        ++r.waiting_in_backlog;
                        waiting.push_back({reader, writer});
                        continue;
                    }
                    if (reply == "ping\n") ++r.answered;
                    else ++r.other_failures;
                    held.push_back({reader, writer});
                } catch (const std::system_error& e) {
                    if (e.code() == asio::error::no_descriptors) ++r.refused_clearly;  // EMFILE
                    else {
                        ++r.other_failures;
                        r.first_other = e.what();
                    }
                } catch (const std::exception& e) {
                    ++r.other_failures;
                    r.first_other = e.what();
                }
            }
            for (auto& p : held) p.writer.close();
            held.clear();
            setrlimit(RLIMIT_NOFILE, &saved);
            // Descriptors are free again: the server accepts what waited in its
            // backlog (after its accept back-off) and serves new connections.
            for (auto& p : waiting) {
                try {
                    if (co_await corio::timeout(10s).run(p.reader.readline()) == "ping\n") ++r.waiting_answered_later;
                } catch (const corio::timeout_error&) {
                }
                p.writer.close();
            }
            auto [reader, writer] = co_await corio::open_connection("127.0.0.1", srv.port());
            writer.write("after\n");
            r.reply_after = co_await corio::timeout(10s).run(reader.readline());
            writer.close();
            srv.close();
            co_await srv.wait_closed();
            co_return r;
        }(),
        {.workers = 2});
    INFO("answered " << r.answered << ", waiting " << r.waiting_in_backlog << ", refused " << r.refused_clearly
                     << ", other failures " << r.other_failures << ": " << r.first_other);
    REQUIRE(r.answered > 0);
    REQUIRE(r.refused_clearly > 0);
    REQUIRE(r.other_failures == 0);
    REQUIRE(r.waiting_answered_later == r.waiting_in_backlog);
    REQUIRE(r.reply_after == "after\n");
}

namespace {

/// How one client of a server being closed fared: it connects, echoes a
/// line and disconnects, over and over, until a connect is refused.
struct connect_storm_fate {
    int echoed = 0;           // lines that came back whole
    int cut = 0;              // accepted by the kernel, closed unserved (EOF or reset before any byte)
    bool garbled = false;     // a line that came back wrong or in part
    bool refused = false;     // the run ended with a refused connect
};

corio::task<connect_storm_fate> connect_until_refused(unsigned short port, int c, int max_connects,
                                                      corio_test::progress& progress) {
    connect_storm_fate fate;
    for (int i = 0; i < max_connects; ++i) {
        std::optional<corio::stream_pair> conn;
        try {
            conn.emplace(co_await corio::open_connection("127.0.0.1", port));
        } catch (const std::system_error&) {
            fate.refused = true;
            break;
        }
        const std::string line = std::to_string(c) + "-" + std::to_string(i) + "\n";
        try {
            conn->writer.write(line);
            co_await conn->writer.drain();
            const std::string back = co_await conn->reader.readline();
            if (back == line) {
                ++fate.echoed;
                progress.count();
            } else if (back.empty()) {
                ++fate.cut;
            } else {
                fate.garbled = true;
            }
        } catch (const std::system_error&) {
            ++fate.cut;  // reset: the listener closed with this connection in its backlog
        }
        conn->writer.close();
        co_await conn->writer.wait_closed();
        if (fate.garbled) break;
    }
    co_return fate;
}

}  // namespace

TEST_CASE("closing a server amid a storm of connects on 8 workers: each accepted one is served whole, wait_closed returns",
          "[streams][stress]") {
    constexpr int clients = 100;
    constexpr int threshold = 500;      // echoes before the close
    constexpr int max_connects = 5000;  // a client never refused after this many: the listeners stayed open
    const std::vector<connect_storm_fate> fates = corio::run(
        []() -> corio::task<std::vector<connect_storm_fate>> {
            corio::server srv = co_await corio::start_server(corio_test::echo_lines, "127.0.0.1", 0);
            corio_test::progress progress(threshold);
            co_return co_await corio_test::load_then_stop<connect_storm_fate>(
                clients, progress, [&](int c) { return connect_until_refused(srv.port(), c, max_connects, progress); },
                [&]() -> corio::task<void> {
                    srv.close();
                    // Returns once every connection handler has ended: the
                    // clients finish their exchange and disconnect.
                    co_await srv.wait_closed();
                });
        }(),
        {.workers = 8});
    int echoed = 0;
    for (std::size_t c = 0; c < fates.size(); ++c) {
        const connect_storm_fate& f = fates[c];
        INFO("client " << c << ": echoed " << f.echoed << ", cut " << f.cut);
        CHECK_FALSE(f.garbled);
        CHECK(f.refused);
        echoed += f.echoed;
    }
    CHECK(echoed >= threshold);
}

TEST_CASE("reads cut short by timeouts over and over lose no byte", "[streams][cancel][stress]") {
    // asyncio's `wait_for(reader.read(n), t)` in a loop: a timeout can come
    // just as bytes arrive. The bytes a cancelled read took off the socket
    // must stay in the stream for the next read. Over TLS too: there a read
    // is a composed operation, records decrypted into the engine's buffer.
    // The server stops at each phase's end until the client has timed out
    // there (it says so with a byte), so timeouts happen whatever the
    // timing; within a phase they race with arrivals.
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool over_tls = GENERATE(false, true);
    std::optional<corio_test::tls_contexts> tls;
    if (over_tls) tls.emplace();
    asio::ssl::context* const server_ssl = over_tls ? &tls->server : nullptr;
    asio::ssl::context* const client_ssl = over_tls ? &tls->client : nullptr;
    constexpr std::size_t total = 4 * 1024 * 1024;
    constexpr std::size_t phase = 1024 * 1024;
    const std::string sent = [] {
        std::string s(total, '\0');
        for (std::size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
        return s;
    }();
    struct outcome {
        std::string got;
        int timeouts = 0;
    };
    const outcome r = corio_test::run_in(mode, [&sent, server_ssl, client_ssl]() -> corio::task<outcome> {
        corio::server srv = co_await corio::start_server(
            [&sent](corio::stream_reader r, corio::stream_writer w) -> corio::task<void> {
                // Pieces of varied size with pauses, so arrivals interleave
                // with the reader's timeouts.
                std::size_t off = 0;
                for (std::size_t i = 0; off < sent.size(); ++i) {
                    const std::size_t phase_left = phase - off % phase;
                    const std::size_t n = std::min<std::size_t>(phase_left, 512 + (i * 977) % 7000);
                    w.write(std::string_view(sent).substr(off, n));
                    co_await w.drain();
                    off += n;
                    if (off % phase == 0 && off < sent.size()) (void)co_await r.readexactly(1);
                    else if (i % 3 == 0) co_await corio::sleep(std::chrono::microseconds(i % 50));
                }
                w.close();
            },
            "127.0.0.1", 0, corio::server_options{.ssl = server_ssl});
        auto [reader, writer] = co_await corio::open_connection("127.0.0.1", srv.port(), {.ssl = client_ssl});
        outcome out;
        std::size_t server_waits_at = phase;  // for the client's byte
        for (std::size_t i = 0;; ++i) {
            bool timed_out = false;
            try {
                std::string chunk = co_await corio::timeout(std::chrono::microseconds(5 + i % 60)).run(reader.read(64 * 1024));
                if (chunk.empty()) break;
                out.got += chunk;
            } catch (const corio::timeout_error&) {
                ++out.timeouts;
                timed_out = true;
            }
            if (timed_out && out.got.size() == server_waits_at && server_waits_at < total) {
                server_waits_at += phase;  // all of it read, and a read timed out after: the next one
                writer.write("g");
                co_await writer.drain();
            }
        }
        writer.close();
        srv.close();
        co_await srv.wait_closed();
        co_return out;
    });
    INFO("timeouts: " << r.timeouts);
    CHECK(r.timeouts > 0);
    REQUIRE(r.got.size() == sent.size());
    CHECK(r.got == sent);
}
