#include "corio/event.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "corio/corio.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

TEST_CASE("set, clear and is_set; wait on a set event returns true at once", "[event]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto seen = corio_test::run_in(mode, []() -> corio::task<std::vector<bool>> {
        corio::event e;
        std::vector<bool> s;
        s.push_back(!e.is_set());
        e.set();
        s.push_back(e.is_set());
        e.set();  // setting twice is harmless
        s.push_back(co_await e.wait());
        e.clear();
        s.push_back(!e.is_set());
        co_return s;
    });
    REQUIRE(seen == std::vector<bool>(4, true));
}

TEST_CASE("set wakes every waiting task, wherever it runs", "[event]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int woken = corio_test::run_in(mode, []() -> corio::task<int> {
        corio::event e;
        std::atomic<int> woken{0};
        std::vector<corio::task_handle<void>> waiters;
        for (int i = 0; i < 16; ++i)
            waiters.push_back(corio::create_task([](corio::event& e, std::atomic<int>& woken) -> corio::task<void> {
                if (co_await e.wait()) woken.fetch_add(1);
            }(e, woken)));
        co_await corio::sleep(1ms);  // most of them wait by now; the rest find it set
        e.set();
        for (auto& w : waiters) co_await w;
        co_return woken.load();
    });
    REQUIRE(woken == 16);
}

TEST_CASE("a plain thread may set the event", "[event]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool got = corio_test::run_in(mode, []() -> corio::task<bool> {
        corio::event e;
        std::thread setter([&e] { e.set(); });
        const bool r = co_await e.wait();
        setter.join();
        co_return r;
    });
    REQUIRE(got);
}

TEST_CASE("a cancelled wait throws cancelled_error and a later set still wakes the others", "[event][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::pair<bool, bool>> {
        corio::event e;
        auto waiter = [](corio::event& e) -> corio::task<bool> { co_return co_await e.wait(); };
        auto cancelled = corio::create_task(waiter(e));
        auto other = corio::create_task(waiter(e));
        co_await corio::sleep(1ms);
        cancelled.cancel();
        bool threw = false;
        try {
            co_await cancelled;
        } catch (const corio::cancelled_error&) {
            threw = true;
        }
        e.set();
        co_return std::pair{threw, co_await other};
    });
    REQUIRE(r.first);
    REQUIRE(r.second);
}
