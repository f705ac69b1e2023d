// A timer that ends the current task's wait at a deadline (sleep, and
// asyncio.wait's timeout). It wakes the task at the generation its wait
// was armed with, so it is a no-op once anything else has woken the task,
// and it holds a reference to the task: it may fire on this loop after a
// cancel resumed the task elsewhere, or after the task ended.
#pragma once

#include <cstdint>

#include "corio/detail/callback.hpp"
#include "corio/event_loop.hpp"
#include "corio/task_handle.hpp"

namespace corio::detail {

/// What the timer runs.
struct wake_at_generation {
    task_ref task;
    std::uint32_t generation;
    void operator()() const noexcept { wake(task.header(), generation); }
};
using wake_timer_node = callback_impl<wake_at_generation>;

/// Adds to this thread's loop a timer due at `when` that wakes the current
/// task, whose wait was armed at generation `gen` and has not suspended
/// yet. Returns the node with a reference for the caller (the timer heap
/// holds the other): mark it cancelled when the wait ends, release it when
/// done with it.
///
/// Out of memory (the node, or the heap's room for it), the wait is
/// undone and the exception thrown, so the task carries on at its await,
/// unless a cancel woke the task first: then this returns null, with no
/// timer, and the task must suspend all the same (its poll requeues it,
/// and it resumes cancelled).
callback_node* add_wake_timer(clock::time_point when, std::uint32_t gen);

}  // namespace corio::detail
