// Cancels passed down chains of tasks each awaiting the next, on more
// workers than cores, racing with the chains' own ends: leaves that finish
// by themselves, or clean up after a cancel and end cancelled, or swallow it
// and return a value; heads cancelled once or twice, middles cancelled
// directly too. Whatever the interleaving, an await of a task must end only
// after that task has (asyncio's await of a cancelled task's _fut_waiter),
// and every task must end.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <vector>

#include "corio/corio.hpp"
#include "splitmix.hpp"

namespace {

using corio_test::mix;
using namespace std::chrono_literals;

constexpr std::size_t chains = 1000;

struct chain_record {
    std::atomic<int> awaits_ended{0};
    std::atomic<int> awaits_ended_early{0};  // the awaited task was not done yet: the bug
    std::atomic<bool> leaf_saw_cancel{false};
};

corio::task<int> leaf(std::uint64_t r, chain_record& rec) {
    bool cancelled = false;
    try {
        for (unsigned i = 0; i < r % 5; ++i) co_await corio::yield();  // may resume on another worker
        if ((r >> 4) % 3 == 0) co_await corio::sleep(1ms);
    } catch (const corio::cancelled_error&) {
        cancelled = true;
    }
    if (!cancelled) co_return 1;
    rec.leaf_saw_cancel = true;
    co_await corio::yield();  // cleanup that suspends
    if ((r >> 8) % 2 == 0) co_return 42;  // swallowed
    throw corio::cancelled_error();
}

corio::task<int> link(corio::task_handle<int> next, chain_record& rec) {
    int v = 0;
    bool threw = false;
    try {
        v = co_await next;
    } catch (const corio::cancelled_error&) {
        threw = true;
    }
    rec.awaits_ended.fetch_add(1, std::memory_order_relaxed);
    if (!next.done()) rec.awaits_ended_early.fetch_add(1, std::memory_order_relaxed);
    if (threw) throw corio::cancelled_error();
    co_return v;
}

corio::task<void> run_chain(std::size_t c, chain_record& rec) {
    const std::uint64_t r = mix(c);
    auto bottom = corio::create_task(leaf(r, rec));
    auto middle = corio::create_task(link(bottom, rec));
    auto head = (r >> 12) % 2 == 0 ? corio::create_task(link(middle, rec)) : middle;
    for (unsigned i = 0; i < (r >> 16) % 4; ++i) co_await corio::yield();
    head.cancel();
    if ((r >> 20) % 4 == 0) head.cancel();
    if ((r >> 24) % 4 == 0) middle.cancel();
    co_await head.wait_done();
    co_await middle.wait_done();
    co_await bottom.wait_done();
}

corio::task<void> run_all(std::vector<chain_record>& records) {
    std::vector<corio::task_handle<void>> handles;
    for (std::size_t c = 0; c < chains; ++c) handles.push_back(corio::create_task(run_chain(c, records[c])));
    for (auto& h : handles) co_await h;
}

}  // namespace

TEST_CASE("cancels passed down chains of awaiting tasks on 8 workers end no await before its task",
          "[cancel][stress]") {
    std::vector<chain_record> records(chains);
    corio::run(run_all(records), {.workers = 8});
    std::size_t saw_cancel = 0, awaits = 0;
    for (std::size_t c = 0; c < chains; ++c) {
        INFO("chain " << c);
        REQUIRE(records[c].awaits_ended_early.load() == 0);
        awaits += static_cast<std::size_t>(records[c].awaits_ended.load());
        saw_cancel += records[c].leaf_saw_cancel ? 1 : 0;
    }
    // The mix the test is about did happen.
    CHECK(saw_cancel > 0);
    CHECK(awaits > chains);
}
