// The awaiter core behind `co_await future` and `co_await task_handle`:
// suspends the current task on a completion and resumes it exactly once,
// either when the completion fires or when the task is cancelled.
//
// Resumption: the awaiting task resumes on whichever worker its wake-up puts
// it on (the completing thread's worker in a runtime; the loop's own thread
// for a standalone loop), never inline inside the completer's call.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>

#include "corio/detail/completion.hpp"
#include "corio/detail/task_header.hpp"

namespace corio::detail {

class wait_operation : public waiter_node {
public:
    explicit wait_operation(completion& target, task_header* inline_candidate = nullptr) noexcept
        : target_(target), inline_candidate_(inline_candidate) {}
    wait_operation(const wait_operation&) = delete;
    wait_operation& operator=(const wait_operation&) = delete;

    bool await_ready() noexcept { return target_.done() && consume_budget(); }
    bool await_suspend(std::coroutine_handle<> h) {
        // The fork-join fast path: a child that has not started runs here,
        // now, nested (a call from the awaiting coroutine, no other layer).
        if (inline_candidate_ && !target_.done()) {
            try_run_inline(inline_candidate_);
            if (target_.done()) return false;
        }
        return suspend_unless_done(h);
    }

    /// After resuming: true when the wake-up came from cancel() rather than
    /// from the completion (the node was still linked; it is now unlinked).
    /// When the completion fired the node, the lock is not needed: `fired_`
    /// is stored after the completer's last access to this node.
    bool woken_by_cancel() noexcept {
        if (!suspended_ || fired_.load(std::memory_order_acquire)) return false;
        return target_.remove_waiter(this);
    }

private:
    /// The rest of await_suspend (lib/task_header.cpp): arms the wait and
    /// registers with the target, unless it is done by now.
    bool suspend_unless_done(std::coroutine_handle<> h);
    static void fire_wake(waiter_node* self) noexcept;

    completion& target_;
    task_header* inline_candidate_;
    task_header* task_ = nullptr;
    std::uint32_t generation_ = 0;
    bool suspended_ = false;
    /// Written by the completer (release) once it no longer reads the node.
    std::atomic<bool> fired_{false};
};

}  // namespace corio::detail
