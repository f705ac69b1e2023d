// Runtime metrics: a snapshot of what each worker has done (polls, where its
// work came from, steals, sleeps) and of the runtime as a whole (tasks,
// blocking pool). Taken by runtime::metrics() / event_loop::metrics() from
// any thread, at any time; the counters behind it are per-worker and cost a
// plain load and store each (lib/worker_metrics.hpp).
//
// A snapshot read while workers run is not atomic as a whole: each number is
// exact for some moment, but two numbers may be from slightly different
// moments (live_tasks is clamped at zero for that reason).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace corio {

/// One worker (one event loop). Counts are totals since the loop was made.
/// "Entries" are queue entries: task polls and callbacks (call_soon, timers).
struct worker_metrics {
    /// Task polls (resumptions of a spawned task), the fork-join inline path
    /// included.
    std::uint64_t polls = 0;
    /// Tasks spawned while this worker was running.
    std::uint64_t spawned = 0;
    /// Tasks that finished in a poll on this worker.
    std::uint64_t completed = 0;
    /// Entries popped from its own run queue (oldest first).
    std::uint64_t from_local = 0;
    /// Entries run from its LIFO slot (a task woken by the running task).
    std::uint64_t from_lifo = 0;
    /// Entries taken from its own inbox (callbacks, pinned tasks and
    /// timers posted from other threads).
    std::uint64_t from_inbox = 0;
    /// Entries taken from the runtime's injection queue. A batch taken into
    /// the local queue counts here, and again in from_local when popped.
    std::uint64_t from_injection = 0;
    /// Entries stolen from other workers (queues and LIFO slots); like
    /// injection batches, the ones beyond the first count again in from_local.
    std::uint64_t stolen = 0;
    /// Victims tried while searching, and tries that got at least one entry.
    std::uint64_t steal_attempts = 0;
    std::uint64_t steal_successes = 0;
    /// Times the worker went to sleep in its reactor, and how many of those
    /// sleeps another thread ended (a wake-up; the rest ended by IO or a timer).
    std::uint64_t parks = 0;
    std::uint64_t unparks = 0;
    /// Times its run queue was full and half of it went to the injection
    /// queue (a standalone loop or a runtime of one worker: to its own
    /// overflow list, which no other worker could take from anyway).
    std::uint64_t overflows = 0;
    /// Time in its run loop awake (running, searching) and asleep. Steady
    /// clock, read around each sleep; includes the current stretch.
    std::chrono::nanoseconds busy{0};
    std::chrono::nanoseconds parked{0};
    /// Entries in its run queue, LIFO slot, pinned queue and overflow list now.
    std::size_t local_queue_depth = 0;
    /// Sockets on this loop's reactor now: stream connections (TCP and TLS,
    /// HTTP's included) from when they open until the last reader/writer
    /// handle is gone, and listening sockets while their server accepts.
    std::size_t open_sockets = 0;
};

/// The default executor's thread pool (run_in_executor(nullptr), to_thread).
/// All zero until the pool is first used, or when the default executor is
/// not a thread_pool_executor.
struct blocking_pool_metrics {
    std::size_t threads = 0;  ///< alive: busy + idle
    std::size_t busy = 0;     ///< running a job
    std::size_t idle = 0;     ///< waiting for one
    std::size_t queued = 0;   ///< jobs waiting for a thread
};

struct runtime_metrics {
    std::vector<worker_metrics> workers;
    /// Tasks spawned so far, from workers and from outside threads.
    std::uint64_t spawned_total = 0;
    /// Tasks spawned and not yet finished.
    std::uint64_t live_tasks = 0;
    /// Entries waiting in the runtime's injection queue now.
    std::size_t injection_queue_depth = 0;
    /// The workers' open_sockets added up.
    std::size_t open_sockets = 0;
    blocking_pool_metrics blocking_pool;
};

}  // namespace corio
