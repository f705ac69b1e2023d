// Puts one loop's thread to sleep until unpark() or a deadline (Tokio's
// park/unpark). An unpark that comes before park is not lost: it leaves the
// state `notified` and the next park returns at once. Only an unpark that
// finds the thread actually parked costs a syscall (the condvar notify).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace corio::detail {

class parker {
public:
    using time_point = std::chrono::steady_clock::time_point;

    /// Sleeps until unpark() or `deadline` (time_point::max(): no deadline).
    void park(time_point deadline) {
        int expected = notified;
        // acquire: pairs with the release in unpark(), so the work published
        // before the unpark is visible after we return.
        if (state_.compare_exchange_strong(expected, empty, std::memory_order_acquire)) return;
        std::unique_lock lock(mutex_);
        expected = empty;
        if (!state_.compare_exchange_strong(expected, parked, std::memory_order_acquire)) {
            state_.store(empty, std::memory_order_relaxed);  // was notified meanwhile
            return;
        }
        for (;;) {
            if (deadline == time_point::max()) cv_.wait(lock);
            else if (cv_.wait_until(lock, deadline) == std::cv_status::timeout) {
                state_.exchange(empty, std::memory_order_acquire);
                return;
            }
            expected = notified;
            if (state_.compare_exchange_strong(expected, empty, std::memory_order_acquire)) return;
            // spurious wake-up: still parked
        }
    }

    void unpark() {
        // release: pairs with the acquires in park().
        if (state_.exchange(notified, std::memory_order_release) == parked) {
            // Taking the lock orders us after the parker's wait began, so
            // the notify cannot fall between its state check and its wait.
            // Notify under it, too: the parked thread cannot return from its
            // wait (a time-out that finds `notified`, say) and destroy the
            // loop before we are done with cv_; an unparker from outside the
            // loop (a blocking-pool thread completing a future) does not keep
            // the loop alive.
            std::lock_guard lock(mutex_);
            cv_.notify_one();
        }
    }

private:
    static constexpr int empty = 0, parked = 1, notified = 2;
    std::atomic<int> state_{empty};
    std::mutex mutex_;
    std::condition_variable cv_;
};

}  // namespace corio::detail
