// Runtime metrics (corio/metrics.hpp): the counters add up to what the tests
// made the runtime do, and snapshots may be taken from any thread while the
// workers run (the TSan build checks the latter).
#include "corio/metrics.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "corio/create_task.hpp"
#include "corio/event_loop.hpp"
#include "corio/policy.hpp"
#include "corio/executor.hpp"
#include "corio/runtime.hpp"
#include "corio/sleep.hpp"
#include "corio/streams.hpp"
#include "corio/task_handle.hpp"

using namespace std::chrono_literals;

namespace {

corio::task<int> no_suspension(int v) { co_return v; }

// Coroutines that outlive the statement that creates them take what they
// use as parameters (copied into the frame), not as lambda captures (which
// die with the lambda temporary).
corio::task<void> set_flag(std::atomic<bool>& flag) {
    flag.store(true, std::memory_order_release);
    co_return;
}

corio::task<int> block_a_pool_thread_until(std::atomic<bool>& release) {
    co_return co_await corio::to_thread([&release] {
        while (!release.load(std::memory_order_acquire)) std::this_thread::sleep_for(1ms);
        return 1;
    });
}

corio::task<int> quick_job() {
    co_return co_await corio::to_thread([] { return 2; });
}

struct totals {
    std::uint64_t polls = 0, completed = 0, taken = 0, stolen = 0, steal_attempts = 0, steal_successes = 0,
                  parks = 0;
    std::chrono::nanoseconds busy{0}, parked{0};
};

totals add_up(const corio::runtime_metrics& m) {
    totals t;
    for (const auto& w : m.workers) {
        t.polls += w.polls;
        t.completed += w.completed;
        t.taken += w.from_local + w.from_lifo + w.from_inbox + w.from_injection + w.stolen;
        t.stolen += w.stolen;
        t.steal_attempts += w.steal_attempts;
        t.steal_successes += w.steal_successes;
        t.parks += w.parks;
        t.busy += w.busy;
        t.parked += w.parked;
    }
    return t;
}

}  // namespace

TEST_CASE("metrics count one poll per task that never suspends", "[metrics]") {
    constexpr int n = 500;
    SECTION("2-worker runtime, tasks spawned from outside") {
        corio::runtime rt({.workers = 2});
        std::vector<corio::task_handle<int>> handles;
        for (int i = 0; i < n; ++i) handles.push_back(rt.create_task(no_suspension(i)));
        long sum = 0;
        for (auto& h : handles) sum += rt.run_until_complete(std::move(h));
        REQUIRE(sum == long{n} * (n - 1) / 2);
        // After shutdown the workers have stopped: every count is final.
        rt.shutdown();
        const corio::runtime_metrics m = rt.metrics();
        REQUIRE(m.workers.size() == 2);
        const totals t = add_up(m);
        REQUIRE(t.polls == n);  // each task ran once, nothing else was polled
        REQUIRE(t.completed == n);
        REQUIRE(m.spawned_total == n);
        REQUIRE(m.live_tasks == 0);
        // Every spawn entry was taken from some queue (batches count twice).
        REQUIRE(t.taken >= n);
        REQUIRE(m.injection_queue_depth == 0);
    }
    SECTION("standalone loop") {
        auto loop = corio::new_event_loop();
        std::vector<corio::task_handle<int>> handles;
        for (int i = 0; i < n; ++i) handles.push_back(loop->create_task(no_suspension(i)));
        // FIFO: running until the last one finishes runs them all.
        REQUIRE(loop->run_until_complete(std::move(handles.back())) == n - 1);
        const corio::runtime_metrics m = loop->metrics();
        REQUIRE(m.workers.size() == 1);
        REQUIRE(m.workers[0].polls == n);
        REQUIRE(m.workers[0].completed == n);
        REQUIRE(m.workers[0].from_local == n);
        REQUIRE(m.workers[0].stolen == 0);
        REQUIRE(m.spawned_total == n);
        REQUIRE(m.live_tasks == 0);
    }
}

TEST_CASE("metrics show a steal when one worker spawns work and cannot run it", "[metrics]") {
    corio::runtime rt({.workers = 2});
    std::atomic<bool> first_ran{false}, second_ran{false};
    const bool ok = rt.run_until_complete([&]() -> corio::task<bool> {
        // The children go to this worker's local queue (the second one wakes
        // the other worker: one pending spawn is left to its spawner); this
        // worker then spins inside this poll, so only the other worker can
        // run them, and it can reach them only by stealing.
        auto first = corio::create_task(set_flag(first_ran));
        auto second = corio::create_task(set_flag(second_ran));
        const auto deadline = std::chrono::steady_clock::now() + 30s;  // fail, not hang, if broken
        while (!first_ran.load(std::memory_order_acquire) || !second_ran.load(std::memory_order_acquire))
            if (std::chrono::steady_clock::now() > deadline) co_return false;
        co_await first;
        co_await second;
        co_return true;
    }());
    REQUIRE(ok);
    rt.shutdown();
    const totals t = add_up(rt.metrics());
    REQUIRE(t.stolen >= 2);
    REQUIRE(t.steal_successes >= 1);
    REQUIRE(t.steal_attempts >= t.steal_successes);
    REQUIRE(rt.metrics().spawned_total == 3);
    REQUIRE(rt.metrics().live_tasks == 0);
}

TEST_CASE("metrics count parks and parked time across an idle period", "[metrics]") {
    SECTION("2-worker runtime") {
        corio::runtime rt({.workers = 2});
        // The worker running the sleep has nothing else to do: it must park
        // until the timer is due.
        rt.run_until_complete([]() -> corio::task<void> { co_await corio::sleep(20ms); }());
        const totals t = add_up(rt.metrics());
        REQUIRE(t.parks >= 1);
        REQUIRE(t.parked >= 10ms);
        REQUIRE(t.busy.count() > 0);
    }
    SECTION("standalone loop") {
        auto loop = corio::new_event_loop();
        loop->run_until_complete([]() -> corio::task<void> { co_await corio::sleep(20ms); }());
        const corio::worker_metrics w = loop->metrics().workers.at(0);
        REQUIRE(w.parks >= 1);
        REQUIRE(w.parked >= 10ms);
    }
}

TEST_CASE("metrics show the blocking pool's busy thread and queued job", "[metrics]") {
    corio::runtime rt({.workers = 2, .blocking_pool_max_threads = 1});
    std::atomic<bool> release{false};
    // Waits (bounded) for a state of the pool, as the jobs reach it.
    const auto wait_for = [&](auto pred) {
        corio::blocking_pool_metrics seen;
        for (const auto deadline = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < deadline;) {
            seen = rt.metrics().blocking_pool;
            if (pred(seen)) break;
            std::this_thread::sleep_for(1ms);
        }
        return seen;
    };
    auto blocked = rt.create_task(block_a_pool_thread_until(release));
    const auto running = wait_for([](const auto& m) { return m.busy == 1; });
    // The pool's only thread is taken: this job waits in its queue.
    auto queued = rt.create_task(quick_job());
    const auto waiting = wait_for([](const auto& m) { return m.queued == 1; });
    release.store(true, std::memory_order_release);
    REQUIRE(rt.run_until_complete(std::move(blocked)) == 1);
    REQUIRE(rt.run_until_complete(std::move(queued)) == 2);
    REQUIRE(running.threads == 1);
    REQUIRE(running.busy == 1);
    REQUIRE(running.idle == 0);
    REQUIRE(waiting.busy == 1);
    REQUIRE(waiting.queued == 1);
}

namespace {

corio::task<void> read_until_eof(corio::stream_reader reader, corio::stream_writer writer) {
    for (;;) {
        const std::string chunk = co_await reader.read(4096);
        if (chunk.empty()) break;
    }
    writer.close();
}

/// Sleeps until the runtime's open_sockets is `want` (bounded); what it saw.
corio::task<std::size_t> open_sockets_reach(std::size_t want) {
    std::size_t seen = 0;
    for (int i = 0; i < 3000; ++i) {
        seen = corio::get_running_loop().metrics().open_sockets;
        if (seen == want) break;
        co_await corio::sleep(1ms);
    }
    co_return seen;
}

struct socket_counts {
    std::size_t listening, connected, client_side_closed, server_closed;
};

corio::task<socket_counts> open_and_close_connections() {
    socket_counts counts{};
    corio::server srv = co_await corio::start_server(read_until_eof, "127.0.0.1", 0);
    counts.listening = co_await open_sockets_reach(2);  // one listener per loop (SO_REUSEPORT)
    std::vector<corio::stream_writer> writers;
    for (int i = 0; i < 3; ++i) {
        auto [reader, writer] = co_await corio::open_connection("127.0.0.1", srv.port());
        writers.push_back(std::move(writer));
    }
    counts.connected = co_await open_sockets_reach(2 + 3 + 3);  // and both ends of each connection
    for (auto& w : writers) {
        w.close();
        co_await w.wait_closed();
    }
    writers.clear();
    counts.client_side_closed = co_await open_sockets_reach(2);  // the handlers saw EOF and returned
    srv.close();
    co_await srv.wait_closed();
    counts.server_closed = co_await open_sockets_reach(0);
    co_return counts;
}

}  // namespace

TEST_CASE("metrics count open sockets: listeners and both ends of each stream connection", "[metrics][streams]") {
    corio::runtime rt({.workers = 2});
    const socket_counts counts = rt.run_until_complete(open_and_close_connections());
    CHECK(counts.listening == 2);
    CHECK(counts.connected == 8);
    CHECK(counts.client_side_closed == 2);
    CHECK(counts.server_closed == 0);
}

TEST_CASE("metrics may be read from any thread while the workers run", "[metrics][stress]") {
    corio::runtime rt({.workers = 2});
    std::atomic<bool> done{false};
    std::uint64_t reads = 0;
    bool monotonic = true;
    std::thread reader([&] {
        std::uint64_t last = 0;
        do {  // at least once, however fast the run below
            // Both ways in: the runtime's and one of its loops'.
            const std::uint64_t p = add_up(rt.metrics()).polls;
            const std::uint64_t q = add_up(rt.loop(1).metrics()).polls;
            if (p < last || q < p) monotonic = false;
            last = q;
            ++reads;
        } while (!done.load(std::memory_order_acquire));
    });
    const int sum = rt.run_until_complete([]() -> corio::task<int> {
        std::vector<corio::task_handle<int>> hs;
        for (int i = 0; i < 2000; ++i)
            hs.push_back(corio::create_task([](int v) -> corio::task<int> {
                co_await corio::yield();
                co_return v;
            }(i % 3)));
        int s = 0;
        for (auto& h : hs) s += co_await h;
        co_return s;
    }());
    done.store(true, std::memory_order_release);
    reader.join();
    REQUIRE(sum == 1999);  // (0+1+2) * 666 + 0 + 1
    REQUIRE(monotonic);
    REQUIRE(reads > 0);
    rt.shutdown();
    const corio::runtime_metrics m = rt.metrics();
    REQUIRE(m.spawned_total == 2001);
    REQUIRE(add_up(m).polls >= 2001 + 2000);  // each child suspends once
    REQUIRE(m.live_tasks == 0);
}

TEST_CASE("one worker awaiting more children than its queue holds takes each entry once", "[metrics][runtime]") {
    // More children than the local queue holds (4 in the sanitizer
    // builds): the older ones overflow. The parent awaits them in spawn
    // order, and each runs inline when awaited, its spawn entry taken from
    // the overflow list's front; none is left behind as a tombstone for the
    // run loop to find and drop after the parent is done.
    constexpr int n = std::max(5000, 2 * CORIO_LOCAL_QUEUE_CAPACITY);
    corio::runtime rt({.workers = 1});
    const long sum = rt.run_until_complete([]() -> corio::task<long> {
        std::vector<corio::task_handle<int>> handles;
        for (int i = 0; i < n; ++i) handles.push_back(corio::create_task(no_suspension(i)));
        long s = 0;
        for (auto& h : handles) s += co_await h;
        co_return s;
    }());
    REQUIRE(sum == long{n} * (n - 1) / 2);
    rt.shutdown();
    const corio::worker_metrics w = rt.metrics().workers.at(0);
    REQUIRE(w.overflows > 0);
    REQUIRE(w.completed == n + 1);
    // Every entry the run loop took was one of the parent's polls (its
    // first, from the injection queue since run_until_complete spawns it
    // from outside; then one after each yield the coop budget forces).
    INFO("polls " << w.polls << ", taken from the injection queue " << w.from_injection << ", local " << w.from_local
                  << ", LIFO slot " << w.from_lifo << ", inbox " << w.from_inbox);
    REQUIRE(w.from_injection + w.from_local + w.from_lifo + w.from_inbox == w.polls - n);
}
