// A task that moves to another worker must see that worker's thread-local
// state after it resumes, in the library and in the inline code of the
// headers compiled into the user's coroutine. Clang 16 may compute a
// thread_local's address once, hoisted out of a loop, and keep it in the
// coroutine frame across suspensions (LLVM issue 63022): the task would then
// read the thread it ran on before (CORIO_DETAIL_READS_THREAD_LOCALS in
// include/corio/detail/task_header.hpp).
#include <catch2/catch.hpp>

#include <cstdint>

#include "corio/create_task.hpp"
#include "corio/errors.hpp"
#include "corio/event_loop.hpp"
#include "corio/executor.hpp"
#include "corio/policy.hpp"
#include "corio/runtime.hpp"
#include "corio/sleep.hpp"

namespace {

struct hop_report {
    int hops = 0;            // resumptions on a loop other than the one before
    int missed_cancels = 0;  // yields that returned although cancel() came first
    bool cancelled = false;  // the task ended with cancelled_error
};

/// Goes back and forth through the blocking pool, whose completions any
/// worker may pick up, until it has resumed on another worker `wanted_hops`
/// times; then cancels itself, and the next yield must throw.
corio::task<void> hop_until_cancelled(hop_report& report, int wanted_hops) {
    corio::event_loop* last = &corio::get_running_loop();
    for (std::uint64_t round = 0; round < 1'000'000; ++round) {
        co_await corio::to_thread([] {});
        corio::event_loop* now = &corio::get_running_loop();
        if (now != last && ++report.hops >= wanted_hops) corio::current_task().cancel();
        last = now;
        try {
            co_await corio::yield();
        } catch (const corio::cancelled_error&) {
            report.cancelled = true;
            throw;
        }
        if (report.hops >= wanted_hops) ++report.missed_cancels;
    }
}

}  // namespace

TEST_CASE("a task that moves between workers sees the thread it runs on", "[runtime][stress]") {
    corio::runtime rt({.workers = 4});
    for (int trial = 0; trial < 20; ++trial) {
        hop_report report;
        rt.run_until_complete([](hop_report& r) -> corio::task<void> {
            auto h = corio::create_task(hop_until_cancelled(r, 3));
            try {
                co_await h;
            } catch (const corio::cancelled_error&) {
            }
        }(report));
        REQUIRE(report.hops >= 3);
        REQUIRE(report.cancelled);
        REQUIRE(report.missed_cancels == 0);
    }
}
