// children_watch: how gather and wait wait for children they do not run
// themselves. An awaitable that returns once every child is done, or
// sooner at the first child that finishes in a way a stop rule names
// (gather: the first to fail, whichever child it is, as asyncio's gather;
// asyncio.wait: the first to finish, or the first to raise), or at a
// deadline (asyncio.wait's timeout).
//
// Each child gets a waiter node, fired by its completion on whichever
// thread finishes it, under the child's completion lock; the node counts
// it under the watch's lock and wakes the waiting task when the wait is
// over. A done callback per child (asyncio's way) allocates a callback,
// counts a shared state's references, and runs on the waiting loop's
// queue: with children that suspend once, gather took twice a
// task_group's time that way.
//
// The deadline is a timer on the loop the task parks on, which wakes the
// task at the generation it parked with: a wake-up the watch gave first
// makes it a no-op, and the task reference it holds keeps the header alive
// should the timer fire after the wait is over (as sleep's does).
//
// Lifetime: the nodes live in the watch, the watch in the waiting
// coroutine's frame, the children are kept alive by the caller's handles.
// The destructor takes every node that has not fired off its child's
// waiter list under that child's lock; a fire runs wholly under the same
// lock, so once the destructor is past a child, that child's node cannot
// touch the watch again. Lock order: a child's completion lock, then the
// watch's (the fire path); nothing takes them the other way round.
#pragma once

#include <coroutine>
#include <cstddef>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <vector>

#include "corio/detail/callback.hpp"
#include "corio/detail/spinlock.hpp"
#include "corio/detail/task_header.hpp"
#include "corio/detail/wait_list.hpp"
#include "corio/detail/wake_timer.hpp"
#include "corio/event_loop.hpp"
#include "corio/task_handle.hpp"

namespace corio::detail {

/// For a task that is done: it was cancelled or ended with an exception
/// (what ends a gather).
inline bool failed(const task_header* t) noexcept {
    return t->status() == completion_status::cancelled || t->exception != nullptr;
}

class children_watch {
public:
    /// Says of a child that just finished whether that ends the wait.
    using stop_rule = bool (*)(const task_header*) noexcept;

    /// Starts watching `children` (none of them freed before the watch).
    /// The wait ends when all are done, at the first one `stop_at` (if
    /// any) picks, or at `deadline` (if any), whichever comes first.
    explicit children_watch(const std::vector<task_header*>& children, stop_rule stop_at = nullptr,
                            std::optional<clock::time_point> deadline = std::nullopt)
        : nodes_(children.size()), remaining_(children.size()), stop_at_(stop_at), deadline_(deadline) {
        for (std::size_t i = 0; i < children.size(); ++i) {
            node& n = nodes_[i];
            n.watch = this;
            n.child = children[i];
            n.fire = &on_child_done;
            if (!n.child->add_waiter(&n)) child_done(n.child);  // done already
        }
    }
    ~children_watch() {
        for (node& n : nodes_) n.child->remove_waiter(&n);
        if (timer_) timer_->release();
    }
    children_watch(const children_watch&) = delete;
    children_watch& operator=(const children_watch&) = delete;

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
        const bool deadline_passed = deadline_ && *deadline_ <= clock::now();
        {
            std::lock_guard guard(lock_);
            if (met_locked()) {
                waiter_.served = true;
                return false;
            }
            if (deadline_passed || !park_locked(waiter_, h, joiner_)) return false;
        }
        // Outside the lock: nothing can resume the task before this poll
        // returns, so its generation and frame stay as they are.
        if (deadline_) timer_ = add_wake_timer(*deadline_, waiter_.generation);
        return true;
    }
    /// The child that ended the wait early (picked by the stop rule), or
    /// null when every child is done or the deadline passed first. Throws
    /// cancelled_error when the waiting task was cancelled.
    task_header* await_resume() {
        if (timer_) timer_->cancelled.store(true, std::memory_order_relaxed);  // the heap drops it at its leisure
        if (take_served(lock_, waiter_, joiner_)) return stopped_by_;  // written before the serve, under the lock
        throw_if_cancelled();
        if (!deadline_) throw std::logic_error("corio: a watch resumed neither served nor cancelled");
        return nullptr;  // the deadline
    }

private:
    struct node : waiter_node {
        children_watch* watch = nullptr;
        task_header* child = nullptr;
    };

    static void on_child_done(waiter_node* w) noexcept {
        auto* n = static_cast<node*>(w);
        n->watch->child_done(n->child);
    }
    bool met_locked() const noexcept { return stopped_by_ != nullptr || remaining_ == 0; }
    void child_done(task_header* child) noexcept {
        std::lock_guard guard(lock_);
        const bool already_met = met_locked();
        --remaining_;
        if (already_met) return;
        if (stop_at_ && stop_at_(child)) stopped_by_ = child;
        else if (remaining_ != 0) return;
        serve_all(joiner_);
    }

    std::vector<node> nodes_;
    spinlock lock_;
    // ---- guarded by lock_ ----
    std::size_t remaining_;
    task_header* stopped_by_ = nullptr;
    wait_list joiner_;
    parked_waiter waiter_;
    // ---- set at construction / by the waiting task only ----
    const stop_rule stop_at_;
    const std::optional<clock::time_point> deadline_;
    callback_node* timer_ = nullptr;
};

}  // namespace corio::detail
