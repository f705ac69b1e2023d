// gather and gather_settled.
#include "corio/gather.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "corio/sleep.hpp"
#include "counted.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;
using corio_test::counted;

namespace {
template <class T>
corio::task<T> after(corio::clock::duration d, T v) {
    co_await corio::sleep(d);
    co_return v;
}
corio::task<void> nothing() { co_await corio::yield(); }
corio::task<int> fail_after(corio::clock::duration d) {
    co_await corio::sleep(d);
    throw std::runtime_error("child failed");
}
}  // namespace

TEST_CASE("gather of a tuple returns each child's value", "[gather]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::tuple<int, std::string, std::monostate>> {
        co_return co_await corio::gather(after(3ms, 1), after(1ms, std::string("two")), nothing());
    });
    REQUIRE(std::get<0>(r) == 1);
    REQUIRE(std::get<1>(r) == "two");
    STATIC_REQUIRE(std::is_same_v<std::tuple_element_t<2, std::decay_t<decltype(r)>>, std::monostate>);
}

TEST_CASE("gather of a vector returns the values in order", "[gather]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        std::vector<corio::task<int>> children;
        for (int i = 0; i < 20; ++i) children.push_back(after((20 - i) * 100us, i));
        co_return co_await corio::gather(std::move(children));
    });
    REQUIRE(r.size() == 20);
    for (int i = 0; i < 20; ++i) REQUIRE(r[static_cast<std::size_t>(i)] == i);
}

TEST_CASE("gather of a vector of void tasks returns monostates", "[gather]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const std::size_t n = corio_test::run_in(mode, []() -> corio::task<std::size_t> {
        std::vector<corio::task<void>> children;
        for (int i = 0; i < 5; ++i) children.push_back(nothing());
        std::vector<std::monostate> r = co_await corio::gather(std::move(children));
        co_return r.size();
    });
    REQUIRE(n == 5);
}

TEST_CASE("gather of an empty vector returns an empty vector", "[gather]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const std::size_t n = corio_test::run_in(mode, []() -> corio::task<std::size_t> {
        auto r = co_await corio::gather(std::vector<corio::task<int>>{});
        co_return r.size();
    });
    REQUIRE(n == 0);
}

TEST_CASE("gather of no arguments returns an empty tuple", "[gather]") {
    auto loop = corio::new_event_loop();
    auto r = loop->run_until_complete(corio::gather());
    STATIC_REQUIRE(std::tuple_size_v<decltype(r)> == 0);
}

TEST_CASE("gather rethrows a child's exception", "[gather]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    REQUIRE_THROWS_WITH(corio_test::run_in(mode, []() -> corio::task<void> {
                            co_await corio::gather(after(1ms, 1), fail_after(2ms), after(3ms, 3));
                        }),
                        "child failed");
}

TEST_CASE("gather supports move-only results", "[gather]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int v = corio_test::run_in(mode, []() -> corio::task<int> {
        auto [a, b] = co_await corio::gather(after(1ms, std::make_unique<int>(1)), after(0ms, std::make_unique<int>(2)));
        co_return *a * 10 + *b;
    });
    REQUIRE(v == 12);
}

TEST_CASE("gather_settled reports every outcome without throwing", "[gather][gather_settled]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct result {
        int a = 0;
        bool b_failed = false, c_void_ok = false;
        std::string b_what;
    };
    const result r = corio_test::run_in(mode, []() -> corio::task<result> {
        auto [a, b, c] = co_await corio::gather_settled(after(2ms, 1), fail_after(1ms), nothing());
        result res;
        res.a = a.value();
        res.b_failed = !b.has_value() && !b && b.error() != nullptr;
        try {
            b.value();
        } catch (const std::runtime_error& e) {
            res.b_what = e.what();
        }
        res.c_void_ok = c.has_value() && std::is_same_v<std::decay_t<decltype(c.value())>, std::monostate>;
        co_return res;
    });
    REQUIRE(r.a == 1);
    REQUIRE(r.b_failed);
    REQUIRE(r.b_what == "child failed");
    REQUIRE(r.c_void_ok);
}

TEST_CASE("gather_settled of a vector waits for all, even after a failure", "[gather][gather_settled]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    std::atomic<int> finished{0};
    const auto r = corio_test::run_in(mode, [&]() -> corio::task<std::vector<bool>> {
        std::vector<corio::task<int>> children;
        auto slow = [](std::atomic<int>& f, int v) -> corio::task<int> {
            co_await corio::sleep(5ms);
            ++f;
            co_return v;
        };
        children.push_back(fail_after(0ms));
        children.push_back(slow(finished, 1));
        children.push_back(slow(finished, 2));
        auto outcomes = co_await corio::gather_settled(std::move(children));
        std::vector<bool> ok;
        for (auto& o : outcomes) ok.push_back(o.has_value());
        co_return ok;
    });
    REQUIRE(r == std::vector<bool>{false, true, true});
    REQUIRE(finished == 2);  // the failure cancelled nothing
}

TEST_CASE("gather_settled reports a cancelled child as cancelled_error", "[gather][gather_settled][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool ok = corio_test::run_in(mode, []() -> corio::task<bool> {
        auto victim = []() -> corio::task<int> {
            corio::current_task().cancel();
            co_await corio::yield();  // sees the cancellation here
            co_return 1;
        };
        auto [a, b] = co_await corio::gather_settled(victim(), after(1ms, 2));
        try {
            std::rethrow_exception(a.error());
        } catch (const corio::cancelled_error&) {
            co_return b.value() == 2;
        } catch (...) {
        }
        co_return false;
    });
    REQUIRE(ok);
}

TEST_CASE("gather results of type counted are destroyed exactly once", "[gather][counted]") {
    counted::reset();
    {
        const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
        const int sum = corio_test::run_in(mode, []() -> corio::task<int> {
            std::vector<corio::task<counted>> children;
            for (int i = 1; i <= 3; ++i) children.push_back(after(0ms, counted(i)));
            auto r = co_await corio::gather(std::move(children));
            auto [x, y] = co_await corio::gather(after(0ms, counted(10)), after(0ms, counted(20)));
            co_return r[0].id + r[1].id + r[2].id + x.id + y.id;
        });
        REQUIRE(sum == 36);
    }
    REQUIRE(counted::alive() == 0);
}
