// sleep(): a timer on the current loop whose callback wakes the task.
#include "corio/sleep.hpp"

#include "context.hpp"
#include "loop_core.hpp"

namespace corio::detail {

bool sleep_operation::await_suspend(std::coroutine_handle<> h) {
    if (deadline_ == clock::time_point::min() || deadline_ <= clock::now()) return yield_current(h);
    const std::int64_t gen = arm_wait(h);
    if (gen < 0) return false;
    // The timer keeps the task alive: it may fire on this loop while a
    // cancel has already resumed the task elsewhere.
    // Two references: the timer heap's and ours (released by ~sleep_operation).
    timer_ = make_callback([task = task_ref(tl_task, true), gen = static_cast<std::uint32_t>(gen)] {
        wake(task.header(), gen);
    }, 2);
    timer_->when = deadline_;
    add_timer(tl_core, timer_);
    return true;
}

}  // namespace corio::detail
