// A tiny test-and-test-and-set lock for the short critical sections that
// guard a future's or a task's waiter list (a few pointer writes each).
#pragma once

#include <atomic>
#include <thread>

namespace corio::detail {

class spinlock {
public:
    void lock() noexcept {
        for (int spins = 0;; ++spins) {
            // acquire: pairs with the release in unlock().
            if (!locked_.exchange(true, std::memory_order_acquire)) return;
            while (locked_.load(std::memory_order_relaxed)) {
                if (spins > 64) std::this_thread::yield();
            }
        }
    }
    bool try_lock() noexcept { return !locked_.exchange(true, std::memory_order_acquire); }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
    std::atomic<bool> locked_{false};
};

}  // namespace corio::detail
