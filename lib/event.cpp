// corio::event (corio/event.hpp).
#include "corio/event.hpp"

#include <mutex>

#include "corio/detail/task_header.hpp"

namespace corio {

bool event::is_set() const {
    std::lock_guard g(mutex_);
    return set_;
}

void event::set() {
    std::lock_guard g(mutex_);
    if (set_) return;  // nobody waits while it is set
    set_ = true;
    detail::serve_all(waiters_);
}

void event::clear() {
    std::lock_guard g(mutex_);
    set_ = false;
}

bool event::wait_operation::await_ready() {
    // Out of budget: await_suspend checks again, then yields.
    if ((w_.out_of_budget = !detail::consume_budget())) return false;
    std::lock_guard g(e_.mutex_);
    return w_.served = e_.set_;
}

bool event::wait_operation::await_suspend(std::coroutine_handle<> h) {
    {
        std::lock_guard g(e_.mutex_);
        if (!(w_.served = e_.set_)) return detail::park_locked(w_, h, e_.waiters_);
    }
    return w_.out_of_budget && detail::yield_current(h);
}

bool event::wait_operation::await_resume() {
    // Served: the event was set while it waited; a cancel that came after
    // that stays pending for the next suspension point.
    detail::finish_wait(e_.mutex_, w_, e_.waiters_);
    return true;
}

}  // namespace corio
