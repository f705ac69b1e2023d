// sleep(): a timer on the current loop whose callback wakes the task.
#include "corio/sleep.hpp"

#include "context.hpp"
#include "loop_core.hpp"

namespace corio::detail {

bool sleep_operation::await_suspend(std::coroutine_handle<> h) {
    // No second clock read: sleep(d > 0) made its deadline from now a moment
    // ago. Should it pass before the timer is added, the timer fires at the
    // loop's next look at its timers (each round for a standalone loop; a
    // worker looks every 61 ticks and whenever it runs out of work).
    if (deadline_ == clock::time_point::min()) return yield_current(h);
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
