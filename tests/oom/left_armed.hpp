// What a task that an out-of-memory error left with its wait armed gets
// wrong afterwards: a stale wake-up for that wait resumes it a second time.
// check_not_left_armed shows it: a cancel, delivered at the next await,
// and then a sleep, which the stale resumption cuts short.
#pragma once

#include <chrono>

#include "corio/event_loop.hpp"
#include "corio/task.hpp"

namespace corio_oom {

/// How long the check sleeps. The cancel queues a stale wake-up before the
/// sleep begins, so it would resume the task at the loop's next turn; a
/// stale wake-up from an IO peer comes as soon as that peer's thread runs.
/// Each sweep run pays this once: about 3,900 runs in all.
inline constexpr corio::clock::duration armed_check_sleep = std::chrono::milliseconds(5);

struct after_failure {
    bool cancel_seen = false;
    corio::clock::duration slept{};  ///< what a sleep of armed_check_sleep took

    bool slept_through() const { return slept >= armed_check_sleep; }
};

corio::task<void> check_not_left_armed(after_failure& seen);

}  // namespace corio_oom
