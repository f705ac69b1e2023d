// The awaiter core behind `co_await future` and `co_await task_handle`:
// suspends the current task on a completion and resumes it exactly once,
// either when the completion fires or when the task is cancelled (unless
// the wait forwards cancellation to the awaited task: then only the
// completion ends it).
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
    /// `awaited_task`: the awaited task, which may be run here first if it
    /// has not started. With `forwards_cancel`, cancelling the awaiting task
    /// cancels that task instead and the wait goes on until it ends
    /// (asyncio's await of a task) rather than waking the awaiting task.
    explicit wait_operation(completion& target, task_header* awaited_task = nullptr,
                            bool forwards_cancel = false) noexcept
        : target_(target), inline_candidate_(awaited_task), forwards_cancel_(forwards_cancel) {}
    wait_operation(const wait_operation&) = delete;
    wait_operation& operator=(const wait_operation&) = delete;

    bool await_ready() noexcept { return target_.done() && consume_budget(); }
    bool await_suspend(std::coroutine_handle<> h) {
        if (forwards_cancel_ && cancel_pending()) [[unlikely]]
            forward_pending_cancel(inline_candidate_);
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
    /// First thing after a forwarding wait (armed, suspended or not):
    /// returns once no cancel() is still passing itself on to the awaited
    /// task through this one, which may only then let go of it, and puts
    /// the task's context back in its slot (task_header::forwards_to).
    void settle_forwarding() noexcept {
        if (armed_forwarding_) [[unlikely]]
            end_forwarding_wait(saved_context_);
    }

protected:
    task_header* awaited_task() const noexcept { return inline_candidate_; }
    bool forwards_cancel() const noexcept { return forwards_cancel_; }

private:
    /// The rest of await_suspend (lib/task_header.cpp): arms the wait and
    /// registers with the target, unless it is done by now.
    bool suspend_unless_done(std::coroutine_handle<> h);
    static void fire_wake(waiter_node* self) noexcept;

    CORIO_DETAIL_READS_THREAD_LOCALS static bool cancel_pending() noexcept {
        const task_header* t = tl_task;
        return t && (t->state.load(std::memory_order_relaxed) & task_state::cancel_requested);
    }

    completion& target_;
    task_header* inline_candidate_;
    context_map* saved_context_ = nullptr;  // the task's, during a forwarding wait
    task_header* task_ = nullptr;
    std::uint32_t generation_ = 0;
    bool suspended_ = false;
    const bool forwards_cancel_;
    bool armed_forwarding_ = false;
    /// Written by the completer (release) once it no longer reads the node.
    std::atomic<bool> fired_{false};
};

}  // namespace corio::detail
