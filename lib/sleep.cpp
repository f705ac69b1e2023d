// sleep(): a timer on the current loop whose callback wakes the task.
#include "corio/sleep.hpp"

#include "corio/detail/wake_timer.hpp"

namespace corio::detail {

bool sleep_operation::await_suspend(std::coroutine_handle<> h) {
    // No second clock read: sleep(d > 0) made its deadline from now a moment
    // ago. Should it pass before the timer is added, the timer fires at the
    // loop's next look at its timers (each round for a standalone loop; a
    // worker looks every 61 ticks and whenever it runs out of work).
    if (deadline_ == clock::time_point::min()) return yield_current(h);
    const std::int64_t gen = arm_wait(h);
    if (gen < 0) return false;
    timer_ = add_wake_timer(deadline_, static_cast<std::uint32_t>(gen));
    return true;
}

}  // namespace corio::detail
