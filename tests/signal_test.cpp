#include "corio/event_loop.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <unistd.h>

#include "corio/corio.hpp"
#include "corio/subprocess.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {

/// The disposition of `signum` right now (SIG_DFL, SIG_IGN or a handler).
void (*disposition(int signum))(int) {
    struct sigaction sa {};
    sigaction(signum, nullptr, &sa);
    return sa.sa_handler;
}

/// Waits for `fut`, at most 10 s (a lost signal fails instead of hanging).
template <class T>
corio::task<T> await_bounded(corio::future<T> fut) {
    co_return co_await corio::wait_for(std::move(fut), 10s);
}

struct delivery {
    bool on_the_loop = false;
    int calls = 0;
};

}  // namespace

TEST_CASE("a signal raised by the program runs its handler once, on the loop", "[signal]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const delivery d = corio_test::run_in(mode, []() -> corio::task<delivery> {
        corio::event_loop& loop = corio::get_running_loop();
        auto fired = loop.create_future<bool>();
        auto calls = std::make_shared<std::atomic<int>>(0);
        loop.add_signal_handler(SIGUSR1, [&loop, fired, calls]() mutable {
            // On the loop's own thread, as a loop callback.
            if (calls->fetch_add(1) == 0) fired.set_result(&corio::get_running_loop() == &loop);
        });
        std::raise(SIGUSR1);  // to this thread
        delivery d;
        d.on_the_loop = co_await await_bounded(fired);
        co_await corio::sleep(10ms);  // room for a wrong second call
        d.calls = calls->load();
        loop.remove_signal_handler(SIGUSR1);
        co_return d;
    });
    REQUIRE(d.on_the_loop);
    REQUIRE(d.calls == 1);
    REQUIRE(disposition(SIGUSR1) == SIG_DFL);
}

TEST_CASE("a signal sent to the process runs its handler on the loop", "[signal]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const delivery d = corio_test::run_in(mode, []() -> corio::task<delivery> {
        corio::event_loop& loop = corio::get_running_loop();
        auto calls = std::make_shared<std::atomic<int>>(0);
        auto on_loop = std::make_shared<std::atomic<bool>>(false);
        loop.add_signal_handler(SIGUSR2, [&loop, calls, on_loop] {
            on_loop->store(&corio::get_running_loop() == &loop);
            calls->fetch_add(1);
        });
        // kill() lets the kernel pick the thread. It is sent again if the
        // callback has not run after 200 ms: ThreadSanitizer's runtime
        // (clang 14) now and then never delivers a process-directed signal
        // that it deferred (raise() it delivers at once).
        for (int i = 0; i < 1000 && calls->load() == 0; ++i) {
            if (i % 20 == 0) ::kill(::getpid(), SIGUSR2);
            co_await corio::sleep(10ms);
        }
        loop.remove_signal_handler(SIGUSR2);
        co_return delivery{on_loop->load(), calls->load()};
    });
    REQUIRE(d.calls >= 1);
    REQUIRE(d.on_the_loop);
    REQUIRE(disposition(SIGUSR2) == SIG_DFL);
}

TEST_CASE("add_signal_handler replaces the loop's earlier handler for the signal", "[signal]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int which = corio_test::run_in(mode, []() -> corio::task<int> {
        corio::event_loop& loop = corio::get_running_loop();
        auto fired = loop.create_future<int>();
        loop.add_signal_handler(SIGUSR1, [fired]() mutable { fired.set_result(1); });
        loop.add_signal_handler(SIGUSR1, [fired]() mutable { fired.set_result(2); });
        std::raise(SIGUSR1);
        const int v = co_await await_bounded(fired);
        loop.remove_signal_handler(SIGUSR1);
        co_return v;
    });
    REQUIRE(which == 2);
}

TEST_CASE("remove_signal_handler restores the default disposition and says whether it removed", "[signal]") {
    auto loop = corio::new_event_loop();
    loop->add_signal_handler(SIGUSR2, [] {});
    REQUIRE(disposition(SIGUSR2) != SIG_DFL);
    REQUIRE(loop->remove_signal_handler(SIGUSR2));
    REQUIRE(disposition(SIGUSR2) == SIG_DFL);
    REQUIRE_FALSE(loop->remove_signal_handler(SIGUSR2));
    REQUIRE_FALSE(loop->remove_signal_handler(SIGHUP));
}

TEST_CASE("a signal that came before remove_signal_handler does not call the removed handler", "[signal]") {
    auto loop = corio::new_event_loop();
    int calls = 0;
    loop->add_signal_handler(SIGUSR1, [&] { ++calls; });
    std::raise(SIGUSR1);  // caught, not yet dispatched: the loop is not running
    REQUIRE(loop->remove_signal_handler(SIGUSR1));
    loop->run_until_complete([]() -> corio::task<void> { co_await corio::sleep(20ms); }());
    REQUIRE(calls == 0);
}

TEST_CASE("signals raised before the loop runs are delivered when it runs", "[signal]") {
    auto loop = corio::new_event_loop();
    auto fired = loop->create_future<void>();
    loop->add_signal_handler(SIGUSR2, [fired]() mutable {
        if (!fired.done()) fired.set_result();
    });
    std::raise(SIGUSR2);
    loop->run_until_complete(await_bounded(fired));
    REQUIRE(fired.done());
    loop->remove_signal_handler(SIGUSR2);
}

TEST_CASE("destroying a loop gives its signals their default disposition back", "[signal]") {
    {
        auto loop = corio::new_event_loop();
        loop->add_signal_handler(SIGUSR1, [] {});
        REQUIRE(disposition(SIGUSR1) != SIG_DFL);
    }
    REQUIRE(disposition(SIGUSR1) == SIG_DFL);
}

TEST_CASE("an exception in a signal callback goes to the loop's exception handler", "[signal]") {
    auto loop = corio::new_event_loop();
    std::string reported;
    auto fired = loop->create_future<void>();
    loop->set_exception_handler([&](corio::event_loop&, const corio::exception_context& ctx) {
        try {
            std::rethrow_exception(ctx.exception);
        } catch (const std::exception& e) {
            reported = e.what();
        }
        fired.set_result();
    });
    loop->add_signal_handler(SIGUSR1, [] { throw std::runtime_error("from the callback"); });
    std::raise(SIGUSR1);
    loop->run_until_complete(await_bounded(fired));
    loop->remove_signal_handler(SIGUSR1);
    REQUIRE(reported == "from the callback");
}

TEST_CASE("add_signal_handler refuses what cannot be handled", "[signal][errors]") {
    auto loop = corio::new_event_loop();
    REQUIRE_THROWS_AS(loop->add_signal_handler(SIGKILL, [] {}), std::invalid_argument);
    REQUIRE_THROWS_AS(loop->add_signal_handler(SIGSTOP, [] {}), std::invalid_argument);
    REQUIRE_THROWS_AS(loop->add_signal_handler(0, [] {}), std::invalid_argument);
    REQUIRE_THROWS_AS(loop->add_signal_handler(-1, [] {}), std::invalid_argument);
    REQUIRE_THROWS_AS(loop->add_signal_handler(NSIG, [] {}), std::invalid_argument);
    REQUIRE_THROWS_AS(loop->add_signal_handler(SIGUSR1, std::function<void()>()), std::invalid_argument);
    REQUIRE_THROWS_AS(loop->remove_signal_handler(0), std::invalid_argument);
    REQUIRE_THROWS_AS(loop->remove_signal_handler(INT_MAX), std::invalid_argument);
    REQUIRE(disposition(SIGUSR1) == SIG_DFL);
    loop->close();
    REQUIRE_THROWS_AS(loop->add_signal_handler(SIGUSR1, [] {}), std::runtime_error);
}

// ---- SIGINT during corio::run ------------------------------------------------------
//
// Each case runs in a child process (this test binary, running one hidden
// test case) so that a SIGINT never reaches the test process itself, and so
// that SIGINT starts at its default disposition (Catch2 installs its own
// handler around each test case). A child reports by its exit status.

namespace {

constexpr int child_ok = 42;

/// Runs the hidden test case `name` in a child; returns its returncode.
int run_child(const std::string& name) {
    char self[4096];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) throw std::runtime_error("cannot find the test binary");
    self[n] = '\0';
    return corio::run([](std::vector<std::string> argv) -> corio::task<int> {
        auto child = co_await corio::create_subprocess_exec(std::move(argv),
                                                            corio::subprocess_options{.stdout_ = corio::devnull});
        co_return co_await corio::wait_for(child.wait(), 20s);
    }({self, name}), corio::run_options{.workers = 2});
}

[[noreturn]] void child_exit(bool ok) { std::_Exit(ok ? child_ok : 1); }

}  // namespace

TEST_CASE("sigint child: cancels main", "[.][sigint_child]") {
    std::signal(SIGINT, SIG_DFL);
    bool interrupted = false;
    try {
        corio::run([]() -> corio::task<void> {
            std::raise(SIGINT);
            co_await corio::sleep(15s);  // cancelled long before
        }(), corio::run_options{.workers = 2});
    } catch (const corio::keyboard_interrupt&) {
        interrupted = true;
    }
    child_exit(interrupted && disposition(SIGINT) == SIG_DFL);
}

TEST_CASE("sigint child: runner on a standalone loop", "[.][sigint_child]") {
    std::signal(SIGINT, SIG_DFL);
    bool interrupted = false;
    corio::runner r([] { return corio::new_event_loop(); });
    try {
        r.run([]() -> corio::task<void> {
            std::raise(SIGINT);
            co_await corio::sleep(15s);
        }());
    } catch (const corio::keyboard_interrupt&) {
        interrupted = true;
    }
    const bool restored = disposition(SIGINT) == SIG_DFL;
    const int after = r.run([]() -> corio::task<int> { co_return 5; }());  // the runner goes on
    child_exit(interrupted && restored && after == 5);
}

TEST_CASE("sigint child: a main that swallows the cancellation returns normally", "[.][sigint_child]") {
    std::signal(SIGINT, SIG_DFL);
    const int v = corio::run([]() -> corio::task<int> {
        std::raise(SIGINT);
        try {
            co_await corio::sleep(15s);
        } catch (const corio::cancelled_error&) {
            co_return 7;
        }
        co_return 0;
    }(), corio::run_options{.workers = 2});
    child_exit(v == 7 && disposition(SIGINT) == SIG_DFL);
}

TEST_CASE("sigint child: a second SIGINT kills the process", "[.][sigint_child]") {
    std::signal(SIGINT, SIG_DFL);
    corio::run([]() -> corio::task<void> {
        std::raise(SIGINT);
        bool cancelled = false;
        try {
            co_await corio::sleep(15s);
        } catch (const corio::cancelled_error&) {
            cancelled = true;
        }
        if (!cancelled) child_exit(false);
        std::raise(SIGINT);  // the default disposition: the process dies here
        co_await corio::sleep(15s);
    }(), corio::run_options{.workers = 2});
    child_exit(false);
}

TEST_CASE("sigint child: a program's own SIGINT handler is left alone", "[.][sigint_child]") {
    static std::atomic<int> caught{0};
    std::signal(SIGINT, [](int) { caught.fetch_add(1); });
    const auto own = disposition(SIGINT);
    const bool completed = corio::run([]() -> corio::task<bool> {
        std::raise(SIGINT);
        for (int i = 0; i < 10000 && caught.load() == 0; ++i) co_await corio::sleep(1ms);
        co_return true;  // not cancelled
    }(), corio::run_options{.workers = 2});
    child_exit(completed && caught.load() == 1 && disposition(SIGINT) == own);
}

TEST_CASE("sigint child: off the main thread nothing is installed", "[.][sigint_child]") {
    std::signal(SIGINT, SIG_DFL);
    bool untouched = false;
    std::thread([&] {
        untouched = corio::run([]() -> corio::task<bool> { co_return disposition(SIGINT) == SIG_DFL; }(),
                               corio::run_options{.workers = 2});
    }).join();
    child_exit(untouched);
}

TEST_CASE("SIGINT during corio::run cancels the main task and throws keyboard_interrupt", "[signal][sigint]") {
    REQUIRE(run_child("sigint child: cancels main") == child_ok);
}

TEST_CASE("SIGINT during runner::run on a standalone loop cancels the main task", "[signal][sigint]") {
    REQUIRE(run_child("sigint child: runner on a standalone loop") == child_ok);
}

TEST_CASE("after a SIGINT, a main task that handles the cancellation returns its value", "[signal][sigint]") {
    REQUIRE(run_child("sigint child: a main that swallows the cancellation returns normally") == child_ok);
}

TEST_CASE("a second SIGINT during corio::run kills the process", "[signal][sigint]") {
    REQUIRE(run_child("sigint child: a second SIGINT kills the process") == -SIGINT);
}

TEST_CASE("corio::run leaves a program's own SIGINT handler in place", "[signal][sigint]") {
    REQUIRE(run_child("sigint child: a program's own SIGINT handler is left alone") == child_ok);
}

TEST_CASE("corio::run off the main thread does not touch SIGINT", "[signal][sigint]") {
    REQUIRE(run_child("sigint child: off the main thread nothing is installed") == child_ok);
}
