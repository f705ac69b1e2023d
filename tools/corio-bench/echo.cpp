// echo: a TCP echo server on 127.0.0.1, written with corio's streams and
// run in-process; the load is the peers' common client (one thread, epoll,
// 64 connections, 64-byte messages, every byte checked), run as a child
// process for CORIO_BENCH_ECHO_SECS seconds (default 5, as WORKLOADS.md).
// Metric msgs_per_s, as the client prints it.
//
// The client is ../shared/peers/echo_client, built by the peers' runner into
// ${PEERS_CACHE:-$HOME/.cache/corio-peers}/echo_client/echo_client
// (`../shared/peers/run --only echo asio` builds it); CORIO_ECHO_CLIENT
// overrides the path. Without it the workload is skipped.
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <system_error>

#include "child_process.hpp"
#include "corio/streams.hpp"
#include "workloads.hpp"

namespace corio_bench {

namespace {

corio::task<void> echo_session(corio::stream_reader reader, corio::stream_writer writer) {
    try {
        for (;;) {
            std::string chunk = co_await reader.read(4096);
            if (chunk.empty()) break;  // EOF
            writer.write(chunk);
            co_await writer.drain();
        }
    } catch (const std::system_error&) {
        // The client resets its connections when its time is up: done.
    }
    writer.close();
}

}  // namespace

std::string echo_client_path() {
    const std::string cache = env_or("PEERS_CACHE", env_or("HOME", "") + "/.cache/corio-peers");
    const std::string path = env_or("CORIO_ECHO_CLIENT", cache + "/echo_client/echo_client");
    return access(path.c_str(), X_OK) == 0 ? path : std::string();
}

double echo(corio::runtime& rt) {
    const std::string client = echo_client_path();
    if (client.empty()) throw std::runtime_error("echo: no echo client (see tools/corio-bench/echo.cpp)");
    corio::server srv = rt.run_until_complete(corio::start_server(echo_session, "127.0.0.1", 0));
    // The server runs on the workers while this thread waits for the client.
    const child_result r = run_child({client, "--port", std::to_string(srv.port()), "--conns", "64", "--size", "64",
                                      "--duration", env_or("CORIO_BENCH_ECHO_SECS", "5")});
    rt.run_until_complete([](corio::server s) -> corio::task<void> {
        s.close();
        co_await s.wait_closed();
    }(srv));
    check(r.ok, "echo client reported an error or a wrong byte");
    return std::strtod(r.out.c_str(), nullptr);
}

}  // namespace corio_bench
