// What the loops of one runtime share: the injection queue, the idle set,
// the list of loops to steal from, the shutdown flag. A standalone loop is
// a scheduler of one loop in asyncio order (one code path for both).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "corio/executor.hpp"
#include "corio/metrics.hpp"

#include "idle_set.hpp"
#include "injection_queue.hpp"

namespace corio::detail {

struct loop_core;

struct scheduler {
    scheduler(std::size_t num_loops, bool asyncio_order)
        : asyncio_order(asyncio_order), single_loop(num_loops == 1), idle(num_loops) {}

    /// Work for any loop, from outside the workers or from an overflowing
    /// local queue; wakes a sleeper if no worker is searching.
    void push_injection(queue_entry e);
    void push_injection_batch(const queue_entry* first, std::size_t n);
    /// Publisher's step 3 of the sleep protocol (idle_set.hpp).
    void notify_parked();
    /// The sleeper's re-check (step 2): any queue with work? seq_cst loads.
    bool any_work_pending() const;
    void unpark_all();

    // Read-mostly: every spawn and every search reads these.
    std::vector<loop_core*> loops;
    /// Standalone loop: strict FIFO, no LIFO slot, no stealing, no inline
    /// fork-join; asyncio's exact order of callbacks and task steps.
    const bool asyncio_order;
    /// One loop: nobody steals, so its queue needs no CAS to pop.
    const bool single_loop;
    /// Set once by the runtime's shutdown; loops leave their run loop.
    std::atomic<bool> shutting_down{false};
    /// Set when shutdown starts cancelling: a task polled for the first time
    /// from then on is cancelled before its body runs (asyncio cancels the
    /// tasks left at exit; one that never started never starts).
    std::atomic<bool> cancelling_all{false};

    // Written often, each on lines of its own: the idle set's word is read
    // at every spawn, and a worker taking a batch from the injection queue
    // must not make that read miss (spawn_join with 2 workers: the root's
    // spawning took 42 ms instead of 39 while they shared a line).
    alignas(64) idle_set idle;
    alignas(64) injection_queue injection;
    /// Metrics: tasks spawned from threads that drive none of this
    /// scheduler's loops (workers count their own, worker_metrics.hpp).
    /// Written by any such thread (fetch_add, relaxed: a count, ordered with
    /// nothing), read by metrics().
    alignas(64) std::atomic<std::uint64_t> spawned_elsewhere{0};

    // ---- the default executor (lib/executor.cpp) ---------------------------
    /// The executor of run_in_executor(nullptr) / to_thread for every loop of
    /// this scheduler, created on first use with the pool settings below.
    std::shared_ptr<executor> default_executor();
    /// Shuts the default executor down (if one was ever created) and makes
    /// later default_executor() calls throw; true if its jobs all finished.
    bool shutdown_default_executor(std::chrono::steady_clock::duration timeout);
    std::size_t pool_max_threads = 512;
    std::chrono::steady_clock::duration pool_keep_alive = std::chrono::seconds(10);
    std::mutex executor_mutex;
    std::shared_ptr<executor> executor_;  // guarded by executor_mutex
    bool executor_shut_down_ = false;     // guarded by executor_mutex
};

/// A metrics snapshot of every loop of `s` (lib/metrics.cpp; any thread).
runtime_metrics collect_metrics(scheduler& s);

/// How long runtime shutdown and standalone loop destruction wait for the
/// default executor's jobs (asyncio's shutdown_default_executor default).
inline constexpr auto executor_shutdown_timeout = std::chrono::seconds(300);

}  // namespace corio::detail
