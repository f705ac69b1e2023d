#include "corio/queue.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "corio/corio.hpp"
#include "counted.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

// The three kinds over int, for TEMPLATE_TEST_CASE.
#define CORIO_INT_QUEUES corio::queue<int>, corio::priority_queue<int>, corio::lifo_queue<int>

namespace {

enum class kind { fifo, lifo, least_first };
template <class Q>
struct kind_of;
template <class T>
struct kind_of<corio::queue<T>> : std::integral_constant<kind, kind::fifo> {};
template <class T>
struct kind_of<corio::lifo_queue<T>> : std::integral_constant<kind, kind::lifo> {};
template <class T, class C>
struct kind_of<corio::priority_queue<T, C>> : std::integral_constant<kind, kind::least_first> {};

/// The order a kind returns ints in, written the obvious way (the tests'
/// priority queues order by value, smallest first).
template <class Q>
class order_model {
public:
    void push(int v) { items_.push_back(v); }
    int pop() {
        auto next = items_.begin();  // fifo: the oldest
        if constexpr (kind_of<Q>::value == kind::lifo) next = items_.end() - 1;
        if constexpr (kind_of<Q>::value == kind::least_first) next = std::min_element(items_.begin(), items_.end());
        const int v = *next;
        items_.erase(next);
        return v;
    }
    std::vector<int> drain() {
        std::vector<int> out;
        while (!items_.empty()) out.push_back(pop());
        return out;
    }

private:
    std::vector<int> items_;
};

template <class Q>
std::vector<int> drain(Q& q) {
    std::vector<int> out;
    while (!q.empty()) out.push_back(q.get_nowait());
    return out;
}

/// How an awaited get or put ended inside its task.
enum class ending { done, shut_down };

template <class Q>
corio::task<ending> get_into(Q& q, std::optional<typename Q::value_type>& out) {
    try {
        out = co_await q.get();
    } catch (const corio::queue_shut_down&) {
        co_return ending::shut_down;
    }
    co_return ending::done;
}

template <class Q>
corio::task<ending> put_and_mark(Q& q, typename Q::value_type item, bool& inserted) {
    try {
        co_await q.put(std::move(item));
    } catch (const corio::queue_shut_down&) {
        co_return ending::shut_down;
    }
    inserted = true;
    co_return ending::done;
}

template <class Q>
corio::task<void> join_of(Q& q) {
    co_await q.join();
}

}  // namespace

// ---- order ---------------------------------------------------------------------

TEST_CASE("queue is FIFO and the nowait forms report full and empty", "[queue]") {
    corio::queue<int> q(2);
    REQUIRE(q.empty());
    REQUIRE(q.maxsize() == 2);
    q.put_nowait(1);
    q.put_nowait(2);
    REQUIRE(q.full());
    REQUIRE_THROWS_AS(q.put_nowait(3), corio::queue_full);
    REQUIRE(q.get_nowait() == 1);
    REQUIRE(q.get_nowait() == 2);
    REQUIRE_THROWS_AS(q.get_nowait(), corio::queue_empty);
    corio::queue<int> unbounded(0);
    for (int i = 0; i < 1000; ++i) unbounded.put_nowait(i);
    REQUIRE_FALSE(unbounded.full());
    REQUIRE(unbounded.qsize() == 1000);
    REQUIRE(corio::queue<int>(-1).maxsize() == 0);
}

TEST_CASE("priority_queue returns the lowest entry first, like heapq", "[queue]") {
    corio::priority_queue<int> lowest;
    for (int v : {5, 3, 8, 1, 9, 1, 4}) lowest.put_nowait(v);
    REQUIRE(drain(lowest) == std::vector<int>{1, 1, 3, 4, 5, 8, 9});

    corio::priority_queue<int, std::greater<int>> highest(3);
    for (int v : {5, 3, 8}) highest.put_nowait(v);
    REQUIRE_THROWS_AS(highest.put_nowait(1), corio::queue_full);
    REQUIRE(drain(highest) == std::vector<int>{8, 5, 3});
    REQUIRE_THROWS_AS(highest.get_nowait(), corio::queue_empty);
}

TEST_CASE("priority_queue orders by its Compare, which may carry state", "[queue]") {
    struct job {
        int priority;
        std::string name;
    };
    struct by_priority {
        bool operator()(const job& a, const job& b) const { return a.priority < b.priority; }
    };
    corio::priority_queue<job, by_priority> jobs;
    jobs.put_nowait({2, "write"});
    jobs.put_nowait({0, "urgent"});
    jobs.put_nowait({1, "read"});
    std::vector<std::string> names;
    while (!jobs.empty()) names.push_back(jobs.get_nowait().name);
    REQUIRE(names == std::vector<std::string>{"urgent", "read", "write"});

    // No default constructor: the comparator comes in through the constructor.
    struct closest_to {
        explicit closest_to(int target) : target(target) {}
        bool operator()(int a, int b) const { return std::abs(a - target) < std::abs(b - target); }
        int target;
    };
    corio::priority_queue<int, closest_to> near_ten(0, closest_to(10));
    for (int v : {0, 25, 12, 7, 10}) near_ten.put_nowait(v);
    REQUIRE(drain(near_ten) == std::vector<int>{10, 12, 7, 0, 25});
}

TEST_CASE("lifo_queue returns the newest item first", "[queue]") {
    corio::lifo_queue<int> q(3);
    for (int v : {1, 2, 3}) q.put_nowait(v);
    REQUIRE(q.full());
    REQUIRE_THROWS_AS(q.put_nowait(4), corio::queue_full);
    REQUIRE(q.get_nowait() == 3);
    q.put_nowait(5);
    REQUIRE(drain(q) == std::vector<int>{5, 2, 1});
}

TEMPLATE_TEST_CASE("interleaved nowait puts and gets follow each kind's order", "[queue]", CORIO_INT_QUEUES) {
    TestType q(16);
    order_model<TestType> model;
    std::size_t size = 0;
    std::mt19937 random(7);
    int mismatches = 0;
    for (int step = 0; step < 20'000; ++step) {
        const int v = static_cast<int>(random() % 100);
        if (random() % 2 == 0) {
            if (size == 16) {
                REQUIRE_THROWS_AS(q.put_nowait(v), corio::queue_full);
                continue;
            }
            q.put_nowait(v);
            model.push(v);
            ++size;
        } else {
            if (size == 0) {
                REQUIRE_THROWS_AS(q.get_nowait(), corio::queue_empty);
                continue;
            }
            mismatches += q.get_nowait() != model.pop();
            --size;
        }
        mismatches += q.qsize() != size || q.full() != (size == 16) || q.empty() != (size == 0);
    }
    REQUIRE(mismatches == 0);
    REQUIRE(drain(q) == model.drain());
}

// ---- waiting puts and gets -------------------------------------------------------

TEMPLATE_TEST_CASE("get waits for a put and puts wait for room, in order", "[queue]", CORIO_INT_QUEUES) {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto got = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        TestType q(1);
        auto producer = corio::create_task([](TestType& q) -> corio::task<void> {
            for (int i = 0; i < 100; ++i) co_await q.put(i);  // maxsize 1: waits for each get
        }(q));
        std::vector<int> out;
        for (int i = 0; i < 100; ++i) {
            out.push_back(co_await q.get());
            q.task_done();
        }
        co_await producer;
        co_return out;
    });
    REQUIRE(got.size() == 100);
    for (int i = 0; i < 100; ++i) REQUIRE(got[static_cast<std::size_t>(i)] == i);
}

TEMPLATE_TEST_CASE("a put on a full queue waits until a get frees a slot, then its item goes in", "[queue]",
                   CORIO_INT_QUEUES) {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto got = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        TestType q(2);
        q.put_nowait(5);
        q.put_nowait(1);
        bool inserted = false;
        auto putter = corio::create_task(put_and_mark(q, 3, inserted));
        co_await corio::sleep(1ms);
        std::vector<int> out;
        out.push_back(putter.done() ? -1 : 0);  // the queue is full: it cannot be done
        out.push_back(q.get_nowait());
        co_await putter;
        out.push_back(inserted ? 1 : -1);
        for (int v : drain(q)) out.push_back(v);
        co_return out;
    });
    order_model<TestType> model;
    model.push(5);
    model.push(1);
    std::vector<int> expected{0, model.pop(), 1};
    model.push(3);
    for (int v : model.drain()) expected.push_back(v);
    REQUIRE(got == expected);
}

// Which waiter parks first is only certain on a standalone loop: the two
// FIFO-service tests run there (the stress tests cover the workers).
TEMPLATE_TEST_CASE("waiting putters are admitted oldest first and a new put does not barge past them", "[queue]",
                   CORIO_INT_QUEUES) {
    const auto got = corio_test::run_in(corio_test::standalone, []() -> corio::task<std::vector<int>> {
        TestType q(1);
        q.put_nowait(0);
        bool inserted[3] = {};
        std::vector<corio::task_handle<ending>> putters;
        for (int i = 0; i < 3; ++i) {
            putters.push_back(corio::create_task(put_and_mark(q, i + 1, inserted[i])));
            co_await corio::sleep(1ms);  // parks behind the previous one
        }
        std::vector<int> out;
        for (int i = 0; i < 3; ++i) {
            out.push_back(q.get_nowait());  // the freed slot goes to the oldest putter at once
            try {
                q.put_nowait(99);
                out.push_back(99);  // barged past the waiting putters
            } catch (const corio::queue_full&) {
            }
        }
        out.push_back(q.get_nowait());
        for (auto& p : putters) co_await p;
        co_return out;
    });
    REQUIRE(got == std::vector<int>{0, 1, 2, 3});
}

TEMPLATE_TEST_CASE("waiting getters are served oldest first", "[queue]", CORIO_INT_QUEUES) {
    const auto got = corio_test::run_in(corio_test::standalone, []() -> corio::task<std::vector<int>> {
        TestType q;
        std::optional<int> received[3];
        std::vector<corio::task_handle<ending>> getters;
        for (auto& r : received) {
            getters.push_back(corio::create_task(get_into(q, r)));
            co_await corio::sleep(1ms);
        }
        for (int v : {30, 10, 20}) q.put_nowait(v);  // each goes straight to a getter, whatever the kind
        for (auto& g : getters) co_await g;
        co_return std::vector<int>{*received[0], *received[1], *received[2]};
    });
    REQUIRE(got == std::vector<int>{30, 10, 20});
}

// ---- cancellation ----------------------------------------------------------------

TEMPLATE_TEST_CASE("a cancelled get loses no item", "[queue][cancel]", CORIO_INT_QUEUES) {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool cancel_first = GENERATE(true, false);
    struct result {
        std::size_t queued;
        std::optional<int> received;
        bool cancelled;
    };
    const auto r = corio_test::run_in(mode, [cancel_first]() -> corio::task<result> {
        TestType q;
        std::optional<int> received;
        auto getter = corio::create_task(get_into(q, received));
        co_await corio::sleep(1ms);  // the getter is waiting now
        if (cancel_first) {
            getter.cancel();
            q.put_nowait(7);  // the getter's wake-up fails: the item stays queued
        } else {
            q.put_nowait(7);  // handed over: the later cancel stays pending in the getter
            getter.cancel();
        }
        co_await getter.wait_done();
        co_return result{q.qsize(), received, getter.cancelled()};
    });
    REQUIRE(r.queued + (r.received ? 1 : 0) == 1);  // either the getter got it or it is queued: never lost
    if (r.received) REQUIRE(*r.received == 7);
    REQUIRE(r.cancelled);
    if (mode == corio_test::standalone) REQUIRE(r.received.has_value() == !cancel_first);
}

TEMPLATE_TEST_CASE("a cancelled put inserts nothing", "[queue][cancel]", CORIO_INT_QUEUES) {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool cancel_first = GENERATE(true, false);
    struct result {
        int first;
        std::vector<int> left;
        bool inserted;
    };
    const auto r = corio_test::run_in(mode, [cancel_first]() -> corio::task<result> {
        TestType q(1);
        q.put_nowait(1);
        bool inserted = false;
        auto putter = corio::create_task(put_and_mark(q, 2, inserted));
        co_await corio::sleep(1ms);  // the putter is waiting for room
        int first;
        if (cancel_first) {
            putter.cancel();
            first = q.get_nowait();  // the putter's wake-up fails: its item stays out
        } else {
            first = q.get_nowait();  // admits the putter's item; the later cancel stays pending
            putter.cancel();
        }
        co_await putter.wait_done();
        co_return result{first, drain(q), inserted};
    });
    REQUIRE(r.first == 1);
    REQUIRE(r.left == (r.inserted ? std::vector<int>{2} : std::vector<int>{}));
    if (mode == corio_test::standalone) REQUIRE(r.inserted == !cancel_first);
}

TEMPLATE_TEST_CASE("a cancel racing a put or a get on other workers neither loses nor duplicates an item",
                   "[queue][cancel]", CORIO_INT_QUEUES) {
    constexpr int rounds = 300;
    const auto wrong = corio::run(
        []() -> corio::task<int> {
            int wrong = 0;
            for (int i = 0; i < rounds; ++i) {
                {  // get vs cancel
                    TestType q;
                    std::optional<int> received;
                    auto getter = corio::create_task(get_into(q, received));
                    auto canceller = corio::create_task(
                        [](corio::task_handle<ending> t) -> corio::task<void> {
                            t.cancel();
                            co_return;
                        }(getter));
                    auto putter = corio::create_task([](TestType& q) -> corio::task<void> {
                        q.put_nowait(7);
                        co_return;
                    }(q));
                    co_await canceller;
                    co_await putter;
                    co_await getter.wait_done();
                    wrong += q.qsize() + (received ? 1 : 0) != 1;
                }
                {  // put vs cancel
                    TestType q(1);
                    q.put_nowait(1);
                    bool inserted = false;
                    int first = 0;
                    auto putter = corio::create_task(put_and_mark(q, 2, inserted));
                    auto canceller = corio::create_task(
                        [](corio::task_handle<ending> t) -> corio::task<void> {
                            t.cancel();
                            co_return;
                        }(putter));
                    auto getter = corio::create_task([](TestType& q, int& first) -> corio::task<void> {
                        first = q.get_nowait();
                        co_return;
                    }(q, first));
                    co_await canceller;
                    co_await getter;
                    co_await putter.wait_done();
                    wrong += first != 1 || drain(q) != (inserted ? std::vector<int>{2} : std::vector<int>{});
                }
            }
            co_return wrong;
        }(),
        {.workers = 4});
    REQUIRE(wrong == 0);
}

// ---- task_done and join ----------------------------------------------------------

TEMPLATE_TEST_CASE("join waits until every item is task_done; too many task_done throws", "[queue]",
                   CORIO_INT_QUEUES) {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto processed = corio_test::run_in(mode, []() -> corio::task<int> {
        TestType q;
        co_await q.join();  // nothing put yet: returns at once
        for (int i = 0; i < 10; ++i) q.put_nowait(i);
        auto worker = std::make_shared<int>(0);
        auto consumer = corio::create_task([](TestType& q, std::shared_ptr<int> n) -> corio::task<void> {
            for (;;) {
                (void)co_await q.get();
                co_await corio::yield();
                ++*n;
                q.task_done();
            }
        }(q, worker));
        co_await q.join();
        const int done = *worker;
        consumer.cancel();
        co_await consumer.wait_done();
        if (done == 10) {
            try {
                q.task_done();
            } catch (const std::logic_error&) {
                co_return done;
            }
        }
        co_return -1;
    });
    REQUIRE(processed == 10);
}

TEMPLATE_TEST_CASE("join on an empty queue returns at once; task_done without a pending item throws", "[queue]",
                   CORIO_INT_QUEUES) {
    TestType q;
    REQUIRE_THROWS_AS(q.task_done(), std::logic_error);
    q.put_nowait(1);
    q.put_nowait(2);
    (void)q.get_nowait();
    q.task_done();
    (void)q.get_nowait();
    q.task_done();
    REQUIRE_THROWS_AS(q.task_done(), std::logic_error);

    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    REQUIRE(corio_test::run_in(mode, []() -> corio::task<bool> {
        TestType q(1);
        co_await q.join();
        q.put_nowait(1);
        (void)q.get_nowait();
        q.task_done();
        co_await q.join();  // every item done: returns at once again
        co_return true;
    }));
}

// ---- shutdown --------------------------------------------------------------------

TEMPLATE_TEST_CASE("after shutdown, puts throw and gets drain what is left, then throw", "[queue][shutdown]",
                   CORIO_INT_QUEUES) {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto log = corio_test::run_in(mode, []() -> corio::task<std::vector<std::string>> {
        TestType q(4);
        for (int v : {3, 1, 2}) q.put_nowait(v);
        q.shutdown();
        std::vector<std::string> log;
        try {
            q.put_nowait(4);
            log.push_back("put_nowait went in");
        } catch (const corio::queue_shut_down&) {
            log.push_back("put_nowait: shut down");
        }
        bool put_threw = false;
        try {
            co_await q.put(4);
        } catch (const corio::queue_shut_down&) {
            put_threw = true;
        }
        log.push_back(put_threw ? "put: shut down" : "put went in");
        log.push_back("qsize " + std::to_string(q.qsize()));
        log.push_back("get " + std::to_string(co_await q.get()));
        log.push_back("get_nowait " + std::to_string(q.get_nowait()));
        log.push_back("get " + std::to_string(co_await q.get()));
        try {
            (void)q.get_nowait();
        } catch (const corio::queue_shut_down&) {
            log.push_back("get_nowait: shut down");
        }
        bool get_threw = false;
        try {
            (void)co_await q.get();
        } catch (const corio::queue_shut_down&) {
            get_threw = true;
        }
        log.push_back(get_threw ? "get: shut down" : "get returned");
        for (int i = 0; i < 3; ++i) q.task_done();
        co_await q.join();
        log.push_back("joined");
        co_return log;
    });
    order_model<TestType> model;
    for (int v : {3, 1, 2}) model.push(v);
    const auto order = model.drain();
    REQUIRE(log == std::vector<std::string>{"put_nowait: shut down", "put: shut down", "qsize 3",
                                            "get " + std::to_string(order[0]), "get_nowait " + std::to_string(order[1]),
                                            "get " + std::to_string(order[2]), "get_nowait: shut down",
                                            "get: shut down", "joined"});
}

TEMPLATE_TEST_CASE("shutdown wakes waiting getters and putters with queue_shut_down", "[queue][shutdown]",
                   CORIO_INT_QUEUES) {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool immediate = GENERATE(false, true);
    struct result {
        int getters_shut_down = 0, putters_shut_down = 0, inserted = 0, received = 0;
        std::vector<int> left;
        bool get_after_threw = false;
    };
    const auto r = corio_test::run_in(mode, [immediate]() -> corio::task<result> {
        TestType empty_q(1), full_q(1);
        full_q.put_nowait(1);
        std::optional<int> received[3];
        bool inserted[3] = {};
        std::vector<corio::task_handle<ending>> getters, putters;
        for (int i = 0; i < 3; ++i) {
            getters.push_back(corio::create_task(get_into(empty_q, received[i])));
            putters.push_back(corio::create_task(put_and_mark(full_q, 10 + i, inserted[i])));
        }
        co_await corio::sleep(1ms);  // they wait now (a late one sees the shutdown at once: the same ending)
        empty_q.shutdown(immediate);
        full_q.shutdown(immediate);
        result r;
        for (int i = 0; i < 3; ++i) {
            r.getters_shut_down += co_await getters[static_cast<std::size_t>(i)] == ending::shut_down;
            r.putters_shut_down += co_await putters[static_cast<std::size_t>(i)] == ending::shut_down;
            r.inserted += inserted[i];
            r.received += received[i].has_value();
        }
        r.left = drain(full_q);
        try {
            (void)full_q.get_nowait();
        } catch (const corio::queue_shut_down&) {
            r.get_after_threw = true;
        }
        co_return r;
    });
    REQUIRE(r.getters_shut_down == 3);
    REQUIRE(r.putters_shut_down == 3);
    REQUIRE(r.inserted == 0);
    REQUIRE(r.received == 0);
    REQUIRE(r.left == (immediate ? std::vector<int>{} : std::vector<int>{1}));
    REQUIRE(r.get_after_threw);
}

TEMPLATE_TEST_CASE("shutdown(immediate) drops the queued items as done, so join waits only for the taken ones",
                   "[queue][shutdown]", CORIO_INT_QUEUES) {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto log = corio_test::run_in(mode, []() -> corio::task<std::vector<std::string>> {
        std::vector<std::string> log;
        {  // nothing taken: join returns with no task_done at all
            TestType q;
            for (int v : {1, 2, 3}) q.put_nowait(v);
            auto joiner = corio::create_task(join_of(q));
            co_await corio::sleep(1ms);
            q.shutdown(true);
            co_await joiner;
            log.push_back("joined, qsize " + std::to_string(q.qsize()));
        }
        {  // one item taken (two queued, one admitted from a putter): join waits for its task_done
            TestType q(2);
            q.put_nowait(1);
            q.put_nowait(2);
            bool inserted = false;
            auto putter = corio::create_task(put_and_mark(q, 3, inserted));
            auto joiner = corio::create_task(join_of(q));
            co_await corio::sleep(1ms);
            (void)q.get_nowait();
            co_await putter;  // admitted into the freed slot
            log.push_back(inserted ? "admitted" : "not admitted");
            q.shutdown(true);
            log.push_back("qsize " + std::to_string(q.qsize()));
            try {
                (void)q.get_nowait();
            } catch (const corio::queue_shut_down&) {
                log.push_back("get_nowait: shut down");
            }
            co_await corio::sleep(1ms);
            log.push_back(joiner.done() ? "joined early" : "join waits");
            q.task_done();
            co_await joiner;
            log.push_back("joined");
            try {
                q.task_done();
            } catch (const std::logic_error&) {
                log.push_back("task_done: too many");
            }
        }
        co_return log;
    });
    REQUIRE(log == std::vector<std::string>{"joined, qsize 0", "admitted", "qsize 0", "get_nowait: shut down",
                                            "join waits", "joined", "task_done: too many"});
}

// ---- item types --------------------------------------------------------------------

namespace {
struct by_pointee {
    bool operator()(const std::unique_ptr<int>& a, const std::unique_ptr<int>& b) const { return *a < *b; }
};
}  // namespace

TEMPLATE_TEST_CASE("move-only items go through every path", "[queue]", corio::queue<std::unique_ptr<int>>,
                   corio::lifo_queue<std::unique_ptr<int>>, (corio::priority_queue<std::unique_ptr<int>, by_pointee>)) {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto got = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        TestType q(2);
        std::vector<int> out;
        // Handed straight to a waiting getter.
        std::optional<std::unique_ptr<int>> received;
        auto getter = corio::create_task(get_into(q, received));
        co_await corio::sleep(1ms);
        q.put_nowait(std::make_unique<int>(1));
        co_await getter;
        out.push_back(**received);
        // Stored, then admitted from a waiting putter.
        co_await q.put(std::make_unique<int>(2));
        q.put_nowait(std::make_unique<int>(3));
        bool inserted = false;
        auto putter = corio::create_task(put_and_mark(q, std::make_unique<int>(4), inserted));
        co_await corio::sleep(1ms);
        out.push_back(*q.get_nowait());
        co_await putter;
        out.push_back(*co_await q.get());
        out.push_back(*q.get_nowait());
        // Dropped by shutdown(immediate), and a waiting putter's item never inserted
        // (ASan's leak check sees any of them lost).
        q.put_nowait(std::make_unique<int>(5));
        q.put_nowait(std::make_unique<int>(6));
        bool late_inserted = false;
        auto late = corio::create_task(put_and_mark(q, std::make_unique<int>(7), late_inserted));
        co_await corio::sleep(1ms);
        q.shutdown(true);
        out.push_back(co_await late == ending::shut_down && !late_inserted ? 0 : -1);
        co_return out;
    });
    order_model<TestType> model;
    model.push(2);
    model.push(3);
    std::vector<int> expected{1, model.pop()};
    model.push(4);
    for (int v : model.drain()) expected.push_back(v);
    expected.push_back(0);
    REQUIRE(got == expected);
}

TEST_CASE("every item is destroyed exactly once, whichever way it leaves the queue", "[queue]") {
    using corio_test::counted;
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    counted::reset();
    const int received = corio_test::run_in(mode, []() -> corio::task<int> {
        int received = 0;
        corio::queue<counted> q(2);
        std::optional<counted> handed;
        auto getter = corio::create_task(get_into(q, handed));
        co_await corio::sleep(1ms);
        q.put_nowait(counted(1));  // handed over
        co_await getter;
        received += handed->id == 1;
        q.put_nowait(counted(2));
        q.put_nowait(counted(3));
        bool inserted[3] = {};
        auto cancelled = corio::create_task(put_and_mark(q, counted(4), inserted[0]));
        co_await corio::sleep(1ms);
        cancelled.cancel();  // its item is destroyed with its frame, never inserted
        co_await cancelled.wait_done();
        auto admitted = corio::create_task(put_and_mark(q, counted(5), inserted[1]));
        co_await corio::sleep(1ms);
        received += q.get_nowait().id == 2;  // admits 5
        co_await admitted;
        auto refused = corio::create_task(put_and_mark(q, counted(6), inserted[2]));
        co_await corio::sleep(1ms);
        q.shutdown(true);  // drops 3 and 5; the waiting put of 6 is refused
        co_await refused;
        co_return received + !inserted[0] + inserted[1] + !inserted[2];
    });
    REQUIRE(received == 5);
    REQUIRE(counted::alive() == 0);
}
