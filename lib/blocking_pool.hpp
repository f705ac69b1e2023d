// The blocking pool: an elastic set of plain threads (never loop workers)
// that run blocking jobs for run_in_executor / to_thread. The engine behind
// thread_pool_executor and the loops' default executor. Modelled on Tokio's
// runtime/blocking/pool.rs (spawn on demand, idle threads time out).
// The job queue is a deque under the pool's own mutex: against oneTBB's
// concurrent_bounded_queue (bench/bm_job_queue.cpp) a cross-thread job round
// trip costs the same within noise (both are one thread wake-up each way),
// and the mutex is needed anyway for the idle accounting and for the timed
// keep-alive wait, which concurrent_bounded_queue's pop cannot do.
//
// Invariants (all under `mutex`):
//   - live = threads started and not yet exited; live <= max_threads.
//   - idle_threads = threads waiting for work that no submit has claimed
//     yet, a stack (the most recently idle is woken first: its cache is
//     warm, and the others get to retire); notified = claims made by submit
//     (one idle thread each) not yet taken. A submit that finds an idle
//     thread pops it, marks it claimed and wakes it; otherwise it starts a
//     thread if live < max_threads; otherwise the job waits in the queue for
//     the next thread that finishes a job.
//
// Each idle thread sleeps on its own semaphore rather than on a shared
// condition variable: a wake-up is then one futex call, where glibc's
// condition variable hands the woken thread the mutex in its "contended"
// state, so every unlock after it costs a futex wake too (strace: 4.6 futex
// calls per to_thread round trip with the condition variable, fewer with
// the semaphores).
//   - Once shut_down is set no job is accepted; threads drain the queue, then
//     exit instead of waiting.
//
// Shutdown protocol:
//   1. set shut_down, wake every idle thread;
//   2. wait (bounded) until live == 0: running and queued jobs finish;
//   3. on time-out, drop the jobs still queued (their destructors tell their
//      futures) and detach the threads still running; each holds a
//      reference to the shared state, so the last one to exit frees it.
#pragma once

#include <semaphore.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "corio/metrics.hpp"

namespace corio::detail {

class blocking_pool {
public:
    using job = std::function<void()>;

    blocking_pool(std::size_t max_threads, std::chrono::steady_clock::duration keep_alive);
    /// Shuts down with a short bounded wait if nobody did.
    ~blocking_pool();
    blocking_pool(const blocking_pool&) = delete;
    blocking_pool& operator=(const blocking_pool&) = delete;

    /// Queues `j` and makes sure a thread will run it. Throws
    /// std::runtime_error("executor is shut down") after shutdown().
    void submit(job j);
    /// Refuses new jobs and waits up to `timeout` for queued and running
    /// ones; true if every thread has exited. Idempotent.
    bool shutdown(std::chrono::steady_clock::duration timeout);

    /// Threads alive now (running a job or idle).
    std::size_t threads() const;
    /// Threads busy / idle and jobs queued, under the mutex (a snapshot).
    blocking_pool_metrics metrics() const;

private:
    /// An idle thread's parking place, on its own stack while it waits.
    struct idle_thread {
        idle_thread();
        ~idle_thread();
        idle_thread(const idle_thread&) = delete;
        idle_thread& operator=(const idle_thread&) = delete;
        /// Sleeps until woken or `timeout` passes; true if woken.
        bool sleep_for(std::chrono::steady_clock::duration timeout) noexcept;
        void sleep() noexcept;
        void wake() noexcept;

        /// A POSIX semaphore: libstdc++'s std::binary_semaphore spins
        /// through sched_yield before it sleeps, which costs the CPU the
        /// waking worker needs on a busy machine.
        sem_t sem;
        bool claimed = false;  // under the mutex: a submit or shutdown popped us
    };
    struct shared {
        std::size_t max_threads;
        std::chrono::steady_clock::duration keep_alive;

        mutable std::mutex mutex;
        std::condition_variable exit_cv;  // shutdown waits here for live == 0
        std::deque<job> queue;
        std::size_t live = 0;
        std::vector<idle_thread*> idle_threads;
        std::size_t notified = 0;
        bool shut_down = false;
        std::uint64_t next_id = 0;
        /// Handles of live threads by pool id; a retiring thread moves its own
        /// into `last_exiting` and joins the previous one (Tokio's scheme: at
        /// most one exited-but-unjoined thread at a time).
        std::unordered_map<std::uint64_t, std::thread> handles;
        std::thread last_exiting;
    };
    static void thread_main(std::shared_ptr<shared> s, std::uint64_t id);
    /// Sleeps on the idle stack until claimed or keep_alive passes; true if
    /// claimed. Called and returns with `lock` held.
    static bool wait_idle(shared& s, std::unique_lock<std::mutex>& lock);
    /// Pops the most recently idle thread and wakes it; false if none.
    /// Releases `lock` when it returns true.
    static bool wake_idle(shared& s, std::unique_lock<std::mutex>& lock);

    std::shared_ptr<shared> s_;
};

}  // namespace corio::detail
