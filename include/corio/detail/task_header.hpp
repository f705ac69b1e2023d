// The header every task<T> frame carries in its promise. For a lazily
// awaited task only `outcome` and `exception` are used; for a spawned task
// (create_task) it is what the run queues hold and what task_handle<T>
// points at, so a spawned task is one allocation: header + result slot +
// coroutine frame (Tokio's task/core.rs).
//
//   heap block (one allocation, from the frame allocator)
//   +--------------------------------------------------------------+
//   | coroutine frame: resume/destroy fn ptrs, locals, ...          |
//   |   promise<T>                                                  |
//   |     task_header : schedulable, completion (status + waiters)  |
//   |       state word, refs, home loop, resume point, links        |
//   |     result slot (T or exception_ptr)                          |
//   +--------------------------------------------------------------+
//
// State word (std::atomic<uint64_t> state): bits 0-9 are flags, bits 10-31
// count cancellation requests (asyncio's Task.cancelling()), the high 32
// bits are a wait generation. Written by: the polling thread (RUNNING,
// WAITING when it arms a wait), wakers and cancellers on any thread (a CAS
// that clears WAITING, bumps the generation and sets SCHEDULED or NOTIFIED;
// a canceller also sets CANCEL_REQUESTED and adds one to the count, in the
// same CAS, so the count never lags the request it counts), uncancel() (a
// CAS that takes one from the count; see uncancel for when it also drops
// the pending request).
//
// Protocol for one suspension (exactly one resume per suspension):
//   1. The task, while RUNNING, records where to resume and arms a wait:
//      CAS sets WAITING, unless CANCEL_REQUESTED is set (then it does not
//      suspend and sees cancelled_error at once). The generation g is read.
//   2. It registers {task, g} with what it waits on (a future, a timer, ...).
//   3. Whoever completes that thing, or cancel(), calls wake(task, g): a CAS
//      that succeeds only if the generation is still g and WAITING is set; it
//      clears WAITING and bumps the generation, so a second waker fails.
//   4. The winner sets SCHEDULED and enqueues the task, or, if the task is
//      still RUNNING (its poll has not returned yet), sets NOTIFIED and the
//      poller enqueues it when the poll returns.
// A wait on another task arms FORWARDS_CANCEL with WAITING: cancel() then
// does not wake the task but counts the request and, with FORWARDING set in
// the same CAS, cancels the awaited task (forwards_to) and clears
// FORWARDING; the waiter, once woken by the awaited task's end, lets go of
// that task only after FORWARDING is clear (the canceller holds no
// reference). Down a chain of such waits the cancel goes hand over hand.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include "corio/detail/completion.hpp"

namespace corio::detail {

struct loop_core;
struct context_map;  // context_var values (lib/context_map.hpp)

/// Anything a run queue holds: a task or a call_soon callback.
struct schedulable {
    /// Runs the entry on the current thread's loop. `initial` is the tag of
    /// a task's spawn entry (see task_header::try_start).
    void (*run)(schedulable*, bool initial) noexcept = nullptr;
};

/// A run-queue entry: a schedulable pointer whose bit 0 marks a task's
/// initial (spawn) entry, the only kind that can go stale (a "tombstone")
/// because the task was started elsewhere first.
using queue_entry = std::uintptr_t;
inline queue_entry make_entry(schedulable* s, bool initial) noexcept {
    return reinterpret_cast<std::uintptr_t>(s) | (initial ? 1u : 0u);
}
inline schedulable* entry_target(queue_entry e) noexcept { return reinterpret_cast<schedulable*>(e & ~std::uintptr_t{1}); }
inline bool entry_is_initial(queue_entry e) noexcept { return (e & 1u) != 0; }

namespace task_state {
inline constexpr std::uint64_t scheduled = 1u << 0;         // an entry sits in (or is going to) a run queue
inline constexpr std::uint64_t running = 1u << 1;           // a thread is polling the task
inline constexpr std::uint64_t notified = 1u << 2;          // woken while running: requeue after the poll
// (Completion is not a state bit: the completion's status says it.)
inline constexpr std::uint64_t cancel_requested = 1u << 4;  // cancel() not yet delivered
inline constexpr std::uint64_t waiting = 1u << 5;           // suspended on a wait armed at the current generation
inline constexpr std::uint64_t started = 1u << 6;           // first poll claimed; the spawn entry is void after this
// The first poll runs unshared (lib/context.hpp, is_unshared): claimed with
// a plain store by the thread holding every reference, alive and the spawn
// entry (detached), plus the awaiting parent's handle (awaited). Cleared
// when that poll ends without completing the task.
inline constexpr std::uint64_t unshared_detached = 1u << 3;
inline constexpr std::uint64_t unshared_awaited = 1u << 7;
inline constexpr std::uint64_t unshared = unshared_detached | unshared_awaited;
// A wait on another task (co_await of its handle) that forwards
// cancellation, as asyncio's Task.cancel() does to its _fut_waiter: while
// it is armed, cancel() counts the request here and cancels the awaited
// task (`forwards_to`) instead of waking this one, which goes on waiting
// and sees how that task ended. Set with WAITING, cleared by the wake-up.
inline constexpr std::uint64_t forwards_cancel = 1u << 8;
// A cancel() is passing itself on to `forwards_to` now, which holds no
// reference of its own: the waiting task, if woken meanwhile, must not let
// go of the awaited task until this clears (wait_operation::await_resume).
inline constexpr std::uint64_t forwarding = 1u << 9;
// Cancellation requests not yet taken back by uncancel(): 22 bits, saturating
// (4M requests on one task is a bug elsewhere; the count then stays put).
inline constexpr unsigned cancel_count_shift = 10;
inline constexpr std::uint64_t cancel_count_one = std::uint64_t{1} << cancel_count_shift;
inline constexpr std::uint32_t cancel_count_max = (1u << 22) - 1;
inline std::uint32_t cancel_count(std::uint64_t s) noexcept {
    return static_cast<std::uint32_t>(s >> cancel_count_shift) & cancel_count_max;
}
inline constexpr unsigned generation_shift = 32;
inline constexpr std::uint64_t generation_one = std::uint64_t{1} << generation_shift;
inline std::uint32_t generation(std::uint64_t s) noexcept { return static_cast<std::uint32_t>(s >> generation_shift); }
}  // namespace task_state

struct task_header : schedulable, completion {
    std::atomic<std::uint64_t> state{0};
    /// References: one while the task is not complete (its "alive" ref, held
    /// by the scheduler), one for the spawn entry until it is popped, one per
    /// task_handle. The block is freed when this reaches 0.
    std::atomic<std::uint32_t> refs{0};
    /// Which registry (all_tasks, shutdown) holds the task: 0 for none,
    /// else 1 + the index, among home's scheduler's loops, of the loop the
    /// task first suspended on. That loop, not home, so that the tasks one
    /// spawner hands out to every worker register on the worker that runs
    /// them and no registry lock is shared by all of them. A task registers
    /// when it first suspends, so fork-join children that finish in their
    /// first poll never touch a registry. Written under that registry's
    /// lock by the polling thread, read by the polling thread only (polls
    /// are ordered by the state word's acquire/release).
    std::uint16_t registry = 0;
    bool spawned : 1 = false;  // created by create_task (else: awaited lazily, header unused)
    bool pinned : 1 = false;   // never leaves `home`
    /// How the coroutine body ended, for final_suspend: set by the promise's
    /// unhandled_exception (polling thread only). A promise field by
    /// meaning; it lives here because it fits in the padding after the
    /// flags above, which keeps the frame of a task<T> from growing.
    completion_status outcome = completion_status::value;
    /// The innermost suspended coroutine to resume when polled; written by
    /// the polling thread before it arms a wait (release via the arming CAS),
    /// read by the next poller after its acquire transition to running.
    std::coroutine_handle<> resume_point;
    std::coroutine_handle<> self;  // the frame; destroyed when refs reaches 0
    loop_core* home = nullptr;     // loop it was created on: done callbacks, pinning
    task_header* registry_prev = nullptr;  // links in its registry (under that registry's lock)
    task_header* registry_next = nullptr;
    std::uint64_t id = 0;
    std::unique_ptr<std::string> name;  // set_name / task_options::name; default "Task-<id>"
    /// The task's context_var values (asyncio's per-task Context): one
    /// reference on an immutable shared map, null while empty, so a program
    /// without context_vars copies one null pointer per spawn. Set at spawn
    /// from the creator's; replaced by the task itself (context_var::set),
    /// read by it and by spawns it makes; released when it completes.
    /// While the task is in a wait that forwards cancellation (its state has
    /// forwards_cancel), the slot holds the awaited task instead, for a
    /// cancel() to forward itself to: written by this task before it arms
    /// that wait (published by the arming CAS); the context waits in the
    /// awaiter meanwhile and is put back when the wait is over (nobody but
    /// the task itself reads its context). So every task does not carry 8
    /// more bytes for a pointer that only such a wait uses.
    union {
        context_map* context = nullptr;
        task_header* forwards_to;
    };
    /// The exception the coroutine ended with (cancelled_error for a
    /// cancelled task); the value, if any, lives in promise<T>.
    std::exception_ptr exception;

    void add_ref() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
    /// acq_rel: the thread that drops the last reference must see every
    /// write the other holders made before dropping theirs. A holder of
    /// every reference left is alone (a reference is only ever copied from
    /// one already held), so it frees the block without the locked
    /// subtraction: the common end of a fork-join child, whose awaiting
    /// parent drops the last handle. The acquire load pairs with the
    /// release half of the other holders' subtractions.
    void release(std::uint32_t n = 1) noexcept {
        if (refs.load(std::memory_order_acquire) == n || refs.fetch_sub(n, std::memory_order_acq_rel) == n)
            self.destroy();
    }
    bool is_started() const noexcept { return (state.load(std::memory_order_acquire) & task_state::started) != 0; }
};

// ---- operations on tasks, implemented in lib/task_header.cpp -------------

/// The task being polled on this thread (null outside tasks).
task_header* current_task_header() noexcept;

/// A spawned task's name: task_options::name / set_name, or "Task-<id>".
std::string task_name(const task_header& t);

/// Step 1 of the protocol for the current task: records `h` as the resume
/// point and arms a wait. Returns the generation, or -1 if a cancellation is
/// pending (the caller must then not suspend). Throws std::logic_error when
/// no corio task is running on this thread.
std::int64_t arm_wait(std::coroutine_handle<> h);

/// Undoes the arming of `t`'s wait at generation `gen` when there turned
/// out to be nothing to wait for (or no way to wait). False if a waker
/// (cancel) got there first: the task must then suspend.
bool disarm_wait(task_header* t, std::uint32_t gen) noexcept;

/// arm_wait for a wait on task `awaited` that forwards cancellation to it
/// (forwards_cancel): a cancel() of the current task meanwhile cancels
/// `awaited` and counts here, and the wait goes on until `awaited` ends.
/// The task's context goes to `saved_context` until end_forwarding_wait
/// (unless arming fails: then it stays).
std::int64_t arm_forwarding_wait(std::coroutine_handle<> h, task_header* awaited, context_map*& saved_context);

/// Before the current task waits on `awaited`: a cancellation pending on the
/// current task is taken and passed to `awaited` if that is not done
/// (asyncio hands a pending cancel to the future a task starts waiting on).
void forward_pending_cancel(task_header* awaited) noexcept;

/// After a forwarding wait: returns once no cancel() is passing itself on
/// through the current task (until then it still needs the awaited task),
/// having put the task's context back.
void end_forwarding_wait(context_map* saved_context) noexcept;

/// Step 3: wakes `t` if it still waits at generation `gen`.
bool wake(task_header* t, std::uint32_t gen) noexcept;

/// Requests cancellation: returns false if `t` is already complete; wakes it
/// if it is waiting, unless that wait forwards cancellation: then the
/// request is counted on `t` and made of the task it awaits (and so on down
/// a chain of such waits).
bool request_cancel(task_header* t) noexcept;

/// asyncio's Task.cancelling(): cancellation requests made and not yet
/// taken back by uncancel(). Any thread.
std::uint32_t cancelling(const task_header* t) noexcept;

/// asyncio's Task.uncancel(): takes one request back and returns the count
/// left. When the count reaches 0 and the caller is `t` itself, a request
/// not yet delivered is dropped too (asyncio 3.13), so a timeout that fired
/// just as its work finished leaves no stray cancellation behind. From
/// another thread only the count changes: `t` may be between a cancel's
/// wake-up and the await_resume that must see it.
std::uint32_t uncancel(task_header* t) noexcept;

/// For awaiters' await_resume: true (and the request is consumed) when the
/// current task has a pending cancellation it must now see.
bool take_cancel() noexcept;

/// Puts back a request that take_cancel() consumed but the caller could
/// not deliver (what it awaited finished first): the current task's next
/// suspension point sees it. The count is left as it is.
void keep_cancel_pending() noexcept;

/// The task this thread is polling (null outside a poll), and how many
/// more awaits that poll may complete without suspending. Here rather than
/// with the rest of the thread's state (lib/context.hpp) so that the checks
/// below inline into every await_resume and await_ready.
inline thread_local task_header* tl_task = nullptr;
inline thread_local int tl_budget = 0;

/// Clang may compute a thread_local's address once in a coroutine (hoisted
/// out of a loop) and keep it in the frame across suspension points (LLVM
/// issue 63022, seen with Clang 16): a task resumed on another worker then
/// reads and writes the variables of the thread it ran on before. Clang 14
/// and GCC 12 were seen to compute it afresh. So under Clang the checks
/// below that inline into user coroutines are calls, which compute the
/// address on the thread that makes them (tests/stress/migration_test.cpp
/// fails without this under Clang 16). Clang 19 (Debian's clang-19) passes
/// that test with the checks inline, so from 19 on they are; 17 and 18,
/// said to have the fix too, were not tried and keep the calls.
#if defined(__clang__) && __clang_major__ < 19
#define CORIO_DETAIL_READS_THREAD_LOCALS [[gnu::noinline]]
#else
#define CORIO_DETAIL_READS_THREAD_LOCALS
#endif

/// throw_if_cancelled's slow path: throws if take_cancel() consumes a
/// request (an uncancel() from another thread may have taken it back since
/// the flag was seen).
void throw_if_cancel_taken();

/// Throws cancelled_error if the current task has a pending cancellation.
CORIO_DETAIL_READS_THREAD_LOCALS inline void throw_if_cancelled() {
    const task_header* t = tl_task;
    if (t && (t->state.load(std::memory_order_relaxed) & task_state::cancel_requested)) [[unlikely]]
        throw_if_cancel_taken();
}

/// Cooperative budget: true while the current poll may keep going without
/// suspending (Tokio's coop budget of 128 per poll).
CORIO_DETAIL_READS_THREAD_LOCALS inline bool consume_budget() noexcept { return !tl_task || --tl_budget >= 0; }

/// Reschedules the current task behind everything already runnable and
/// suspends it (the body of yield()). Returns false if a cancellation is
/// pending (then it must not suspend).
bool yield_current(std::coroutine_handle<> h);

/// The awaiting task wants `child`'s result. In a multi-worker runtime, a
/// child that has not started yet is run here, now, nested (fork-join fast
/// path); it may or may not be complete afterwards.
void try_run_inline(task_header* child) noexcept;

/// Makes `t` (a fresh coroutine frame) a spawned task on `loop` (or the
/// current loop when null) and enqueues it.
void spawn(task_header* t, loop_core* loop, const std::string* name, bool pinned);
/// spawn(t, nullptr, nullptr, false): create_task without options.
void spawn_here(task_header* t);
/// spawn in two steps, for a caller that records the task where other
/// threads find it before it can run (task_group): prepare_spawn makes `t`
/// a spawned task as spawn does (throwing as it does) but queues nothing;
/// publish_spawn queues it; discard_spawn frees one never published.
void prepare_spawn(task_header* t, loop_core* loop, const std::string* name, bool pinned);
void publish_spawn(task_header* t);
void discard_spawn(task_header* t) noexcept;

/// Completion of a spawned task: from final_suspend, or cancelled before
/// its first poll.
void complete_spawned(task_header* t, completion_status s) noexcept;

}  // namespace corio::detail
