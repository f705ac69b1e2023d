// An unbounded, mutex-protected FIFO of run-queue entries: the runtime's
// injection queue (work from outside the workers, and overflow from full
// local queues) and each loop's inbox (work only that loop may run: pinned
// tasks, callbacks posted to it from other threads).
#pragma once

#include <cstddef>
#include <mutex>

#include "corio/detail/task_header.hpp"
#include "entry_fifo.hpp"

namespace corio::detail {

class injection_queue {
public:
    void push(queue_entry e) { push_batch(&e, 1); }
    void push_batch(const queue_entry* first, std::size_t n) {
        std::lock_guard lock(mutex_);
        entries_.push_back(first, n);
    }
    /// Takes up to `max` entries, oldest first; returns how many.
    std::size_t pop_batch(queue_entry* out, std::size_t max) {
        if (empty()) return 0;
        std::lock_guard lock(mutex_);
        return entries_.pop_front(out, max);
    }
    queue_entry pop() {
        queue_entry e = 0;
        return pop_batch(&e, 1) ? e : 0;
    }
    /// May be stale (relaxed: the depth is a hint; the mutex orders the
    /// entries); callers that must not miss work re-check under the sleep
    /// protocol (see idle_set.hpp).
    bool empty() const noexcept { return entries_.depth() == 0; }
    std::size_t size() const noexcept { return entries_.depth(); }

private:
    std::mutex mutex_;
    entry_fifo entries_;
};

}  // namespace corio::detail
