// Request ids through spawned tasks on more workers than cores: every
// handler sets its own id, its children and grandchildren hop between
// workers and set ids of their own, and everyone must keep seeing exactly
// the value its own context holds (the shared maps are read on one worker
// while their owners replace or release them on others).
#include "corio/context_var.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstddef>
#include <vector>

#include "corio/corio.hpp"

namespace {

corio::context_var<std::size_t> request_id("request_id", 0);

corio::task<void> leaf(std::size_t expected, std::atomic<std::size_t>& wrong) {
    for (int i = 0; i < 3; ++i) {
        co_await corio::yield();  // may resume on another worker
        if (request_id.get() != expected) ++wrong;
    }
}

corio::task<void> child(std::size_t id, std::atomic<std::size_t>& wrong) {
    co_await corio::yield();
    if (request_id.get() != id) ++wrong;
    auto grandchild = corio::create_task(leaf(id, wrong));  // inherits id
    request_id.set(id + 1'000'000);                         // ours only, from here on
    auto second = corio::create_task(leaf(id + 1'000'000, wrong));
    co_await grandchild;
    co_await second;
    if (request_id.get() != id + 1'000'000) ++wrong;
}

corio::task<void> handler(std::size_t id, std::atomic<std::size_t>& wrong) {
    request_id.set(id);
    std::vector<corio::task_handle<void>> children;
    for (int i = 0; i < 4; ++i) children.push_back(corio::create_task(child(id, wrong)));
    for (auto& c : children) co_await c;
    if (request_id.get() != id) ++wrong;  // no child's set() leaked back
}

}  // namespace

TEST_CASE("request ids flow into spawned tasks and stay apart on 8 workers", "[context_var][stress]") {
    std::atomic<std::size_t> wrong{0};
    corio::run(
        [](std::atomic<std::size_t>& wrong) -> corio::task<void> {
            std::vector<corio::task_handle<void>> hs;
            for (std::size_t id = 1; id <= 2000; ++id) hs.push_back(corio::create_task(handler(id, wrong)));
            for (auto& h : hs) co_await h;
        }(wrong),
        corio::run_options{.workers = 8});
    REQUIRE(wrong.load() == 0);
    REQUIRE(request_id.get() == 0);
}
