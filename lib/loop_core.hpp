// One event loop's machinery: its run queues, timers, reactor, task registry
// and the run loop itself. Owned by a public event_loop; driven by exactly
// one thread at a time (a runtime worker, or the thread inside
// run_until_complete for a standalone loop).
//
// Where an entry goes:
//   spawn on this loop's thread  -> local (bottom); thieves take from the top
//   task woken on this thread    -> LIFO slot (runtime) / local (asyncio order)
//   task yielded                 -> local (behind everything ready)
//   local full                   -> its older half to the injection queue
//                                   (runtime), or to this loop's overflow
//                                   list when it is the only loop
//   pinned task, on its own loop -> pinned (runtime; thieves never see it)
//   anything from another thread -> runtime injection queue, or this loop's
//                                   inbox when only this loop may run it
//                                   (pinned task, callback, timer)
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "corio/detail/callback.hpp"
#include "corio/detail/dropped_handlers.hpp"
#include "corio/detail/frame_allocator.hpp"
#include "corio/detail/spinlock.hpp"
#include "corio/detail/task_header.hpp"
#include "corio/event_loop.hpp"
#include "debug_mode.hpp"
#include "entry_fifo.hpp"
#include "entry_watch.hpp"
#include "injection_queue.hpp"
#include "local_queue.hpp"
#include "reactor.hpp"
#include "scheduler.hpp"
#include "slow_path.hpp"
#include "timer_heap.hpp"
#include "trace_buffer.hpp"
#include "worker_metrics.hpp"

namespace corio::detail {

/// Claims a task's first poll, through its spawn entry or directly (the
/// fork-join fast path). False if someone else claimed it first.
bool try_start(task_header* t) noexcept;

/// Gives back what a queue entry holds without running it (shutdown). A
/// task that never started is completed as cancelled.
void drop_entry(queue_entry e) noexcept;
void drop_spawn_entry(task_header* t) noexcept;

/// Blocks a thread that runs no loop until `c` is done.
void block_until_done(completion& c);

struct loop_core {
    loop_core(scheduler& s, std::size_t index, std::unique_ptr<scheduler> owned = nullptr);
    ~loop_core();

    // ---- the run loop (driving thread) -----------------------------------
    /// Runs until stop() or the scheduler shuts down. Sets this thread's context.
    void run_loop();
    /// Runs one entry: a task poll or a callback.
    void run_entry(queue_entry e) noexcept;
    /// Polls a task this thread has just moved to running. If it completes,
    /// drops its alive reference and `extra_refs` more, and returns true.
    bool poll(task_header* t, bool first, std::uint32_t extra_refs = 0) noexcept;
    /// A task's first poll, for whoever popped its spawn entry. `awaited`:
    /// the task polling on this thread awaits it through its handle (the
    /// fork-join fast path). With plain stores when no other thread can
    /// reach it (context.hpp, is_unshared).
    void run_spawn_entry(task_header* t, bool awaited) noexcept;
    /// Its shared case: claims the first poll by CAS, or drops a tombstone.
    CORIO_SLOW_PATH void claim_shared_spawn_entry(task_header* t) noexcept;
    /// Its first poll of `t`, once claimed: drops the entry's reference too.
    void poll_first(task_header* t) noexcept;
    /// The fork-join fast path (lib/fork_join.cpp, try_run_inline): runs
    /// the unstarted `child` (and, to reach it, the unstarted entries
    /// above it) on this stack.
    void run_awaited_child(task_header* child) noexcept;
    /// Its cases 2-4: the child is not among the newest entries.
    CORIO_SLOW_PATH void run_awaited_child_below(task_header* child) noexcept;

    // ---- pushing work (driving thread) ------------------------------------
    void push_local(queue_entry e);
    /// A task spawned on this loop's thread.
    void push_spawned(queue_entry e);
    /// push_spawned for `t`, spawned just now by spawn_here: should making
    /// room in the queue run out of memory, `t` (which never ran) is freed
    /// before the exception leaves.
    void push_new_spawn(task_header* t);
    void push_woken(queue_entry e);
    /// A pinned task of this loop, spawned, woken or yielded here.
    void push_pinned(queue_entry e);

    // ---- from any thread ------------------------------------------------------
    void push_inbox(queue_entry e);
    /// See detail::add_timer (event_loop.hpp).
    void add_timer(callback_node* node);
    /// Wakes this loop's thread if it sleeps (stop, inbox, timers).
    void wake_up() { io_reactor.unpark(); }

    // ---- registry (any thread) --------------------------------------------------
    /// False once shutdown has closed the registry (the task must then not
    /// suspend: nobody would be left to cancel it).
    bool registry_add(task_header* t) noexcept;
    void registry_remove(task_header* t) noexcept;
    /// Closes the registry if it is empty; true if closed.
    bool try_close_registry() noexcept;
    /// Live tasks with a reference taken on each.
    void collect_tasks(std::vector<task_header*>& out);
    bool registry_empty() noexcept;

    /// Cancels live tasks and runs this (standalone) loop until they are done.
    void cancel_and_drain_tasks();

    /// This loop's share of a metrics snapshot (any thread; lib/metrics.cpp).
    worker_metrics read_metrics() const noexcept;

    // ---- watched entries (driving thread; lib/debug_mode.cpp) -----------------
    /// Debug mode times each outermost entry (a task poll or a callback that
    /// the loop runs itself, not one nested in a poll) for the slow-callback
    /// report, and a stall detector sees it through current_entry. Off, an
    /// entry pays for this check only.
    bool watches_entries() const noexcept { return watching_entries.load(std::memory_order_relaxed); }
    void begin_watched_entry(task_header* t) noexcept;
    /// Before a task that completed in the entry can be freed.
    void end_watched_entry(task_header* t) noexcept;

    scheduler& sched;
    const std::size_t index;
    event_loop* owner = nullptr;

    std::atomic<bool> running{false};
    std::atomic<bool> closed{false};
    std::atomic<bool> stop_requested{false};
    /// set_debug, run_options::debug or CORIO_DEBUG; any thread writes and
    /// reads it (relaxed: a setting, ordered with nothing).
    std::atomic<bool> debug{false};
    /// asyncio's slow_callback_duration in ns; written by any thread, read
    /// by the driving thread after a timed entry (relaxed, as `debug`).
    std::atomic<std::int64_t> slow_callback_ns{
        std::chrono::nanoseconds(default_slow_callback_duration).count()};
    /// A stall detector samples current_entry; set before the workers start.
    bool stall_watched = false;
    /// debug || stall_watched, in one flag for the check before each entry:
    /// written by set_debug (any thread) and by the runtime before its
    /// workers start, read by the driving thread (relaxed, as `debug`).
    std::atomic<bool> watching_entries{false};
    entry_watch current_entry;
    std::mutex handler_mutex;
    exception_handler handler;
    /// The loop's io_context, and where it sleeps (reactor.hpp).
    reactor io_reactor;
    /// Written by the driving thread only (worker_metrics.hpp).
    worker_counters counters;
    /// Where the driving thread records trace events; null unless the
    /// runtime traces (run_options::trace). Set before the thread starts.
    /// Off, tracing costs one predictable branch on this pointer per hook,
    /// and no clock read.
    trace_buffer* trace = nullptr;

private:
    void run_rounds();
    /// io_reactor's poll and park. An exception out of an IO completion ends
    /// the operations whose handlers it dropped (dropped_handlers.hpp), or
    /// else goes to the loop's exception handler, as one out of a callback
    /// does (asyncio); the loop goes on, and a park it ended counts as IO.
    void poll_io() noexcept;
    reactor::park_end park_io(reactor::time_point deadline) noexcept;
    void io_failed(io_run_catch& run) noexcept;
    void run_worker();
    /// A worker's next entry: fairness checks, inbox, LIFO slot, then FIFO.
    queue_entry next_entry();
    /// The oldest ready entry: pinned and stealable ones (overflow list,
    /// then local queue) in turns.
    queue_entry next_ready();
    queue_entry take_pinned();
    queue_entry take_from_remote();
    queue_entry search();
    /// A searching worker that found work leaves the searchers.
    void stop_searching();
    queue_entry steal_from(loop_core& victim);
    /// Puts `e` (0: nothing) in the LIFO slot; returns what was there.
    queue_entry exchange_lifo_slot(queue_entry e) noexcept;
    bool fire_due_timers();
    /// Moves the timers other threads added into the heap. False if the
    /// heap could not grow for them all: those left wait for the next merge.
    bool merge_incoming_timers() noexcept;
    void park_until_work();
    void move_half_out();
    /// A push that found the local queue full: moves half out, then
    /// pushes `e` again (push_spawned or push_local).
    CORIO_SLOW_PATH void push_after_making_room(queue_entry e, bool spawned);
    CORIO_SLOW_PATH void push_new_spawn_after_making_room(task_header* t);
    /// push_spawned's wake-up rule, after the push.
    void wake_for_spawn();
    /// Owner: more than one entry waits in the local queue and LIFO slot.
    bool more_than_one_pending() const noexcept;
    bool has_work_seq_cst() const noexcept;
    friend struct scheduler;

    std::unique_ptr<scheduler> owned_sched_;  // a standalone loop's own scheduler

    local_queue local_;
    /// Runtime only: the task most recently woken by this loop, run next.
    /// Written by the owner (exchange; a load and a store for a lone
    /// worker, which has no thieves); taken by thieves (exchange) only
    /// when they would otherwise sleep.
    std::atomic<queue_entry> lifo_slot_{0};
    unsigned lifo_streak_ = 0;
    /// Runtime only: pinned tasks ready on their own loop, FIFO, owner-only.
    /// Kept out of local_ because no other worker may run them: in local_,
    /// an idle worker's re-check before sleeping counted them as work to
    /// steal, woke itself, stole one and handed it back through the inbox,
    /// again and again while this loop served its pinned connections.
    entry_fifo pinned_;
    /// Whose turn it is when both pinned_ and local_ have entries.
    bool pinned_turn_ = false;
    /// A lone loop (standalone, or a runtime of one worker): entries older
    /// than everything in local_, moved out when local_ was full
    /// (owner-only, FIFO). With more loops they go to the injection queue.
    entry_fifo overflow_;
    injection_queue inbox_;
    timer_heap timers_;
    std::mutex incoming_timers_mutex_;
    std::vector<callback_node*> incoming_timers_;
    std::atomic<bool> has_incoming_timers_{false};
    bool searching_ = false;
    /// When park_until_work next asks the frame depot to trim (what
    /// decay_frame_depot returned last).
    depot_clock::time_point next_depot_trim_{};
    /// When debug mode timed the current outermost entry, its start
    /// (worker_counters::now_ns); 0 when it did not. Driving thread only.
    std::uint64_t entry_started_ns_ = 0;
    std::uint32_t tick_ = 0;
    std::uint64_t rng_;

    spinlock registry_lock_;
    task_header* registry_head_ = nullptr;
    bool registry_closed_ = false;
};

}  // namespace corio::detail
