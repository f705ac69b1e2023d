#include "left_armed.hpp"

#include "corio/create_task.hpp"
#include "corio/errors.hpp"
#include "corio/sleep.hpp"

using namespace std::chrono_literals;

namespace corio_oom {

corio::task<void> check_not_left_armed(after_failure& seen) {
    corio::current_task().cancel();
    try {
        co_await corio::sleep(10ms);
    } catch (const corio::cancelled_error&) {
        seen.cancel_seen = true;
    }
    const auto start = corio::clock::now();
    co_await corio::sleep(armed_check_sleep);
    seen.slept = corio::clock::now() - start;
}

}  // namespace corio_oom
