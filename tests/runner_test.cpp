#include "corio/runner.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <stdexcept>

#include "corio/corio.hpp"

using namespace std::chrono_literals;

namespace {
corio::task<int> doubled(int x) {
    co_await corio::sleep(1ms);
    co_return 2 * x;
}
}  // namespace

TEST_CASE("runner runs several mains on one runtime", "[runner]") {
    corio::runner r({.workers = 2});
    REQUIRE(r.run(doubled(1)) == 2);
    REQUIRE(r.run(doubled(2)) == 4);
    REQUIRE_THROWS_AS(r.run([]() -> corio::task<void> { throw std::invalid_argument("boom"); co_return; }()),
                      std::invalid_argument);
}

TEST_CASE("runner with a loop_factory drives that loop on the calling thread", "[runner]") {
    std::shared_ptr<corio::event_loop> made;
    corio::runner r([&] { return made = corio::new_event_loop(); });
    REQUIRE(&r.get_loop() == made.get());
    REQUIRE(r.run(doubled(3)) == 6);
}

TEST_CASE("a closed runner refuses to run and its leftover tasks were cancelled", "[runner]") {
    bool cleaned_up = false;
    corio::runner r([] { return corio::new_event_loop(); });
    r.run([](bool* flag) -> corio::task<void> {
        // Left pending when the main returns: close() must cancel it.
        (void)corio::create_task([](bool* flag) -> corio::task<void> {
            struct guard {
                bool* f;
                ~guard() { *f = true; }
            } g{flag};
            co_await corio::sleep(1h);
        }(flag));
        co_await corio::sleep(1ms);
    }(&cleaned_up));
    REQUIRE_FALSE(cleaned_up);
    r.close();
    REQUIRE(cleaned_up);
    REQUIRE_THROWS_AS(r.run(doubled(4)), std::runtime_error);
}
