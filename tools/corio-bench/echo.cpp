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
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

#include "corio/streams.hpp"
#include "workloads.hpp"

extern char** environ;

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

std::string env_or(const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

/// Runs the client and returns what it printed on stdout.
std::string run_client(const std::string& path, unsigned short port, const std::string& seconds) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("echo: pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    const std::string port_text = std::to_string(port);
    std::vector<std::string> args{path, "--port", port_text, "--conns", "64", "--size", "64", "--duration", seconds};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int spawned = posix_spawn(&pid, path.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    if (spawned != 0) {
        close(out[0]);
        throw std::runtime_error("echo: cannot start the echo client " + path);
    }
    std::string printed;
    char buf[256];
    for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) printed.append(buf, static_cast<std::size_t>(n));
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    check(WIFEXITED(status) && WEXITSTATUS(status) == 0, "echo client reported an error or a wrong byte");
    return printed;
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
    const std::string printed = run_client(client, srv.port(), env_or("CORIO_BENCH_ECHO_SECS", "5"));
    rt.run_until_complete([](corio::server s) -> corio::task<void> {
        s.close();
        co_await s.wait_closed();
    }(srv));
    return std::strtod(printed.c_str(), nullptr);
}

}  // namespace corio_bench
