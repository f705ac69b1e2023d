// What the current thread is doing: which loop it drives, which task it
// polls, how much cooperative budget that poll has left, and how deep the
// fork-join fast path has nested polls on this stack.
#pragma once

namespace corio::detail {

struct loop_core;
struct task_header;

inline thread_local loop_core* tl_core = nullptr;
inline thread_local task_header* tl_task = nullptr;
inline thread_local int tl_budget = 0;
inline thread_local int tl_inline_depth = 0;

/// Tokio's coop budget: a poll may complete this many awaits without
/// suspending before it is made to yield.
inline constexpr int budget_per_poll = 128;

/// Nested polls (fork-join fast path) allowed on one thread's stack.
inline constexpr int max_inline_depth = 200;

}  // namespace corio::detail
