// The frame allocator's depot: frames one thread frees beyond its own lists
// reach a thread that only allocates; while loops run it keeps all they give
// it until the frames lie unused for a decay period, and when the last loop
// stops it keeps only its bound (lib/frame_allocator.cpp).
#include "corio/detail/frame_allocator.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
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
using corio::detail::deallocate_frame;
using corio::detail::decay_frame_depot;
using corio::detail::depot_clock;
using corio::detail::frame_depot_bound;
using corio::detail::frame_depot_decay;
using corio::detail::frame_depot_loop_started;
using corio::detail::frame_depot_loop_stopped;
using corio::detail::frames_in_depot;

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

/// Takes every frame of the test's class out of the depot, so that counts
/// start from zero, and puts them back at the end.
struct depot_drained {
    std::vector<void*> held;
    depot_drained() {
        std::thread([&] {
            while (frames_in_depot(frame_size) > 0) held.push_back(allocate_frame(frame_size));
        }).join();
    }
    ~depot_drained() {
        std::thread([&] {
            for (void* p : held) deallocate_frame(p, frame_size);
        }).join();
    }
};

/// Allocates `count` frames and frees them on this thread: what its own
/// lists cannot hold goes to the depot, whole lists at a time.
struct freed_past_the_lists {
    std::vector<void*> frames;
    std::size_t depot_gain = 0;

    explicit freed_past_the_lists(std::size_t count) {
        for (std::size_t i = 0; i < count; ++i) frames.push_back(allocate_frame(frame_size));
        const std::size_t depot_before = frames_in_depot(frame_size);
        for (void* p : frames) deallocate_frame(p, frame_size);
        depot_gain = frames_in_depot(frame_size) - depot_before;
    }
};

/// Allocates on this (loop) thread until a list comes out of the depot,
/// then frees it all again: the depot holds what it held, but its low-water
/// mark for the period has dipped by a list.
void dip_into_depot() {
    const std::size_t before = frames_in_depot(frame_size);
    std::vector<void*> dip;
    while (frames_in_depot(frame_size) == before) dip.push_back(allocate_frame(frame_size));
    for (void* p : dip) deallocate_frame(p, frame_size);
}

/// A time no earlier period reaches: the depot's periods start afresh there.
depot_clock::time_point far_ahead() { return depot_clock::now() + std::chrono::hours(1); }

}  // namespace

TEST_CASE("a loop's thread gives the depot every list its own cannot hold, for any thread to take back",
          "[frame_allocator]") {
    depot_drained drained;
    std::thread([] {
        frame_depot_loop_started();
        freed_past_the_lists freed(100'000);
        // Past the bound kept from threads that run no loop.
        REQUIRE(freed.depot_gain > frame_depot_bound);
        CHECK(frames_in_depot(frame_size) == freed.depot_gain);

        // A thread that only allocates (a spawner whose tasks other workers
        // ran and freed) gets every one of them back: no malloc.
        std::vector<void*> again;
        std::thread([&] {
            for (std::size_t i = 0; i < freed.depot_gain; ++i) again.push_back(allocate_frame(frame_size));
        }).join();
        CHECK(frames_in_depot(frame_size) == 0);
        const std::set<void*> mine(freed.frames.begin(), freed.frames.end());
        std::size_t recycled = 0;
        for (void* p : again) recycled += mine.count(p);
        CHECK(recycled == again.size());

        for (void* p : again) deallocate_frame(p, frame_size);
        CHECK(frames_in_depot(frame_size) > frame_depot_bound);
        // The last loop stopped: the depot keeps no more than its bound.
        frame_depot_loop_stopped();
        CHECK(frames_in_depot(frame_size) == frame_depot_bound);
        // And a thread without a loop fills it no further.
        freed_past_the_lists after_close(100'000);
        CHECK(frames_in_depot(frame_size) == frame_depot_bound);
    }).join();
}

TEST_CASE("the depot gives frames back to malloc once they lie unused for a decay period", "[frame_allocator]") {
    depot_drained drained;
    std::thread([] {
        frame_depot_loop_started();
        const auto t0 = far_ahead();
        decay_frame_depot(t0);  // a period that starts without the test's frames
        freed_past_the_lists freed(60'000);
        const std::size_t kept = freed.depot_gain;
        REQUIRE(kept > 20'000);
        REQUIRE(kept < corio::detail::frame_depot_trim_batch);
        CHECK(decay_frame_depot(t0 + frame_depot_decay / 2) == t0 + frame_depot_decay);
        CHECK(frames_in_depot(frame_size) == kept);

        // The first period began without them: none lay unused through all
        // of it.
        const auto t1 = t0 + frame_depot_decay;
        CHECK(decay_frame_depot(t1) == t1 + frame_depot_decay);
        CHECK(frames_in_depot(frame_size) == kept);
        // In the second, a list is taken out and put back.
        dip_into_depot();
        CHECK(frames_in_depot(frame_size) == kept);

        // The lists never touched go; one list stays one more period.
        const auto t2 = t1 + frame_depot_decay;
        CHECK(decay_frame_depot(t2 - 1ms) == t2);
        CHECK(frames_in_depot(frame_size) == kept);
        decay_frame_depot(t2);
        const std::size_t left = frames_in_depot(frame_size);
        CHECK(left == 2048);
        decay_frame_depot(t2 + frame_depot_decay);
        CHECK(frames_in_depot(frame_size) == 0);
        frame_depot_loop_stopped();
    }).join();
}

TEST_CASE("a large depot goes back a batch per call, each call asking to be called again at once",
          "[frame_allocator]") {
    depot_drained drained;
    std::thread([] {
        frame_depot_loop_started();
        const auto t0 = far_ahead() + std::chrono::hours(1);
        decay_frame_depot(t0);
        freed_past_the_lists freed(300'000);
        const std::size_t batch = corio::detail::frame_depot_trim_batch;
        REQUIRE(freed.depot_gain > 3 * batch);
        const auto t1 = t0 + frame_depot_decay;
        decay_frame_depot(t1);  // nothing lay unused through the first period
        CHECK(frames_in_depot(frame_size) == freed.depot_gain);

        const auto t2 = t1 + frame_depot_decay;
        std::size_t calls = 0;
        auto next = t2;
        while (next == t2) {
            const std::size_t before = frames_in_depot();
            next = decay_frame_depot(t2);
            ++calls;
            CHECK(before - frames_in_depot() <= batch);
        }
        CHECK(next > t2);
        CHECK(frames_in_depot(frame_size) == 0);
        CHECK(calls >= (freed.depot_gain + batch - 1) / batch);
        frame_depot_loop_stopped();
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

TEST_CASE("the frame depot empties while a worker idles", "[frame_allocator][runtime]") {
    corio::runtime rt({.workers = 1});
    const bool emptied = rt.run_until_complete([]() -> corio::task<bool> {
        REQUIRE(co_await burst(burst_size) == burst_sum);
        REQUIRE(frames_in_depot() > frame_depot_bound);
        // Each sleep parks the worker, which wakes to trim as for a timer.
        for (int i = 0; i < 300 && frames_in_depot() != 0; ++i) co_await corio::sleep(100ms);
        co_return frames_in_depot() == 0;
    }());
    CHECK(emptied);
}

TEST_CASE("a standalone loop cuts the frame depot back to its bound when it stops running",
          "[frame_allocator][event_loop]") {
    auto loop = corio::new_event_loop();
    const std::size_t kept = loop->run_until_complete([]() -> corio::task<std::size_t> {
        REQUIRE(co_await burst(burst_size) == burst_sum);
        co_return frames_in_depot();
    }());
    CHECK(kept > frame_depot_bound);
    for (std::size_t size = 64; size <= 1024; size += 64) CHECK(frames_in_depot(size) <= frame_depot_bound);
}
