// corio::barrier: asyncio.Barrier, safe when its parties run on different
// workers. Built as asyncio builds it, on a condition, with its four states:
//
//   filling --(last party arrives)--> draining --(last party leaves)--> filling
//      |  reset() with parties waiting: resetting --(last leaves)--> filling
//      +- abort(): broken (until reset())
//
// A party arriving while the barrier drains or resets waits until it is
// filling again, so a fast task cannot enter the next cycle before every
// party of the previous one has left; parties waiting through a reset or an
// abort get broken_barrier_error.
//
// Resumption: wait() resumes on the worker where it reacquires the
// barrier's internal lock (the last arriving party's worker, in a runtime).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "corio/condition.hpp"
#include "corio/task.hpp"

namespace corio {

class barrier {
public:
    /// A barrier for `parties` tasks; parties < 1 throws std::invalid_argument.
    explicit barrier(std::ptrdiff_t parties);
    barrier(const barrier&) = delete;
    barrier& operator=(const barrier&) = delete;

    /// `co_await b.wait()`: waits until `parties()` tasks wait, then returns
    /// this task's arrival index in its cycle (0 .. parties() - 1). Throws
    /// broken_barrier_error when the barrier is broken, or is reset or
    /// aborted while this task waits.
    [[nodiscard]] task<std::size_t> wait();
    /// Back to the empty filling state; tasks waiting now get broken_barrier_error.
    [[nodiscard]] task<void> reset();
    /// Breaks the barrier: waiting and later wait() calls get broken_barrier_error.
    [[nodiscard]] task<void> abort();

    std::size_t parties() const noexcept { return parties_; }
    /// Tasks waiting in the filling barrier (0 while it drains, resets or is broken).
    std::size_t n_waiting() const noexcept;
    bool broken() const noexcept;

private:
    enum class phase : std::uint8_t { filling, draining, resetting, broken };

    // ---- with cond_'s lock held ------------------------------------------
    std::size_t count() const noexcept { return count_and_phase_.load(std::memory_order_relaxed) >> 2; }
    phase current() const noexcept { return static_cast<phase>(count_and_phase_.load(std::memory_order_relaxed) & 3); }
    void store(std::size_t count, phase p) noexcept {
        count_and_phase_.store(count << 2 | static_cast<std::uint64_t>(p), std::memory_order_relaxed);
    }
    task<void> wait_until_filling();
    task<void> wait_until_released();
    void leave_locked();

    condition cond_;  // with its own lock, which guards the barrier's state
    const std::size_t parties_;
    /// Parties inside wait() (high bits) and the phase (low 2 bits). Written
    /// only with cond_'s lock held, which orders the writers; one word, so
    /// that n_waiting() and broken() read a consistent snapshot from any
    /// thread without that lock (relaxed: a snapshot is all they promise).
    std::atomic<std::uint64_t> count_and_phase_{0};
};

}  // namespace corio
