// The event loop policy and get_event_loop / set_event_loop / get_running_loop.
// Catch2 runs every test on the process's main thread.
#include "corio/policy.hpp"

#include <catch2/catch.hpp>

#include <memory>
#include <stdexcept>
#include <thread>

#include "corio/runtime.hpp"

namespace {
/// Counts calls and hands out one fixed loop.
class counting_policy : public corio::event_loop_policy {
public:
    explicit counting_policy(std::shared_ptr<corio::event_loop> l) : loop_(std::move(l)) {}
    corio::event_loop& get_event_loop() override {
        ++gets;
        return *loop_;
    }
    void set_event_loop(std::shared_ptr<corio::event_loop> l) override {
        ++sets;
        loop_ = std::move(l);
    }
    std::shared_ptr<corio::event_loop> new_event_loop() override { return corio::new_event_loop(); }
    int gets = 0, sets = 0;

private:
    std::shared_ptr<corio::event_loop> loop_;
};

/// Restores the default policy and clears the main thread's loop, whatever the test did.
struct policy_guard {
    ~policy_guard() {
        corio::set_event_loop_policy(nullptr);
        corio::set_event_loop(nullptr);
    }
};
}  // namespace

TEST_CASE("get_event_loop on the main thread creates one loop and keeps it", "[policy]") {
    policy_guard guard;
    corio::set_event_loop(nullptr);
    corio::event_loop& a = corio::get_event_loop();
    corio::event_loop& b = corio::get_event_loop();
    REQUIRE(&a == &b);
    REQUIRE_FALSE(a.is_running());
    REQUIRE(a.run_until_complete([]() -> corio::task<int> { co_return 3; }()) == 3);
}

TEST_CASE("get_event_loop on another thread without a loop throws", "[policy][thread]") {
    bool threw = false;
    std::thread([&] {
        try {
            corio::get_event_loop();
        } catch (const std::runtime_error&) {
            threw = true;
        }
    }).join();
    REQUIRE(threw);
}

TEST_CASE("set_event_loop makes a loop the thread's loop", "[policy]") {
    policy_guard guard;
    auto loop = corio::new_event_loop();
    corio::set_event_loop(loop);
    REQUIRE(&corio::get_event_loop() == loop.get());
    // Per thread: another thread can have its own.
    bool other_ok = false;
    std::thread([&] {
        auto mine = corio::new_event_loop();
        corio::set_event_loop(mine);
        other_ok = &corio::get_event_loop() == mine.get();
        corio::set_event_loop(nullptr);
    }).join();
    REQUIRE(other_ok);
    REQUIRE(&corio::get_event_loop() == loop.get());
}

TEST_CASE("get_running_loop throws outside a running loop", "[policy]") {
    REQUIRE_THROWS_AS(corio::get_running_loop(), std::runtime_error);
}

TEST_CASE("get_running_loop and get_event_loop inside a task return the running loop", "[policy]") {
    policy_guard guard;
    auto loop = corio::new_event_loop();
    auto other = corio::new_event_loop();
    corio::set_event_loop(other);  // the running loop wins over the thread's loop
    const bool ok = loop->run_until_complete([](corio::event_loop* expected) -> corio::task<bool> {
        co_return &corio::get_running_loop() == expected && &corio::get_event_loop() == expected;
    }(loop.get()));
    REQUIRE(ok);
}

TEST_CASE("a custom policy is used by get_event_loop and set_event_loop", "[policy]") {
    policy_guard guard;
    auto loop = corio::new_event_loop();
    auto policy = std::make_unique<counting_policy>(loop);
    counting_policy* p = policy.get();
    corio::set_event_loop_policy(std::move(policy));
    REQUIRE(&corio::get_event_loop_policy() == p);
    REQUIRE(&corio::get_event_loop() == loop.get());
    REQUIRE(p->gets == 1);
    auto replacement = corio::new_event_loop();
    corio::set_event_loop(replacement);
    REQUIRE(p->sets == 1);
    REQUIRE(&corio::get_event_loop() == replacement.get());
}

TEST_CASE("set_event_loop_policy(nullptr) restores the default policy", "[policy]") {
    policy_guard guard;
    corio::set_event_loop_policy(std::make_unique<counting_policy>(corio::new_event_loop()));
    corio::set_event_loop_policy(nullptr);
    REQUIRE(dynamic_cast<corio::default_event_loop_policy*>(&corio::get_event_loop_policy()) != nullptr);
    auto fresh = corio::get_event_loop_policy().new_event_loop();
    REQUIRE(fresh);
    REQUIRE_FALSE(fresh->is_closed());
}

TEST_CASE("a runtime worker's running loop is its own loop", "[policy][runtime]") {
    corio::runtime rt({.workers = 2});
    const bool ok = rt.run_until_complete([](corio::runtime& r) -> corio::task<bool> {
        corio::event_loop& running = corio::get_running_loop();
        co_return (&running == &r.loop(0) || &running == &r.loop(1)) && &corio::get_event_loop() == &running;
    }(rt));
    REQUIRE(ok);
}
