// Shared helpers of the bench/bm_*.cpp micro-benchmarks (a header, so the
// bench CMake glob, which builds only bm_*.cpp, leaves it alone).
//
// Each benchmark iteration runs one batch of `ops_per_batch` operations
// inside ONE run_until_complete on a standalone loop that lives for the
// whole benchmark, so the per-op numbers exclude loop creation and are
// dominated by the operation, not by starting and stopping the loop.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>

#include "corio/event_loop.hpp"

namespace corio_bench {

/// Operations per benchmark iteration.
inline constexpr std::int64_t ops_per_batch = 1000;

/// Reports, for `state` whose every iteration did `ops` (by default
/// `ops_per_batch`) operations, items_per_second and per_op: an inverted
/// rate (Google Benchmark divides ops * iterations by the measured seconds
/// and inverts it), so the console shows the time of one operation, e.g.
/// "25.1ns", and the JSON holds it in seconds. The seconds are CPU time, or
/// real time for benchmarks marked UseRealTime().
inline void report_per_op(benchmark::State& state, std::int64_t ops = ops_per_batch) {
    state.SetItemsProcessed(state.iterations() * ops);
    state.counters["per_op"] = benchmark::Counter(
        static_cast<double>(ops),
        benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

/// The body of a standalone-loop benchmark: one loop for the whole run, one
/// batch (a task from `make_batch`) per iteration, its answer checked
/// against `expected`, per-op time reported.
template <class MakeBatch>
void run_batches_on_loop(benchmark::State& state, MakeBatch make_batch, std::int64_t expected, const char* error) {
    auto loop = corio::new_event_loop();
    for (auto _ : state) {
        if (loop->run_until_complete(make_batch()) != expected) {
            state.SkipWithError(error);
            break;
        }
    }
    loop->close();
    report_per_op(state);
}

/// Sum of 0 .. n-1: what the batches below add up, to check their answer.
constexpr std::int64_t sum_below(std::int64_t n) { return n * (n - 1) / 2; }

}  // namespace corio_bench
