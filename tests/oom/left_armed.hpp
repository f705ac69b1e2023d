// What a task that an out-of-memory error left with its wait armed gets
// wrong afterwards: a stale wake-up for that wait resumes it a second time.
// check_not_left_armed shows it: a cancel, delivered at the next await,
// and then a sleep, which the stale resumption cuts short.
#pragma once

#include <chrono>

#include "corio/event_loop.hpp"
#include "corio/task.hpp"

namespace corio_oom {

struct after_failure {
    bool cancel_seen = false;
    corio::clock::duration sleep_of_20ms{};
};

corio::task<void> check_not_left_armed(after_failure& seen);

}  // namespace corio_oom
