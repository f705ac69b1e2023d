// A shared library with corio inside, loaded with dlopen by host.cpp: the
// case that corio's initial-exec TLS model (CMakeLists.txt) must survive.
#include <corio/corio.hpp>

#include <cstdint>

namespace {

corio::task<std::uint64_t> fib(std::uint64_t n) {
    if (n < 2) co_return n;
    auto child = corio::create_task(fib(n - 1));
    const std::uint64_t b = co_await fib(n - 2);
    co_return co_await std::move(child) + b;
}

corio::task<std::uint64_t> plugin_main() {
    // Frames from the per-thread caches on every worker, and a blocking-pool
    // round trip: the thread_locals a task touches.
    const std::uint64_t f = co_await fib(20);
    const std::uint64_t doubled = co_await corio::to_thread([](std::uint64_t x) { return 2 * x; }, f);
    co_return doubled;
}

}  // namespace

extern "C" std::uint64_t corio_plugin_run() { return corio::run(plugin_main(), {.workers = 4}); }
