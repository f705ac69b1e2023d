// shield(aw): await a task without letting the awaiting task's
// cancellation reach it (asyncio.shield). The awaiting task still sees
// cancelled_error at once; the shielded task keeps running.
#pragma once

#include <utility>

#include "corio/create_task.hpp"
#include "corio/task_handle.hpp"

namespace corio {

template <class T>
class shielded {
public:
    explicit shielded(task_handle<T> h) noexcept : handle_(std::move(h)) {}
    auto operator co_await() const noexcept { return handle_.shielded(); }
    const task_handle<T>& handle() const noexcept { return handle_; }

private:
    task_handle<T> handle_;
};

template <class T>
shielded<T> shield(task_handle<T> h) {
    return shielded<T>(std::move(h));
}
/// Starts `t` as a task first (asyncio.shield(coro)).
template <class T>
shielded<T> shield(task<T> t) {
    return shielded<T>(create_task(std::move(t)));
}

}  // namespace corio
