// A minimal single-slot async channel for ping_pong, built on corio::future
// because corio has no channel or queue type yet (a later issue adds
// corio::queue, which should replace this). Bench-only: exactly one sending
// task and one receiving task (SPSC), no close(), no cancellation handling.
// Lock-free, so that ping_pong measures the scheduler's wake-ups rather than
// a mutex: each side parks on a corio::future<void> that the other completes.
//
// state_ (std::atomic<std::uintptr_t>), written by both sides:
//   empty  (0)   no value in the slot, nobody waits
//   full   (1)   a value in value_, nobody waits
//   pointer      a corio::future<void> on the waiting side's coroutine frame:
//                the receiver's (slot empty) when the sender sees it, the
//                sender's (slot full) when the receiver sees it. Each side
//                only ever sees the other side's future, never its own.
// Invariants:
// - value_ is written only by the sender, and only while the slot is empty;
//   read only by the receiver, and only while the slot is full.
// - A side links its future (CAS from the state it cannot proceed in) and
//   then awaits it; whoever changes the slot's state swaps the pointer out
//   with that change and completes the future. The future lives on the
//   waiter's frame, which stays alive until it is completed, so the
//   completer copies it (a second reference) before set_result().
//
// Resumption: a send or recv that had to wait resumes on whichever worker
// the future's wake-up puts it on (see corio/future.hpp). Cost: one
// future (one allocation) per wait; Tokio's mpsc reuses a waker slot instead.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

#include "corio/corio.hpp"

namespace corio_bench {

template <class T>
class single_slot_channel {
public:
    /// Puts `v` in the slot, waiting while the slot is full.
    corio::task<void> send(T v) {
        for (;;) {
            std::uintptr_t s = state_.load(std::memory_order_acquire);  // pairs with recv's exchange to empty
            if (s == full) {
                corio::future<void> room;
                // acq_rel: a failed CAS means recv emptied the slot; retry.
                if (state_.compare_exchange_strong(s, to_state(&room), std::memory_order_acq_rel))
                    co_await room;  // `room` stays valid until the completer is done with it
                continue;
            }
            // Empty, or the receiver's future: the slot is ours to fill.
            value_ = std::move(v);
            // release: publishes value_ to recv's acquire load.
            complete_waiter(state_.exchange(full, std::memory_order_acq_rel));
            co_return;
        }
    }

    /// Takes the slot's value, waiting while the slot is empty.
    corio::task<T> recv() {
        for (;;) {
            std::uintptr_t s = state_.load(std::memory_order_acquire);  // pairs with send's exchange to full
            if (s == empty) {
                corio::future<void> value_ready;
                if (state_.compare_exchange_strong(s, to_state(&value_ready), std::memory_order_acq_rel))
                    co_await value_ready;
                continue;
            }
            // Full, or the sender's future (the slot is full then too).
            T v = std::move(value_);
            // release: value_ has been read before the sender may overwrite it.
            complete_waiter(state_.exchange(empty, std::memory_order_acq_rel));
            co_return v;
        }
    }

private:
    static constexpr std::uintptr_t empty = 0;
    static constexpr std::uintptr_t full = 1;

    static std::uintptr_t to_state(corio::future<void>* f) noexcept { return reinterpret_cast<std::uintptr_t>(f); }

    /// `old` is what the state was before this side changed the slot: a
    /// pointer there is the other side's future, waiting for that change.
    static void complete_waiter(std::uintptr_t old) {
        if (old == empty || old == full) return;
        corio::future<void> waiter = *reinterpret_cast<corio::future<void>*>(old);  // our own reference
        waiter.set_result();
    }

    std::atomic<std::uintptr_t> state_{empty};
    T value_{};
};

}  // namespace corio_bench
