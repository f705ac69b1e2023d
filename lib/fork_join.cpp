// The fork-join fast path: a task that awaits a child which has not started
// yet runs it right here, nested in its own poll, instead of suspending and
// waiting for a worker to get to it (what TBB's task_group::wait and
// libfork do). Only in a multi-worker runtime: a standalone loop keeps
// asyncio's order, where a child runs when the loop reaches it.
//
// 1. If the child is one of the newest entries of this worker's queue
//    (within inline_reach), take it out, the newest entry moving into its
//    slot (one fence, as a pop; none with one worker), and run it. When
//    the parent's handle is its only one, nobody else can reach it: its
//    first poll is claimed, completed and released with plain stores
//    (run_spawn_entry, which every spawn entry goes through).
//    A parent that spawned several children and awaits the oldest first
//    (skynet's ten) gets every one of them this way; running the newer
//    siblings first instead, as TBB's wait would, claimed each of them with
//    three atomic read-modify-writes, since their handles might be anywhere:
//    skynet took 1.15x as long on one worker, 1.25x on two.
// 2. If it is the oldest pending entry, take it from there as in 1: a
//    parent that spawned more children than inline_reach and awaits them
//    in spawn order (a gather) finds each next one at the top of its queue
//    (one CAS, as a thief's; none with one worker) or, with one worker,
//    at the front of the overflow list, where a full queue moved its
//    older half (no other worker could take it from the injection queue).
//    A thousand children awaited in order took 1.3x as long when the
//    newer siblings ran first instead, each claimed with atomics.
// 3. If it sits in between, run the newer unstarted entries above it,
//    newest first, until it comes up; they are pending work and must run
//    anyway.
// 4. Otherwise (it sits deeper, in the injection queue, or in a victim's
//    queue) claim its first poll by CAS; its spawn entry stays behind as a
//    tombstone that whoever pops it drops. Each tombstone costs a second,
//    cold visit to the child's header long after it completed: with them,
//    a million children awaited in order on one worker (spawn_join) took
//    1.4x as long, hence the overflow list's front in 2.
// A nested poll of a child that suspends simply returns; the parent then
// waits for it the ordinary way, as it does once the nested polls have
// used their stack budget (context.hpp, inline_stack_budget).
#include "context.hpp"
#include "corio/detail/task_header.hpp"
#include "loop_core.hpp"

namespace corio::detail {

namespace {
/// How deep below the newest entry the awaited child is looked for in the
/// worker's queue: room for the children of a wide fork (skynet's 10)
/// spawned in a row, while a look at the entries costs less than a poll.
constexpr std::int64_t inline_reach = 16;
}  // namespace

void loop_core::run_awaited_child(task_header* child) noexcept {
    // The overflow list's front (case 2), then case 1, on their own, ending
    // in tail calls: no register saves on the way (the rest needs them).
    // The front first: a parent awaiting a million children in order would
    // otherwise scan the newest entries for each one in vain (1.26x as long).
    const queue_entry wanted = make_entry(child, true);
    if (!overflow_.empty() && overflow_.front() == wanted) {
        overflow_.pop_front();
        return run_spawn_entry(child, true);
    }
    if (local_.take_near_newest(wanted, inline_reach, sched.single_loop)) return run_spawn_entry(child, true);
    run_awaited_child_below(child);
}

void loop_core::run_awaited_child_below(task_header* child) noexcept {
    const queue_entry wanted = make_entry(child, true);
    if (local_.take_oldest_if(wanted, sched.single_loop)) return run_spawn_entry(child, true);
    while (!child->is_started()) {
        const queue_entry newest = local_.peek_newest();
        if (newest == 0 || !entry_is_initial(newest)) break;  // only unstarted spawns are helped
        const queue_entry e = sched.single_loop ? local_.pop_newest_exclusive() : local_.pop_newest();
        if (e == 0) break;  // lost the last entry to a thief
        if (e == wanted) return run_spawn_entry(child, true);
        run_entry(e);
    }
    if (try_start(child)) poll(child, true);  // its spawn entry is now a tombstone
}

void try_run_inline(task_header* child) noexcept {
    loop_core* const core = tl_core;
    if (!core || core->sched.asyncio_order || !inline_stack_left()) return;
    if (child->pinned && child->home != core) return;
    core->run_awaited_child(child);
}

}  // namespace corio::detail
