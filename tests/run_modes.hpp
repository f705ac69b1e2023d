// Runs one test coroutine both ways corio can run it: on a standalone
// event loop (asyncio's exact single-thread order) and on a multi-worker
// runtime (corio::run with 2 workers, where tasks may migrate).
//
//   const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
//   int v = corio_test::run_in(mode, [&]() -> corio::task<int> { ... });
//
// `make_main` stays alive until the run returns, so a capturing lambda
// coroutine may be used. Catch2 assertions are not thread-safe: inside the
// coroutine only record results; REQUIRE after run_in returns.
#pragma once

#include <cstddef>
#include <ostream>
#include <utility>

#include "corio/event_loop.hpp"
#include "corio/runtime.hpp"

namespace corio_test {

enum class run_mode { standalone, multi_worker };
inline constexpr run_mode standalone = run_mode::standalone;
inline constexpr run_mode multi_worker = run_mode::multi_worker;

inline std::ostream& operator<<(std::ostream& os, run_mode m) {
    return os << (m == standalone ? "standalone loop" : "2-worker runtime");
}

template <class F>
auto run_in(run_mode mode, F&& make_main) {
    if (mode == standalone) {
        auto loop = corio::new_event_loop();
        return loop->run_until_complete(make_main());
    }
    return corio::run(make_main(), corio::run_options{.workers = 2});
}

}  // namespace corio_test
