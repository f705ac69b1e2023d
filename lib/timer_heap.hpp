// A loop's timers: a binary min-heap of callback nodes by deadline (ties in
// insertion order, as asyncio). Owned by the loop's thread; timers from other
// threads arrive through the loop's incoming list. Cancelled timers stay in
// the heap until they come due, unless they outnumber the live ones, in
// which case the heap is rebuilt without them (asyncio does the same).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "corio/detail/callback.hpp"

namespace corio::detail {

class timer_heap {
public:
    using time_point = std::chrono::steady_clock::time_point;

    ~timer_heap() { clear(); }

    /// Takes the node's reference.
    void push(callback_node* node) {
        heap_.push_back({node->when, next_seq_++, node});
        std::push_heap(heap_.begin(), heap_.end(), later);
    }

    /// The earliest live deadline, or time_point::max().
    time_point next_deadline() noexcept {
        drop_cancelled_top();
        return heap_.empty() ? time_point::max() : heap_.front().when;
    }

    /// Pops one timer due at `now` (reference passes to the caller), or null.
    callback_node* pop_due(time_point now) noexcept {
        drop_cancelled_top();
        if (heap_.empty() || heap_.front().when > now) return nullptr;
        std::pop_heap(heap_.begin(), heap_.end(), later);
        callback_node* n = heap_.back().node;
        heap_.pop_back();
        return n;
    }

    /// Rebuilds without cancelled nodes when they are the majority. Counting
    /// them costs a scan, so it runs only when the heap has doubled since the
    /// last scan: amortised O(1) per timer, memory within twice the live set.
    void compact_if_worthwhile() {
        if (heap_.size() < 64 || heap_.size() < 2 * size_at_last_scan_) return;
        size_at_last_scan_ = heap_.size();
        std::size_t cancelled = 0;
        for (auto& e : heap_) cancelled += e.node->cancelled.load(std::memory_order_relaxed) ? 1 : 0;
        if (2 * cancelled <= heap_.size()) return;
        auto keep = std::remove_if(heap_.begin(), heap_.end(), [](const entry& e) {
            if (!e.node->cancelled.load(std::memory_order_relaxed)) return false;
            e.node->release();
            return true;
        });
        heap_.erase(keep, heap_.end());
        std::make_heap(heap_.begin(), heap_.end(), later);
        size_at_last_scan_ = heap_.size();
    }

    bool empty() const noexcept { return heap_.empty(); }

    void clear() noexcept {
        for (auto& e : heap_) e.node->release();
        heap_.clear();
    }

private:
    struct entry {
        time_point when;
        std::uint64_t seq;
        callback_node* node;
    };
    static bool later(const entry& a, const entry& b) noexcept {
        return a.when != b.when ? a.when > b.when : a.seq > b.seq;
    }
    void drop_cancelled_top() noexcept {
        while (!heap_.empty() && heap_.front().node->cancelled.load(std::memory_order_relaxed)) {
            std::pop_heap(heap_.begin(), heap_.end(), later);
            heap_.back().node->release();
            heap_.pop_back();
        }
    }

    std::vector<entry> heap_;
    std::uint64_t next_seq_ = 0;
    std::size_t size_at_last_scan_ = 0;
};

}  // namespace corio::detail
