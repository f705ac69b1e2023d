// Free functions on the running loop: create_task, ensure_future,
// current_task, all_tasks (asyncio's module-level functions).
#pragma once

#include <vector>

#include "corio/event_loop.hpp"
#include "corio/future.hpp"
#include "corio/task.hpp"
#include "corio/task_handle.hpp"

namespace corio {

/// Schedules `t` on the running loop; throws std::runtime_error outside one.
/// On a runtime worker the task goes to that worker's queue: an idle worker
/// may take it at once, except when it is the only task waiting there, which
/// is left to this worker for after the current step (README, "One pending
/// spawn wakes nobody").
// (Overloads, not a defaulted `const task_options& = {}`: GCC 12 copies such
// a temporary bytewise into a coroutine frame when the call sits inside a
// co_await expression, then frees its string buffer twice.)
template <class T>
task_handle<T> create_task(task<T> t, const task_options& opts) {
    return task_handle<T>(detail::spawn_task(std::move(t), nullptr, opts), false);
}
template <class T>
task_handle<T> create_task(task<T> t) {
    return task_handle<T>(detail::spawn_task(std::move(t)), false);
}

/// A task is scheduled; a task handle or future is returned as it is.
template <class T>
task_handle<T> ensure_future(task<T> t) {
    return create_task(std::move(t));
}
template <class T>
task_handle<T> ensure_future(task_handle<T> h) noexcept {
    return h;
}
template <class T>
future<T> ensure_future(future<T> f) noexcept {
    return f;
}

/// The task running on this thread (empty outside tasks).
task_ref current_task() noexcept;
/// The tasks of the running loop's runtime (or standalone loop) that have
/// started and are not done. Unlike asyncio, a task that has not run yet is
/// not listed: tasks join the registry when they first suspend, so
/// fork-join children that finish in one go never pay for it.
std::vector<task_ref> all_tasks();

}  // namespace corio
