// corio's exception types and their hierarchy (asyncio's).
#include "corio/errors.hpp"

#include <catch2/catch.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>

// Python's CancelledError is a BaseException: `catch (const std::exception&)`
// must never swallow a cancellation.
static_assert(!std::is_base_of_v<std::exception, corio::cancelled_error>);
static_assert(std::is_base_of_v<std::runtime_error, corio::error>);
static_assert(std::is_base_of_v<corio::error, corio::timeout_error>);
static_assert(std::is_base_of_v<corio::error, corio::invalid_state_error>);
static_assert(std::is_base_of_v<corio::error, corio::incomplete_read_error>);
static_assert(std::is_base_of_v<corio::error, corio::limit_overrun_error>);
static_assert(std::is_base_of_v<corio::error, corio::queue_full>);
static_assert(std::is_base_of_v<corio::error, corio::queue_empty>);
static_assert(std::is_base_of_v<corio::error, corio::exception_group>);

TEST_CASE("cancelled_error is not caught by catch std::exception", "[errors]") {
    bool caught_as_std = false, caught_as_cancelled = false;
    try {
        try {
            throw corio::cancelled_error();
        } catch (const std::exception&) {
            caught_as_std = true;
        }
    } catch (const corio::cancelled_error& e) {
        caught_as_cancelled = true;
        REQUIRE(std::string(e.what()) == "cancelled");
    }
    REQUIRE_FALSE(caught_as_std);
    REQUIRE(caught_as_cancelled);
    REQUIRE(std::string(corio::cancelled_error("by user").what()) == "by user");
}

TEST_CASE("corio errors are std::runtime_errors with messages", "[errors]") {
    REQUIRE(std::string(corio::timeout_error().what()) == "timeout");
    REQUIRE(std::string(corio::timeout_error("slow").what()) == "slow");
    REQUIRE(std::string(corio::invalid_state_error("state").what()) == "state");
    REQUIRE(std::string(corio::queue_full().what()) == "queue is full");
    REQUIRE(std::string(corio::queue_empty().what()) == "queue is empty");
    REQUIRE_THROWS_AS(throw corio::timeout_error(), corio::error);
    REQUIRE_THROWS_AS(throw corio::invalid_state_error("x"), std::runtime_error);
}

TEST_CASE("incomplete_read_error keeps the partial data and the expected size", "[errors]") {
    const corio::incomplete_read_error e("abc", 10);
    REQUIRE(e.partial() == "abc");
    REQUIRE(e.expected() == 10);
    REQUIRE(std::string(e.what()) == "3 bytes read on a total of 10 expected bytes");  // asyncio's wording
}

TEST_CASE("limit_overrun_error keeps the consumed count", "[errors]") {
    const corio::limit_overrun_error e("Separator is not found, and chunk exceed the limit", 42);
    REQUIRE(e.consumed() == 42);
    REQUIRE(std::string(e.what()).find("Separator") == 0);
}

TEST_CASE("exception_group holds every exception", "[errors]") {
    const corio::exception_group g({std::make_exception_ptr(std::runtime_error("a")),
                                    std::make_exception_ptr(corio::cancelled_error())});
    REQUIRE(g.exceptions().size() == 2);
    REQUIRE_THROWS_AS(std::rethrow_exception(g.exceptions()[0]), std::runtime_error);
    REQUIRE_THROWS_AS(std::rethrow_exception(g.exceptions()[1]), corio::cancelled_error);
    REQUIRE(std::string(g.what()).find("2") != std::string::npos);
}
