// An unbounded, mutex-protected FIFO of run-queue entries: the runtime's
// injection queue (work from outside the workers, and overflow from full
// local queues) and each loop's inbox (work only that loop may run: pinned
// tasks, callbacks posted to it from other threads).
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <mutex>

#include "corio/detail/task_header.hpp"

namespace corio::detail {

class injection_queue {
public:
    void push(queue_entry e) {
        std::lock_guard lock(mutex_);
        entries_.push_back(e);
        // relaxed: `size_` is a hint for empty(); the mutex orders the data.
        size_.store(entries_.size(), std::memory_order_relaxed);
    }
    void push_batch(const queue_entry* first, std::size_t n) {
        std::lock_guard lock(mutex_);
        entries_.insert(entries_.end(), first, first + n);
        size_.store(entries_.size(), std::memory_order_relaxed);
    }
    /// Takes up to `max` entries, oldest first; returns how many.
    std::size_t pop_batch(queue_entry* out, std::size_t max) {
        if (empty()) return 0;
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        while (n < max && !entries_.empty()) {
            out[n++] = entries_.front();
            entries_.pop_front();
        }
        size_.store(entries_.size(), std::memory_order_relaxed);
        return n;
    }
    queue_entry pop() {
        queue_entry e = 0;
        return pop_batch(&e, 1) ? e : 0;
    }
    /// May be stale; callers that must not miss work re-check under the
    /// sleep protocol (see idle_set.hpp).
    bool empty() const noexcept { return size_.load(std::memory_order_relaxed) == 0; }
    std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

private:
    std::mutex mutex_;
    std::deque<queue_entry> entries_;
    std::atomic<std::size_t> size_{0};
};

}  // namespace corio::detail
