// corio::event: asyncio.Event, safe when its waiters run on different
// workers and when set() comes from any thread. Built on detail::wait_list:
// set() serves every waiter parked at that moment, so a wait that was
// waiting when the event was set returns true even if clear() follows at
// once (set -> clear -> set wakes them all, as in asyncio).
//
// Resumption: a wait that suspended resumes on the worker its wake-up puts
// it on (the setter's, in a runtime), never inline inside set().
#pragma once

#include <coroutine>

#include "corio/detail/spinlock.hpp"
#include "corio/detail/wait_list.hpp"

namespace corio {

class event {
    struct waiter : detail::parked_waiter {
        bool out_of_budget = false;  // already set, but the poll's coop budget ran out: yield first
    };

public:
    event() = default;
    event(const event&) = delete;
    event& operator=(const event&) = delete;

    bool is_set() const;
    /// Sets the flag and wakes every waiting task. Callable from any thread.
    void set();
    /// Resets the flag; later waits block until the next set().
    void clear();

    /// `co_await e.wait()`: returns true once the flag is set (at once if it is).
    class wait_operation {
    public:
        explicit wait_operation(event& e) noexcept : e_(e) {}
        bool await_ready();
        bool await_suspend(std::coroutine_handle<> h);
        bool await_resume();

    private:
        event& e_;
        waiter w_;
    };
    [[nodiscard]] wait_operation wait() noexcept { return wait_operation(*this); }

private:
    mutable detail::spinlock mutex_;
    bool set_ = false;  // under mutex_
    detail::wait_list waiters_;
};

}  // namespace corio
