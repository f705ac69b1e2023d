// The workloads of ../shared/peers/WORKLOADS.md, written
// with corio: one function per workload (one .cpp each), each timing one
// repetition on a runtime that main.cpp builds once per workload, as the
// Tokio peer does (its runtime is built once; only block_on is timed).
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "corio/corio.hpp"

namespace corio_bench {

/// A workload's own result check failed: main reports it and exits 1.
struct check_failed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

inline void check(bool ok, const std::string& what) {
    if (!ok) throw check_failed(what);
}

using bench_clock = std::chrono::steady_clock;

inline double elapsed_ms(bench_clock::time_point since) {
    return std::chrono::duration<double, std::milli>(bench_clock::now() - since).count();
}

/// Runs `root` as the runtime's main task (spawned onto a worker, so its
/// own spawns are worker-local) and times it from outside, like the peers'
/// time_root: the root's frame is created before the clock starts. The
/// root's result goes to `check_result`, outside the timed region.
template <class T, class Check>
double time_root(corio::runtime& rt, corio::task<T> root, Check&& check_result) {
    const auto start = bench_clock::now();
    T result = rt.run_until_complete(std::move(root));
    const double ms = elapsed_ms(start);
    check_result(result);
    return ms;
}

// One repetition each; returns its wall time in milliseconds. Throws
// check_failed when the workload's answer is wrong.
double spawn_join(corio::runtime& rt);
double spawn_remote(corio::runtime& rt);
double fib(corio::runtime& rt);
double skynet(corio::runtime& rt);
double ping_pong(corio::runtime& rt);
double yield_many(corio::runtime& rt);
double chained_spawn(corio::runtime& rt);
double sleep_many(corio::runtime& rt);
/// Returns microseconds per round trip (metric us_per_op), not wall_ms.
double blocking_rt(corio::runtime& rt);
/// Returns the echo client's messages per second (metric msgs_per_s).
double echo(corio::runtime& rt);
/// The peers' echo client, or "" when it is not built.
std::string echo_client_path();
/// Returns wrk's requests per second against corio's HTTP server (metric req_per_s).
double http_hello(corio::runtime& rt);
bool wrk_available();

}  // namespace corio_bench
