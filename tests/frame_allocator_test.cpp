// The frame allocator's depot: frames one thread frees beyond its own lists
// reach a thread that only allocates (lib/frame_allocator.cpp).
#include "corio/detail/frame_allocator.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <set>
#include <thread>
#include <vector>

namespace {

using corio::detail::allocate_frame;
using corio::detail::deallocate_frame;
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
