// A loop's private FIFO of run-queue entries (its pinned tasks; a lone
// loop's overflow): only the loop's thread pushes and pops; metrics readers
// on other threads see its depth.
//
// A vector and a read index rather than std::deque: a million children
// awaited in spawn order on one worker (spawn_join) take each from the
// overflow's front, and std::deque's pop_front and size() cost ~34
// instructions there (block bookkeeping, a division), this ~10. Consumed
// entries are slid out before the vector grows, once they are at least
// half of it, so a FIFO that is never quite emptied keeps bounded memory.
#pragma once

#include <atomic>
#include <cstddef>
#include <vector>

#include "corio/detail/task_header.hpp"

namespace corio::detail {

class owner_fifo {
public:
    // ---- the owning loop's thread --------------------------------------------
    bool empty() const noexcept { return head_ == entries_.size(); }
    std::size_t size() const noexcept { return entries_.size() - head_; }
    queue_entry front() const noexcept { return entries_[head_]; }

    queue_entry pop_front() noexcept {
        const queue_entry e = entries_[head_++];
        if (head_ == entries_.size()) {
            entries_.clear();
            head_ = 0;
        }
        publish_depth();
        return e;
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
        entries_.clear();
        head_ = 0;
        publish_depth();
    }

    // ---- any thread -------------------------------------------------------------
    /// size() as last published (metrics).
    std::size_t depth() const noexcept { return depth_.load(std::memory_order_relaxed); }

private:
    void publish_depth() noexcept { depth_.store(size(), std::memory_order_relaxed); }

    std::vector<queue_entry> entries_;
    std::size_t head_ = 0;
    std::atomic<std::size_t> depth_{0};
};

}  // namespace corio::detail
