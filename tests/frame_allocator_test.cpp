// The frame allocator's depot: frames one thread frees beyond its own lists
// reach a thread that only allocates; and a loop's reserve, which keeps the
// rest until they lie unused for a decay period (lib/frame_allocator.cpp).
#include "corio/detail/frame_allocator.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

#include "corio/create_task.hpp"
#include "corio/event_loop.hpp"
#include "corio/runtime.hpp"
#include "corio/sleep.hpp"

using namespace std::chrono_literals;

namespace {

using corio::detail::allocate_frame;
using corio::detail::close_frame_reserve;
using corio::detail::deallocate_frame;
using corio::detail::decay_frame_reserve;
using corio::detail::frame_reserve_decay;
using corio::detail::frames_in_depot;
using corio::detail::frames_in_reserve;
using corio::detail::open_frame_reserve;

// The largest recycled class (961 to 1024 bytes): no frame of the library's
// own idle threads is that big, so only this test moves the depot's count.
constexpr std::size_t frame_size = 1000;
constexpr std::size_t n = 20'000;

}  // namespace

TEST_CASE("frames freed on one thread are reused by a thread that only allocates", "[frame_allocator]") {
    // Empties the class's depot first, keeping what it held out of the way.
    std::vector<void*> drained;
    std::vector<void*> produced;
    std::thread([&] {
        while (frames_in_depot(frame_size) > 0) drained.push_back(allocate_frame(frame_size));
        for (std::size_t i = 0; i < n; ++i) produced.push_back(allocate_frame(frame_size));
    }).join();
    REQUIRE(frames_in_depot(frame_size) == 0);

    // A consumer frees them all and exits: its lists, full and partial, go
    // to the depot too.
    std::thread([&] {
        for (void* p : produced) deallocate_frame(p, frame_size);
    }).join();
    CHECK(frames_in_depot(frame_size) == n);

    // Two fresh threads that only allocate get every one of them back. The
    // first takes half and exits holding the rest of the last list it took:
    // that goes back to the depot at its exit, not lost with the thread.
    std::vector<void*> reused;
    auto take = [&](std::size_t count) {
        std::thread([&] {
            for (std::size_t i = 0; i < count; ++i) reused.push_back(allocate_frame(frame_size));
        }).join();
    };
    take(n / 2);
    CHECK(frames_in_depot(frame_size) == n - n / 2);
    take(n - n / 2);
    CHECK(frames_in_depot(frame_size) == 0);
    const std::set<void*> freed(produced.begin(), produced.end());
    std::size_t recycled = 0;
    for (void* p : reused) recycled += freed.count(p);
    CHECK(recycled == n);

    for (void* p : reused) deallocate_frame(p, frame_size);
    for (void* p : drained) deallocate_frame(p, frame_size);
}

namespace {

/// Frees `frames` on a thread keeping a reserve; more than its lists and the
/// depot can hold, so the reserve takes the rest.
struct freed_past_the_caches {
    std::vector<void*> frames;
    std::size_t depot_gain = 0;
    std::size_t reserved = 0;

    explicit freed_past_the_caches(std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) frames.push_back(allocate_frame(frame_size));
        const std::size_t depot_before = frames_in_depot(frame_size);
        for (void* p : frames) deallocate_frame(p, frame_size);
        depot_gain = frames_in_depot(frame_size) - depot_before;
        reserved = frames_in_reserve();
    }
    /// Frames the thread's own lists took: those come back first.
    std::size_t in_lists() const { return frames.size() - depot_gain - reserved; }
};

}  // namespace

TEST_CASE("a loop's thread keeps frames past its lists and takes them back before the depot's", "[frame_allocator]") {
    std::thread([] {
        open_frame_reserve();
        freed_past_the_caches freed(100'000);
        REQUIRE(freed.reserved > 10'000);
        REQUIRE(freed.in_lists() > 0);

        // Its lists first, then the reserve; the depot is left alone for
        // threads that have nothing of their own.
        const std::set<void*> mine(freed.frames.begin(), freed.frames.end());
        const std::size_t depot_now = frames_in_depot(frame_size);
        std::vector<void*> again;
        for (std::size_t i = 0; i < freed.in_lists() + freed.reserved; ++i)
            again.push_back(allocate_frame(frame_size));
        CHECK(frames_in_reserve() == 0);
        CHECK(frames_in_depot(frame_size) == depot_now);
        std::size_t recycled = 0;
        for (void* p : again) recycled += mine.count(p);
        CHECK(recycled == again.size());

        for (void* p : again) deallocate_frame(p, frame_size);
        close_frame_reserve();
        CHECK(frames_in_reserve() == 0);
        // Closed: what the lists and depot cannot take goes back to malloc.
        freed_past_the_caches after_close(100'000);
        CHECK(after_close.reserved == 0);
    }).join();
}

TEST_CASE("reserved frames go back to malloc once they lie unused for a decay period", "[frame_allocator]") {
    using corio::detail::reserve_clock;
    std::thread([] {
        open_frame_reserve();
        const auto t0 = reserve_clock::now();
        // The first call starts the first period.
        CHECK(decay_frame_reserve(t0) == reserve_clock::time_point::max());
        // Fewer than one call gives back, whatever the depot held before.
        freed_past_the_caches freed(60'000);
        const std::size_t reserved = freed.reserved;
        REQUIRE(reserved > 10'000);
        REQUIRE(reserved < corio::detail::frame_reserve_trim_batch);
        CHECK(decay_frame_reserve(t0 + frame_reserve_decay / 2) == t0 + frame_reserve_decay);
        CHECK(frames_in_reserve() == reserved);

        // The first period began with an empty reserve: nothing lay unused
        // through all of it.
        const auto t1 = t0 + frame_reserve_decay;
        CHECK(decay_frame_reserve(t1) == t1 + frame_reserve_decay);
        CHECK(frames_in_reserve() == reserved);
        // In the second the thread dips `used` frames into its reserve.
        const std::size_t used = 1'000;
        std::vector<void*> dip;
        for (std::size_t i = 0; i < freed.in_lists() + used; ++i) dip.push_back(allocate_frame(frame_size));
        CHECK(frames_in_reserve() == reserved - used);
        for (void* p : dip) deallocate_frame(p, frame_size);
        CHECK(frames_in_reserve() == reserved);

        // The frames never touched go; the dip's stay one more period.
        const auto t2 = t1 + frame_reserve_decay;
        CHECK(decay_frame_reserve(t2 - 1ms) == t2);
        CHECK(frames_in_reserve() == reserved);
        CHECK(decay_frame_reserve(t2) == t2 + frame_reserve_decay);
        CHECK(frames_in_reserve() == used);
        CHECK(decay_frame_reserve(t2 + frame_reserve_decay) == reserve_clock::time_point::max());
        CHECK(frames_in_reserve() == 0);
        close_frame_reserve();
    }).join();
}

TEST_CASE("a large reserve goes back a batch per call, each call asking to be called again at once", "[frame_allocator]") {
    using corio::detail::reserve_clock;
    std::thread([] {
        open_frame_reserve();
        const auto t0 = reserve_clock::now();
        CHECK(decay_frame_reserve(t0) == reserve_clock::time_point::max());
        freed_past_the_caches freed(300'000);
        const std::size_t batch = corio::detail::frame_reserve_trim_batch;
        REQUIRE(freed.reserved > 3 * batch);
        const auto t1 = t0 + frame_reserve_decay;
        CHECK(decay_frame_reserve(t1) == t1 + frame_reserve_decay);  // nothing lay unused through the first

        const auto t2 = t1 + frame_reserve_decay;
        std::size_t calls = 0;
        auto next = t2;
        while (next == t2) {
            const std::size_t before = frames_in_reserve();
            next = decay_frame_reserve(t2);
            ++calls;
            CHECK(before - frames_in_reserve() == std::min(before, batch));
        }
        CHECK(next == reserve_clock::time_point::max());
        CHECK(frames_in_reserve() == 0);
        CHECK(calls == (freed.reserved + batch - 1) / batch);
        close_frame_reserve();
    }).join();
}

namespace {

corio::task<std::uint64_t> identity(std::uint64_t i) { co_return i; }

/// Spawns and joins `n` tasks at once: more frames than the caches hold.
corio::task<std::uint64_t> burst(std::uint64_t n) {
    std::vector<corio::task_handle<std::uint64_t>> handles;
    for (std::uint64_t i = 0; i < n; ++i) handles.push_back(corio::create_task(identity(i)));
    std::uint64_t sum = 0;
    for (auto& h : handles) sum += co_await std::move(h);
    co_return sum;
}

constexpr std::uint64_t burst_size = 200'000;
constexpr std::uint64_t burst_sum = burst_size * (burst_size - 1) / 2;

}  // namespace

TEST_CASE("a worker's frame reserve empties while it idles", "[frame_allocator][runtime]") {
    corio::runtime rt({.workers = 1});
    const bool emptied = rt.run_until_complete([]() -> corio::task<bool> {
        REQUIRE(co_await burst(burst_size) == burst_sum);
        REQUIRE(frames_in_reserve() > 0);  // this task runs on the worker's thread
        // Each sleep parks the worker, which wakes to trim as for a timer.
        for (int i = 0; i < 300 && frames_in_reserve() != 0; ++i) co_await corio::sleep(100ms);
        co_return frames_in_reserve() == 0;
    }());
    CHECK(emptied);
}

TEST_CASE("a standalone loop gives its frame reserve back when it stops running", "[frame_allocator][event_loop]") {
    auto loop = corio::new_event_loop();
    const std::size_t reserved = loop->run_until_complete([]() -> corio::task<std::size_t> {
        REQUIRE(co_await burst(burst_size) == burst_sum);
        co_return frames_in_reserve();
    }());
    CHECK(reserved > 0);
    CHECK(frames_in_reserve() == 0);
}
