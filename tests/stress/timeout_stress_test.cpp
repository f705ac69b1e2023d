// Timeout scopes on more workers than cores: tasks hop between workers
// inside scopes whose timers live on the loop they entered on, deadlines
// race the work's end, and foreign cancels land at random moments. A
// scope's timeout_error must always be its own expiry, and a foreign cancel
// must never be turned into timeout_error or lost.
#include "corio/timeout.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#include "corio/corio.hpp"
#include "splitmix.hpp"

using namespace std::chrono_literals;

namespace {

using corio_test::mix;

struct tally {
    std::atomic<int> timeouts{0};
    std::atomic<int> completed{0};
    std::atomic<int> misattributed{0};  // timeout_error from a scope that did not expire
};

corio::task<void> guarded_work(std::uint64_t r) {
    const unsigned hops = r % 4;
    for (unsigned i = 0; i < hops; ++i) co_await corio::yield();  // may resume on another worker
    co_await corio::sleep(std::chrono::microseconds((r >> 8) % 200));
}

corio::task<void> worker(std::size_t id, std::size_t iterations, tally& t, corio::future<void> release) {
    for (std::size_t i = 0; i < iterations; ++i) {
        const std::uint64_t r = mix(id * 100'000 + i);
        auto scope = corio::timeout(std::chrono::microseconds((r >> 20) % 200));
        try {
            co_await scope.run(guarded_work(r));
            ++t.completed;
        } catch (const corio::timeout_error&) {
            ++t.timeouts;
            if (!scope.expired()) ++t.misattributed;
        }
        // a cancelled_error ends the task: it is the foreign cancel
    }
    co_await release;  // still pending when the canceller acts
}

}  // namespace

TEST_CASE("timeouts and foreign cancels keep apart on 8 workers", "[timeout][stress]") {
    const std::size_t tasks = 256;
    const std::size_t iterations = 100;
    tally t;
    struct verdict {
        std::size_t cancel_accepted = 0;
        std::size_t wrong_end = 0;  // cancelled iff a cancel was accepted
    };
    const verdict v = corio::run(
        [](std::size_t tasks, std::size_t iterations, tally& t) -> corio::task<verdict> {
            // One future each: a cancelled awaiter cancels the future it awaits (asyncio).
            std::vector<corio::future<void>> release;
            std::vector<corio::task_handle<void>> hs;
            for (std::size_t i = 0; i < tasks; ++i) {
                release.push_back(corio::get_running_loop().create_future<void>());
                hs.push_back(corio::create_task(worker(i, iterations, t, release.back())));
            }
            std::vector<bool> cancelled(tasks, false);
            for (std::size_t i = 0; i < tasks; ++i) {
                const std::uint64_t r = mix(i);
                if (r % 3 != 0) continue;
                co_await corio::sleep(std::chrono::microseconds(r % 300));
                cancelled[i] = hs[i].cancel();
            }
            for (auto& f : release) {
                // Not `if (!f.done())`: a cancelled worker cancels its future
                // on its own thread, maybe between that check and the set.
                try {
                    f.set_result();
                } catch (const corio::invalid_state_error&) {
                }
            }
            verdict v;
            for (std::size_t i = 0; i < tasks; ++i) {
                try {
                    co_await hs[i];
                } catch (const corio::cancelled_error&) {
                }
                if (cancelled[i]) ++v.cancel_accepted;
                if (hs[i].cancelled() != cancelled[i]) ++v.wrong_end;
            }
            co_return v;
        }(tasks, iterations, t),
        corio::run_options{.workers = 8});
    REQUIRE(t.misattributed.load() == 0);
    REQUIRE(v.wrong_end == 0);
    REQUIRE(v.cancel_accepted > 0);
    REQUIRE(t.timeouts.load() > 0);
    REQUIRE(t.completed.load() > 0);
}
