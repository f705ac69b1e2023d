// corio::runtime and corio::run: asyncio.run on several worker threads.
#include "corio/runtime.hpp"

#include <catch2/catch.hpp>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "corio/create_task.hpp"
#include "corio/event.hpp"
#include "corio/future.hpp"
#include "corio/gather.hpp"
#include "corio/metrics.hpp"
#include "corio/policy.hpp"
#include "corio/sleep.hpp"
#include "corio/timeout.hpp"
#include "counted.hpp"

using namespace std::chrono_literals;
using corio_test::counted;

namespace {
corio::task<int> value_after_sleep(int v) {
    co_await corio::sleep(1ms);
    co_return v;
}
}  // namespace

TEST_CASE("corio::run returns main's value", "[runtime][run]") {
    REQUIRE(corio::run(value_after_sleep(5)) == 5);  // workers = hardware threads
    REQUIRE(corio::run(value_after_sleep(6), {.workers = 1}) == 6);
    corio::run([]() -> corio::task<void> { co_await corio::yield(); }(), {.workers = 2});
    REQUIRE(*corio::run([]() -> corio::task<std::unique_ptr<int>> { co_return std::make_unique<int>(7); }(),
                        {.workers = 2}) == 7);
}

TEST_CASE("corio::run rethrows main's exception", "[runtime][run]") {
    REQUIRE_THROWS_WITH(corio::run(
                            []() -> corio::task<int> {
                                co_await corio::yield();
                                throw std::runtime_error("main failed");
                            }(),
                            {.workers = 2}),
                        "main failed");
}

TEST_CASE("a runtime runs with 1, 2 and 4 workers", "[runtime]") {
    const std::size_t workers = GENERATE(1u, 2u, 4u);
    corio::runtime rt({.workers = workers});
    REQUIRE(rt.workers() == workers);
    const int sum = rt.run_until_complete([]() -> corio::task<int> {
        std::vector<corio::task<int>> children;
        for (int i = 1; i <= 100; ++i) children.push_back(value_after_sleep(i));
        int s = 0;
        for (int v : co_await corio::gather(std::move(children))) s += v;
        co_return s;
    }());
    REQUIRE(sum == 5050);
    // A runtime runs several mains one after another.
    REQUIRE(rt.run_until_complete(value_after_sleep(1)) == 1);
}

TEST_CASE("get_running_loop inside a task on a worker is one of the runtime's loops", "[runtime][policy]") {
    corio::runtime rt({.workers = 4});
    const bool ok = rt.run_until_complete([](corio::runtime& r) -> corio::task<bool> {
        bool all = true;
        for (int i = 0; i < 50; ++i) {
            corio::event_loop& l = corio::get_running_loop();
            bool found = false;
            for (std::size_t w = 0; w < r.workers(); ++w) found = found || &l == &r.loop(w);
            all = all && found && l.is_running();
            co_await corio::sleep(100us);
        }
        co_return all;
    }(rt));
    REQUIRE(ok);
}

TEST_CASE("a pinned task stays on the loop it was created on", "[runtime][pinned]") {
    corio::runtime rt({.workers = 4});
    const bool stayed = rt.run_until_complete([]() -> corio::task<bool> {
        std::vector<corio::task_handle<bool>> pinned;
        for (int i = 0; i < 8; ++i) {
            pinned.push_back(corio::create_task(
                []() -> corio::task<bool> {
                    corio::event_loop* const home = &corio::get_running_loop();
                    const auto thread = std::this_thread::get_id();
                    bool same = true;
                    for (int j = 0; j < 100; ++j) {
                        if (j % 2) co_await corio::sleep(50us);
                        else co_await corio::yield();
                        same = same && &corio::get_running_loop() == home && std::this_thread::get_id() == thread;
                    }
                    co_return same;
                }(),
                {.name = "pinned", .pinned = true}));
        }
        // Busy unpinned siblings, so other workers go looking for work to steal.
        std::vector<corio::task<int>> noise;
        for (int i = 0; i < 200; ++i) noise.push_back(value_after_sleep(i));
        co_await corio::gather(std::move(noise));
        bool all = true;
        for (auto& h : pinned) all = (co_await h) && all;
        co_return all;
    }());
    REQUIRE(stayed);
}

TEST_CASE("an idle worker leaves another loop's pinned tasks alone", "[runtime][pinned]") {
    // Worker 0 runs 8 pinned tasks that yield 20,000 times each; worker 1
    // has nothing to do. It may look, but it must find nothing it could
    // steal: pinned tasks that sat in the stealable queue were taken by the
    // idle worker and handed back through the inbox, over and over.
    corio::runtime rt({.workers = 2});
    auto busy = rt.loop(0).create_task(
        []() -> corio::task<int> {
            std::vector<corio::task_handle<int>> yielders;
            for (int t = 0; t < 8; ++t) {
                yielders.push_back(corio::create_task(
                    []() -> corio::task<int> {
                        for (int i = 0; i < 20'000; ++i) co_await corio::yield();
                        co_return 1;
                    }(),
                    {.name = "yielder", .pinned = true}));
            }
            int done = 0;
            for (auto& y : yielders) done += co_await y;
            co_return done;
        }(),
        {.name = "busy", .pinned = true});
    REQUIRE(rt.run_until_complete(std::move(busy)) == 8);
    const corio::worker_metrics idle = rt.metrics().workers.at(1);
    // At most the main task's own wake-up can have been stolen.
    REQUIRE(idle.stolen <= 1);
}

namespace {
corio::task<void> yield_until(const bool& stop, int& turns) {
    while (!stop) {
        ++turns;
        co_await corio::yield();
    }
}
corio::task<void> record(int& slot, const int& turns) {
    slot = turns;
    co_return;
}
}  // namespace

TEST_CASE("a pinned task keeps its turns while one worker works off an overflow", "[runtime][pinned]") {
    // One worker: spawns beyond the local queue's capacity (4 in the
    // sanitizer builds) wait in the loop's overflow list. A pinned task must
    // get every other turn while that list is worked off, not wait until it
    // is empty. Each child records how many turns the pinned task has had.
    constexpr int n = std::max(2000, 2 * CORIO_LOCAL_QUEUE_CAPACITY);
    corio::runtime rt({.workers = 1});
    const std::vector<int> seen = rt.run_until_complete([]() -> corio::task<std::vector<int>> {
        bool stop = false;  // one worker: every task here runs on its thread
        int turns = 0;
        auto pinned = corio::create_task(yield_until(stop, turns), {.name = "pinned", .pinned = true});
        std::vector<int> seen(n, -1);
        std::vector<corio::task_handle<void>> children;
        for (int i = 0; i < n; ++i) children.push_back(corio::create_task(record(seen[i], turns)));
        // Not awaited (that would run them inline): the run loop runs them.
        while (!children.back().done() || !children.front().done()) co_await corio::sleep(1ms);
        for (auto& c : children) co_await c;
        stop = true;
        co_await pinned;
        co_return seen;
    }());
    // The older half sat in the overflow list. Taking turns, the pinned
    // task ran between almost every two of them; draining the list first,
    // they all saw the same count.
    const std::set<int> distinct(seen.begin(), seen.begin() + n / 2);
    REQUIRE(distinct.size() > n / 4);
}

namespace {
/// Walkers that each hop `hops` times, a hop being a detached task that
/// spawns the next one. Nobody awaits them, so a lone worker runs them in
/// queue order.
struct walkers {
    walkers(std::size_t count, std::size_t hops) : hops(hops), runs(count * hops) {}
    const std::size_t hops;
    std::vector<int> runs;  // one worker: no lock needed
    std::size_t finished = 0;
    corio::future<void> all_finished;
};

corio::task<void> hop(walkers* w, std::size_t walker, std::size_t step) {
    ++w->runs[walker * w->hops + step];
    if (step + 1 < w->hops) corio::create_task(hop(w, walker, step + 1));
    if (++w->finished == w->runs.size()) w->all_finished.set_result();
    co_return;
}
}  // namespace

TEST_CASE("a lone worker's overflow list that is never emptied runs every task once", "[runtime]") {
    // Twice as many walkers as the local queue holds (at least a thousand)
    // keep as many tasks queued on one worker for 100 hops each: the older
    // ones in the loop's overflow list, whose front is consumed while the
    // local queue's overflow keeps arriving at its back. The list is never
    // empty until the end, so it must slide its live entries down over the
    // consumed ones, losing and repeating none.
    constexpr std::size_t count = std::max(1000, 2 * CORIO_LOCAL_QUEUE_CAPACITY), hops = 100;
    corio::runtime rt({.workers = 1});
    walkers w(count, hops);
    rt.run_until_complete([](walkers* w, std::size_t count) -> corio::task<void> {
        for (std::size_t i = 0; i < count; ++i) corio::create_task(hop(w, i, 0));
        // A lost entry would leave this waiting: fail instead of hanging.
        co_await corio::timeout(60s).run([](walkers* w) -> corio::task<void> { co_await w->all_finished; }(w));
    }(&w, count));
    REQUIRE(w.finished == count * hops);
    REQUIRE(std::count(w.runs.begin(), w.runs.end(), 1) == static_cast<std::ptrdiff_t>(count * hops));
}

namespace {
corio::task<void> chain_link(int left, corio::future<int> done) {
    if (left == 0) done.set_result(1);
    else corio::create_task(chain_link(left - 1, std::move(done)));  // detached
    co_return;
}
}  // namespace

TEST_CASE("a chain of spawns does not wake the other worker for each link", "[runtime]") {
    // Each task spawns the next and ends: one pending spawn at a time, which
    // its spawner runs next. Waking the idle worker for each one had the two
    // workers take turns at the chain, parking and waking each other (about
    // one wake-up per 25 links); now only a second pending spawn wakes.
    corio::runtime rt({.workers = 2});
    constexpr int links = 100'000;
    const int finished = rt.run_until_complete([]() -> corio::task<int> {
        corio::future<int> done;
        corio::create_task(chain_link(links, done));
        co_return co_await done;
    }());
    REQUIRE(finished == 1);
    std::uint64_t unparks = 0;
    for (const corio::worker_metrics& w : rt.metrics().workers) unparks += w.unparks;
    REQUIRE(unparks < 100);
}

namespace {
corio::task<void> log_run(std::vector<int>& log, int i) {
    log.push_back(i);
    co_return;
}
}  // namespace

TEST_CASE("awaiting one of a row of unstarted children runs it at once and leaves the others queued", "[runtime][fork_join]") {
    // One worker, so the log needs no lock and the order is exact. The
    // awaited child is taken out from under its newer siblings and run
    // nested in the parent's poll (fork-join fast path); those stay queued
    // (the newest in the slot it left) and run when awaited in turn. Four
    // children: the sanitizer builds' queues hold no more.
    std::vector<int> log;
    std::size_t after_first = 0, after_middle = 0;
    corio::run(
        [](std::vector<int>& log, std::size_t& after_first, std::size_t& after_middle) -> corio::task<void> {
            std::vector<corio::task_handle<void>> children;
            for (int i = 0; i < 4; ++i) children.push_back(corio::create_task(log_run(log, i)));
            co_await children[0];
            after_first = log.size();
            co_await children[2];
            after_middle = log.size();
            for (auto& c : children) co_await c;
        }(log, after_first, after_middle),
        {.workers = 1});
    CHECK(after_first == 1);
    CHECK(after_middle == 2);
    REQUIRE(log == std::vector<int>{0, 2, 1, 3});
}

namespace {
corio::task<void> note_await(std::vector<int>& ran_at, int i, const int& awaiting) {
    ran_at[static_cast<std::size_t>(i)] = awaiting;
    co_return;
}
}  // namespace

TEST_CASE("children awaited in spawn order run in that order each when its await comes", "[runtime][fork_join]") {
    // More children than the fork-join path looks for among the newest
    // entries: each next one is the oldest pending entry (the top of the
    // local queue, or the front of the overflow list in the sanitizer
    // builds, whose queue holds four) and is run from there when awaited,
    // rather than after its newer siblings have all been run first.
    constexpr int count = 100;
    std::vector<int> ran_at(count, -1);
    corio::run(
        [](std::vector<int>& ran_at) -> corio::task<void> {
            int awaiting = -1;
            std::vector<corio::task_handle<void>> children;
            for (int i = 0; i < count; ++i) children.push_back(corio::create_task(note_await(ran_at, i, awaiting)));
            for (int i = 0; i < count; ++i) {
                awaiting = i;
                co_await children[static_cast<std::size_t>(i)];
            }
        }(ran_at),
        {.workers = 1});
    std::vector<int> in_order(count);
    std::iota(in_order.begin(), in_order.end(), 0);
    REQUIRE(ran_at == in_order);
}

TEST_CASE("a gather in a runtime runs its unstarted children itself in order", "[runtime][fork_join][gather]") {
    // The fork-join fast path for a whole gather: the children run nested in
    // the gathering task's poll, one after another, none popped from the
    // worker's queue, and with all of them done no done callback is needed
    // (with one callback per child, the 100 children were popped from the
    // queue: 100 here).
    constexpr int count = 100;
    corio::runtime rt({.workers = 1});
    const auto popped = [&rt] {
        std::uint64_t n = 0;
        for (const corio::worker_metrics& w : rt.metrics().workers) n += w.from_local;
        return n;
    };
    std::vector<int> log;
    std::uint64_t popped_while_gathering = 0;
    rt.run_until_complete([](std::vector<int>& log, const auto& popped, std::uint64_t& during) -> corio::task<void> {
        std::vector<corio::task<void>> children;
        for (int i = 0; i < count; ++i) children.push_back(log_run(log, i));
        const std::uint64_t before = popped();
        co_await corio::gather(std::move(children));
        during = popped() - before;
    }(log, popped, popped_while_gathering));
    std::vector<int> in_order(count);
    std::iota(in_order.begin(), in_order.end(), 0);
    REQUIRE(log == in_order);
    REQUIRE(popped_while_gathering == 0);
}

namespace {
corio::task<std::uint64_t> awaited_chain(std::uint64_t links) {
    if (links == 0) co_return 0;
    corio::task_handle<std::uint64_t> next = corio::create_task(awaited_chain(links - 1));
    const std::uint64_t below = co_await std::move(next);
    co_return below + 1;
}
}  // namespace

TEST_CASE("a chain of children each awaiting the next nests no deeper than the stack allows", "[runtime][fork_join]") {
    // Every link would run the next nested in its own poll (fork-join fast
    // path): 100,000 levels of native frames, far beyond a worker's 8 MiB
    // stack, unless the nesting stops at its stack budget and the deeper
    // links wait the ordinary way.
    constexpr std::uint64_t links = 100'000;
    for (std::size_t workers : {1u, 2u}) {
        CAPTURE(workers);
        REQUIRE(corio::run(awaited_chain(links), {.workers = workers}) == links);
    }
}

TEST_CASE("tasks left over when main returns are cancelled and their cleanup runs", "[runtime][cancel]") {
    std::atomic<int> cleaned{0}, finished{0}, started{0};
    corio::run(
        [](std::atomic<int>& c, std::atomic<int>& f, std::atomic<int>& s) -> corio::task<void> {
            for (int i = 0; i < 10; ++i) {
                corio::create_task([](std::atomic<int>& c2, std::atomic<int>& f2,
                                      std::atomic<int>& s2) -> corio::task<void> {
                    ++s2;
                    try {
                        co_await corio::sleep(1h);
                    } catch (const corio::cancelled_error&) {
                        ++c2;
                        throw;
                    }
                    ++f2;
                }(c, f, s));
            }
            while (s < 10) co_await corio::sleep(100us);  // all reached their sleep (or are about to)
            co_await corio::sleep(1ms);
        }(cleaned, finished, started),
        {.workers = 2});
    REQUIRE(cleaned == 10);
    REQUIRE(finished == 0);
}

TEST_CASE("a leftover task that awaits during its cleanup is awaited at exit", "[runtime][cancel]") {
    std::atomic<bool> cleanup_done{false};
    corio::run(
        [](std::atomic<bool>& done) -> corio::task<void> {
            corio::create_task([](std::atomic<bool>& d) -> corio::task<void> {
                std::exception_ptr cancelled;
                try {
                    co_await corio::sleep(1h);
                } catch (const corio::cancelled_error&) {
                    cancelled = std::current_exception();
                }
                // C++ cannot co_await in a catch block: clean up after it.
                co_await corio::sleep(2ms);
                d = true;
                if (cancelled) std::rethrow_exception(cancelled);
            }(done));
            co_await corio::sleep(1ms);
        }(cleanup_done),
        {.workers = 2});
    REQUIRE(cleanup_done);
}

TEST_CASE("leftover task frames and results are freed at exit", "[runtime][counted]") {
    counted::reset();
    corio::run(
        []() -> corio::task<void> {
            for (int i = 0; i < 20; ++i)
                corio::create_task([](counted c) -> corio::task<counted> {
                    co_await corio::sleep(1h);
                    co_return c;
                }(counted(i)));
            corio::create_task([](counted c) -> corio::task<counted> { co_return c; }(counted(99)));
            co_await corio::sleep(1ms);
        }(),
        {.workers = 2});
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("rt.create_task from a non-worker std::thread runs the task", "[runtime][thread]") {
    corio::runtime rt({.workers = 2});
    std::vector<int> results(4, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&rt, &results, t] {
            auto h = rt.create_task(value_after_sleep(t + 1));
            results[static_cast<std::size_t>(t)] = rt.run_until_complete(h);  // blocks this thread
        });
    for (auto& th : threads) th.join();
    REQUIRE(results == std::vector<int>{1, 2, 3, 4});
}

TEST_CASE("run_until_complete from a worker throws instead of deadlocking", "[runtime]") {
    corio::runtime rt({.workers = 2});
    const bool threw = rt.run_until_complete([](corio::runtime& r) -> corio::task<bool> {
        try {
            r.run_until_complete(value_after_sleep(1));
        } catch (const std::runtime_error&) {
            co_return true;
        }
        co_return false;
    }(rt));
    REQUIRE(threw);
}

TEST_CASE("shutdown is idempotent and the destructor after it is fine", "[runtime]") {
    corio::runtime rt({.workers = 2});
    REQUIRE(rt.run_until_complete(value_after_sleep(2)) == 2);
    rt.shutdown();
    rt.shutdown();
}

TEST_CASE("runtime loops are distinct and indexed", "[runtime]") {
    corio::runtime rt({.workers = 3});
    std::set<corio::event_loop*> loops;
    for (std::size_t i = 0; i < rt.workers(); ++i) loops.insert(&rt.loop(i));
    REQUIRE(loops.size() == 3);
    REQUIRE_THROWS_AS(rt.loop(3), std::out_of_range);
}

TEST_CASE("a runtime refuses more workers than a task can name", "[runtime]") {
    REQUIRE_THROWS_AS(corio::runtime({.workers = corio::max_workers + 1}), std::invalid_argument);
}

TEST_CASE("a runtime the system gives too few threads throws and leaves none running", "[runtime]") {
    // A real limit, in a child process: there, as an unprivileged user (root
    // ignores RLIMIT_NPROC), the process may hold 3 threads, so the third
    // of 8 workers cannot start. The child reports by exit status: 0 for
    // the expected error, 1 for no error, 2 for another message, 3 for
    // another exception; std::terminate (a joinable std::thread destroyed
    // by the unwinding) would end it by SIGABRT.
    std::cout.flush();  // nothing buffered may be written twice (TSan's _exit flushes)
    std::fflush(nullptr);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(4);
        const rlimit limit{3, 3};
        if (setrlimit(RLIMIT_NPROC, &limit) != 0) _exit(5);
        try {
            corio::runtime rt({.workers = 8});
            _exit(1);
        } catch (const std::system_error& e) {
            _exit(std::string(e.what()).find("could not start worker") != std::string::npos &&
                          std::string(e.what()).find(" of 8") != std::string::npos
                      ? 0
                      : 2);
        } catch (...) {
            _exit(3);
        }
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    INFO("child status " << status);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
}

namespace {
/// Records the loop it starts on, then waits for `go`.
corio::task<int> note_loop_then_wait(corio::event& go, std::atomic<int>& started,
                                     std::atomic<corio::event_loop*>& where) {
    where = &corio::get_running_loop();
    ++started;
    co_await go.wait();
    co_return 1;
}

/// Records the loop it starts on, then sleeps until cancelled.
corio::task<void> note_loop_then_sleep(std::atomic<int>& started, std::atomic<corio::event_loop*>& where,
                                       std::atomic<int>& cancelled) {
    where = &corio::get_running_loop();
    ++started;
    try {
        co_await corio::sleep(1h);
    } catch (const corio::cancelled_error&) {
        ++cancelled;
        throw;
    }
}

bool lists(const std::vector<corio::task_ref>& tasks, const corio::task_handle<int>& h) {
    for (const auto& t : tasks)
        if (t == h) return true;
    return false;
}
}  // namespace

TEST_CASE("a task registers on the worker it first suspends on and leaves it from any worker",
          "[runtime][all_tasks]") {
    // Main keeps its worker busy until all three children have started, so
    // the other worker runs them and they first suspend (register) there.
    // The event main then sets wakes two of them into main's worker, where
    // they finish; the third is left over and cancelled by the shutdown.
    struct result {
        bool ran_elsewhere = false, listed = false, listed_after = true;
        int sum = 0;
    };
    std::atomic<int> cancelled{0};
    const result r = corio::run(
        [](std::atomic<int>& cancelled_count) -> corio::task<result> {
            result res;
            corio::event go;
            std::atomic<int> started{0};
            std::atomic<corio::event_loop*> where[3] = {};
            auto a = corio::create_task(note_loop_then_wait(go, started, where[0]));
            auto b = corio::create_task(note_loop_then_wait(go, started, where[1]));
            corio::create_task(note_loop_then_sleep(started, where[2], cancelled_count));
            // One more, that does nothing: a spawn wakes a sleeping worker
            // only when it is not the one entry pending in the spawner's
            // queue ("One pending spawn wakes nobody"). Without it, the
            // other worker could take the first two, park, and leave the
            // third, spawned after, to main, which never suspends here.
            corio::create_task([]() -> corio::task<void> { co_return; }());
            while (started.load() < 3) std::this_thread::yield();  // no suspension: the other worker takes all three
            corio::event_loop* const mine = &corio::get_running_loop();
            res.ran_elsewhere = where[0] != mine && where[1] != mine && where[2] != mine;
            // Started is counted just before each suspends: give them turns.
            for (int i = 0; i < 100'000 && !res.listed; ++i) {
                const auto tasks = corio::all_tasks();
                res.listed = lists(tasks, a) && lists(tasks, b);
                if (!res.listed) co_await corio::yield();
            }
            go.set();
            res.sum = co_await a + co_await b;
            const auto after = corio::all_tasks();
            res.listed_after = lists(after, a) || lists(after, b);
            co_return res;
        }(cancelled),
        {.workers = 2});
    REQUIRE(r.ran_elsewhere);
    REQUIRE(r.listed);
    REQUIRE(r.sum == 2);
    REQUIRE_FALSE(r.listed_after);
    REQUIRE(cancelled == 1);
}

TEST_CASE("run_options debug sets every worker loop's debug flag", "[runtime]") {
    corio::runtime rt({.workers = 2, .debug = true});
    REQUIRE(rt.loop(0).get_debug());
    REQUIRE(rt.loop(1).get_debug());
}

TEST_CASE("a task that never suspends is made to yield after its budget", "[runtime][fairness]") {
    // One worker. `spinner` awaits an already-completed future over and over,
    // which never suspends by itself; it stops only once `other` has run. If
    // the cooperative budget did not force a yield, `other` would never run
    // and this test would hang.
    std::atomic<bool> other_ran{false};
    std::size_t awaits = 0;
    corio::run(
        [](std::atomic<bool>& ran, std::size_t& n) -> corio::task<void> {
            auto other = corio::create_task([](std::atomic<bool>& r) -> corio::task<void> {
                r.store(true);
                co_return;
            }(ran));
            auto done = corio::get_running_loop().create_future<int>();
            done.set_result(1);
            while (!ran.load()) n += static_cast<std::size_t>(co_await done);
            co_await other;
        }(other_ran, awaits),
        {.workers = 1});
    REQUIRE(other_ran.load());
    REQUIRE(awaits >= 1);
}

TEST_CASE("two tasks waking each other cannot starve a third", "[runtime][fairness]") {
    // One worker. A and B hand a token back and forth through futures: each
    // wake-up puts the other in the LIFO slot. The slot is capped, so the
    // third task, queued behind them, runs and ends the game. Without the
    // cap this test would hang.
    struct game {
        std::atomic<bool> over{false};
        std::atomic<int> rounds{0};
    } g;
    corio::run(
        [](game& g) -> corio::task<void> {
            auto ping = std::make_shared<corio::future<void>>(corio::get_running_loop().create_future<void>());
            auto pong = std::make_shared<corio::future<void>>(corio::get_running_loop().create_future<void>());
            auto player = [](game& g, std::shared_ptr<corio::future<void>> mine,
                             std::shared_ptr<corio::future<void>> theirs) -> corio::task<void> {
                while (!g.over.load()) {
                    co_await *mine;
                    *mine = corio::get_running_loop().create_future<void>();
                    g.rounds.fetch_add(1);
                    auto next = *theirs;
                    next.set_result();
                }
            };
            auto a = corio::create_task(player(g, ping, pong));
            auto b = corio::create_task(player(g, pong, ping));
            // Awaited through a future, not its handle: awaiting an unstarted
            // task's handle would run it inline at once (fork-join fast path).
            auto referee_done = corio::get_running_loop().create_future<void>();
            (void)corio::create_task([](game& g, corio::future<void> done) -> corio::task<void> {
                g.over.store(true);
                done.set_result();
                co_return;
            }(g, referee_done));
            ping->set_result();  // serve
            co_await referee_done;
            a.cancel();
            b.cancel();
        }(g),
        {.workers = 1});
    REQUIRE(g.over.load());
}
