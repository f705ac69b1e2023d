// children_watch: gather's wait for the children it could not run itself.
// An awaitable that returns once every child is done or, when asked, at
// the first one that fails (asyncio's gather wakes at the first failure in
// time, whichever child it is), and names that child.
//
// Each child gets a waiter node, fired by its completion on whichever
// thread finishes it, under the child's completion lock; the node counts
// it under the watch's lock and wakes the gathering task when the
// condition is met. A done callback per child (asyncio's way, which
// wait_for_condition keeps for asyncio.wait) allocates a callback, counts
// a shared state's references, and runs on the gathering loop's queue:
// with children that suspend once, gather took twice a task_group's time.
//
// Lifetime: the nodes live in the watch, the watch in the gathering
// coroutine's frame, the children are kept alive by the gather's handles.
// The destructor takes every node that has not fired off its child's
// waiter list under that child's lock; a fire runs wholly under the same
// lock, so once the destructor is past a child, that child's node cannot
// touch the watch again. Lock order: a child's completion lock, then the
// watch's (the fire path); nothing takes them the other way round.
#pragma once

#include <coroutine>
#include <cstddef>
#include <mutex>
#include <vector>

#include "corio/detail/spinlock.hpp"
#include "corio/detail/task_header.hpp"
#include "corio/detail/wait_list.hpp"

namespace corio::detail {

/// For a task that is done: it was cancelled or ended with an exception
/// (what ends a gather).
inline bool failed(const task_header* t) noexcept {
    return t->status() == completion_status::cancelled || t->exception != nullptr;
}

class children_watch {
public:
    /// Starts watching `children` (none of them freed before the watch);
    /// with `stop_at_failure`, a child that fails (an exception or a
    /// cancellation) ends the wait.
    children_watch(const std::vector<task_header*>& children, bool stop_at_failure)
        : nodes_(children.size()), remaining_(children.size()), stop_at_failure_(stop_at_failure) {
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
    }
    children_watch(const children_watch&) = delete;
    children_watch& operator=(const children_watch&) = delete;

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
        std::lock_guard guard(lock_);
        if (met_locked()) {
            waiter_.served = true;
            return false;
        }
        return park_locked(waiter_, h, joiner_);
    }
    /// The child that failed and ended the wait, or null when every child
    /// is done. Throws cancelled_error when the waiting task was cancelled.
    task_header* await_resume() {
        finish_wait(lock_, waiter_, joiner_);
        return failed_child_;
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
    /// The wait is over: a child failed (when that ends it) or all are done.
    bool met_locked() const noexcept { return failed_child_ != nullptr || remaining_ == 0; }
    void child_done(task_header* child) noexcept {
        std::lock_guard guard(lock_);
        const bool already_met = met_locked();
        --remaining_;
        if (already_met) return;
        if (stop_at_failure_ && failed(child)) failed_child_ = child;
        else if (remaining_ != 0) return;
        serve_all(joiner_);
    }

    std::vector<node> nodes_;
    spinlock lock_;
    // ---- guarded by lock_ ----
    std::size_t remaining_;
    task_header* failed_child_ = nullptr;
    wait_list joiner_;
    parked_waiter waiter_;
    const bool stop_at_failure_;
};

}  // namespace corio::detail
