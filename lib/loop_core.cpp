// The run loop of one event loop: what it runs next, where it looks for
// work when it has none, and how it sleeps. See loop_core.hpp for where
// entries go, idle_set.hpp for the sleep/wake protocol.
#include "loop_core.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "context.hpp"
#include "corio/detail/frame_allocator.hpp"

namespace corio::detail {

namespace {
/// Ticks (rounds, for a standalone loop) between fairness checks of the
/// inbox, the injection queue, IO and the timers (Tokio's
/// global_queue_interval and event_interval: prime, so it does not resonate
/// with user loops of round sizes). A loop with nothing to run polls IO at
/// once: it sleeps in the reactor.
constexpr std::uint32_t maintenance_interval = 61;
/// Consecutive LIFO-slot polls before the slot's task goes to the back of
/// the queue: two tasks waking each other cannot starve the rest.
constexpr unsigned max_lifo_streak = 3;
/// How long a sleeper waits before it looks at every queue once more
/// (park_until_work). Far longer than a store takes to leave a core's
/// store buffer; short enough that a spawn it missed waits no longer.
constexpr auto park_recheck_delay = std::chrono::milliseconds(1);
/// How soon a loop whose timer heap could not take the timers other
/// threads added tries again (out of memory: they wait, none is lost).
constexpr auto timer_merge_retry_delay = std::chrono::milliseconds(1);
}  // namespace

loop_core::loop_core(scheduler& s, std::size_t i, std::unique_ptr<scheduler> owned)
    : sched(s), index(i), owned_sched_(std::move(owned)), rng_(0x9E3779B97F4A7C15ull * (i + 1)) {}

loop_core::~loop_core() {
    // Whatever is still queued: callbacks are dropped, spawn entries
    // (tombstones by now) give back their reference.
    constexpr auto drop = drop_entry;
    for (queue_entry e; (e = local_.pop_oldest()) != 0;) drop(e);
    if (queue_entry e = lifo_slot_.exchange(0)) drop(e);
    pinned_.drain(drop);
    overflow_.drain(drop);
    for (queue_entry e; (e = inbox_.pop()) != 0;) drop(e);
    for (callback_node* n : incoming_timers_) n->release();  // the heap drops its own
}

// ---- running ---------------------------------------------------------------

void loop_core::run_loop() {
    loop_core* const saved_core = tl_core;
    tl_core = this;
    if (!saved_core) {
        frame_depot_loop_started();
        tl_loop_stack = static_cast<const char*>(__builtin_frame_address(0));
    }
    counters.start_busy(worker_counters::now_ns());
    if (sched.asyncio_order) run_rounds();
    else run_worker();
    counters.end_busy(worker_counters::now_ns());
    if (trace) trace->exit(trace_clock::now());
    if (!saved_core) frame_depot_loop_stopped();
    tl_core = saved_core;
}

void loop_core::run_rounds() {
    // asyncio's _run_once: due timers and callbacks posted from other
    // threads join the ready queue; then exactly the entries ready at the
    // start of the round run (what they schedule waits for the next round);
    // stop() takes effect between rounds, so a round always finishes.
    // IO is polled every maintenance_interval rounds rather than every
    // round (asyncio's select(0)): a syscall per round would cost more than
    // the round. IO order is not deterministic anyway.
    for (;;) {
        if (++tick_ % maintenance_interval == 0) poll_io();
        fire_due_timers();
        for (queue_entry e; (e = take_from_remote()) != 0;) push_local(e);
        std::size_t ready = overflow_.size() + static_cast<std::size_t>(local_.size());
        if (ready == 0) {
            if (stop_requested.load(std::memory_order_acquire)) break;
            park_until_work();
            continue;
        }
        for (; ready > 0; --ready) {
            const queue_entry e = next_ready();
            if (!e) break;
            run_entry(e);
        }
        if (stop_requested.load(std::memory_order_acquire)) break;
    }
}

void loop_core::run_worker() {
    while (!stop_requested.load(std::memory_order_acquire) && !sched.shutting_down.load(std::memory_order_acquire)) {
        queue_entry e = next_entry();
        if (!e && fire_due_timers()) continue;
        if (!e) e = search();
        if (!e) {
            park_until_work();
            continue;
        }
        // Found work, wherever it came from: a woken worker counts as
        // searching, and it may take its first entry from the injection
        // queue at a maintenance tick or from its inbox rather than in
        // search(). Still counted as searching while it ran, it kept every
        // spawn from waking a sleeper (skynet on 2 workers: 1 run in ~90 on
        // one worker, the whole tree polled inside the root's poll).
        stop_searching();
        run_entry(e);
    }
    stop_searching();
}

void loop_core::stop_searching() {
    if (!searching_) return;
    searching_ = false;
    // The last searcher to find work wakes the next sleeper.
    if (sched.idle.transition_from_searching()) sched.notify_parked();
}

void loop_core::run_entry(queue_entry e) noexcept {
    schedulable* s = entry_target(e);
    s->run(s, entry_is_initial(e));
}

queue_entry loop_core::next_entry() {
    if (++tick_ % maintenance_interval == 0) {
        poll_io();  // completions wake their tasks into this loop's queues
        if (queue_entry e = take_from_remote()) return e;
        fire_due_timers();
        // Local pushes only glance at the idle set (maybe_should_wakeup);
        // here the full check makes sure a sleeper is woken for a backlog.
        if (local_.size() > 1 && sched.idle.notify_should_wakeup()) sched.notify_parked();
    }
    if (!inbox_.empty()) {
        // Callbacks and pinned tasks posted to this loop: they can run
        // nowhere else, and call_soon expects them soon.
        if (queue_entry e = inbox_.pop()) return counters.from_inbox.add(), e;
    }
    if (lifo_slot_.load(std::memory_order_relaxed) != 0) {
        if (queue_entry e = exchange_lifo_slot(0)) {
            if (++lifo_streak_ <= max_lifo_streak) return counters.from_lifo.add(), e;
            push_local(e);
        }
    }
    lifo_streak_ = 0;
    return next_ready();
}

queue_entry loop_core::next_ready() {
    // Pinned and stealable tasks take turns, so neither kind starves the
    // other (the overflow list holds the oldest stealable ones).
    if (!pinned_.empty() && (pinned_turn_ = !pinned_turn_)) return take_pinned();
    if (!overflow_.empty()) return counters.from_local.add(), overflow_.pop_front();
    const queue_entry e = sched.single_loop ? local_.pop_oldest_exclusive() : local_.pop_oldest();
    if (e) return counters.from_local.add(), e;
    return pinned_.empty() ? 0 : take_pinned();
}

queue_entry loop_core::take_pinned() {
    const queue_entry e = pinned_.pop_front();
    counters.from_local.add();
    return e;
}

queue_entry loop_core::take_from_remote() {
    if (queue_entry e = inbox_.pop()) return counters.from_inbox.add(), e;
    const queue_entry e = sched.injection.pop();
    if (e) counters.from_injection.add();
    return e;
}

// ---- pushing -----------------------------------------------------------------

// Both pushes leave a full queue to push_after_making_room, in a tail
// call: nothing on their way saves registers (a fork-join spawn is a few
// hundred instructions in all).
void loop_core::push_local(queue_entry e) {
    if (!local_.try_push(e)) [[unlikely]]
        return push_after_making_room(e, false);
    if (!sched.asyncio_order && sched.idle.maybe_should_wakeup()) sched.notify_parked();
}

inline bool loop_core::more_than_one_pending() const noexcept {
    return local_.size() > 1 || (local_.size() == 1 && lifo_slot_.load(std::memory_order_relaxed) != 0);
}

inline void loop_core::wake_for_spawn() {
    // Tokio's rule for spawns (its LIFO slot): one pending spawn is left to
    // this worker, which is running and will get to it; a second one wakes
    // a sleeper. Waking one for each spawn of a chain (each task spawning
    // the next) would have the two workers take turns at it, parking and
    // waking each other, and a child awaited at once by its parent runs
    // inline before a woken worker could reach it. The price: a task that
    // spawns one child and then computes for long without suspending keeps
    // it from other workers until its poll ends (as in Tokio).
    if (sched.asyncio_order || !sched.idle.maybe_should_wakeup()) return;
    if (more_than_one_pending()) sched.notify_parked();
}

void loop_core::push_spawned(queue_entry e) {
    if (!local_.try_push(e)) [[unlikely]]
        return push_after_making_room(e, true);
    wake_for_spawn();
}

void loop_core::push_new_spawn(task_header* t) {
    if (!local_.try_push(make_entry(t, true))) [[unlikely]]
        return push_new_spawn_after_making_room(t);
    wake_for_spawn();
}

void loop_core::push_new_spawn_after_making_room(task_header* t) {
    try {
        push_after_making_room(make_entry(t, true), true);
    } catch (...) {
        discard_spawn(t);
        throw;
    }
}

void loop_core::push_after_making_room(queue_entry e, bool spawned) {
    move_half_out();
    if (spawned) push_spawned(e);
    else push_local(e);
}

void loop_core::move_half_out() {
    queue_entry batch[local_queue::capacity / 2];
    const std::size_t n = local_.take_oldest_half(batch);
    counters.overflows.add();
    // Only other workers could take entries from the injection queue; a
    // lone loop keeps them (lib/fork_join.cpp, case 2, on why).
    try {
        if (sched.asyncio_order || sched.single_loop) {
            overflow_.push_back(batch, n);
        } else if (n) {
            sched.push_injection_batch(batch, n);
        }
    } catch (...) {
        // Out of memory: the batch goes back rather than being lost (there
        // is room: it just left, and only this thread pushes), newest now.
        for (std::size_t i = 0; i < n; ++i) (void)local_.try_push(batch[i]);
        throw;
    }
}

void loop_core::push_woken(queue_entry e) {
    if (sched.asyncio_order) {
        push_local(e);
        return;
    }
    if (queue_entry previous = exchange_lifo_slot(e)) push_local(previous);
}

queue_entry loop_core::exchange_lifo_slot(queue_entry e) noexcept {
    // A lone worker's slot is its own: only thieves take from another
    // loop's slot, and a lone worker has none (search() steals nothing
    // then). So a load and a store do instead of a locked exchange, two
    // per wake-up (ping_pong with 1 worker).
    if (sched.single_loop) {
        const queue_entry previous = lifo_slot_.load(std::memory_order_relaxed);
        lifo_slot_.store(e, std::memory_order_relaxed);
        return previous;
    }
    // release: publishes the woken task to a thief that takes it (with an
    // acquire exchange in steal_from).
    return lifo_slot_.exchange(e, std::memory_order_acq_rel);
}

void loop_core::push_pinned(queue_entry e) {
    if (sched.asyncio_order) {
        push_local(e);  // one FIFO for everything, as asyncio's ready queue
        return;
    }
    // No wake-up: only this loop, which is running, may take it.
    pinned_.push_back(e);
}

void loop_core::push_inbox(queue_entry e) {
    inbox_.push(e);
    if (tl_core != this) wake_up();
}

void loop_core::add_timer(callback_node* node) {
    try {
        if (tl_core == this) {
            timers_.push(node);
            return;
        }
        std::lock_guard lock(incoming_timers_mutex_);
        incoming_timers_.push_back(node);
        has_incoming_timers_.store(true, std::memory_order_release);
    } catch (...) {
        node->release();  // the timers' reference, which they never took
        throw;
    }
    wake_up();
}

// ---- timers ------------------------------------------------------------------

bool loop_core::merge_incoming_timers() noexcept {
    if (!has_incoming_timers_.load(std::memory_order_acquire)) return true;
    // Under the lock, a timer leaves the incoming list only once the heap
    // holds it: when the heap cannot grow, that timer and those after it
    // stay for the next merge (park_until_work sleeps briefly then), where
    // taking the list first would have lost them.
    std::lock_guard lock(incoming_timers_mutex_);
    std::size_t merged = 0;
    try {
        for (; merged < incoming_timers_.size(); ++merged) timers_.push(incoming_timers_[merged]);
    } catch (...) {  // the heap's growth: nothing else in push throws
    }
    incoming_timers_.erase(incoming_timers_.begin(), incoming_timers_.begin() + static_cast<std::ptrdiff_t>(merged));
    if (!incoming_timers_.empty()) return false;
    has_incoming_timers_.store(false, std::memory_order_relaxed);
    return true;
}

bool loop_core::fire_due_timers() {
    merge_incoming_timers();
    if (timers_.empty()) return false;
    timers_.compact_if_worthwhile();
    const auto now = std::chrono::steady_clock::now();
    bool fired = false;
    while (callback_node* n = timers_.pop_due(now)) {
        fired = true;
        const queue_entry e = make_entry(n, false);
        // asyncio order: a due timer joins the back of the ready queue. In a
        // runtime it runs now, here: a queued callback could be stolen, and
        // a timer callback must run on its own loop.
        if (sched.asyncio_order) push_local(e);
        else run_entry(e);
    }
    return fired;
}

// ---- finding work when there is none locally ---------------------------------

queue_entry loop_core::search() {
    if (queue_entry e = inbox_.pop()) return counters.from_inbox.add(), e;
    // Every loop, a lone one included, searches under the idle set's
    // protocol: a searcher that goes to sleep last re-checks the queues, and
    // that re-check is what catches a push racing with its sleep.
    if (!searching_) searching_ = sched.idle.transition_to_searching();
    if (searching_ && !sched.single_loop) {
        const std::size_t n = sched.loops.size();
        rng_ ^= rng_ << 13;
        rng_ ^= rng_ >> 7;
        rng_ ^= rng_ << 17;
        const std::size_t start = static_cast<std::size_t>(rng_ % n);
        for (std::size_t i = 0; i < n; ++i) {
            loop_core* victim = sched.loops[(start + i) % n];
            if (victim == this) continue;
            if (queue_entry e = steal_from(*victim)) return e;
        }
    }
    // The injection queue: take a fair share into the local queue.
    queue_entry batch[local_queue::capacity / 2];
    const std::size_t share = sched.injection.size() / sched.loops.size() + 1;
    const std::size_t got = sched.injection.pop_batch(batch, share < std::size(batch) ? share : std::size(batch));
    if (got == 0) return 0;
    counters.from_injection.add(got);
    for (std::size_t i = 1; i < got; ++i) push_local(batch[i]);
    return batch[0];
}

queue_entry loop_core::steal_from(loop_core& victim) {
    // Half of the victim's queue, one CAS per entry (see local_queue.hpp on
    // why a thief cannot claim a batch); the first one is run at once.
    counters.steal_attempts.add();
    const std::int64_t want = (victim.local_.size() + 1) / 2;
    queue_entry first = 0;
    std::int64_t taken = 0;
    while (taken < want) {
        queue_entry e = 0;
        const auto r = victim.local_.try_steal(e);
        if (r == local_queue::steal_result::empty) break;
        if (r == local_queue::steal_result::lost_race) continue;
        ++taken;
        if (!first) first = e;
        else push_local(e);
    }
    if (!first && victim.lifo_slot_.load(std::memory_order_relaxed) != 0) {
        // The LIFO slot is stolen only by a worker that would otherwise sleep.
        first = victim.lifo_slot_.exchange(0, std::memory_order_acquire);
        if (first) taken = 1;
    }
    if (first) {
        counters.steal_successes.add();
        counters.stolen.add(static_cast<std::uint64_t>(taken));
        if (trace) [[unlikely]]
            trace->steal(victim.index, static_cast<std::uint64_t>(taken), trace_clock::now());
    }
    return first;
}

bool loop_core::has_work_seq_cst() const noexcept {
    return !local_.empty_seq_cst() || lifo_slot_.load(std::memory_order_seq_cst) != 0 || !inbox_.empty();
}

void loop_core::poll_io() noexcept {
    io_run_catch run;
    try {
        io_reactor.poll();
    } catch (...) {
        io_failed(run);
    }
}

reactor::park_end loop_core::park_io(reactor::time_point deadline) noexcept {
    io_run_catch run;
    try {
        return io_reactor.park(deadline);
    } catch (...) {
        io_failed(run);
        return reactor::park_end::io;
    }
}

void loop_core::io_failed(io_run_catch& run) noexcept {
    // The operations whose completion the exception unwound through get
    // it at their awaits; one that dropped no handler is the loop's to report.
    if (run.deliver(std::current_exception())) return;
    try {
        if (owner) owner->call_exception_handler({"Exception in an IO completion", std::current_exception()});
    } catch (...) {  // out of memory for the report itself: nothing to tell it with
    }
}

void loop_core::park_until_work() {
    const bool timers_merged = merge_incoming_timers();
    // Frames the depot keeps for the next burst go back to malloc once they
    // have lain unused for a decay period: a sleeper wakes for that as for
    // a timer. While more are owed than one call gives back, look for work
    // between the batches instead of sleeping. An empty depot (an IO
    // server's usual state) costs no clock read. The depot is shared: a
    // loop asks it again only when the time it was told comes, not at
    // every park (spawn_remote's workers park thousands of times a run).
    auto deadline = timers_.next_deadline();
    if (!timers_merged) deadline = std::min(deadline, std::chrono::steady_clock::now() + timer_merge_retry_delay);
    if (frames_in_depot() != 0) {
        const auto now = depot_clock::now();
        if (now >= next_depot_trim_ || next_depot_trim_ == depot_clock::time_point::max())
            next_depot_trim_ = decay_frame_depot(now);
        if (next_depot_trim_ <= now) return;
        deadline = std::min(deadline, next_depot_trim_);
    }
    // Sleep protocol (idle_set.hpp), sleeper's side. The protocol needs only
    // the last searcher to re-check; every sleeper does, because a loop that
    // never searched (a standalone loop's rounds) must not miss a push that
    // raced with its last look at the queues either. It is the slow path.
    const bool others_awake = sched.idle.transition_to_parked(index, searching_);
    searching_ = false;
    if (sched.any_work_pending()) sched.notify_parked();
    if (inbox_.empty() && !stop_requested.load(std::memory_order_acquire) &&
        !sched.shutting_down.load(std::memory_order_acquire)) {
        counters.parks.add();
        counters.start_parked(worker_counters::now_ns());
        const std::uint64_t trace_parked = trace ? trace_clock::now() : 0;
        // The re-check above can miss a push by another worker, whose
        // glance at the idle set has no fence (idle_set.hpp): look once more
        // a moment later, still listed as a sleeper. Only while another
        // worker is unparked: parked ones push nothing this loop must see
        // (a lone loop never has one). A timed park costs an IO server on a
        // VM about 2 us a park (the kernel arms and cancels a timer).
        const auto recheck_at =
            !others_awake ? depot_clock::time_point::max() : depot_clock::now() + park_recheck_delay;
        // Only a park that the re-check's deadline ended is followed by the
        // second: after an IO handler or an unpark this loop may have work
        // of its own, and must go and look for it.
        using park_end = reactor::park_end;
        park_end end = park_io(std::min(deadline, recheck_at));
        if (end == park_end::deadline && deadline > recheck_at) {
            if (sched.any_work_pending()) sched.notify_parked();
            end = park_io(deadline);
        }
        if (trace) [[unlikely]]
            trace->park(trace_parked, trace_clock::now());
        counters.end_parked(worker_counters::now_ns());
        if (end == park_end::unparked) counters.unparks.add();
    }
    // Still listed as a sleeper: woken by a timer, the inbox or stop, not by
    // a publisher (which would have counted us as searching).
    if (!sched.idle.unpark_worker_by_id(index)) searching_ = true;
    // IO handlers run inside the park pushed here with a glance at the idle
    // set taken while this loop counted as parked, and a worker that parked
    // meanwhile saw no other worker unparked, so it does not look again
    // (above): a backlog they left is shared now, with a fenced check.
    if (more_than_one_pending() && sched.idle.notify_should_wakeup()) sched.notify_parked();
}

// ---- the registry behind all_tasks() and shutdown ------------------------------

bool loop_core::registry_add(task_header* t) noexcept {
    registry_lock_.lock();
    if (registry_closed_) {
        registry_lock_.unlock();
        return false;
    }
    t->registry_prev = nullptr;
    t->registry_next = registry_head_;
    if (registry_head_) registry_head_->registry_prev = t;
    registry_head_ = t;
    t->registry = static_cast<std::uint16_t>(index + 1);
    registry_lock_.unlock();
    return true;
}

bool loop_core::try_close_registry() noexcept {
    registry_lock_.lock();
    if (!registry_head_) registry_closed_ = true;
    const bool closed = registry_closed_;
    registry_lock_.unlock();
    return closed;
}

void loop_core::registry_remove(task_header* t) noexcept {
    registry_lock_.lock();
    (t->registry_prev ? t->registry_prev->registry_next : registry_head_) = t->registry_next;
    if (t->registry_next) t->registry_next->registry_prev = t->registry_prev;
    t->registry_prev = t->registry_next = nullptr;
    t->registry = 0;
    registry_lock_.unlock();
}

void loop_core::collect_tasks(std::vector<task_header*>& out) {
    registry_lock_.lock();
    for (task_header* t = registry_head_; t; t = t->registry_next) {
        t->add_ref();
        out.push_back(t);
    }
    registry_lock_.unlock();
}

bool loop_core::registry_empty() noexcept {
    registry_lock_.lock();
    const bool empty = registry_head_ == nullptr;
    registry_lock_.unlock();
    return empty;
}

// ---- scheduler -------------------------------------------------------------------

void scheduler::push_injection(queue_entry e) {
    injection.push(e);
    notify_parked();
}

void scheduler::push_injection_batch(const queue_entry* first, std::size_t n) {
    injection.push_batch(first, n);
    notify_parked();
}

void scheduler::notify_parked() {
    if (auto worker = idle.worker_to_notify()) loops[*worker]->wake_up();
}

bool scheduler::any_work_pending() const {
    if (!injection.empty()) return true;
    for (loop_core* l : loops)
        if (l->has_work_seq_cst()) return true;
    return false;
}

void scheduler::unpark_all() {
    for (loop_core* l : loops) l->wake_up();
}

}  // namespace corio::detail
