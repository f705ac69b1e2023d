// asyncio's synchronization semantics (CPython's test_locks.py cases):
// FIFO order without barging, cancel races that neither lose a wake-up nor
// grant twice, errors on bad releases, event set/clear, the condition's
// reacquire on cancel, barrier indices and breaking.
#include "corio/barrier.hpp"
#include "corio/condition.hpp"
#include "corio/event.hpp"
#include "corio/lock.hpp"
#include "corio/semaphore.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include "corio/corio.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {

/// Rounds of each two-thread race (each round starts two threads).
constexpr int race_rounds = 2000;

/// Awaits `h`, swallowing its cancellation; true when it was cancelled.
template <class T>
corio::task<bool> cancelled(corio::task_handle<T>& h) {
    try {
        co_await h;
    } catch (const corio::cancelled_error&) {
        co_return true;
    }
    co_return false;
}

/// Runs `a` and `b` on two plain threads released at the same instant;
/// `b` first spins `head_start` rounds, so that repeated races spread over
/// both orders and the moments in between.
template <class A, class B>
void race(A a, B b, int head_start) {
    std::atomic<int> ready{0};
    auto start = [&ready] {
        ready.fetch_add(1);
        while (ready.load() < 2) std::this_thread::yield();
    };
    std::thread ta([&] {
        start();
        a();
    });
    std::thread tb([&] {
        start();
        for (int i = 0; i < head_start; ++i) std::atomic_signal_fence(std::memory_order_seq_cst);  // kept: a compiler barrier
        b();
    });
    ta.join();
    tb.join();
}

}  // namespace

// ---- lock ----------------------------------------------------------------

TEST_CASE("lock: waiters acquire in FIFO order and a newcomer does not barge", "[lock][conformance]") {
    // Standalone: each waiter parks before the next one is created.
    const auto order = corio_test::run_in(corio_test::standalone, []() -> corio::task<std::vector<int>> {
        corio::lock l;
        std::vector<int> order;
        co_await l.acquire();
        std::vector<corio::task_handle<void>> waiters;
        for (int i = 1; i <= 5; ++i) {
            waiters.push_back(corio::create_task([](corio::lock& l, std::vector<int>& order, int i) -> corio::task<void> {
                auto g = co_await l.scoped();
                order.push_back(i);
            }(l, order, i)));
            co_await corio::yield();
        }
        l.release();
        const bool still_locked = l.locked();  // handed over, not freed
        {
            auto g = co_await l.scoped();  // behind the five
            order.push_back(still_locked ? 6 : -6);
        }
        for (auto& w : waiters) co_await w;
        co_return order;
    });
    REQUIRE(order == std::vector<int>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("lock: releasing an unlocked lock throws runtime_error", "[lock][conformance]") {
    corio::lock l;
    try {
        l.release();
        FAIL("no exception");
    } catch (const std::runtime_error& e) {
        REQUIRE(std::strcmp(e.what(), "Lock is not acquired.") == 0);
    }
}

TEST_CASE("lock: a waiter cancelled as the holder releases is skipped; the next one gets the lock",
          "[lock][cancel][conformance]") {
    // asyncio's test_cancel_race and test_cancel_release_race (bpo-32734).
    const auto r = corio_test::run_in(corio_test::standalone, []() -> corio::task<std::vector<int>> {
        corio::lock l;
        int taken = 0;
        auto lockit = [](corio::lock& l, int& taken) -> corio::task<void> {
            co_await l.acquire();
            ++taken;
        };
        co_await l.acquire();
        auto t1 = corio::create_task(lockit(l, taken));
        auto t2 = corio::create_task(lockit(l, taken));
        auto t3 = corio::create_task(lockit(l, taken));
        co_await corio::yield();  // all three wait
        t1.cancel();
        l.release();
        std::vector<int> out;
        out.push_back(co_await cancelled(t1) ? 1 : 0);
        out.push_back(co_await cancelled(t2) ? 1 : 0);
        out.push_back(taken);          // only t2 took it: never granted twice
        out.push_back(l.locked());     // t2 holds it (it never released)
        t3.cancel();
        out.push_back(co_await cancelled(t3) ? 1 : 0);
        co_return out;
    });
    REQUIRE(r == std::vector<int>{1, 0, 1, 1, 1});
}

TEST_CASE("lock: a waiter handed the lock but cancelled before it resumed passes the lock on",
          "[lock][cancel][conformance]") {
    // asyncio's test_finished_waiter_cancelled: the cancelled waiter never owns the lock.
    const auto r = corio_test::run_in(corio_test::standalone, []() -> corio::task<std::vector<int>> {
        corio::lock l;
        bool second_got_it = false;
        co_await l.acquire();
        auto first = corio::create_task([](corio::lock& l) -> corio::task<void> { co_await l.acquire(); }(l));
        co_await corio::yield();
        auto second = corio::create_task([](corio::lock& l, bool& got) -> corio::task<void> {
            co_await l.acquire();
            got = true;
        }(l, second_got_it));
        co_await corio::yield();
        l.release();   // to `first`, whose wake-up succeeds ...
        first.cancel();  // ... but it is cancelled before it runs
        std::vector<int> out;
        out.push_back(co_await cancelled(first) ? 1 : 0);
        co_await second;
        out.push_back(second_got_it);
        out.push_back(l.locked());  // held by `second`
        co_return out;
    });
    REQUIRE(r == std::vector<int>{1, 1, 1});
}

TEST_CASE("lock: cancel and release racing on two threads leave exactly one owner, never a stuck lock",
          "[lock][cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int bad = corio_test::run_in(mode, []() -> corio::task<int> {
        int bad = 0;
        for (int i = 0; i < race_rounds; ++i) {
            corio::lock l;
            std::atomic<bool> started{false}, owned{false};
            co_await l.acquire();
            auto waiter = corio::create_task(
                [](corio::lock& l, std::atomic<bool>& started, std::atomic<bool>& owned) -> corio::task<void> {
                    started = true;
                    co_await l.acquire();
                    owned = true;
                }(l, started, owned));
            while (!started) co_await corio::yield();
            if (i % 2) co_await corio::yield();  // parked by now, or just about to park
            race([&] { l.release(); }, [&] { waiter.cancel(); }, i % 16 * 64);
            co_await cancelled(waiter);
            // Either the waiter got the lock (and holds it: nobody released
            // it since) or the lock is free: one owner, or none, never two.
            bad += l.locked() != owned.load();
            if (owned) l.release();
            co_await l.acquire();  // not stuck
            l.release();
        }
        co_return bad;
    });
    REQUIRE(bad == 0);
}

// ---- semaphore -----------------------------------------------------------

TEST_CASE("semaphore: permits go to waiters in FIFO order; a newcomer cannot overtake", "[semaphore][conformance]") {
    const auto order = corio_test::run_in(corio_test::standalone, []() -> corio::task<std::vector<int>> {
        corio::semaphore s(0);
        std::vector<int> order;
        std::vector<corio::task_handle<void>> waiters;
        for (int i = 1; i <= 4; ++i) {
            waiters.push_back(corio::create_task([](corio::semaphore& s, std::vector<int>& order, int i) -> corio::task<void> {
                co_await s.acquire();
                order.push_back(i);
            }(s, order, i)));
            co_await corio::yield();
        }
        s.release();
        s.release();
        const bool locked = s.locked();  // both permits went to waiters 1 and 2
        auto newcomer = corio::create_task([](corio::semaphore& s, std::vector<int>& order) -> corio::task<void> {
            co_await s.acquire();
            order.push_back(5);
        }(s, order));
        co_await corio::yield();
        s.release();
        s.release();
        s.release();
        for (auto& w : waiters) co_await w;
        co_await newcomer;
        order.push_back(locked ? 0 : -1);
        co_return order;
    });
    REQUIRE(order == std::vector<int>{1, 2, 3, 4, 5, 0});
}

TEST_CASE("semaphore: a permit handed to a waiter cancelled before it resumed goes to the next waiter",
          "[semaphore][cancel][conformance]") {
    const auto r = corio_test::run_in(corio_test::standalone, []() -> corio::task<std::vector<int>> {
        corio::semaphore s(0);
        auto acquire = [](corio::semaphore& s) -> corio::task<void> { co_await s.acquire(); };
        auto first = corio::create_task(acquire(s));
        co_await corio::yield();
        auto second = corio::create_task(acquire(s));
        co_await corio::yield();
        s.release();
        first.cancel();
        std::vector<int> out;
        out.push_back(co_await cancelled(first) ? 1 : 0);
        out.push_back(co_await cancelled(second) ? 1 : 0);
        out.push_back(s.locked());  // the one permit is with `second`
        co_return out;
    });
    REQUIRE(r == std::vector<int>{1, 0, 1});
}

TEST_CASE("semaphore: cancel and release racing on two threads neither lose nor double a permit",
          "[semaphore][cancel][conformance]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int bad = corio_test::run_in(mode, []() -> corio::task<int> {
        int bad = 0;
        for (int i = 0; i < race_rounds; ++i) {
            corio::semaphore s(0);
            std::atomic<bool> started{false}, owned{false};
            auto waiter = corio::create_task(
                [](corio::semaphore& s, std::atomic<bool>& started, std::atomic<bool>& owned) -> corio::task<void> {
                    started = true;
                    co_await s.acquire();
                    owned = true;
                }(s, started, owned));
            while (!started) co_await corio::yield();
            if (i % 2) co_await corio::yield();
            race([&] { s.release(); }, [&] { waiter.cancel(); }, i % 16 * 64);
            co_await cancelled(waiter);
            // The one permit is with the waiter or still free.
            bad += s.locked() != owned.load();
            if (!owned) co_await s.acquire();  // free: takes it without waiting
            bad += !s.locked();
        }
        co_return bad;
    });
    REQUIRE(bad == 0);
}

TEST_CASE("bounded_semaphore: releasing more than acquired throws invalid_argument", "[semaphore][conformance]") {
    corio::bounded_semaphore s(1);
    try {
        s.release();
        FAIL("no exception");
    } catch (const std::invalid_argument& e) {
        REQUIRE(std::strcmp(e.what(), "BoundedSemaphore released too many times") == 0);
    }
    REQUIRE_THROWS_AS(corio::semaphore(-1), std::invalid_argument);
}

// ---- event ---------------------------------------------------------------

TEST_CASE("event: set then clear (then set) still wakes the tasks that were waiting", "[event][conformance]") {
    // asyncio's test_clear_with_waiters.
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool set_again = GENERATE(false, true);
    const auto r = corio_test::run_in(mode, [set_again]() -> corio::task<std::vector<int>> {
        corio::event e;
        std::vector<corio::task_handle<bool>> waiters;
        for (int i = 0; i < 4; ++i)
            waiters.push_back(corio::create_task([](corio::event& e) -> corio::task<bool> { co_return co_await e.wait(); }(e)));
        co_await corio::sleep(1ms);  // waiting
        e.set();
        e.clear();
        const bool cleared = !e.is_set();
        if (set_again) {
            e.set();
            e.set();
        }
        std::vector<int> out;
        for (auto& w : waiters) out.push_back(co_await w);
        out.push_back(cleared);
        out.push_back(e.is_set() == set_again);
        co_return out;
    });
    REQUIRE(r == std::vector<int>(6, 1));
}

// ---- condition -----------------------------------------------------------

TEST_CASE("condition: a wait cancelled before any notify throws with the lock held again",
          "[condition][cancel][conformance]") {
    // asyncio's test_wait_cancel.
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        corio::condition c;
        bool waiting = false;  // under c's lock
        auto waiter = corio::create_task([](corio::condition& c, bool& waiting) -> corio::task<int> {
            co_await c.acquire();
            waiting = true;
            int held_after_cancel = -1;
            try {
                co_await c.wait();
            } catch (const corio::cancelled_error&) {
                held_after_cancel = c.locked();
            }
            c.release();
            co_return held_after_cancel;
        }(c, waiting));
        // Holding the lock with `waiting` set means the waiter waits on the
        // condition; cancelled now, its reacquire has to wait for us.
        for (;;) {
            co_await c.acquire();
            if (waiting) break;
            c.release();
            co_await corio::sleep(100us);
        }
        waiter.cancel();
        co_await corio::sleep(1ms);
        c.release();
        std::vector<int> out;
        out.push_back(co_await waiter);
        out.push_back(c.locked());
        co_return out;
    });
    REQUIRE(r == std::vector<int>{1, 0});
}

TEST_CASE("condition: a wait notified, then cancelled while it reacquires, throws with the lock held",
          "[condition][cancel][conformance]") {
    // asyncio's test_wait_cancel_after_notify (bpo-32841).
    const auto r = corio_test::run_in(corio_test::standalone, []() -> corio::task<std::vector<int>> {
        corio::condition c;
        bool waited = false;
        int held = -1;
        auto waiter = corio::create_task([](corio::condition& c, bool& waited, int& held) -> corio::task<void> {
            auto g = co_await c.scoped();
            waited = true;
            try {
                co_await c.wait();
            } catch (const corio::cancelled_error&) {
                held = c.locked();
                throw;
            }
        }(c, waited, held));
        co_await corio::yield();  // waiting
        co_await c.acquire();
        c.notify();
        co_await corio::yield();  // it tries to reacquire
        waiter.cancel();
        co_await corio::yield();  // the cancellation reaches its acquire
        c.release();
        std::vector<int> out;
        out.push_back(co_await cancelled(waiter) ? 1 : 0);
        out.push_back(waited);
        out.push_back(held);
        out.push_back(c.locked());
        co_return out;
    });
    REQUIRE(r == std::vector<int>{1, 1, 1, 0});
}

TEST_CASE("condition: a notified waiter cancelled before it runs passes the notification on",
          "[condition][cancel][conformance]") {
    // asyncio's test_cancelled_wakeup (gh-112202): the notify must not be lost.
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        corio::condition c;
        int state = 0;  // under c's lock
        auto consumer = [](corio::condition& c, int& state) -> corio::task<void> {
            auto g = co_await c.scoped();
            for (;;) {
                co_await c.wait_for([&] { return state != 0; });
                if (state < 0) co_return;
                --state;
            }
        };
        auto c0 = corio::create_task(consumer(c, state));
        auto c1 = corio::create_task(consumer(c, state));
        co_await corio::sleep(1ms);  // both wait
        int consumed = 0;
        {
            auto g = co_await c.scoped();
            ++state;
            c.notify(1);
            c0.cancel();  // while its notification is on the way
        }
        // Somebody consumes the item: c0 if it got the lock before the
        // cancellation reached it, else c1 with the notification passed on.
        for (int i = 0; i < 10'000 && consumed == 0; ++i) {
            co_await corio::sleep(1ms);
            auto g = co_await c.scoped();
            consumed = state == 0;
        }
        {
            auto g = co_await c.scoped();
            state = -1;
            c.notify_all();
        }
        std::vector<int> out{consumed};
        out.push_back(co_await cancelled(c0) ? 1 : 0);
        out.push_back(co_await cancelled(c1) ? 1 : 0);
        co_return out;
    });
    REQUIRE(r[0] == 1);
    REQUIRE(r[1] == 1);  // c0 was cancelled, whoever consumed
    REQUIRE(r[2] == 0);
}

// ---- barrier -------------------------------------------------------------

TEST_CASE("barrier: indices follow arrival order; abort breaks it for waiting and later parties",
          "[barrier][conformance]") {
    const auto r = corio_test::run_in(corio_test::standalone, []() -> corio::task<std::vector<long>> {
        auto party = [](corio::barrier& b) -> corio::task<long> {
            try {
                co_return static_cast<long>(co_await b.wait());
            } catch (const corio::broken_barrier_error&) {
                co_return -1;
            }
        };
        std::vector<long> out;
        corio::barrier b(3);
        std::vector<corio::task_handle<long>> ps;
        for (int i = 0; i < 3; ++i) {
            ps.push_back(corio::create_task(party(b)));
            co_await corio::yield();  // arrives before the next one
        }
        for (auto& p : ps) out.push_back(co_await p);
        auto early = corio::create_task(party(b));
        co_await corio::yield();
        out.push_back(static_cast<long>(b.n_waiting()));
        co_await b.abort();
        out.push_back(co_await early);
        out.push_back(co_await party(b));
        out.push_back(b.broken());
        co_return out;
    });
    REQUIRE(r == std::vector<long>{0, 1, 2, 1, -1, -1, 1});
}
