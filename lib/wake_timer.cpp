// add_wake_timer (corio/detail/wake_timer.hpp).
#include "corio/detail/wake_timer.hpp"

#include "context.hpp"
#include "loop_core.hpp"

namespace corio::detail {

callback_node* add_wake_timer(clock::time_point when, std::uint32_t gen) {
    task_header* const t = tl_task;
    callback_node* timer = nullptr;
    try {
        // Two references: the timer heap's and the caller's.
        timer = make_callback(wake_at_generation{task_ref(t, true), gen}, 2);
        timer->when = when;
        add_timer(tl_core, timer);  // drops the heap's reference if it fails
        return timer;
    } catch (...) {
        if (timer) timer->release();  // ours
        if (disarm_wait(t, gen)) throw;
        return nullptr;
    }
}

}  // namespace corio::detail
