// task_handle<T>: asyncio's Task object for a task started with
// create_task. Copyable (reference-counted), awaitable any number of times,
// usable from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include "corio/detail/done_callback.hpp"
#include "corio/detail/wait_operation.hpp"
#include "corio/task.hpp"

namespace corio {

/// Options for create_task.
struct task_options {
    std::string name;     // get_name(); default "Task-<n>"
    bool pinned = false;  // never migrates off the loop it was created on (Tokio's spawn_local)
};

/// A type-erased reference to a spawned task: what current_task() and
/// all_tasks() return, and the base of task_handle<T>.
class task_ref {
public:
    task_ref() noexcept = default;
    /// Adopts one reference (`add_ref = false`) or takes a new one.
    task_ref(detail::task_header* h, bool add_ref) noexcept : header_(h) {
        if (header_ && add_ref) header_->add_ref();
    }
    task_ref(const task_ref& o) noexcept : task_ref(o.header_, true) {}
    task_ref(task_ref&& o) noexcept : header_(std::exchange(o.header_, nullptr)) {}
    task_ref& operator=(task_ref o) noexcept {
        std::swap(header_, o.header_);
        return *this;
    }
    ~task_ref() {
        if (header_) header_->release();
    }

    /// Requests cancellation: false if the task is already done; otherwise
    /// the task sees cancelled_error at its current (or next) suspension point.
    bool cancel() noexcept { return detail::request_cancel(header_); }
    bool cancelled() const noexcept { return header_->status() == detail::completion_status::cancelled; }
    /// asyncio's Task.cancelling(): how many cancel() calls on the pending
    /// task have not been taken back by uncancel(). Any thread.
    std::uint32_t cancelling() const noexcept { return detail::cancelling(header_); }
    /// asyncio's Task.uncancel(): takes one cancellation request back and
    /// returns how many are left. What timeouts and task groups use to tell
    /// their own cancellation from someone else's. When the task calls it on
    /// itself and the count reaches 0, a request not yet delivered is dropped
    /// too (asyncio 3.13); from elsewhere only the count changes.
    std::uint32_t uncancel() noexcept { return detail::uncancel(header_); }
    bool done() const noexcept { return header_->done(); }
    /// The exception the task ended with (null if it returned a value).
    /// Throws invalid_state_error if not done, cancelled_error if cancelled.
    std::exception_ptr exception() const {
        check_finished();
        return header_->exception;
    }
    std::string get_name() const;
    void set_name(std::string name);

    /// Schedules fn(task_ref) on the task's loop once it is done.
    template <class F>
    std::uintptr_t add_done_callback(F&& fn) {
        return detail::add_done_callback(*header_, header_->home, *this, std::forward<F>(fn));
    }
    std::size_t remove_done_callback(std::uintptr_t token) noexcept { return detail::remove_done_callback(*header_, token); }

    /// Awaits the task's completion without taking its result: resumes when
    /// it is done whatever way it ended; throws only if the awaiting task
    /// is cancelled (the awaited one is left alone).
    class done_operation : public detail::wait_operation {
    public:
        explicit done_operation(detail::task_header* h) noexcept : detail::wait_operation(*h, h) {}
        void await_resume() {
            woken_by_cancel();
            detail::throw_if_cancelled();
        }
    };
    done_operation wait_done() const noexcept { return done_operation(header_); }

    explicit operator bool() const noexcept { return header_ != nullptr; }
    friend bool operator==(const task_ref& a, const task_ref& b) noexcept { return a.header_ == b.header_; }
    detail::task_header* header() const noexcept { return header_; }

protected:
    void check_finished() const {
        if (!header_->done()) throw invalid_state_error("task is not done");
        if (cancelled()) throw cancelled_error();
    }
    detail::task_header* header_ = nullptr;
};

template <class T = void>
class task_handle : public task_ref {
public:
    using value_type = T;
    task_handle() noexcept = default;
    task_handle(detail::promise<T>* p, bool add_ref) noexcept : task_ref(p, add_ref) {}

    /// The task's value; throws invalid_state_error if not done,
    /// cancelled_error if cancelled, or the task's exception.
    decltype(auto) result() const {
        check_finished();
        if (header_->exception) std::rethrow_exception(header_->exception);
        if constexpr (!std::is_void_v<T>) return std::as_const(promise().result.value());
    }

    /// result(), but moving the value out (what run_until_complete returns);
    /// later result() calls see a moved-from value.
    T take_result() {
        check_finished();
        if (header_->exception) std::rethrow_exception(header_->exception);
        if constexpr (std::is_reference_v<T>) return promise().result.value();
        else if constexpr (!std::is_void_v<T>) return T(std::move(promise().result.value()));
    }

    /// Schedules fn(handle) on the task's loop once it is done (call_soon
    /// semantics). Returns a token for remove_done_callback.
    template <class F>
    std::uintptr_t add_done_callback(F&& fn) {
        return detail::add_done_callback(*header_, header_->home, *this, std::forward<F>(fn));
    }
    std::size_t remove_done_callback(std::uintptr_t token) noexcept { return detail::remove_done_callback(*header_, token); }

    /// `co_await handle`: resumes on the awaiting task's worker with a copy
    /// of the result, or rethrows. Cancelling the awaiting task cancels this
    /// task instead, and the await goes on until this task ends (asyncio).
    /// Awaited as an rvalue (`co_await std::move(h)`), the result is moved
    /// out, and if the handle holds the task's last reference the task is
    /// freed at once and `h` left empty (a failed one too, before its
    /// exception is rethrown): freed while the awaiting task
    /// still has it in cache, not when the handle goes
    /// (dropping a million handles after a million awaits was a second,
    /// cache-missing pass over every task). Otherwise `h` keeps it.
    /// Awaiting an empty handle throws invalid_state_error. (GCC 12
    /// evaluates a co_await in the skipped operand of `false && ...`, as in
    /// the loop condition of Catch2's REQUIRE: there it awaits a second
    /// time, and an emptied handle then throws.)
    template <bool Move>
    class wait_operation : public detail::wait_operation {
    public:
        wait_operation(detail::promise<T>* p, bool propagate_cancel, task_handle* moved_from = nullptr) noexcept
            : detail::wait_operation(*p, p, propagate_cancel), moved_from_(moved_from) {}
        decltype(auto) await_resume() {
            settle_forwarding();
            detail::promise<T>* const p = static_cast<detail::promise<T>*>(awaited_task());
            if (woken_by_cancel() && forwards_cancel()) detail::request_cancel(p);
            detail::throw_if_cancelled();
            if (p->exception) [[unlikely]]
                rethrow_failure(p);
            if constexpr (std::is_void_v<T>) {
                if constexpr (Move) free_if_last();
            } else if constexpr (std::is_reference_v<T>) {
                return p->result.value();
            } else if constexpr (Move) {
                T value(std::move(p->result.value()));
                free_if_last();
                return value;
            } else if constexpr (!std::is_copy_constructible_v<T>) {
                return T(std::move(p->result.value()));
            } else {
                return T(p->result.value());
            }
        }

    private:
        /// With the result taken: frees the task if the rvalue-awaited
        /// handle holds its last reference (acquire: as in
        /// task_header::release, pairs with the release by which the others
        /// dropped theirs; with the last one in hand nobody can take another).
        void free_if_last() noexcept {
            detail::task_header* const t = awaited_task();
            if (t->refs.load(std::memory_order_acquire) != 1) return;
            moved_from_->header_ = nullptr;
            t->self.destroy();
        }

        /// Rethrows the task's exception, freeing the task first as
        /// free_if_last does after taking a value. Out of line: the
        /// awaiting coroutine keeps only a call for its rare path.
        [[noreturn, gnu::noinline]] void rethrow_failure(detail::promise<T>* p) {
            std::exception_ptr e = p->exception;
            if constexpr (Move) free_if_last();
            std::rethrow_exception(std::move(e));
        }

        task_handle* moved_from_;  // Move: the handle awaited as an rvalue
    };
    wait_operation<false> operator co_await() const& { return {&awaitable_promise(), true}; }
    wait_operation<true> operator co_await() && { return {&awaitable_promise(), true, this}; }
    /// The awaiter shield() uses: cancelling the awaiting task leaves this one running.
    wait_operation<false> shielded() const noexcept { return {&promise(), false}; }

private:
    detail::promise<T>& promise() const noexcept { return static_cast<detail::promise<T>&>(*header_); }
    detail::promise<T>& awaitable_promise() const {
        if (!header_)
            throw invalid_state_error("co_await on an empty task handle (default-made, or emptied by co_await std::move)");
        return promise();
    }
};

}  // namespace corio
