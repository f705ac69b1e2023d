// Debug mode and the stall detector (event_loop::set_debug, run_options's
// debug, slow_callback_duration and stall_threshold, CORIO_DEBUG,
// CORIO_STALL_MS): each mistake is reported once, to the loop's exception
// handler, with the task's name; nothing is reported when both are off.
#include "corio/event_loop.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "corio/create_task.hpp"
#include "corio/event.hpp"
#include "corio/gather.hpp"
#include "corio/policy.hpp"
#include "corio/runtime.hpp"
#include "corio/sleep.hpp"
#include "corio/task_handle.hpp"

using namespace std::chrono_literals;

namespace {

/// The messages that reach the exception handlers of the loops it is
/// attached to, from any thread (the stall detector reports from its own).
class report_log {
public:
    void attach(corio::event_loop& loop) {
        loop.set_exception_handler([this](corio::event_loop&, const corio::exception_context& context) {
            std::lock_guard lock(mutex_);
            messages_.push_back(context.message);
            if (on_report_) on_report_(context.message);
        });
    }
    void attach(corio::runtime& rt) {
        for (std::size_t i = 0; i < rt.workers(); ++i) attach(rt.loop(i));
    }
    /// Called under the log's lock for each report (before the log is attached).
    void on_report(std::function<void(const std::string&)> fn) { on_report_ = std::move(fn); }
    std::vector<std::string> containing(std::string_view needle) const {
        std::lock_guard lock(mutex_);
        std::vector<std::string> found;
        for (const auto& m : messages_)
            if (m.find(needle) != std::string::npos) found.push_back(m);
        return found;
    }
    std::vector<std::string> all() const {
        std::lock_guard lock(mutex_);
        return messages_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> messages_;
    std::function<void(const std::string&)> on_report_;
};

/// Sets (or, with no value, unsets) an environment variable for a scope.
class scoped_environment {
public:
    scoped_environment(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* old = std::getenv(name)) saved_ = old;
        if (value) ::setenv(name, value->c_str(), 1);
        else ::unsetenv(name);
    }
    ~scoped_environment() {
        if (saved_) ::setenv(name_, saved_->c_str(), 1);
        else ::unsetenv(name_);
    }
    scoped_environment(const scoped_environment&) = delete;
    scoped_environment& operator=(const scoped_environment&) = delete;

private:
    const char* name_;
    std::optional<std::string> saved_;
};

/// Neither CORIO_DEBUG nor CORIO_STALL_MS, whatever the test run's environment.
struct no_debug_environment {
    scoped_environment debug{"CORIO_DEBUG", std::nullopt};
    scoped_environment stall{"CORIO_STALL_MS", std::nullopt};
};

/// Runs `main` on a one-worker runtime in debug mode; returns the reports.
std::vector<std::string> reports_of_debug_run(corio::task<void> main) {
    report_log log;
    {
        corio::runtime rt({.workers = 1, .debug = true});
        log.attach(rt);
        rt.run_until_complete(std::move(main));
    }
    return log.all();
}

/// The one report that contains `text`.
std::string only_report(const report_log& log, std::string_view text) {
    const auto found = log.containing(text);
    REQUIRE(found.size() == 1);
    return found[0];
}

/// The number after `after` in `message` (the seconds of a report).
double number_after(const std::string& message, std::string_view after) {
    const auto at = message.find(after);
    if (at == std::string::npos) return -1;
    return std::stod(message.substr(at + after.size()));
}

corio::task<int> never_awaited_coroutine() { co_return 1; }
corio::task<int> awaited_coroutine() { co_return 2; }

corio::task<void> drop_one_task_await_one_spawn_one() {
    { auto forgotten = never_awaited_coroutine(); }
    co_await awaited_coroutine();
    co_await corio::create_task(awaited_coroutine());
}

corio::task<void> drop_an_unawaited_gather() {
    auto forgotten = corio::gather(never_awaited_coroutine(), awaited_coroutine());
    co_return;
}

corio::task<void> block_for(std::chrono::milliseconds d) {
    std::this_thread::sleep_for(d);
    co_return;
}

corio::task<void> spin_for(std::chrono::milliseconds d, std::atomic<bool>& spinning) {
    spinning.store(true);
    const auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
    }
    spinning.store(false);
    co_return;
}

corio::task<void> wait_for_event(corio::event& e) { co_await e.wait(); }

/// Leaves a task named `name` suspended (hence pending) behind it.
corio::task<void> leave_a_task_pending(corio::event& never_set, std::string name) {
    corio::task_options options;
    options.name = std::move(name);
    auto leftover = corio::create_task(wait_for_event(never_set), options);
    while (corio::all_tasks().size() < 2) co_await corio::sleep(1ms);  // it has suspended (registered)
}

/// While `loop` runs this task, another thread calls call_soon on it.
corio::task<void> call_soon_from_another_thread(corio::event_loop& loop, std::atomic<int>& ran) {
    std::thread other([&loop, &ran] { loop.call_soon([&ran] { ran.fetch_add(1); }); });
    other.join();
    while (ran.load() < 2) co_await corio::sleep(1ms);
}

corio::task<void> call_soon_on_own_loop(std::atomic<int>& ran) {
    corio::get_running_loop().call_soon([&ran] { ran.fetch_add(1); });
    while (ran.load() < 2) co_await corio::sleep(1ms);
}

}  // namespace

TEST_CASE("a task destroyed without being awaited is reported once with its coroutine", "[debug]") {
    no_debug_environment env;
    const auto reports = reports_of_debug_run(drop_one_task_await_one_spawn_one());
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].find("was never awaited") != std::string::npos);
    CHECK(reports[0].find("never_awaited_coroutine") != std::string::npos);
#if defined(__cpp_lib_source_location)
    CHECK(reports[0].find("debug_mode_test.cpp:") != std::string::npos);
#endif
}

TEST_CASE("the tasks an unawaited task owns are not reported again", "[debug]") {
    no_debug_environment env;
    const auto reports = reports_of_debug_run(drop_an_unawaited_gather());
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].find("gather") != std::string::npos);
}

TEST_CASE("a poll that blocks for 200 ms is reported once with the task's name and duration", "[debug]") {
    no_debug_environment env;
    report_log log;
    {
        corio::runtime rt({.workers = 2, .debug = true});
        log.attach(rt);
        corio::task_options options;
        options.name = "sleepy";
        rt.run_until_complete(rt.create_task(block_for(200ms), options));
    }
    REQUIRE(log.containing("took").size() == 1);
    CHECK(number_after(only_report(log, "Executing <Task 'sleepy'> took "), "took ") >= 0.2);
}

TEST_CASE("a standalone loop reports a slow callback and honours slow_callback_duration", "[debug]") {
    no_debug_environment env;
    report_log log;
    auto loop = corio::new_event_loop();
    log.attach(*loop);
    loop->set_debug(true);
    REQUIRE(loop->slow_callback_duration() == 100ms);
    loop->set_slow_callback_duration(30ms);
    REQUIRE(loop->slow_callback_duration() == 30ms);
    loop->call_soon([] { std::this_thread::sleep_for(50ms); });
    loop->call_soon([] {});
    loop->run_until_complete(block_for(1ms));  // under the threshold
    REQUIRE(log.containing("took").size() == 1);
    CHECK(number_after(only_report(log, "Executing <callback> took "), "took ") >= 0.05);
}

TEST_CASE("a task still pending at shutdown is listed once with its name", "[debug]") {
    no_debug_environment env;
    report_log log;
    corio::event never_set;
    SECTION("runtime") {
        {
            corio::runtime rt({.workers = 2, .debug = true});
            log.attach(rt);
            rt.run_until_complete(leave_a_task_pending(never_set, "leftover"));
        }
    }
    SECTION("standalone loop") {
        auto loop = corio::new_event_loop();
        loop->set_debug(true);
        log.attach(*loop);
        loop->run_until_complete(leave_a_task_pending(never_set, "leftover"));
        loop.reset();
    }
    const auto reports = log.containing("pending at shutdown");
    REQUIRE(reports.size() == 1);
    CHECK(reports[0].find("Task 'leftover'") != std::string::npos);
    CHECK(log.all().size() == 1);
}

TEST_CASE("call_soon from a thread that does not run the loop is reported", "[debug]") {
    no_debug_environment env;
    report_log log;
    std::atomic<int> ran{0};
    SECTION("runtime") {
        corio::runtime rt({.workers = 2, .debug = true});
        log.attach(rt);
        rt.loop(0).call_soon([&ran] { ran.fetch_add(1); });  // this thread runs no loop
        rt.run_until_complete(call_soon_on_own_loop(ran));   // from a worker: fine
    }
    SECTION("standalone loop") {
        auto loop = corio::new_event_loop();
        loop->set_debug(true);
        log.attach(*loop);
        loop->call_soon([&ran] { ran.fetch_add(1); });  // not running yet: fine, as in asyncio
        loop->run_until_complete(call_soon_from_another_thread(*loop, ran));
    }
    CHECK(ran.load() == 2);  // reported, and still scheduled
    const auto reports = log.containing("call_soon() called from a thread that does not run the loop");
    CHECK(reports.size() == 1);
    CHECK(log.all().size() == 1);
}

TEST_CASE("the stall detector reports a task spinning for 500 ms while it spins", "[debug][stall]") {
    no_debug_environment env;
    report_log log;
    std::atomic<bool> spinning{false};
    std::atomic<int> reports_while_spinning{0};
    log.on_report([&](const std::string& message) {
        if (message.find("Stall") != std::string::npos && spinning.load()) reports_while_spinning.fetch_add(1);
    });
    std::optional<scoped_environment> stall_from_environment;
    corio::run_options options{.workers = 2};
    SECTION("run_options") { options.stall_threshold = 100ms; }
    SECTION("CORIO_STALL_MS") { stall_from_environment.emplace("CORIO_STALL_MS", "100"); }
    {
        corio::runtime rt(options);
        log.attach(rt);
        corio::task_options spinner;
        spinner.name = "spinner";
        rt.run_until_complete(rt.create_task(spin_for(500ms, spinning), spinner));
    }
    const auto report = only_report(log, "Stall");
    CHECK(report.find("Task 'spinner'") != std::string::npos);
    CHECK(number_after(report, "for at least ") >= 0.1);
    CHECK(reports_while_spinning.load() == 1);
    CHECK(log.all().size() == 1);  // no slow-callback report: debug mode is off
}

TEST_CASE("CORIO_DEBUG puts loops and runtimes created while it is set in debug mode", "[debug]") {
    no_debug_environment env;
    {
        scoped_environment debug("CORIO_DEBUG", "1");
        corio::runtime rt({.workers = 1});
        CHECK(rt.loop(0).get_debug());
        CHECK(corio::new_event_loop()->get_debug());
    }
    corio::runtime rt({.workers = 1});
    CHECK_FALSE(rt.loop(0).get_debug());
    CHECK_FALSE(corio::new_event_loop()->get_debug());
}

TEST_CASE("nothing is reported when debug mode and the stall detector are off", "[debug]") {
    no_debug_environment env;
    report_log log;
    std::atomic<bool> spinning{false};
    std::atomic<int> ran{0};
    corio::event never_set;
    {
        corio::runtime rt({.workers = 2});
        log.attach(rt);
        rt.run_until_complete(drop_one_task_await_one_spawn_one());
        rt.run_until_complete(block_for(200ms));
        rt.run_until_complete(spin_for(500ms, spinning));
        rt.loop(0).call_soon([&ran] { ran.fetch_add(1); });
        rt.run_until_complete(leave_a_task_pending(never_set, "leftover"));
    }
    { auto outside_any_loop = never_awaited_coroutine(); }
    CHECK(log.all().empty());
}
