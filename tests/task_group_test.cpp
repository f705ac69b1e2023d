#include "corio/task_group.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {
struct child_failure : std::runtime_error {
    explicit child_failure(int i) : std::runtime_error("child " + std::to_string(i)), index(i) {}
    int index;
};

corio::task<int> value_after(int v, std::chrono::milliseconds d) {
    co_await corio::sleep(d);
    co_return v;
}

corio::task<void> fail_after(int i, std::chrono::milliseconds d) {
    co_await corio::sleep(d);
    throw child_failure(i);
}

/// The indexes of the child_failures in an exception_group, in its order.
std::vector<int> failure_indexes(const corio::exception_group& g) {
    std::vector<int> out;
    for (const auto& e : g.exceptions()) {
        try {
            std::rethrow_exception(e);
        } catch (const child_failure& f) {
            out.push_back(f.index);
        } catch (...) {
            out.push_back(-1);
        }
    }
    return out;
}
}  // namespace

TEST_CASE("join waits for every child and their handles hold the results", "[task_group]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int sum = corio_test::run_in(mode, []() -> corio::task<int> {
        corio::task_group tg;
        std::vector<corio::task_handle<int>> hs;
        for (int i = 0; i < 10; ++i) hs.push_back(tg.create_task(value_after(i, std::chrono::milliseconds(i % 3))));
        co_await tg.join();
        int total = 0;
        for (auto& h : hs) total += h.done() ? h.result() : 1000;
        co_return total;
    });
    REQUIRE(sum == 45);
}

TEST_CASE("join on a group without children returns at once", "[task_group]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool ok = corio_test::run_in(mode, []() -> corio::task<bool> {
        corio::task_group tg;
        co_await tg.join();
        co_return true;
    });
    REQUIRE(ok);
}

TEST_CASE("children may add children while the parent waits in join", "[task_group]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int count = corio_test::run_in(mode, []() -> corio::task<int> {
        corio::task_group tg;
        std::atomic<int> ran{0};
        struct spawner {
            static corio::task<void> run(corio::task_group& tg, std::atomic<int>& ran, int depth) {
                co_await corio::sleep(1ms);
                ++ran;
                if (depth > 0)
                    for (int i = 0; i < 2; ++i) tg.create_task(run(tg, ran, depth - 1));
            }
        };
        tg.create_task(spawner::run(tg, ran, 5));
        co_await tg.join();
        co_return ran.load();
    });
    REQUIRE(count == 63);  // a full binary tree of depth 5
}

TEST_CASE("the first failure cancels the other children and join throws exception_group", "[task_group]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        std::vector<int> failures;
        bool sibling_cancelled = false;
        std::uint32_t parent_cancelling = 99;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        outcome o;
        corio::task_group tg;
        auto slow = tg.create_task(value_after(1, 1h));
        tg.create_task(fail_after(7, 1ms));
        try {
            co_await tg.join();
        } catch (const corio::exception_group& g) {
            o.failures = failure_indexes(g);
        }
        o.sibling_cancelled = slow.cancelled();
        o.parent_cancelling = corio::current_task().cancelling();  // a parent waiting in join is not cancelled
        co_return o;
    });
    REQUIRE(r.failures == std::vector<int>{7});
    REQUIRE(r.sibling_cancelled);
    REQUIRE(r.parent_cancelling == 0);
}

TEST_CASE("failures in cancelled children's cleanup are collected too, in failure order", "[task_group]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto failures = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        corio::task_group tg;
        tg.create_task([]() -> corio::task<void> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
            }
            co_await corio::sleep(2ms);  // cleanup that outlasts the first failure
            throw child_failure(2);
        }());
        tg.create_task(fail_after(1, 1ms));
        try {
            co_await tg.join();
        } catch (const corio::exception_group& g) {
            co_return failure_indexes(g);
        }
        co_return std::vector<int>{};
    });
    REQUIRE(failures == std::vector<int>{1, 2});
}

TEST_CASE("a child cancelled through its handle is not a failure", "[task_group]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool ok = corio_test::run_in(mode, []() -> corio::task<bool> {
        corio::task_group tg;
        auto h = tg.create_task(value_after(1, 1h));
        auto other = tg.create_task(value_after(2, 2ms));
        co_await corio::sleep(1ms);
        h.cancel();
        co_await tg.join();
        co_return h.cancelled() && other.result() == 2;
    });
    REQUIRE(ok);
}

TEST_CASE("a failure interrupts the body run under the group, and join reports only the group", "[task_group]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        std::vector<int> failures;
        bool body_interrupted = false;
        std::uint32_t cancelling_after = 99;
        bool can_still_await = false;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        outcome o;
        corio::task_group tg;
        try {
            co_await tg.run([&]() -> corio::task<void> {
                tg.create_task(fail_after(3, 1ms));
                try {
                    co_await corio::sleep(1h);  // interrupted by the failure
                } catch (const corio::cancelled_error&) {
                    o.body_interrupted = true;
                    throw;
                }
            }());
        } catch (const corio::exception_group& g) {
            o.failures = failure_indexes(g);
        }
        // The group took its cancellation of the parent back.
        o.cancelling_after = corio::current_task().cancelling();
        co_await corio::sleep(1ms);
        o.can_still_await = true;
        co_return o;
    });
    REQUIRE(r.failures == std::vector<int>{3});
    REQUIRE(r.body_interrupted);
    REQUIRE(r.cancelling_after == 0);
    REQUIRE(r.can_still_await);
}

TEST_CASE("run returns the body's value and a body exception joins the group's failures", "[task_group]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        int value = 0;
        std::vector<int> failures;
        bool child_cancelled = false;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        outcome o;
        {
            corio::task_group tg;
            o.value = co_await tg.run([&]() -> corio::task<int> {
                tg.create_task(value_after(0, 1ms));
                co_return 42;
            }());
        }
        corio::task_group tg;
        corio::task_handle<int> child;
        try {
            co_await tg.run([&]() -> corio::task<void> {
                child = tg.create_task(value_after(0, 1h));
                co_await corio::sleep(1ms);
                throw child_failure(9);
            }());
        } catch (const corio::exception_group& g) {
            o.failures = failure_indexes(g);
        }
        o.child_cancelled = child.cancelled();
        co_return o;
    });
    REQUIRE(r.value == 42);
    REQUIRE(r.failures == std::vector<int>{9});
    REQUIRE(r.child_cancelled);
}

TEST_CASE("an outside cancellation of the joining task cancels the children, waits, then propagates",
          "[task_group][cancel]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        bool parent_cancelled = false;
        int children_finished_before_parent = 0;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        auto finished = std::make_shared<std::atomic<int>>(0);
        auto children_at_end = std::make_shared<std::atomic<int>>(-1);
        auto parent = corio::create_task([](std::shared_ptr<std::atomic<int>> finished,
                                            std::shared_ptr<std::atomic<int>> at_end) -> corio::task<void> {
            corio::task_group tg;
            for (int i = 0; i < 4; ++i)
                tg.create_task([](std::shared_ptr<std::atomic<int>> f) -> corio::task<void> {
                    try {
                        co_await corio::sleep(1h);
                    } catch (const corio::cancelled_error&) {
                    }
                    co_await corio::sleep(1ms);  // cleanup the parent must wait for
                    ++*f;
                }(finished));
            try {
                co_await tg.join();
            } catch (const corio::cancelled_error&) {
                *at_end = finished->load();
                throw;
            }
        }(finished, children_at_end));
        co_await corio::sleep(2ms);
        parent.cancel();
        outcome o;
        try {
            co_await parent;
        } catch (const corio::cancelled_error&) {
            o.parent_cancelled = true;
        }
        o.children_finished_before_parent = children_at_end->load();
        co_return o;
    });
    REQUIRE(r.parent_cancelled);
    REQUIRE(r.children_finished_before_parent == 4);
}

TEST_CASE("create_task after join finished or while shutting down throws", "[task_group]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    struct outcome {
        bool after_join = false;
        bool while_aborting = false;
        bool join_twice = false;
    };
    const auto r = corio_test::run_in(mode, []() -> corio::task<outcome> {
        outcome o;
        {
            corio::task_group tg;
            tg.create_task(value_after(1, 0ms));
            co_await tg.join();
            try {
                tg.create_task(value_after(2, 0ms));
            } catch (const std::runtime_error&) {
                o.after_join = true;
            }
            try {
                co_await tg.join();
            } catch (const std::runtime_error&) {
                o.join_twice = true;
            }
        }
        corio::task_group tg;
        try {
            co_await tg.run([&]() -> corio::task<void> {
                tg.create_task(fail_after(1, 0ms));
                try {
                    co_await corio::sleep(1h);
                } catch (const corio::cancelled_error&) {
                }
                try {
                    tg.create_task(value_after(3, 0ms));
                } catch (const std::runtime_error&) {
                    o.while_aborting = true;
                }
            }());
        } catch (const corio::exception_group&) {
        }
        co_return o;
    });
    REQUIRE(r.after_join);
    REQUIRE(r.while_aborting);
    REQUIRE(r.join_twice);
}

namespace {
corio::context_var<std::shared_ptr<int>> request_id("request_id");

/// Sets request_id to `value`, then has a finished task_group refuse three
/// children that would count their runs in `runs`.
corio::task<void> refuse_three(std::shared_ptr<int> value, std::shared_ptr<std::atomic<int>> runs) {
    request_id.set(std::move(value));
    auto count_run = [](std::shared_ptr<std::atomic<int>> n) -> corio::task<void> {
        n->fetch_add(1);
        co_return;
    };
    const corio::task_options named{.name = "refused"};
    corio::task_group tg;
    co_await tg.join();
    for (int i = 0; i < 3; ++i) {
        try {
            tg.create_task(count_run(runs), named);
        } catch (const std::runtime_error&) {
        }
    }
    co_await corio::sleep(10ms);
}
}  // namespace

TEST_CASE("a child its group refuses never runs, and what it was given is freed", "[task_group]") {
    // The refused task was already made a task of the loop, with a
    // reference on its creator's context, when the group said no: the
    // context_var's value outlives the run if freeing the task misses it.
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    auto value = std::make_shared<int>(1);
    auto runs = std::make_shared<std::atomic<int>>(0);
    corio_test::run_in(mode, [value, runs]() { return refuse_three(value, runs); });
    REQUIRE(runs->load() == 0);
    REQUIRE(runs.use_count() == 1);   // the refused frames are gone
    REQUIRE(value.use_count() == 1);  // and so is the context they were given
}

TEST_CASE("create_task refused in the body after a failure is not one of the group's failures", "[task_group]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto failures = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        corio::task_group tg;
        try {
            co_await tg.run([&]() -> corio::task<void> {
                tg.create_task(fail_after(4, 0ms));
                try {
                    co_await corio::sleep(1h);
                } catch (const corio::cancelled_error&) {
                }
                tg.create_task(value_after(5, 0ms));  // refused, and not caught
            }());
        } catch (const corio::exception_group& g) {
            co_return failure_indexes(g);
        }
        co_return std::vector<int>{};
    });
    REQUIRE(failures == std::vector<int>{4});
}

TEST_CASE("a child refused by its shutting-down group is not one of the failures", "[task_group]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto failures = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        corio::task_group tg;
        tg.create_task([](corio::task_group& tg) -> corio::task<void> {
            try {
                co_await corio::sleep(1h);
            } catch (const corio::cancelled_error&) {
            }
            tg.create_task(value_after(6, 0ms));  // refused: the group is shutting down
        }(tg));
        tg.create_task(fail_after(5, 1ms));
        try {
            co_await tg.join();
        } catch (const corio::exception_group& g) {
            co_return failure_indexes(g);
        }
        co_return std::vector<int>{};
    });
    REQUIRE(failures == std::vector<int>{5});
}

TEST_CASE("join from another task than the group's creator is refused", "[task_group]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const bool refused = corio_test::run_in(mode, []() -> corio::task<bool> {
        corio::task_group tg;
        auto other = corio::create_task([](corio::task_group& g) -> corio::task<void> { co_await g.join(); }(tg));
        bool r = false;
        try {
            co_await other;
        } catch (const std::runtime_error&) {
            r = true;
        }
        co_await tg.join();
        co_return r;
    });
    REQUIRE(refused);
}

TEST_CASE("destroying a group with live children cancels them and reports to the exception handler",
          "[task_group]") {
    auto loop = corio::new_event_loop();
    std::vector<std::string> reports;
    loop->set_exception_handler([&](corio::event_loop&, const corio::exception_context& c) { reports.push_back(c.message); });
    auto cancelled = std::make_shared<std::atomic<int>>(0);
    loop->run_until_complete([](std::shared_ptr<std::atomic<int>> cancelled) -> corio::task<void> {
        {
            corio::task_group tg;
            for (int i = 0; i < 3; ++i)
                tg.create_task([](std::shared_ptr<std::atomic<int>> c) -> corio::task<void> {
                    try {
                        co_await corio::sleep(1h);
                    } catch (const corio::cancelled_error&) {
                        ++*c;
                        throw;
                    }
                }(cancelled));
            co_await corio::sleep(1ms);
        }  // no join(): a bug, reported
        co_await corio::sleep(1ms);
    }(cancelled));
    REQUIRE(cancelled->load() == 3);
    REQUIRE(reports.size() == 1);
    REQUIRE(reports[0].find("3 children still live") != std::string::npos);
}

TEST_CASE("a child failing after its group was destroyed is reported, not lost", "[task_group]") {
    auto loop = corio::new_event_loop();
    std::vector<std::string> reports;
    loop->set_exception_handler([&](corio::event_loop&, const corio::exception_context& c) { reports.push_back(c.message); });
    loop->run_until_complete([]() -> corio::task<void> {
        {
            corio::task_group tg;
            tg.create_task([]() -> corio::task<void> {
                try {
                    co_await corio::sleep(1h);
                } catch (const corio::cancelled_error&) {
                }
                throw child_failure(1);  // fails in its cleanup
            }());
            co_await corio::sleep(1ms);
        }
        co_await corio::sleep(1ms);
    }());
    REQUIRE(reports.size() == 2);
    REQUIRE(reports[1].find("after its group was destroyed") != std::string::npos);
}

TEST_CASE("a destroyed group's reports reach the handler on a multi-worker runtime too", "[task_group]") {
    std::mutex m;
    std::vector<std::string> reports;
    {
        corio::runtime rt({.workers = 2});
        for (std::size_t i = 0; i < rt.workers(); ++i)
            rt.loop(i).set_exception_handler([&](corio::event_loop&, const corio::exception_context& c) {
                std::lock_guard lock(m);
                reports.push_back(c.message);
            });
        rt.run_until_complete([]() -> corio::task<void> {
            {
                corio::task_group tg;
                for (int i = 0; i < 2; ++i) tg.create_task(value_after(i, 1h));
                co_await corio::sleep(1ms);
            }
            co_await corio::sleep(5ms);
        }());
    }
    REQUIRE(reports.size() == 1);
    REQUIRE(reports[0].find("2 children still live") != std::string::npos);
}
