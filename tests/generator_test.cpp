#include "corio/generator.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <iterator>
#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

#include "counted.hpp"

namespace {

corio::generator<int> num(int x) {
    for (int i = 0; i < x; ++i) co_yield i;
}

static_assert(std::input_iterator<corio::generator<int>::iterator>);
static_assert(std::ranges::input_range<corio::generator<int>>);

}  // namespace

TEST_CASE("generator yields its values in order to a range-for", "[generator]") {
    std::vector<int> got;
    for (int i : num(5)) got.push_back(i);
    REQUIRE(got == std::vector<int>{0, 1, 2, 3, 4});
    int count = 0;
    for (int i : num(0)) count += i + 1;
    REQUIRE(count == 0);
}

TEST_CASE("generator runs nothing until it is iterated, and then only one step at a time", "[generator]") {
    std::vector<std::string> log;
    // (Captured through a parameter: a lambda's captures die with the
    // temporary closure, before the lazy body runs.)
    auto gen = [](std::vector<std::string>& log) -> corio::generator<int> {
        log.push_back("start");
        co_yield 1;
        log.push_back("after 1");
        co_yield 2;
        log.push_back("end");
    }(log);
    REQUIRE(log.empty());
    auto it = gen.begin();
    REQUIRE(log == std::vector<std::string>{"start"});
    REQUIRE(*it == 1);
    ++it;
    REQUIRE(*it == 2);
    REQUIRE(log.size() == 2);
    ++it;
    REQUIRE(it == gen.end());
    REQUIRE(log.back() == "end");
}

TEST_CASE("generator yields lvalues by reference, converts what is not a T", "[generator]") {
    auto gen = []() -> corio::generator<std::string> {
        std::string s = "a";
        co_yield s;  // the consumer sees (and may change) s itself
        co_yield s;
        co_yield "literal";
    }();
    auto it = gen.begin();
    *it += "b";
    ++it;
    REQUIRE(*it == "ab");
    REQUIRE(it->size() == 2);
    ++it;
    REQUIRE(*it == "literal");
}

TEST_CASE("generator works with std::ranges algorithms", "[generator]") {
    std::vector<int> got;
    std::ranges::copy(num(4), std::back_inserter(got));
    REQUIRE(got == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("an exception in the generator body reaches the consumer", "[generator]") {
    auto failing = [](bool at_start) -> corio::generator<int> {
        if (at_start) throw std::runtime_error("at start");
        co_yield 1;
        throw std::runtime_error("after 1");
    };
    auto g1 = failing(true);
    REQUIRE_THROWS_WITH(g1.begin(), "at start");
    auto g2 = failing(false);
    auto it = g2.begin();
    REQUIRE(*it == 1);
    REQUIRE_THROWS_WITH(++it, "after 1");
    REQUIRE(it == g2.end());  // finished after the exception
}

TEST_CASE("destroying a generator midway destroys its frame and the body's locals", "[generator]") {
    using corio_test::counted;
    counted::reset();
    bool reached_end = false;
    {
        auto gen = [](bool& reached_end) -> corio::generator<int> {
            counted local(1);
            for (int i = 0; i < 1000; ++i) co_yield i;
            reached_end = true;
        }(reached_end);
        auto it = gen.begin();
        ++it;
        REQUIRE(*it == 1);
        REQUIRE(counted::alive() == 1);
    }
    REQUIRE(counted::alive() == 0);
    REQUIRE_FALSE(reached_end);

    counted::reset();
    { auto never_started = [](counted c) -> corio::generator<int> { co_yield c.id; }(counted(5)); }
    REQUIRE(counted::alive() == 0);
}

TEST_CASE("a moved generator keeps its position; the moved-from one is empty", "[generator]") {
    auto a = num(3);
    auto it = a.begin();
    REQUIRE(*it == 0);
    corio::generator<int> b = std::move(a);
    ++it;
    REQUIRE(*it == 1);
    REQUIRE(a.begin() == a.end());  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    int n = 0;
    for (auto i = b.begin(); i != b.end(); ++i) ++n;
    REQUIRE(n == 2);  // begin() on a started generator continues where it is: 1, 2
}
