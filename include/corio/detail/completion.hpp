// The "done once, tell every waiter" core shared by future<T>'s state and a
// spawned task's header: a status word plus a FIFO list of waiter nodes.
//
// Invariants:
// - status_ goes pending -> (value | exception | cancelled) exactly once,
//   under lock_, after the result has been written.
// - A waiter node is linked iff it has not fired; fire() runs with lock_
//   held, so a waiter that unlinks itself under lock_ (a cancelled awaiter)
//   can never race with its own firing, and the node's storage (usually in
//   the awaiting coroutine's frame) outlives every access to it.
#pragma once

#include <atomic>
#include <cstdint>

#include "corio/detail/spinlock.hpp"

namespace corio::detail {

enum class completion_status : std::uint8_t { pending, value, exception, cancelled };

/// One party waiting for a completion: an awaiting task, a done callback,
/// a thread blocked in run_until_complete.
struct waiter_node {
    waiter_node* next = nullptr;
    waiter_node* prev = nullptr;
    bool linked = false;
    /// Called exactly once, with the completion's lock held; must not touch
    /// the completion again and must not block.
    void (*fire)(waiter_node*) noexcept = nullptr;
};

class completion {
public:
    completion_status status() const noexcept {
        // acquire: pairs with the release store in complete(), so the result
        // written before it is visible to whoever sees a final status.
        return status_.load(std::memory_order_acquire);
    }
    bool done() const noexcept { return status() != completion_status::pending; }

    /// Links `w` unless already done. Returns false (and links nothing) when done.
    bool add_waiter(waiter_node* w) noexcept {
        lock_.lock();
        if (status_.load(std::memory_order_relaxed) != completion_status::pending) {
            lock_.unlock();
            return false;
        }
        add_waiter_unshared(w);
        lock_.unlock();
        return true;
    }

    /// add_waiter for a caller that no other thread can reach (a task not
    /// yet queued): the same link without the lock.
    void add_waiter_unshared(waiter_node* w) noexcept {
        w->next = nullptr;
        w->prev = tail_;
        (tail_ ? tail_->next : head_) = w;
        tail_ = w;
        w->linked = true;
    }

    /// Unlinks `w` if it has not fired. Returns true when it was removed.
    bool remove_waiter(waiter_node* w) noexcept {
        lock_.lock();
        const bool was_linked = w->linked;
        if (was_linked) unlink(w);
        lock_.unlock();
        return was_linked;
    }

    /// Like remove_waiter, for a node that may already have fired and been
    /// freed (a done-callback token): finds it by address, never dereferences it.
    bool remove_waiter_by_address(const waiter_node* w) noexcept {
        lock_.lock();
        waiter_node* found = head_;
        while (found && found != w) found = found->next;
        if (found) unlink(found);
        lock_.unlock();
        return found != nullptr;
    }

    /// Writes the result through `write` and fires every waiter, in the
    /// order they were added. Returns false (writing nothing) when already done.
    template <class Write>
    bool complete(completion_status s, Write&& write) noexcept {
        lock_.lock();
        if (status_.load(std::memory_order_relaxed) != completion_status::pending) {
            lock_.unlock();
            return false;
        }
        write();
        status_.store(s, std::memory_order_release);
        while (waiter_node* w = head_) {
            unlink(w);
            w->fire(w);
        }
        lock_.unlock();
        return true;
    }

    /// complete() for a caller that no other thread can reach (it holds
    /// every reference and nobody waits): the same result without the lock.
    template <class Write>
    void complete_unshared(completion_status s, Write&& write) noexcept {
        write();
        status_.store(s, std::memory_order_release);
    }
    /// Whether anyone waits; meaningful only to a caller no other thread can reach.
    bool has_waiters_unshared() const noexcept { return head_ != nullptr; }

private:
    void unlink(waiter_node* w) noexcept {
        (w->prev ? w->prev->next : head_) = w->next;
        (w->next ? w->next->prev : tail_) = w->prev;
        w->next = w->prev = nullptr;
        w->linked = false;
    }

    spinlock lock_;
    std::atomic<completion_status> status_{completion_status::pending};
    waiter_node* head_ = nullptr;
    waiter_node* tail_ = nullptr;
};

}  // namespace corio::detail
