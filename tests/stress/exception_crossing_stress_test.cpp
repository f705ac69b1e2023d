// Exceptions that cross workers: a task fails on one worker, the task that
// awaits it catches and reads the exception on another, and the failed
// task's frame is freed by whichever worker drops its last reference.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "corio/corio.hpp"

namespace {

struct numbered_failure : std::runtime_error {
    explicit numbered_failure(std::size_t n) : std::runtime_error("failed"), number(n) {}
    std::size_t number;
};

corio::task<int> fail_after_hops(std::size_t n) {
    for (std::size_t i = 0; i < n % 3; ++i) co_await corio::yield();  // may resume on another worker
    throw numbered_failure(n);
}

corio::task<void> await_and_catch(std::size_t n, std::atomic<std::size_t>& caught) {
    co_await corio::yield();
    try {
        (void)co_await corio::create_task(fail_after_hops(n));  // the handle dies before the catch
    } catch (const numbered_failure& f) {
        if (f.number == n) caught.fetch_add(1, std::memory_order_relaxed);
    }
}

corio::task<void> spawn_all(std::size_t count, std::atomic<std::size_t>& caught) {
    std::vector<corio::task_handle<void>> handles;
    handles.reserve(count);
    for (std::size_t n = 0; n < count; ++n) handles.push_back(corio::create_task(await_and_catch(n, caught)));
    for (auto& h : handles) co_await h.wait_done();
}

}  // namespace

TEST_CASE("exceptions caught on another worker than the one that threw are each caught once", "[exception][stress]") {
    constexpr std::size_t count = 20000;
    std::atomic<std::size_t> caught{0};
    corio::run(spawn_all(count, caught), {.workers = 8});
    REQUIRE(caught.load() == count);
}
