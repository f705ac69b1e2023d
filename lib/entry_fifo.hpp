// A FIFO of run-queue entries used by one thread at a time: a loop's
// private lists (its pinned tasks; a lone loop's overflow), used by the
// loop's thread only, and the injection queues, used under their lock.
// Its depth is published for readers on any thread (metrics, emptiness
// checks before taking the lock).
//
// A vector and a read index rather than std::deque: a million children
// awaited in spawn order on one worker (spawn_join) take each from the
// overflow's front, and with std::deque that took 1.65x as long (pop_front
// and size() cost ~34 instructions there, this ~10, and the rest went in
// memory stalls around the deque's 512-byte blocks). Consumed entries are
// slid out before the vector grows, once they are at least half of it, so
// a FIFO that is never quite emptied keeps bounded memory.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <vector>

#include "corio/detail/task_header.hpp"

namespace corio::detail {

class entry_fifo {
public:
    // ---- the thread using it ---------------------------------------------------
    bool empty() const noexcept { return head_ == entries_.size(); }
    std::size_t size() const noexcept { return entries_.size() - head_; }
    queue_entry front() const noexcept { return entries_[head_]; }

    queue_entry pop_front() noexcept {
        const queue_entry e = entries_[head_++];
        after_pop();
        return e;
    }

    /// Takes up to `max` entries, oldest first, into `out`; returns how many.
    std::size_t pop_front(queue_entry* out, std::size_t max) noexcept {
        const std::size_t n = std::min(max, size());
        std::copy_n(entries_.begin() + static_cast<std::ptrdiff_t>(head_), n, out);
        head_ += n;
        after_pop();
        return n;
    }

    void push_back(queue_entry e) { push_back(&e, 1); }
    void push_back(const queue_entry* first, std::size_t n) {
        if (entries_.size() + n > entries_.capacity() && 2 * head_ >= entries_.size()) {
            entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(head_));
            head_ = 0;
        }
        entries_.insert(entries_.end(), first, first + n);
        publish_depth();
    }

    /// Hands every entry to `f`, oldest first, and empties the FIFO.
    template <class F>
    void drain(F&& f) {
        for (std::size_t i = head_; i < entries_.size(); ++i) f(entries_[i]);
        head_ = entries_.size();
        after_pop();
    }

    // ---- any thread -------------------------------------------------------------
    /// size() as last published (metrics).
    std::size_t depth() const noexcept { return depth_.load(std::memory_order_relaxed); }

private:
    void publish_depth() noexcept { depth_.store(size(), std::memory_order_relaxed); }
    /// Once every entry is consumed, the vector starts over from its front.
    void after_pop() noexcept {
        if (head_ == entries_.size()) {
            entries_.clear();
            head_ = 0;
        }
        publish_depth();
    }

    std::vector<queue_entry> entries_;
    std::size_t head_ = 0;
    std::atomic<std::size_t> depth_{0};
};

}  // namespace corio::detail
