// wait, wait_for, as_completed (asyncio's module functions of those names).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "corio/create_task.hpp"
#include "corio/future.hpp"
#include "corio/gather.hpp"
#include "corio/task.hpp"
#include "corio/task_handle.hpp"

namespace corio {

/// asyncio.wait's return_when.
enum class completion_condition { first_completed, first_exception, all_completed };
inline constexpr completion_condition first_completed = completion_condition::first_completed;
inline constexpr completion_condition first_exception = completion_condition::first_exception;
inline constexpr completion_condition all_completed = completion_condition::all_completed;

struct wait_options {
    std::optional<clock::duration> timeout{};
    completion_condition return_when = all_completed;
};

template <class T>
struct wait_result {
    std::vector<task_handle<T>> done;
    std::vector<task_handle<T>> pending;
};

namespace detail {
/// Suspends until `condition` holds over `children` (each kept alive by the
/// caller's handle meanwhile) or the timeout passes. Cancels nothing
/// (asyncio.wait).
task<void> wait_for_condition(std::vector<task_header*> children, completion_condition condition,
                              std::optional<clock::duration> timeout);
/// Awaits `target` (read when first awaited) for at most `timeout`; on
/// timeout cancels it and awaits its end. Returns true if the timeout
/// fired. If the awaiting task is cancelled, or memory runs out for the
/// timer, `target` is cancelled and awaited too.
task<bool> await_with_timeout(const task_ref& target, clock::duration timeout);
}  // namespace detail

/// Waits until `return_when` holds or `timeout` passes; returns which
/// handles are done and which are still pending. Cancels nothing.
template <class T>
task<wait_result<T>> wait(std::vector<task_handle<T>> handles, wait_options options = {}) {
    if (handles.empty()) throw std::invalid_argument("wait() needs at least one task");
    co_await detail::wait_for_condition(detail::headers_of(handles), options.return_when, options.timeout);
    wait_result<T> result;
    for (auto& h : handles) (h.done() ? result.done : result.pending).push_back(std::move(h));
    co_return result;
}

/// Awaits `h` for at most `timeout`; on timeout cancels it, waits for it to
/// finish, and throws timeout_error.
template <class T>
task<T> wait_for(task_handle<T> h, clock::duration timeout) {
    const bool timed_out = co_await detail::await_with_timeout(h, timeout);
    if (timed_out && h.cancelled()) throw timeout_error();
    co_return h.take_result();
}
template <class T>
task<T> wait_for(task<T> t, clock::duration timeout) {
    // Nothing that allocates between the spawn and the wait, which sees the
    // task end whatever happens (it may use the caller's frame).
    task_handle<T> h;
    auto waiting = detail::await_with_timeout(h, timeout);
    h = create_task(std::move(t));
    const bool timed_out = co_await std::move(waiting);
    if (timed_out && h.cancelled()) throw timeout_error();
    co_return h.take_result();
}
/// On timeout the future is cancelled (asyncio).
template <class T>
task<T> wait_for(future<T> f, clock::duration timeout) {
    return wait_for([](future<T> fut) -> task<T> { co_return co_await std::move(fut); }(std::move(f)), timeout);
}

/// Futures that complete in the order the handles finish:
/// `for (auto f : as_completed(handles)) co_await f;`
template <class T>
std::vector<future<T>> as_completed(const std::vector<task_handle<T>>& handles) {
    struct state {
        std::vector<future<T>> slots;
        std::atomic<std::size_t> next{0};
    };
    auto st = std::make_shared<state>();
    st->slots.reserve(handles.size());
    for (std::size_t i = 0; i < handles.size(); ++i) st->slots.emplace_back();
    for (auto h : handles) {
        h.add_done_callback([st](const task_handle<T>& done) {
            future<T>& slot = st->slots[st->next.fetch_add(1, std::memory_order_relaxed)];
            if (done.cancelled()) slot.cancel();
            else if (auto e = done.exception()) slot.set_exception(e);
            else if constexpr (std::is_void_v<T>) slot.set_result();
            else if constexpr (std::is_copy_constructible_v<T>) slot.set_result(done.result());
            else slot.set_result(task_handle<T>(done).take_result());  // move-only: moved out of the task
        });
    }
    return st->slots;
}

}  // namespace corio
