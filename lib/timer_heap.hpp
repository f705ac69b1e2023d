// A loop's timers, by deadline (ties in insertion order, as asyncio). Owned
// by the loop's thread; timers from other threads arrive through the loop's
// incoming list. Cancelled timers stay until they come due, unless they
// outnumber the live ones, in which case both containers are rebuilt
// without them (asyncio does the same).
//
// Two containers. A timer whose deadline is no earlier than the newest one
// in `run_` joins the back of that FIFO: O(1) in and out. That is the usual
// case, since a loop's timers come from a few durations (a sleep, a
// timeout) added to a rising clock: 100,000 one-millisecond sleeps spent
// about 14% of their time popping a 100,000-entry binary heap. The rest go to
// `heap_`, a binary min-heap. The next timer is the earlier of the two
// fronts.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "corio/detail/callback.hpp"

namespace corio::detail {

class timer_heap {
public:
    using time_point = std::chrono::steady_clock::time_point;

    ~timer_heap() { clear(); }

    /// Takes the node's reference.
    void push(callback_node* node) {
        const entry e{node->when, next_seq_++, node};
        if (run_.empty() || run_.back().when <= e.when) {
            run_.push_back(e);
        } else {
            heap_.push_back(e);
            std::push_heap(heap_.begin(), heap_.end(), later);
        }
    }
    /// The earliest live deadline, or time_point::max().
    time_point next_deadline() noexcept {
        const entry* e = live_front();
        return e ? e->when : time_point::max();
    }
    /// Pops one timer due at `now` (reference passes to the caller), or null.
    callback_node* pop_due(time_point now) noexcept {
        const entry* e = live_front();
        if (!e || e->when > now) return nullptr;
        callback_node* n = e->node;
        pop_front(e);
        return n;
    }
    /// Rebuilds without cancelled nodes when they are the majority. Counting
    /// them costs a scan, so it runs only when the timers have doubled since
    /// the last scan: amortised O(1) per timer, memory within twice the live
    /// set.
    void compact_if_worthwhile() {
        const std::size_t size = run_.size() + heap_.size();
        if (size < 64 || size < 2 * size_at_last_scan_) return;
        size_at_last_scan_ = size;
        std::size_t cancelled = 0;
        for (const auto& e : run_) cancelled += is_cancelled(e) ? 1 : 0;
        for (const auto& e : heap_) cancelled += is_cancelled(e) ? 1 : 0;
        if (2 * cancelled <= size) return;
        const auto release_cancelled = [](const entry& e) {
            if (!is_cancelled(e)) return false;
            e.node->release();
            return true;
        };
        run_.erase(std::remove_if(run_.begin(), run_.end(), release_cancelled), run_.end());  // stays sorted
        heap_.erase(std::remove_if(heap_.begin(), heap_.end(), release_cancelled), heap_.end());
        std::make_heap(heap_.begin(), heap_.end(), later);
        size_at_last_scan_ = run_.size() + heap_.size();
    }
    bool empty() const noexcept { return run_.empty() && heap_.empty(); }
    void clear() noexcept {
        for (auto& e : run_) e.node->release();
        for (auto& e : heap_) e.node->release();
        run_.clear();
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
    static bool is_cancelled(const entry& e) noexcept { return e.node->cancelled.load(std::memory_order_relaxed); }

    /// The earlier of the two fronts, or null.
    const entry* front() const noexcept {
        if (run_.empty()) return heap_.empty() ? nullptr : &heap_.front();
        if (heap_.empty()) return &run_.front();
        return later(run_.front(), heap_.front()) ? &heap_.front() : &run_.front();
    }
    /// Removes `e`, which front() returned.
    void pop_front(const entry* e) noexcept {
        if (!run_.empty() && e == &run_.front()) {
            run_.pop_front();
        } else {
            std::pop_heap(heap_.begin(), heap_.end(), later);
            heap_.pop_back();
        }
    }
    /// front(), after releasing the cancelled timers ahead of it.
    const entry* live_front() noexcept {
        for (;;) {
            const entry* e = front();
            if (!e || !is_cancelled(*e)) return e;
            callback_node* n = e->node;
            pop_front(e);
            n->release();
        }
    }

    std::deque<entry> run_;   // nondecreasing deadlines, oldest first
    std::vector<entry> heap_;  // min-heap by (when, seq)
    std::uint64_t next_seq_ = 0;
    std::size_t size_at_last_scan_ = 0;
};

}  // namespace corio::detail
