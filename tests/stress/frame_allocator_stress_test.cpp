// Frames cross threads all the time (a task spawned on one worker completes
// on another): here 8 threads, more than the cores, allocate frames, hand
// each to the next thread through a locked mailbox, and free what they
// receive, so every thread's lists overflow into the depot and refill from
// it while the others do the same. No frame may be handed out twice while
// live, and each must arrive holding what its allocator wrote.
#include "corio/detail/frame_allocator.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

namespace {

using corio::detail::allocate_frame;
using corio::detail::deallocate_frame;

constexpr std::size_t threads = 8, per_thread = 60'000, frame_size = 300;

struct mailbox {
    std::mutex mutex;
    std::vector<void*> frames;
};

struct live_set {
    std::mutex mutex;
    std::unordered_set<void*> frames;
    std::size_t duplicates = 0;

    void add(void* p) {
        std::lock_guard lock(mutex);
        if (!frames.insert(p).second) ++duplicates;
    }
    void remove(void* p) {
        std::lock_guard lock(mutex);
        frames.erase(p);
    }
};

}  // namespace

TEST_CASE("frames handed between threads are never given out twice", "[frame_allocator][stress]") {
    std::vector<mailbox> boxes(threads);
    live_set live;
    std::vector<std::size_t> corrupted(threads, 0);
    std::vector<std::thread> pool;
    for (std::size_t id = 0; id < threads; ++id) {
        pool.emplace_back([&, id] {
            mailbox& out = boxes[(id + 1) % threads];
            mailbox& in = boxes[id];
            std::vector<void*> received;
            auto free_received = [&] {
                {
                    std::lock_guard lock(in.mutex);
                    received.swap(in.frames);
                }
                for (void* p : received) {
                    std::uint64_t tag;
                    std::memcpy(&tag, static_cast<char*>(p) + 64, sizeof tag);
                    if (tag != (id + threads - 1) % threads) ++corrupted[id];
                    live.remove(p);
                    deallocate_frame(p, frame_size);
                }
                received.clear();
            };
            for (std::size_t i = 0; i < per_thread; ++i) {
                void* p = allocate_frame(frame_size);
                live.add(p);
                const std::uint64_t tag = id;
                std::memcpy(static_cast<char*>(p) + 64, &tag, sizeof tag);
                {
                    std::lock_guard lock(out.mutex);
                    out.frames.push_back(p);
                }
                if (i % 1000 == 999) free_received();
            }
            free_received();
        });
    }
    for (auto& t : pool) t.join();
    // What the last threads sent after their neighbours' final sweep.
    for (auto& box : boxes)
        for (void* p : box.frames) {
            live.remove(p);
            deallocate_frame(p, frame_size);
        }
    CHECK(live.duplicates == 0);
    CHECK(live.frames.empty());
    for (std::size_t id = 0; id < threads; ++id) CHECK(corrupted[id] == 0);
}
