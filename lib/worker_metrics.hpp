// The counters behind worker_metrics (include/corio/metrics.hpp): one block
// per loop, written only by the thread driving that loop, read by
// metrics() from any thread.
//
// Invariants:
// - Each counter has one writer, the loop's driving thread (one thread at a
//   time; a standalone loop handed between threads is handed over with the
//   synchronisation of run_until_complete). So an increment is a relaxed
//   load and a relaxed store, not a fetch_add: no lost updates are possible
//   with one writer, x86 compiles it to a plain add on memory (no lock
//   prefix), and TSan sees atomics, not a race.
// - Readers load relaxed: a snapshot needs each value, not an order between
//   them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace corio::detail {

/// A single-writer counter.
class owned_counter {
public:
    void add(std::uint64_t n = 1) noexcept { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    void set(std::uint64_t n) noexcept { v_.store(n, std::memory_order_relaxed); }
    std::uint64_t read() const noexcept { return v_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> v_{0};
};

/// 64-byte aligned (the x86-64 and most ARM cache line): the block starts on
/// its own line and its size rounds up to whole lines, so the owner's writes
/// never invalidate a line that another worker's hot fields live on.
struct alignas(64) worker_counters {
    owned_counter polls, spawned, completed;
    owned_counter from_local, from_lifo, from_inbox, from_injection, stolen;
    owned_counter steal_attempts, steal_successes;
    owned_counter parks, unparks, overflows;
    /// Nanoseconds (steady clock) awake and asleep, up to the start of the
    /// current stretch; *_since is when the current stretch began, 0 when
    /// the loop is in the other state (or not running).
    owned_counter busy_ns, parked_ns, busy_since_ns, parked_since_ns;

    static std::uint64_t now_ns() noexcept {
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::steady_clock::now().time_since_epoch())
                                              .count());
    }
    /// The driving thread enters / leaves its run loop, or sleeps / wakes.
    void start_busy(std::uint64_t now) noexcept { busy_since_ns.set(now); }
    void end_busy(std::uint64_t now) noexcept {
        if (const std::uint64_t since = busy_since_ns.read()) busy_ns.add(now - since);
        busy_since_ns.set(0);
    }
    void start_parked(std::uint64_t now) noexcept {
        end_busy(now);
        parked_since_ns.set(now);
    }
    void end_parked(std::uint64_t now) noexcept {
        parked_ns.add(now - parked_since_ns.read());
        parked_since_ns.set(0);
        start_busy(now);
    }
};

}  // namespace corio::detail
