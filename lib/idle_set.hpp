// Which workers sleep, and how many are searching for work: the runtime's
// scheme for waking workers without a thundering herd (Tokio's
// scheduler/multi_thread/idle.rs, after Go's runtime).
//
// Invariants:
// - state_ packs num_unparked (high 16 bits) and num_searching (low 16).
//   Every change is a seq_cst RMW. sleepers_ (under mutex_) lists parked
//   workers; a worker is in it iff it is counted as parked.
// - At most about half the workers search at once (transition_to_searching).
//
// Why no wake-up is lost (the sleep/wake protocol):
//   publisher:  1. pushes work   2. seq_cst RMW-read of state_ (notify_should_wakeup)
//                                3. if nobody searches and someone sleeps: wake one,
//                                   counting it as searching at once
//   sleeper:    1. seq_cst RMW of state_ (transition_to_parked)
//               2. re-checks every queue (required of the last searcher;
//                  corio has every sleeper do it) and, if any has work,
//                  wakes a worker (maybe itself)
//               3. parks (an unpark that came earlier makes park return)
// By the seq_cst order of the two RMWs on state_, either the publisher sees
// the searcher (and that searcher, or the last searcher after it, re-checks
// after its own RMW, so it sees the work) or the sleeper's step 1 came first
// and the publisher sees a sleeper and no searcher, and wakes one. A woken
// worker counts as searching, so while it looks no other is woken for
// nothing; when a searcher finds work and was the last one, it wakes the
// next sleeper (work spreads one worker at a time). A searcher stops
// counting as one before it runs any entry, whichever queue gave it
// (loop_core::run_worker): one left counted while it ran would keep every
// publisher from waking anyone for as long as its entry ran.
//
// The one exception to step 3: a spawn that leaves a single entry in a
// running worker's queue wakes nobody (loop_core::push_spawned). That worker
// is awake and takes the entry when its current poll ends, so the work is
// not lost, only left unshared until a second entry appears.
//
// A worker's own pushes take step 2 as a plain load (maybe_should_wakeup),
// not an RMW: a fence at every spawn cost skynet 1.21x of its time with 2
// workers. That load may be satisfied while the push still sits in the
// core's store buffer, so the sleeper's step 2 can miss the push while the
// publisher saw it still searching. So a sleeper of a multi-worker runtime
// that is still asleep 1 ms later (loop_core::park_until_work) re-checks
// every queue once more, still listed as a sleeper (no new step 1, so no
// new window): by then the push is visible, and it wakes a worker for it.
// It sleeps again only if that first park ended at its deadline: after an
// IO handler or an unpark the loop may have work of its own. Only a sleeper
// that leaves another worker unparked does this: the pushes it could miss
// are those of running workers (a worker that parks after its push sees
// that push in its own re-check, and one running IO handlers inside its
// park runs what they push itself once the park ends).
// A missed push waits at most that long (before, it waited for the
// pusher's next maintenance tick: 300 ms in a test whose task held its
// worker, 3 runs in 1,485 under load).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace corio::detail {

class idle_set {
public:
    explicit idle_set(std::size_t num_workers)
        : num_workers_(static_cast<std::uint32_t>(num_workers)), state_(pack(num_workers_, 0)) {
        sleepers_.reserve(num_workers);
    }

    /// A worker out of local work asks to search; refused when half already do.
    bool transition_to_searching() noexcept {
        const std::uint32_t s = state_.load(std::memory_order_seq_cst);
        if (2 * searching(s) >= num_workers_) return false;
        state_.fetch_add(1, std::memory_order_seq_cst);
        return true;
    }

    /// A searcher found work. True when it was the last searcher (it must
    /// then wake another worker, if one sleeps, to keep work spreading).
    bool transition_from_searching() noexcept { return searching(state_.fetch_sub(1, std::memory_order_seq_cst)) == 1; }

    /// Step 1 of sleeping: counts the worker as parked (and no longer
    /// searching) and lists it as a sleeper. True when another worker is
    /// still unparked: one whose pushes this sleeper may not see yet.
    bool transition_to_parked(std::size_t worker, bool is_searching) {
        std::lock_guard lock(mutex_);
        const std::uint32_t before = state_.fetch_sub(pack(1, is_searching ? 1 : 0), std::memory_order_seq_cst);
        sleepers_.push_back(worker);
        return unparked(before) > 1;
    }

    /// Publisher's step 2: whether a sleeper should be woken.
    bool notify_should_wakeup() noexcept {
        // An RMW, not a load: it must be ordered after the publisher's
        // push in the single total order of seq_cst operations on state_.
        const std::uint32_t s = state_.fetch_add(0, std::memory_order_seq_cst);
        return searching(s) == 0 && unparked(s) < num_workers_;
    }

    /// Cheap, possibly stale, no ordering: for a worker's own pushes, which
    /// can afford to wake a helper late (the owner runs its own queue
    /// anyway; a sleeper's delayed re-check catches what this misses).
    bool maybe_should_wakeup() const noexcept {
        const std::uint32_t s = state_.load(std::memory_order_relaxed);
        return searching(s) == 0 && unparked(s) < num_workers_;
    }

    /// Publisher's step 3: picks a sleeper to wake and counts it as
    /// unparked and searching. Empty when none should be woken.
    std::optional<std::size_t> worker_to_notify() {
        if (!notify_should_wakeup()) return std::nullopt;
        std::lock_guard lock(mutex_);
        const std::uint32_t s = state_.load(std::memory_order_seq_cst);
        if (searching(s) != 0 || sleepers_.empty()) return std::nullopt;
        const std::size_t worker = sleepers_.back();
        sleepers_.pop_back();
        state_.fetch_add(pack(1, 1), std::memory_order_seq_cst);
        return worker;
    }

    /// After waking: if the worker is still listed (it woke on a timer or a
    /// direct unpark, not via worker_to_notify) it takes itself out and
    /// returns true (it is now unparked and not searching).
    bool unpark_worker_by_id(std::size_t worker) {
        std::lock_guard lock(mutex_);
        auto it = std::find(sleepers_.begin(), sleepers_.end(), worker);
        if (it == sleepers_.end()) return false;
        sleepers_.erase(it);
        state_.fetch_add(pack(1, 0), std::memory_order_seq_cst);
        return true;
    }

private:
    static constexpr std::uint32_t pack(std::uint32_t unparked, std::uint32_t searching) noexcept {
        return (unparked << 16) | searching;
    }
    static std::uint32_t searching(std::uint32_t s) noexcept { return s & 0xffff; }
    static std::uint32_t unparked(std::uint32_t s) noexcept { return s >> 16; }

    const std::uint32_t num_workers_;
    std::atomic<std::uint32_t> state_;
    std::mutex mutex_;
    std::vector<std::size_t> sleepers_;
};

}  // namespace corio::detail
