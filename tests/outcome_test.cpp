// outcome<T>: a value or an exception (what gather_settled returns per child).
#include "corio/outcome.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <string>

#include "counted.hpp"

using corio_test::counted;

TEST_CASE("an outcome holding a value", "[outcome]") {
    corio::outcome<int> o(5);
    REQUIRE(o.has_value());
    REQUIRE(static_cast<bool>(o));
    REQUIRE(o.value() == 5);
    REQUIRE(o.error() == nullptr);
    o.value() = 6;
    REQUIRE(o.value() == 6);
}

TEST_CASE("an outcome holding an exception rethrows it from value()", "[outcome]") {
    corio::outcome<std::string> o(std::make_exception_ptr(std::out_of_range("nope")));
    REQUIRE_FALSE(o.has_value());
    REQUIRE_FALSE(static_cast<bool>(o));
    REQUIRE(o.error() != nullptr);
    REQUIRE_THROWS_AS(o.value(), std::out_of_range);
    REQUIRE_THROWS_AS(std::move(o).value(), std::out_of_range);
}

TEST_CASE("an rvalue outcome moves its value out", "[outcome]") {
    corio::outcome<std::unique_ptr<int>> o(std::make_unique<int>(3));
    std::unique_ptr<int> p = std::move(o).value();
    REQUIRE(*p == 3);
}

TEST_CASE("an outcome<counted> destroys its value exactly once", "[outcome][counted]") {
    counted::reset();
    {
        corio::outcome<counted> a(counted(1));
        corio::outcome<counted> b = a;
        corio::outcome<counted> c = std::move(b);
        REQUIRE(c.value().id == 1);
    }
    REQUIRE(counted::alive() == 0);
}
