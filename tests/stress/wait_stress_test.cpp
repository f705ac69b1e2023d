// Many asyncio-style waits at once on more workers than cores: each over
// children that move between workers, sleep, and sometimes fail, with
// every return_when, a third of them with a timeout of up to 2 ms, some
// waiting tasks cancelled from outside. Each wait must return what its
// condition says (or earlier only for a timeout or a cancellation), its
// `done` must hold only finished tasks, and nothing of it may wake the
// waiting task afterwards (its next await is of a future set later).
#include "corio/wait.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

#include "corio/corio.hpp"
#include "splitmix.hpp"

namespace {

using corio_test::mix;
using namespace std::chrono_literals;

constexpr std::size_t waits = 400;
constexpr std::size_t children_per_wait = 8;

struct wait_record {
    bool started = false;    // a waiting task cancelled before its first poll never runs
    bool timed = false;      // the wait had a timeout
    bool cancelled = false;  // the waiting task saw cancelled_error from the wait
    bool result_right = false;
    bool later_await_right = false;  // the await after the wait got its own value
    bool other = false;              // anything else came out
};

corio::task<std::size_t> child(std::size_t w, std::size_t c) {
    const std::uint64_t r = mix(w * 1000 + c);
    for (unsigned i = 0; i < r % 4; ++i) co_await corio::yield();  // may resume on another worker
    if (const auto ms = (r >> 4) % 3; ms != 0) co_await corio::sleep(std::chrono::milliseconds(ms));
    if ((r >> 8) % 16 == 0) throw std::runtime_error("child failed");
    co_return c;
}

bool raised(const corio::task_handle<std::size_t>& h) { return !h.cancelled() && h.exception() != nullptr; }

/// What wait promises of its result: `done` holds finished tasks only,
/// every task is in one of the two, and, unless a timeout may have ended
/// the wait first, the condition holds.
bool result_holds(const corio::wait_result<std::size_t>& r, corio::completion_condition when, bool timed) {
    for (const auto& h : r.done)
        if (!h.done()) return false;
    if (r.done.size() + r.pending.size() != children_per_wait) return false;
    if (timed) return true;
    switch (when) {
        case corio::first_completed: return !r.done.empty();
        case corio::all_completed: return r.pending.empty();
        case corio::first_exception:
            for (const auto& h : r.done)
                if (raised(h)) return true;
            return r.pending.empty();
    }
    return false;
}

/// Sets `f` after the longest timeout a wait here has: a wait's timer
/// that fired into the await of `f` would end it early.
corio::task<int> set_later(corio::future<int> f, int v) {
    co_await corio::sleep(2ms);
    f.set_result(v);
    co_return v;
}

corio::task<void> run_wait(wait_record& rec, std::size_t w) {
    rec.started = true;
    const std::uint64_t r = mix(w);
    const auto when = static_cast<corio::completion_condition>(r % 3);
    std::optional<corio::clock::duration> timeout;
    if ((r >> 4) % 3 == 0) timeout = std::chrono::microseconds((r >> 8) % 2000);
    rec.timed = timeout.has_value();
    std::vector<corio::task_handle<std::size_t>> handles;
    for (std::size_t c = 0; c < children_per_wait; ++c) handles.push_back(corio::create_task(child(w, c)));
    try {
        const auto result = co_await corio::wait(handles, {.timeout = timeout, .return_when = when});
        rec.result_right = result_holds(result, when, rec.timed);
        auto f = corio::get_running_loop().create_future<int>();
        auto setter = corio::create_task(set_later(f, static_cast<int>(w)));
        rec.later_await_right = co_await f == static_cast<int>(w);
        co_await setter;
    } catch (const corio::cancelled_error&) {
        rec.cancelled = true;
    } catch (...) {
        rec.other = true;
    }
    // wait cancels nothing: end the children here.
    for (auto& h : handles) h.cancel();
    for (auto& h : handles) co_await h.wait_done();
}

corio::task<void> run_all(std::vector<wait_record>& records) {
    std::vector<corio::task_handle<void>> handles;
    for (std::size_t w = 0; w < waits; ++w) handles.push_back(corio::create_task(run_wait(records[w], w)));
    // Cancel every seventh waiting task once it is (probably) in its wait.
    co_await corio::yield();
    for (std::size_t w = 0; w < waits; w += 7) handles[w].cancel();
    for (auto& h : handles) co_await h.wait_done();
}

}  // namespace

TEST_CASE("waits on 8 workers return what their condition says and leave no wake-up behind", "[wait][stress]") {
    std::vector<wait_record> records(waits);
    corio::run(run_all(records), {.workers = 8});
    std::size_t timed = 0, cancelled = 0;
    for (std::size_t w = 0; w < waits; ++w) {
        const wait_record& rec = records[w];
        INFO("wait " << w);
        REQUIRE_FALSE(rec.other);
        if (!rec.started || rec.cancelled) {
            REQUIRE(w % 7 == 0);  // only those cancelled from outside
            ++cancelled;
            continue;
        }
        REQUIRE(rec.result_right);
        REQUIRE(rec.later_await_right);
        timed += rec.timed ? 1 : 0;
    }
    // The mix of cases the test is about did happen.
    CHECK(timed > 0);
    CHECK(cancelled > 0);
}
