// Cross-core stress for the queues: a million items through one bounded
// queue (maxsize 64) by 16 producers and 16 consumers on 8 workers, more
// workers than cores, so getters and putters park, hand over and admit
// across workers all the time. Each item must arrive exactly once, also
// when half of the consumers are cancelled mid-way.
#include "corio/queue.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "corio/corio.hpp"

using namespace std::chrono_literals;

namespace {

constexpr int producers = 16, consumers = 16, per_producer = 62'500, total = producers * per_producer;
constexpr std::ptrdiff_t maxsize = 64;

/// seen[i] counts the deliveries of item i.
using seen_counts = std::vector<std::atomic<std::uint8_t>>;

int delivered_not_once(const seen_counts& seen) {
    int wrong = 0;
    for (const auto& s : seen) wrong += s.load(std::memory_order_relaxed) != 1;
    return wrong;
}

template <class Q>
corio::task<void> produce(Q& q, int first) {
    for (int i = first; i < first + per_producer; ++i) co_await q.put(i);
}

/// Takes items until a poison pill (-1).
template <class Q>
corio::task<void> consume_until_pill(Q& q, seen_counts& seen) {
    for (;;) {
        const int v = co_await q.get();
        if (v < 0) co_return;
        seen[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
    }
}

/// Takes items until the queue is shut down and empty (or this task is cancelled).
template <class Q>
corio::task<void> consume_until_shut_down(Q& q, seen_counts& seen, std::atomic<int>& received) {
    for (;;) {
        int v;
        try {
            v = co_await q.get();
        } catch (const corio::queue_shut_down&) {
            co_return;
        }
        seen[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed);
        received.fetch_add(1, std::memory_order_relaxed);
    }
}

}  // namespace

TEST_CASE("sixteen producers and sixteen consumers move every item exactly once", "[queue][stress]") {
    seen_counts seen(total);
    corio::run(
        [](seen_counts& seen) -> corio::task<void> {
            corio::queue<int> q(maxsize);
            std::vector<corio::task_handle<void>> all;
            for (int p = 0; p < producers; ++p) all.push_back(corio::create_task(produce(q, p * per_producer)));
            for (int c = 0; c < consumers; ++c) all.push_back(corio::create_task(consume_until_pill(q, seen)));
            for (int p = 0; p < producers; ++p) co_await all[static_cast<std::size_t>(p)];
            for (int c = 0; c < consumers; ++c) co_await q.put(-1);
            for (auto& h : all) co_await h;
        }(seen),
        {.workers = 8});
    REQUIRE(delivered_not_once(seen) == 0);
}

TEST_CASE("consumers cancelled mid-way lose no item: the others drain them all", "[queue][stress][cancel]") {
    seen_counts seen(total);
    const int cancelled = corio::run(
        [](seen_counts& seen) -> corio::task<int> {
            corio::queue<int> q(maxsize);
            std::atomic<int> received{0};
            std::vector<corio::task_handle<void>> producing, consuming;
            for (int p = 0; p < producers; ++p) producing.push_back(corio::create_task(produce(q, p * per_producer)));
            for (int c = 0; c < consumers; ++c)
                consuming.push_back(corio::create_task(consume_until_shut_down(q, seen, received)));
            while (received.load(std::memory_order_relaxed) < total / 4) co_await corio::sleep(1ms);
            for (std::size_t c = 0; c < consuming.size(); c += 2) consuming[c].cancel();
            for (auto& h : producing) co_await h;
            q.shutdown();  // the remaining consumers drain the queue, then stop
            int cancelled = 0;
            for (auto& h : consuming) {
                co_await h.wait_done();
                cancelled += h.cancelled();
            }
            co_return cancelled;
        }(seen),
        {.workers = 8});
    REQUIRE(cancelled == consumers / 2);
    REQUIRE(delivered_not_once(seen) == 0);
}
