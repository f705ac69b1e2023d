// Out of memory in create_task, when a full run queue moves half of its
// entries out to make room: create_task throws std::bad_alloc, the task it
// was given never runs and is freed (LSan, in the ASan build), and every
// task queued before it stays queued and runs once.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstddef>
#include <new>
#include <vector>

#include "corio/corio.hpp"
#include "failing_new.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {

struct spawn_run {
    std::size_t spawned = 0;
    std::size_t ran = 0;
    std::size_t left_pending = 0;
    bool bad_alloc = false;
    bool failed = false;  // the injected failure happened
};

corio::task<void> count(std::size_t& ran) {
    ++ran;
    co_return;
}

}  // namespace

TEST_CASE("a spawn that runs out of memory making room in the run queue loses no queued task", "[oom][create_task]") {
    // The frames are made before the failure is armed, so the allocations
    // that fail in turn are the run queue's own.
    constexpr std::size_t n = 20000;  // several times the release build's 4096-entry queue
    std::vector<spawn_run> runs;
    for (std::size_t skip = 0; skip < 100; ++skip) {
        spawn_run r;
        corio_test::run_in(corio_test::standalone, [&]() -> corio::task<void> {
            std::vector<corio::task<void>> work;
            work.reserve(n);
            for (std::size_t i = 0; i < n; ++i) work.push_back(count(r.ran));
            std::vector<corio::task_handle<void>> handles;
            handles.reserve(n);
            corio_oom::fail_allocation({.skip = skip});
            try {
                for (auto& w : work) {
                    handles.push_back(corio::create_task(std::move(w)));
                    ++r.spawned;
                }
            } catch (const std::bad_alloc&) {
                r.bad_alloc = true;
            }
            r.failed = !corio_oom::cancel_pending_failure();
            auto [done, pending] = co_await corio::wait(std::move(handles), {.timeout = 10s});
            r.left_pending = pending.size();
        });
        runs.push_back(r);
        if (!r.failed) break;
    }
    REQUIRE(runs.size() >= 2);  // the run queue grew at least once
    CHECK_FALSE(runs.back().bad_alloc);
    CHECK(runs.back().spawned == n);
    for (std::size_t i = 0; i < runs.size(); ++i) {
        INFO("run " << i << " of " << runs.size());
        CHECK(runs[i].bad_alloc == runs[i].failed);
        CHECK(runs[i].ran == runs[i].spawned);
        CHECK(runs[i].left_pending == 0);
    }
}
