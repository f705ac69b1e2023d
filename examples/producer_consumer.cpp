// producer_consumer: one producer and eight consumers over a bounded queue
// (maxsize 4), on a 4-worker runtime. The producer waits whenever the queue
// is full; consumers on different workers take items as they come. Which
// consumer gets which item depends on timing, so the program prints only what
// does not: every item was consumed exactly once, and the totals.
//
// The Python original (asyncio.Queue's documentation example, reshaped):
//
//     import asyncio
//
//     async def producer(queue, n):
//         for i in range(n):
//             await queue.put(i)          # waits while the queue is full
//
//     async def consumer(queue, seen):
//         while True:
//             item = await queue.get()
//             seen.append(item)
//             queue.task_done()
//
//     async def main():
//         queue = asyncio.Queue(maxsize=4)
//         seen = [[] for _ in range(8)]
//         consumers = [asyncio.create_task(consumer(queue, s)) for s in seen]
//         await producer(queue, 10000)
//         await queue.join()              # every item taken and processed
//         for c in consumers:
//             c.cancel()
//         await asyncio.gather(*consumers, return_exceptions=True)
//         counts = [0] * 10000
//         for s in seen:
//             for item in s:
//                 counts[item] += 1
//         print("produced", 10000, "items through a queue of maxsize", queue.maxsize)
//         print("consumed", sum(len(s) for s in seen), "items with", len(consumers), "consumers")
//         print("each item exactly once:", all(c == 1 for c in counts))
//         print("sum of squares:", sum(i * i for s in seen for i in s))
//
//     asyncio.run(main())
#include <cstdint>
#include <cstdio>
#include <vector>

#include <corio/corio.hpp>

constexpr int items = 10000;
constexpr int consumers = 8;

corio::task<> producer(corio::queue<int>& queue, int n) {
    for (int i = 0; i < n; ++i) co_await queue.put(i);  // waits while the queue is full
}

// Each consumer appends to its own vector: no two consumers share state, so
// nothing needs a lock even when they run on different workers.
corio::task<> consumer(corio::queue<int>& queue, std::vector<int>& seen) {
    for (;;) {
        const int item = co_await queue.get();
        seen.push_back(item);
        queue.task_done();
    }
}

corio::task<> amain() {
    corio::queue<int> queue(4);
    std::vector<std::vector<int>> seen(consumers);
    std::vector<corio::task_handle<>> tasks;
    for (auto& s : seen) tasks.push_back(corio::create_task(consumer(queue, s)));
    co_await producer(queue, items);
    co_await queue.join();  // every item taken and task_done()
    for (auto& t : tasks) t.cancel();
    // Awaiting the consumers also makes their writes to `seen` visible here.
    for (auto& t : tasks) {
        try {
            co_await t;
        } catch (const corio::cancelled_error&) {
        }
    }

    std::vector<int> counts(items, 0);
    std::size_t consumed = 0;
    std::int64_t sum_of_squares = 0;
    for (const auto& s : seen) {
        consumed += s.size();
        for (int item : s) {
            ++counts[item];
            sum_of_squares += std::int64_t{item} * item;
        }
    }
    bool exactly_once = true;
    for (int c : counts) exactly_once = exactly_once && c == 1;
    std::printf("produced %d items through a queue of maxsize %zu\n", items, queue.maxsize());
    std::printf("consumed %zu items with %d consumers\n", consumed, consumers);
    std::printf("each item exactly once: %s\n", exactly_once ? "True" : "False");
    std::printf("sum of squares: %lld\n", static_cast<long long>(sum_of_squares));
}

int main() { corio::run(amain(), corio::run_options{.workers = 4}); }
