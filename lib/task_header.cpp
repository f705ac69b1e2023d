// The task state machine (protocol in corio/detail/task_header.hpp):
// spawning, polling, arming waits, waking, cancelling, completing.
#include "corio/detail/task_header.hpp"

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "context.hpp"
#include "context_map.hpp"
#include "corio/detail/wait_operation.hpp"
#include "corio/errors.hpp"
#include "corio/create_task.hpp"
#include "corio/task_handle.hpp"
#include "loop_core.hpp"
#include "slow_path.hpp"

namespace corio::detail {

namespace ts = task_state;

namespace {

/// Task ids come from a global counter in blocks, so spawning does not
/// bounce one cache line between cores.
std::uint64_t next_task_id() noexcept {
    static std::atomic<std::uint64_t> next_block{1};
    constexpr std::uint64_t block = 1024;
    thread_local std::uint64_t next = 0, end = 0;
    if (next == end) {
        next = next_block.fetch_add(block, std::memory_order_relaxed);
        end = next + block;
    }
    return next++;
}

void transition_to_running(task_header* t) noexcept {
    std::uint64_t s = t->state.load(std::memory_order_relaxed);
    while (!t->state.compare_exchange_weak(s, (s & ~ts::scheduled) | ts::running, std::memory_order_acquire,
                                           std::memory_order_relaxed)) {
    }
}

/// Where a task that has just been set `scheduled` goes (loop_core.hpp).
void schedule_woken(task_header* t) {
    const queue_entry e = make_entry(t, false);
    loop_core* here = tl_core;
    if (t->pinned) {
        if (here == t->home) here->push_pinned(e);
        else t->home->push_inbox(e);
    } else if (here && &here->sched == &t->home->sched) {
        here->push_woken(e);
    } else {
        t->home->sched.push_injection(e);
    }
}

/// `s` with a cancellation requested and counted (the count saturates).
std::uint64_t with_cancel_request(std::uint64_t s) noexcept {
    s |= ts::cancel_requested;
    if (ts::cancel_count(s) != ts::cancel_count_max) s += ts::cancel_count_one;
    return s;
}

/// The loop whose registry holds `t` (task_header::registry != 0).
loop_core* registry_of(const task_header* t) noexcept { return t->home->sched.loops[t->registry - 1u]; }

/// Registers the current task, in the registry of the loop polling it,
/// before its first suspension. If shutdown has closed that registry,
/// requests its cancellation instead, so the suspension it is about to
/// make fails at once.
void register_before_suspending(task_header* t) noexcept {
    if (t->registry != 0) return;
    // Only loops of home's scheduler poll the task; home stands in should
    // it ever be polled elsewhere.
    loop_core* const here = tl_core && &tl_core->sched == &t->home->sched ? tl_core : t->home;
    if (here->registry_add(t)) return;
    // Counted like a cancel(): a timeout or task_group that sees this
    // cancellation must know it is not its own.
    std::uint64_t s = t->state.load(std::memory_order_relaxed);
    while (!t->state.compare_exchange_weak(s, with_cancel_request(s), std::memory_order_relaxed)) {
    }
}

/// Ends a poll that did not complete the task: clears RUNNING and
/// requeues the task if it was woken meanwhile.
CORIO_SLOW_PATH void after_suspending_poll(task_header* t) noexcept {
    std::uint64_t s = t->state.load(std::memory_order_acquire);
    bool reschedule = false;
    for (;;) {
        reschedule = (s & ts::notified) != 0;
        // The first poll, if unshared, ends here: the task may now be polled
        // elsewhere.
        std::uint64_t next = s & ~(ts::running | ts::notified | ts::unshared);
        if (reschedule) next |= ts::scheduled;
        // release: the next poller (any thread) sees this poll's writes.
        if (t->state.compare_exchange_weak(s, next, std::memory_order_acq_rel, std::memory_order_acquire)) break;
    }
    // Woken during the poll, or yielded: behind everything already ready.
    if (reschedule) {
        const queue_entry e = make_entry(t, false);
        if (!t->pinned) tl_core->push_local(e);
        else if (tl_core == t->home) tl_core->push_pinned(e);
        else t->home->push_inbox(e);
    }
}

/// Ends a poll. A completed task drops its alive reference plus
/// `extra_refs` (one atomic operation for both); returns whether it completed.
[[gnu::always_inline]] inline bool after_poll(task_header* t, std::uint32_t extra_refs) noexcept {
    if (!t->done()) {
        after_suspending_poll(t);
        return false;
    }
    // Unshared, the references left are ours and, for an awaited child,
    // the awaiting parent's handle, on this thread: drop ours with a
    // plain store, or free a detached task's frame.
    if (const std::uint32_t mine = unshared_refs(t)) {
        const std::uint32_t left = mine - 1 - extra_refs;
        if (left == 0) t->self.destroy();  // detached: nobody is left to read it
        else t->refs.store(left, std::memory_order_relaxed);
    } else {
        t->release(1 + extra_refs);
    }
    return true;
}

/// schedulable::run for tasks.
void run_task(schedulable* s, bool initial) noexcept {
    // A pinned task's entries stay where no thief looks (its loop's pinned
    // queue and inbox), so whoever runs a task may poll it.
    auto* t = static_cast<task_header*>(s);
    if (initial) {
        tl_core->run_spawn_entry(t, false);
        return;
    }
    transition_to_running(t);
    tl_core->poll(t, false);
}

}  // namespace

bool try_start(task_header* t) noexcept {
    std::uint64_t s = t->state.load(std::memory_order_relaxed);
    do {
        if (s & ts::started) return false;
    } while (!t->state.compare_exchange_weak(s, (s & ~ts::scheduled) | ts::running | ts::started,
                                             // acquire: pairs with the release of whoever scheduled it.
                                             std::memory_order_acquire, std::memory_order_relaxed));
    return true;
}

void drop_spawn_entry(task_header* t) noexcept {
    if (try_start(t)) {
        // Never started: it ends cancelled, its body never runs.
        complete_spawned(t, completion_status::cancelled);
        t->release(2);  // alive + spawn entry
    } else {
        t->release();  // a tombstone
    }
}

namespace {

/// One poll of `t` by `core`'s thread (loop_core::poll). Traced: with the
/// poll's trace event, in an instance of its own, so that the untraced one
/// keeps nothing across the resume for it.
template <bool Traced>
[[gnu::always_inline]] inline bool poll_task(loop_core& core, task_header* t, bool first,
                                             std::uint32_t extra_refs) noexcept {
    task_header* const saved_task = tl_task;
    const int saved_budget = tl_budget;
    tl_task = t;
    tl_budget = budget_per_poll;
    core.counters.polls.add();
    std::uint64_t trace_begin = 0;
    if constexpr (Traced) trace_begin = trace_clock::now();
    if (first && ((t->state.load(std::memory_order_acquire) & ts::cancel_requested) ||
                  core.sched.cancelling_all.load(std::memory_order_relaxed))) {
        // Cancelled before it ever ran: the coroutine body never starts (asyncio).
        complete_spawned(t, completion_status::cancelled);
    } else if (saved_task == nullptr && core.watches_entries()) [[unlikely]] {
        // Only an outermost poll is an entry; a nested one is part of its
        // parent's. (A path of its own: no flag lives across the resume.)
        core.begin_watched_entry(t);
        t->resume_point.resume();
        core.end_watched_entry(t);
    } else {
        t->resume_point.resume();
    }
    tl_task = saved_task;
    tl_budget = saved_budget;
    // Before after_poll: a task that completed may be freed there.
    if constexpr (Traced) core.trace->poll(*t, trace_begin, trace_clock::now(), t->done());
    const bool completed = after_poll(t, extra_refs);
    if (completed) core.counters.completed.add();
    return completed;
}

CORIO_SLOW_PATH bool poll_traced(loop_core& core, task_header* t, bool first, std::uint32_t extra_refs) noexcept {
    return poll_task<true>(core, t, first, extra_refs);
}

/// loop_core::poll's body, inline also into poll_first (no layer between).
[[gnu::always_inline]] inline bool poll_inline(loop_core& core, task_header* t, bool first,
                                               std::uint32_t extra_refs) noexcept {
    if (core.trace) [[unlikely]]
        return poll_traced(core, t, first, extra_refs);
    return poll_task<false>(core, t, first, extra_refs);
}

}  // namespace

bool loop_core::poll(task_header* t, bool first, std::uint32_t extra_refs) noexcept {
    return poll_inline(*this, t, first, extra_refs);
}

void loop_core::run_spawn_entry(task_header* t, bool awaited) noexcept {
    // Unshared when its references are only the ones this thread holds now:
    // alive, the entry it popped, and the handle of the parent awaiting it
    // here, if it is; then no other thread holds a reference it could copy.
    const std::uint32_t private_refs = awaited ? awaited_child_refs : detached_refs;
    if (t->refs.load(std::memory_order_acquire) == private_refs) {
        // Nobody else can reach it: claimed with a plain store, unless it
        // is a tombstone (started elsewhere before its entry was popped).
        const std::uint64_t s = t->state.load(std::memory_order_relaxed);
        if (!(s & ts::started)) {
            const std::uint64_t unshared = awaited ? ts::unshared_awaited : ts::unshared_detached;
            t->state.store((s & ~ts::scheduled) | ts::running | ts::started | unshared, std::memory_order_relaxed);
            return poll_first(t);
        }
    }
    claim_shared_spawn_entry(t);
}

void loop_core::claim_shared_spawn_entry(task_header* t) noexcept {
    if (try_start(t)) return poll_first(t);
    t->release();  // a tombstone
}

void loop_core::poll_first(task_header* t) noexcept {
    // The entry's reference went with the alive one if the task completed.
    if (!poll_inline(*this, t, true, 1)) t->release();
}

task_header* current_task_header() noexcept { return tl_task; }

std::string task_name(const task_header& t) {
    if (t.name) return *t.name;
    return "Task-" + std::to_string(t.id);
}

namespace {
/// What every spawn sets before the task is queued.
[[gnu::always_inline]] inline void init_spawned(task_header* t, loop_core* home, bool pinned) noexcept {
    t->run = &run_task;
    t->spawned = true;
    t->pinned = pinned;
    t->home = home;
    t->id = next_task_id();
    // contextvars: the child starts with (a shared copy of) its creator's context.
    if (context_map* ctx = tl_task ? tl_task->context : tl_thread_context) {
        context_add_ref(ctx);
        t->context = ctx;
    }
    // alive + spawn entry + the handle create_task returns.
    t->refs.store(3, std::memory_order_relaxed);
    t->state.store(ts::scheduled, std::memory_order_relaxed);
}
}  // namespace

void prepare_spawn(task_header* t, loop_core* loop, const std::string* name, bool pinned) {
    if (!loop) loop = tl_core;
    if (!loop) {
        t->self.destroy();
        throw std::runtime_error("create_task: no running event loop");
    }
    if (name) {
        try {
            t->name = std::make_unique<std::string>(*name);
        } catch (...) {
            t->self.destroy();  // out of memory: the task is consumed, as above
            throw;
        }
    }
    init_spawned(t, loop, pinned);
}

void discard_spawn(task_header* t) noexcept {
    if (t->context) release_context(std::exchange(t->context, nullptr));
    t->self.destroy();
}

void spawn(task_header* t, loop_core* loop, const std::string* name, bool pinned) {
    prepare_spawn(t, loop, name, pinned);
    try {
        publish_spawn(t);
    } catch (...) {
        discard_spawn(t);  // out of memory for its queue: never runs, freed
        throw;
    }
}

void publish_spawn(task_header* t) {
    loop_core* const loop = t->home;
    const bool pinned = t->pinned;
    const queue_entry e = make_entry(t, true);
    loop_core* here = tl_core;
    // Counted by the spawning worker; a thread outside the scheduler pays a fetch_add.
    if (here && &here->sched == &loop->sched) {
        here->counters.spawned.add();
        // Before the push: once queued, another worker may poll it.
        if (here->trace) [[unlikely]]
            here->trace->spawn(*t, trace_clock::now());
    } else loop->sched.spawned_elsewhere.fetch_add(1, std::memory_order_relaxed);
    if (here == loop && pinned) here->push_pinned(e);
    else if (here == loop || (here && !pinned && &here->sched == &loop->sched)) here->push_spawned(e);
    else if (pinned || loop->sched.asyncio_order) loop->push_inbox(e);
    else loop->sched.push_injection(e);
}

void spawn_here(task_header* t) {
    loop_core* const here = tl_core;
    // Only calls in tail position below, so no register saves on the way
    // (fork-join spawns one task per few hundred instructions).
    if (!here || here->trace) [[unlikely]]
        return spawn(t, nullptr, nullptr, false);
    init_spawned(t, here, false);
    here->counters.spawned.add();
    here->push_new_spawn(t);
}

namespace {
CORIO_SLOW_PATH void complete_shared(task_header* t, completion_status s) noexcept {
    t->completion::complete(s, [] {});
}

/// The last step of a spawned task's completion: publishes status `s` and
/// tells the waiters, with plain stores when nobody else can reach the task.
[[gnu::always_inline]] inline void publish_completion(task_header* t, completion_status s) noexcept {
    if (is_unshared(t) && !t->has_waiters_unshared()) t->completion::complete_unshared(s, [] {});
    else complete_shared(t, s);
}

/// complete_spawned for a task that did not simply return a value, or that
/// leaves a registry or holds a context.
CORIO_SLOW_PATH void complete_spawned_with_cleanup(task_header* t, completion_status s) noexcept {
    if (s == completion_status::cancelled && !t->exception) t->exception = std::make_exception_ptr(cancelled_error());
    if (t->registry != 0) registry_of(t)->registry_remove(t);
    if (t->context) release_context(std::exchange(t->context, nullptr));
    // Published after leaving the registry: a shutdown that found the task
    // there took its reference under the registry lock, before our removal.
    publish_completion(t, s);
}
}  // namespace

void complete_spawned(task_header* t, completion_status s) noexcept {
    // A cancel() that came while the task ran its last step and was never
    // delivered still cancels it (asyncio's _must_cancel at StopIteration).
    if (s == completion_status::value && (t->state.load(std::memory_order_acquire) & ts::cancel_requested))
        s = completion_status::cancelled;
    // Only calls in tail position: a fork-join child's usual end (a value,
    // in no registry as it never suspended, no context) saves no registers.
    if (s != completion_status::value || t->registry != 0 || t->context) [[unlikely]]
        return complete_spawned_with_cleanup(t, s);
    publish_completion(t, s);
}

namespace {
/// The current task is about to suspend at `h`: registers it, records the
/// resume point and sets `flag` (waiting, or notified for a yield), unless a
/// cancellation is pending. Returns the state before, or -1 if cancelled.
std::int64_t prepare_suspension(std::coroutine_handle<> h, std::uint64_t flag, const char* what) {
    task_header* t = tl_task;
    if (!t) throw std::logic_error(what);
    register_before_suspending(t);
    t->resume_point = h;
    std::uint64_t s = t->state.load(std::memory_order_relaxed);
    do {
        if (s & ts::cancel_requested) return -1;
        // release: publishes resume_point to the waker's (or next poller's) acquire.
    } while (!t->state.compare_exchange_weak(s, s | flag, std::memory_order_release, std::memory_order_relaxed));
    return static_cast<std::int64_t>(ts::generation(s));
}
}  // namespace

std::int64_t arm_wait(std::coroutine_handle<> h) {
    return prepare_suspension(h, ts::waiting, "corio: awaited a corio awaitable outside a corio task");
}

std::int64_t arm_forwarding_wait(std::coroutine_handle<> h, task_header* awaited, context_map*& saved_context) {
    task_header* const t = tl_task;
    if (!t) throw std::logic_error("corio: awaited a corio awaitable outside a corio task");
    saved_context = t->context;
    t->forwards_to = awaited;  // published by the arming CAS (release)
    const std::int64_t gen = prepare_suspension(h, ts::waiting | ts::forwards_cancel,
                                                "corio: awaited a corio awaitable outside a corio task");
    if (gen < 0) t->context = saved_context;
    return gen;
}

void forward_pending_cancel(task_header* awaited) noexcept {
    // asyncio's __step: a cancellation pending when the task starts waiting
    // on another goes to that one (`_fut_waiter.cancel()`) if it is not done.
    if (!awaited->done() && take_cancel()) request_cancel(awaited);
}

void end_forwarding_wait(context_map* saved_context) noexcept {
    task_header* const t = tl_task;
    // acquire: the canceller is done with the awaited task (and with
    // forwards_to) once it clears the bit.
    while (t->state.load(std::memory_order_acquire) & ts::forwarding) std::this_thread::yield();
    t->context = saved_context;
}

namespace {
/// The wait is over, woken or undone: WAITING (and how it treats a cancel)
/// cleared, generation bumped.
std::uint64_t wait_ended(std::uint64_t s) noexcept {
    return (s & ~(ts::waiting | ts::forwards_cancel)) + ts::generation_one;
}

/// Step 3's transition: the wait is over; the task is requeued now
/// (SCHEDULED) or, if its poll has not returned yet, by the poller
/// (NOTIFIED).
std::uint64_t woken(std::uint64_t s) noexcept {
    return wait_ended(s) | ((s & ts::running) ? ts::notified : ts::scheduled);
}
}  // namespace

bool disarm_wait(task_header* t, std::uint32_t gen) noexcept {
    std::uint64_t s = t->state.load(std::memory_order_relaxed);
    do {
        if (ts::generation(s) != gen || !(s & ts::waiting)) return false;
    } while (!t->state.compare_exchange_weak(s, wait_ended(s), std::memory_order_relaxed));
    return true;
}

bool wake(task_header* t, std::uint32_t gen) noexcept {
    std::uint64_t s = t->state.load(std::memory_order_acquire);
    std::uint64_t next;
    do {
        if (ts::generation(s) != gen || !(s & ts::waiting)) return false;
        next = woken(s);
        // acq_rel: acquire the task's resume_point; release what the waker
        // wrote (the result) to the next poller.
    } while (!t->state.compare_exchange_weak(s, next, std::memory_order_acq_rel, std::memory_order_acquire));
    if (!(s & ts::running)) schedule_woken(t);
    return true;
}

namespace {
/// `s` is a wait that forwards cancellation.
bool forwards(std::uint64_t s) noexcept {
    constexpr std::uint64_t both = ts::waiting | ts::forwards_cancel;
    return (s & both) == both;
}

/// The state `t` had when this cancel took effect on it: counted, and either
/// requested (and `t` woken if it waited) or, in a forwarding wait, marked
/// `forwarding` for the caller to pass on and then clear.
std::uint64_t cancel_one(task_header* t, bool& may_forward) noexcept {
    // Waits this long at most for another cancel passing itself on through
    // `t` (it takes a few instructions, more if its thread is preempted);
    // only tasks awaiting each other in a cycle, deadlocked already, could
    // make two cancels wait for each other, and then this one wakes `t`.
    constexpr std::uint32_t max_waits = 100'000;
    std::uint32_t waits = 0;
    std::uint64_t s = t->state.load(std::memory_order_acquire);
    std::uint64_t next;
    for (;;) {
        if (may_forward && forwards(s)) {
            if (s & ts::forwarding) {
                if (++waits == max_waits) may_forward = false;
                std::this_thread::yield();
                s = t->state.load(std::memory_order_acquire);
                continue;
            }
            next = with_cancel_request(s) & ~ts::cancel_requested;  // counted only
            next |= ts::forwarding;
        } else {
            next = with_cancel_request(s);
            if (s & ts::waiting) next = woken(next);
        }
        if (t->state.compare_exchange_weak(s, next, std::memory_order_acq_rel, std::memory_order_acquire)) return s;
    }
}
}  // namespace

bool request_cancel(task_header* t) noexcept {
    if (!t || t->done()) return false;
    // A chain of tasks each awaiting the next passes the cancel down hand
    // over hand: each link stays `forwarding`, so it keeps the next alive,
    // until the cancel has taken effect on that next one. A loop, not a
    // recursion: such chains can be as long as memory allows.
    task_header* holder = nullptr;  // whose `forwarding` keeps `t` alive
    // Tasks that await each other in a cycle (deadlocked already) would pass
    // it round for ever: after this many links the cancel wakes the task it
    // has reached instead.
    constexpr std::uint32_t max_links = 1u << 20;
    for (std::uint32_t links = 0;; ++links) {
        const bool finished = t->done();
        // A task awaiting itself would wait on the bit this cancel holds.
        bool may_forward = links < max_links && t != holder;
        const std::uint64_t s = finished ? 0 : cancel_one(t, may_forward);
        if (holder) holder->state.fetch_and(~ts::forwarding, std::memory_order_release);
        if (finished) return true;  // it ended meanwhile: nothing more to cancel
        if (!(may_forward && forwards(s))) {
            if ((s & ts::waiting) && !(s & ts::running)) schedule_woken(t);
            return true;
        }
        holder = t;
        t = t->forwards_to;
    }
}

std::uint32_t cancelling(const task_header* t) noexcept {
    return ts::cancel_count(t->state.load(std::memory_order_relaxed));
}

std::uint32_t uncancel(task_header* t) noexcept {
    const bool by_itself = t == tl_task;
    std::uint64_t s = t->state.load(std::memory_order_relaxed);
    std::uint64_t next;
    do {
        const std::uint32_t count = ts::cancel_count(s);
        if (count == 0) return 0;
        next = s - ts::cancel_count_one;
        if (count == 1 && by_itself) next &= ~ts::cancel_requested;
        // relaxed: the count orders nothing. The request dropped with the
        // last count is safe to drop: the task is running this call, so no
        // awaiter of it sits between a cancel's wake-up and its await_resume.
    } while (!t->state.compare_exchange_weak(s, next, std::memory_order_relaxed));
    return ts::cancel_count(next);
}

bool take_cancel() noexcept {
    task_header* t = tl_task;
    if (!t) return false;
    std::uint64_t s = t->state.load(std::memory_order_relaxed);
    do {
        if (!(s & ts::cancel_requested)) return false;
    } while (!t->state.compare_exchange_weak(s, s & ~ts::cancel_requested, std::memory_order_relaxed));
    return true;
}

void keep_cancel_pending() noexcept {
    if (task_header* t = tl_task) t->state.fetch_or(ts::cancel_requested, std::memory_order_relaxed);
}

void throw_if_cancel_taken() {
    if (take_cancel()) throw cancelled_error();
}

bool yield_current(std::coroutine_handle<> h) {
    // Notified while running: after_poll puts it behind everything ready.
    return prepare_suspension(h, ts::notified, "corio: yield outside a corio task") >= 0;
}

// ---- wait_operation ------------------------------------------------------------

bool wait_operation::suspend_unless_done(std::coroutine_handle<> h) {
    if (target_.done()) {
        // Completed since await_ready, or ready but the poll's budget ran out.
        return consume_budget() ? false : yield_current(h);
    }
    std::int64_t gen;
    if (forwards_cancel_) {
        gen = arm_forwarding_wait(h, inline_candidate_, saved_context_);
        // A cancellation pending goes to the awaited task, however many come
        // in between; once that task is done, the next one is thrown here,
        // as it is when the task could not register (a shutdown closed its
        // registry: it must not suspend at all, and each arming asks again).
        while (gen < 0 && tl_task->registry != 0 && !target_.done()) {
            forward_pending_cancel(inline_candidate_);
            gen = arm_forwarding_wait(h, inline_candidate_, saved_context_);
        }
        armed_forwarding_ = gen >= 0;
    } else {
        gen = arm_wait(h);
    }
    if (gen < 0) return false;  // cancellation pending: await_resume throws it
    task_ = tl_task;
    generation_ = static_cast<std::uint32_t>(gen);
    fire = &fire_wake;
    suspended_ = true;
    if (target_.add_waiter(this)) return true;
    // Completed between the check and the registration.
    suspended_ = false;
    return !disarm_wait(task_, generation_);
}

void wait_operation::fire_wake(waiter_node* self) noexcept {
    auto* op = static_cast<wait_operation*>(self);
    task_header* const t = op->task_;
    const std::uint32_t gen = op->generation_;
    // release: pairs with the acquire in woken_by_cancel(); the node may be
    // destroyed as soon as the task resumes, so it is not touched again.
    op->fired_.store(true, std::memory_order_release);
    wake(t, gen);
}

}  // namespace corio::detail

// ---- task_ref --------------------------------------------------------------------

namespace corio {

std::string task_ref::get_name() const { return detail::task_name(*header_); }

void task_ref::set_name(std::string name) { header_->name = std::make_unique<std::string>(std::move(name)); }

}  // namespace corio

namespace corio {

task_ref current_task() noexcept { return task_ref(detail::tl_task, true); }

std::vector<task_ref> all_tasks() {
    std::vector<task_ref> result;
    detail::loop_core* core = detail::tl_core;
    if (!core) throw std::runtime_error("no running event loop");
    std::vector<detail::task_header*> live;
    for (detail::loop_core* l : core->sched.loops) l->collect_tasks(live);
    result.reserve(live.size());
    for (detail::task_header* t : live) result.emplace_back(t, false);
    return result;
}

}  // namespace corio
