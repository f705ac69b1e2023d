// What a worker is running now, published for the stall detector
// (stall_detector.hpp): one per loop, written by the loop's driving thread
// around each outermost entry (a task poll or a callback that the loop runs
// itself, not one nested in a poll), sampled by the watchdog thread a few
// times per threshold. Only written while a stall detector watches the loop.
//
// Invariants:
// - word_ = (entries begun << 2) | pinned (bit 1) | inside (bit 0). Only the
//   driving thread sets and clears `inside` and counts; only the watchdog
//   sets and clears `pinned`, and only while `inside` is set.
// - While `pinned` is set the entry cannot end, so the task it polls is
//   alive (its poll holds the task's alive reference until after end()),
//   and the watchdog may read the task's name.
//
// Protocol for one entry:
//   1. The worker stores the task, then word_ = (n+1) << 2 | inside (release).
//   2. The watchdog, seeing the same word for longer than the threshold,
//      CASes it to word | pinned (acquire: it sees the task stored in 1),
//      reads the task's name, and stores the word back (release).
//   3. The worker ends the entry with a CAS from (n+1) << 2 | inside to
//      (n+1) << 2 (acquire). While `pinned` is set the CAS fails and the
//      worker waits, for the microseconds step 2 takes: the task cannot be
//      freed while the watchdog reads it.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "corio/detail/task_header.hpp"

namespace corio::detail {

/// 64-byte aligned: the watchdog's CAS on a stalled worker's word must not
/// invalidate a line that the worker's other hot fields live on.
class alignas(64) entry_watch {
public:
    static constexpr std::uint64_t inside = 1;
    static constexpr std::uint64_t pinned = 2;
    static constexpr std::uint64_t one_entry = 4;

    // ---- the driving thread ----------------------------------------------
    /// Step 1; `t` is null for a callback.
    void begin(task_header* t) noexcept {
        task_.store(t, std::memory_order_relaxed);
        // relaxed load: this thread is the only writer of the count.
        const std::uint64_t entered = (word_.load(std::memory_order_relaxed) & ~(inside | pinned)) + one_entry + inside;
        // release: pairs with the acquire CAS in try_pin.
        word_.store(entered, std::memory_order_release);
    }
    /// Step 3, before the entry's task can be freed.
    void end() noexcept {
        const std::uint64_t entered = word_.load(std::memory_order_relaxed) & ~pinned;
        std::uint64_t expected = entered;
        // acquire: pairs with the release in unpin, so the watchdog's reads
        // of the task happen before anything this thread does next.
        while (!word_.compare_exchange_weak(expected, entered - inside, std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
            if (expected & pinned) std::this_thread::yield();
            expected = entered;
        }
    }

    // ---- the watchdog ------------------------------------------------------
    /// relaxed: the sample is only compared with the last one; try_pin
    /// acquires before anything is read through it.
    std::uint64_t sample() const noexcept { return word_.load(std::memory_order_relaxed); }
    static bool is_inside(std::uint64_t word) noexcept { return (word & inside) != 0; }
    /// Step 2: pins the entry `word` if it is still running. Then, until
    /// unpin(word), pinned_task() may be read (null: a callback).
    bool try_pin(std::uint64_t word) noexcept {
        return word_.compare_exchange_strong(word, word | pinned, std::memory_order_acquire, std::memory_order_relaxed);
    }
    task_header* pinned_task() const noexcept { return task_.load(std::memory_order_relaxed); }
    void unpin(std::uint64_t word) noexcept { word_.store(word, std::memory_order_release); }

private:
    std::atomic<std::uint64_t> word_{0};
    /// Written by the driving thread before the release in begin(); read
    /// by the watchdog after the acquire in try_pin (relaxed on both sides).
    std::atomic<task_header*> task_{nullptr};
};

}  // namespace corio::detail
