// task<T>: lazy coroutines awaited inline (asyncio's `async def` called and awaited).
#include "corio/task.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "corio/event_loop.hpp"
#include "counted.hpp"

using corio_test::counted;

namespace {

corio::task<int> forty_two() { co_return 42; }

corio::task<int> add(int a, int b) { co_return co_await forty_two() - 42 + a + b; }

corio::task<void> set_flag(bool& flag) {
    flag = true;
    co_return;
}

corio::task<int> throws_runtime_error() {
    throw std::runtime_error("boom");
    co_return 0;
}

corio::task<int&> ref_to(int& x) { co_return x; }

corio::task<std::unique_ptr<int>> make_unique_int(int v) { co_return std::make_unique<int>(v); }

corio::task<counted> make_counted(int id) { co_return counted(id); }

corio::task<int> take_counted(counted c) { co_return c.id; }

// Each level awaits the next one: with symmetric transfer the chain runs in
// constant stack depth, however long.
corio::task<std::size_t> recurse(std::size_t depth) {
    if (depth == 0) co_return 0;
    co_return 1 + co_await recurse(depth - 1);
}

template <class T>
T run_on_new_loop(corio::task<T> t) {
    auto loop = corio::new_event_loop();
    return loop->run_until_complete(std::move(t));
}

}  // namespace

TEST_CASE("calling a coroutine function runs nothing", "[task]") {
    bool ran = false;
    {
        auto t = set_flag(ran);
        REQUIRE(t.valid());
        REQUIRE_FALSE(ran);
    }
    // Destroyed without being awaited: the body never ran.
    REQUIRE_FALSE(ran);
}

TEST_CASE("awaiting a task runs it and returns its value", "[task]") {
    REQUIRE(run_on_new_loop(add(1, 2)) == 3);
    bool ran = false;
    run_on_new_loop([](bool& r) -> corio::task<void> { co_await set_flag(r); }(ran));
    REQUIRE(ran);
}

TEST_CASE("an exception thrown in an awaited task propagates to the awaiter", "[task]") {
    auto outer = []() -> corio::task<std::string> {
        try {
            co_await throws_runtime_error();
        } catch (const std::runtime_error& e) {
            co_return e.what();
        }
        co_return "not thrown";
    };
    REQUIRE(run_on_new_loop(outer()) == "boom");
    REQUIRE_THROWS_AS(run_on_new_loop(throws_runtime_error()), std::runtime_error);
}

TEST_CASE("task<T&> returns a reference to the same object", "[task]") {
    int x = 1;
    auto outer = [](int& target) -> corio::task<int*> {
        int& r = co_await ref_to(target);
        r = 7;
        co_return &r;
    };
    REQUIRE(run_on_new_loop(outer(x)) == &x);
    REQUIRE(x == 7);
}

TEST_CASE("task supports move-only results", "[task]") {
    auto outer = []() -> corio::task<int> {
        std::unique_ptr<int> p = co_await make_unique_int(5);
        co_return *p;
    };
    REQUIRE(run_on_new_loop(outer()) == 5);
    REQUIRE(*run_on_new_loop(make_unique_int(6)) == 6);
}

TEST_CASE("awaiting a task twice throws invalid_state_error", "[task]") {
    auto outer = []() -> corio::task<bool> {
        auto t = forty_two();
        const int first = co_await t;
        if (first != 42) co_return false;
        REQUIRE_FALSE(t.valid());
        try {
            co_await t;
        } catch (const corio::invalid_state_error&) {
            co_return true;
        }
        co_return false;
    };
    REQUIRE(run_on_new_loop(outer()));
}

TEST_CASE("a moved-from or default task is not valid", "[task]") {
    corio::task<int> empty;
    REQUIRE_FALSE(empty.valid());
    auto t = forty_two();
    auto u = std::move(t);
    REQUIRE_FALSE(t.valid());
    REQUIRE(u.valid());
    u = forty_two();  // move-assigning destroys the old frame (ASan: no leak)
    REQUIRE(u.valid());
}

// Symmetric transfer is a tail call only when the compiler emits one:
// Clang always does (at -O0 and with ASan too, hence the sanitizer presets
// use Clang); GCC only with sibling-call optimisation (-O2, or -O1 plus
// -foptimize-sibling-calls) and never with -fsanitize=address. Where GCC
// cannot, the depth is cut to one that fits (every path still runs).
#if !defined(__clang__) && (defined(__SANITIZE_ADDRESS__) || !defined(__OPTIMIZE__))
constexpr std::size_t deep_chain = 1'000;
#else
constexpr std::size_t deep_chain = 1'000'000;
#endif

TEST_CASE("a chain of a million nested awaits does not overflow the stack", "[task]") {
    constexpr std::size_t depth = deep_chain;
    REQUIRE(run_on_new_loop(recurse(depth)) == depth);
}

TEST_CASE("an awaited task<counted> result is destroyed exactly once", "[task][counted]") {
    counted::reset();
    {
        auto outer = []() -> corio::task<int> {
            counted c = co_await make_counted(9);
            co_return c.id;
        };
        REQUIRE(run_on_new_loop(outer()) == 9);
    }
    REQUIRE(counted::alive() == 0);
    REQUIRE(counted::copy_constructions == 0);  // results are moved, never copied
}

TEST_CASE("a task destroyed without being awaited runs nothing and leaks nothing", "[task][counted]") {
    counted::reset();
    {
        auto t = take_counted(counted(3));
        REQUIRE(counted::alive() == 1);  // the parameter lives in the frame
    }
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("a coroutine parameter of type counted is destroyed with the frame", "[task][counted]") {
    counted::reset();
    REQUIRE(run_on_new_loop(take_counted(counted(4))) == 4);
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("task is a move-only awaitable type", "[task]") {
    STATIC_REQUIRE(std::is_nothrow_move_constructible_v<corio::task<int>>);
    STATIC_REQUIRE_FALSE(std::is_copy_constructible_v<corio::task<int>>);
    STATIC_REQUIRE(std::is_same_v<corio::task<>, corio::task<void>>);
}
