// What the current thread is doing: which loop it drives, where its stack
// stood when the loop started (the bound on the fork-join fast path's
// nested polls), and when a task's first poll runs unshared. (Which task
// it polls and that poll's cooperative budget, tl_task and tl_budget, are
// in corio/detail/task_header.hpp, for awaiters' inline checks.)
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "corio/detail/task_header.hpp"

namespace corio::detail {

struct loop_core;

inline thread_local loop_core* tl_core = nullptr;
/// Where this thread's stack stood when its outermost loop started.
inline thread_local const char* tl_loop_stack = nullptr;
/// The references of a child that only its awaiting parent can reach:
/// alive, spawn entry, and the parent's handle (the fork-join fast path).
inline constexpr std::uint32_t awaited_child_refs = 3;
/// The references of a detached task, whose every handle is gone: alive
/// and spawn entry.
inline constexpr std::uint32_t detached_refs = 2;

/// For the thread polling `t`: the references it holds of `t` if `t` is in
/// its unshared first poll (state bits unshared_*) and no other thread has
/// a reference to it, else 0. Then nobody else can wait on it, claim it,
/// cancel it or count its references, so that poll is claimed, completed
/// and released with plain stores. (A task that hands out a handle to
/// itself meanwhile is shared from then on.) The acquire pairs with the
/// release in the subtraction of whoever held a reference last.
inline std::uint32_t unshared_refs(const task_header* t) noexcept {
    const std::uint64_t s = t->state.load(std::memory_order_relaxed);  // the bits are the poller's own
    if (!(s & task_state::unshared)) return 0;
    const std::uint32_t mine = (s & task_state::unshared_awaited) ? awaited_child_refs : detached_refs;
    return t->refs.load(std::memory_order_acquire) == mine ? mine : 0;
}
inline bool is_unshared(const task_header* t) noexcept { return unshared_refs(t) != 0; }

/// Tokio's coop budget: a poll may complete this many awaits without
/// suspending before it is made to yield.
inline constexpr int budget_per_poll = 128;

/// How much stack the nested polls of the fork-join fast path may take
/// below where the loop started: a byte budget rather than a count of
/// nested polls, checked against the stack pointer, so that nesting costs
/// no counter to keep. The native frames of a nested poll are small (a
/// coroutine's locals live in its heap frame): 224 bytes per level in the
/// release build (GCC 12), so about 1,100 levels; workers have 8 MiB stacks.
inline constexpr std::ptrdiff_t inline_stack_budget = 256 * 1024;

/// True while the fork-join fast path may nest one more poll here.
inline bool inline_stack_left() noexcept {
    const char* const here = static_cast<const char*>(__builtin_frame_address(0));
    return tl_loop_stack - here < inline_stack_budget;  // stacks grow down
}

}  // namespace corio::detail
