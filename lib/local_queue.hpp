// A worker's run queue: a bounded Chase-Lev work-stealing deque over a ring
// (Chase & Lev, SPAA 2005; memory orders after Le, Pop, Cohen & Zappa
// Nardelli, "Correct and efficient work-stealing for weak memory models",
// PPoPP 2013). The owner pushes at the bottom; it takes its newest entry back
// from the bottom (the fork-join fast path) and runs ready work in FIFO order
// from the top, racing thieves with the same CAS they use.
//
// Invariants:
// - bottom_ is written only by the owner; top_ only by CAS (owner or thief).
// - Entries [top_, bottom_) are live; a slot is rewritten only by the owner's
//   push, and push never overwrites a slot at or above the top it read.
// - Thieves take one entry per CAS. A thief cannot claim a batch safely: it
//   reads bottom_ before its CAS, and the owner may pop below that stale
//   bottom meanwhile without any CAS. The owner may claim a batch from the
//   top (take_oldest_half) because it knows bottom_ exactly.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "corio/detail/task_header.hpp"

#ifndef CORIO_LOCAL_QUEUE_CAPACITY
#define CORIO_LOCAL_QUEUE_CAPACITY 4096
#endif

namespace corio::detail {

class local_queue {
public:
    static constexpr std::int64_t capacity = CORIO_LOCAL_QUEUE_CAPACITY;
    static_assert(capacity >= 2 && (capacity & (capacity - 1)) == 0, "capacity must be a power of two");

    enum class steal_result { success, empty, lost_race };

    // ---- owner only -----------------------------------------------------
    /// Pushes at the bottom; false when full (the caller moves half out).
    bool try_push(queue_entry e) noexcept {
        const std::int64_t b = bottom_.load(std::memory_order_relaxed);
        if (b - top_seen_ >= capacity) [[unlikely]] {
            // acquire: pairs with the CAS on top_ by which a thief took an
            // entry, so the slot it read is free before we overwrite it.
            top_seen_ = top_.load(std::memory_order_acquire);
            if (b - top_seen_ >= capacity) return false;
        }
        slots_[b & mask].store(e, std::memory_order_relaxed);
        // release: publishes the slot (and the task it points at) to the
        // acquire/seq_cst loads of bottom_ in try_steal.
        bottom_.store(b + 1, std::memory_order_release);
        return true;
    }

    /// The newest entry, without taking it (it may already be stolen).
    queue_entry peek_newest() const noexcept {
        const std::int64_t b = bottom_.load(std::memory_order_relaxed);
        if (b <= top_.load(std::memory_order_relaxed)) return 0;
        return slots_[(b - 1) & mask].load(std::memory_order_relaxed);
    }

    /// Takes the newest entry back (LIFO); 0 when empty or lost to a thief.
    queue_entry pop_newest() noexcept {
        const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
        // seq_cst store then seq_cst load of top_: the store-load pair that
        // must not be reordered against a thief's load-top/load-bottom pair
        // (Dekker); otherwise both could take the last entry.
        bottom_.store(b, std::memory_order_seq_cst);
        std::int64_t t = top_.load(std::memory_order_seq_cst);
        if (t > b) {  // empty
            bottom_.store(b + 1, std::memory_order_relaxed);
            return 0;
        }
        queue_entry e = slots_[b & mask].load(std::memory_order_relaxed);
        if (t == b) {  // the last entry: race the thieves for it on top_
            if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) e = 0;
            bottom_.store(b + 1, std::memory_order_relaxed);
        }
        return e;
    }

    /// Takes `e` out if it is one of the newest `reach` entries; the newest
    /// entry fills its slot (the others keep theirs: the order of what is
    /// left is not kept, as nothing promises it). False, with nothing
    /// changed, when it is not there or a thief may be racing for it.
    /// `exclusive`: no thief exists (a scheduler of one loop), so no fence.
    ///
    /// Like pop_newest for `depth` entries at once: lowering bottom_ below
    /// them (seq_cst store, then seq_cst load of top_) keeps every thief off
    /// them, provided at least one entry stays below: a thief that read the
    /// old bottom_ read its top_ before our load, so it can take nothing
    /// above the top we saw. Their slots are then ours to rewrite until the
    /// release store of the new bottom publishes them again.
    ///
    /// Why the newest fills the hole rather than every newer entry moving
    /// down a slot: a parent awaiting its children in spawn order (skynet's
    /// ten) takes the oldest first; moving the newest there costs one copy
    /// instead of one per newer sibling, and the later children end up near
    /// the newest end, where the scan finds them sooner.
    bool take_near_newest(queue_entry e, std::int64_t reach, bool exclusive) noexcept {
        const std::int64_t b = bottom_.load(std::memory_order_relaxed);
        const std::int64_t live = b - top_.load(std::memory_order_relaxed);
        std::int64_t depth = 0;  // 1 = the newest entry
        for (std::int64_t i = 1; i <= reach && i <= live; ++i) {
            if (slots_[(b - i) & mask].load(std::memory_order_relaxed) == e) {
                depth = i;
                break;
            }
        }
        if (depth == 0) return false;
        if (!exclusive) {
            bottom_.store(b - depth, std::memory_order_seq_cst);
            if (top_.load(std::memory_order_seq_cst) >= b - depth) {
                bottom_.store(b, std::memory_order_relaxed);  // took nothing
                return false;
            }
        }
        if (depth > 1)
            slots_[(b - depth) & mask].store(slots_[(b - 1) & mask].load(std::memory_order_relaxed),
                                             std::memory_order_relaxed);
        // release: publishes the moved slot to the thieves' loads of bottom_.
        bottom_.store(b - 1, std::memory_order_release);
        return true;
    }

    /// Takes `e` if it is the oldest entry. False, with nothing changed,
    /// when it is not, or when a thief takes it first. `exclusive`: no thief
    /// exists, so no CAS.
    bool take_oldest_if(queue_entry e, bool exclusive) noexcept {
        std::int64_t t = top_.load(std::memory_order_relaxed);
        if (t >= bottom_.load(std::memory_order_relaxed) || slots_[t & mask].load(std::memory_order_relaxed) != e)
            return false;
        if (exclusive) {
            top_.store(t + 1, std::memory_order_relaxed);
            return true;
        }
        return top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed);
    }

    /// Claims up to half of the entries, oldest first, into `out` (which has
    /// room for capacity / 2). Used when a push finds the ring full.
    std::size_t take_oldest_half(queue_entry* out) noexcept {
        for (;;) {
            std::int64_t t = top_.load(std::memory_order_acquire);
            const std::int64_t b = bottom_.load(std::memory_order_relaxed);
            const std::int64_t n = (b - t) / 2;
            if (n <= 0) return 0;
            for (std::int64_t i = 0; i < n; ++i) out[i] = slots_[(t + i) & mask].load(std::memory_order_relaxed);
            if (top_.compare_exchange_strong(t, t + n, std::memory_order_seq_cst, std::memory_order_relaxed))
                return static_cast<std::size_t>(n);
        }
    }

    // ---- any thread -------------------------------------------------------
    /// Takes the oldest entry (FIFO). The owner uses it to run ready work in order.
    steal_result try_steal(queue_entry& out) noexcept {
        std::int64_t t = top_.load(std::memory_order_seq_cst);
        // seq_cst: see pop_newest.
        const std::int64_t b = bottom_.load(std::memory_order_seq_cst);
        if (t >= b) return steal_result::empty;
        const queue_entry e = slots_[t & mask].load(std::memory_order_relaxed);
        if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed))
            return steal_result::lost_race;
        out = e;
        return steal_result::success;
    }

    /// Oldest entry or 0, retrying lost races.
    queue_entry pop_oldest() noexcept {
        queue_entry e = 0;
        for (;;) {
            switch (try_steal(e)) {
                case steal_result::success: return e;
                case steal_result::empty: return 0;
                case steal_result::lost_race: continue;
            }
        }
    }

    // ---- owner, when no thief exists (a scheduler of one loop) ------------
    /// pop_oldest without the CAS: nobody else ever touches top_.
    queue_entry pop_oldest_exclusive() noexcept {
        const std::int64_t t = top_.load(std::memory_order_relaxed);
        if (t >= bottom_.load(std::memory_order_relaxed)) return 0;
        const queue_entry e = slots_[t & mask].load(std::memory_order_relaxed);
        top_.store(t + 1, std::memory_order_relaxed);
        return e;
    }

    /// pop_newest without the store-load fence and the CAS on the last entry.
    queue_entry pop_newest_exclusive() noexcept {
        const std::int64_t b = bottom_.load(std::memory_order_relaxed);
        if (b <= top_.load(std::memory_order_relaxed)) return 0;
        bottom_.store(b - 1, std::memory_order_relaxed);
        return slots_[(b - 1) & mask].load(std::memory_order_relaxed);
    }

    /// A snapshot; exact only when no one else touches the queue.
    std::int64_t size() const noexcept {
        const std::int64_t n = bottom_.load(std::memory_order_relaxed) - top_.load(std::memory_order_relaxed);
        return n > 0 ? n : 0;
    }

    /// For the sleep protocol's re-check, ordered after the sleeper's seq_cst RMW.
    bool empty_seq_cst() const noexcept {
        return bottom_.load(std::memory_order_seq_cst) <= top_.load(std::memory_order_seq_cst);
    }

private:
    static constexpr std::int64_t mask = capacity - 1;
    // 64-byte lines: the owner's bottom_ and the thieves' top_ must not share
    // one, or every push would invalidate every thief's cache.
    alignas(64) std::atomic<std::int64_t> top_{0};
    alignas(64) std::atomic<std::int64_t> bottom_{0};
    /// The owner's last acquire load of top_ in try_push. top_ only grows,
    /// so a ring not full by this view is not full, and every slot it lets
    /// the owner overwrite was freed by a CAS that load synchronized with:
    /// the owner reads the thieves' line only once per capacity pushes,
    /// not at every push while a thief works through the ring.
    std::int64_t top_seen_ = 0;
    alignas(64) std::atomic<queue_entry> slots_[capacity]{};
};

}  // namespace corio::detail
