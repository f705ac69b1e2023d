// future<T>: asyncio's Future, a result that some other party sets.
// Thread-safe: set_result / set_exception / cancel may race from any threads;
// exactly one wins, the others get invalid_state_error (cancel: false).
// A handle to shared, reference-counted state; copies refer to one future.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <type_traits>
#include <utility>

#include "corio/detail/completion.hpp"
#include "corio/detail/done_callback.hpp"
#include "corio/detail/frame_allocator.hpp"
#include "corio/detail/result_slot.hpp"
#include "corio/detail/wait_operation.hpp"
#include "corio/errors.hpp"

namespace corio {

namespace detail {
template <class T>
struct future_state : completion {
    explicit future_state(loop_core* l) noexcept : loop(l) {}
    // Per-thread free lists, as for frames: a future per wait is common.
    static void* operator new(std::size_t size) { return allocate_frame(size); }
    static void operator delete(void* p, std::size_t size) noexcept { deallocate_frame(p, size); }
    std::atomic<std::uint32_t> refs{1};
    loop_core* loop;
    result_slot<T> result;
};
/// The loop of the current thread, or the thread's default loop (lib/policy.cpp).
loop_core* loop_for_new_future();
}  // namespace detail

template <class T = void>
class future {
public:
    using value_type = T;

    /// A pending future bound to the current thread's loop (its done
    /// callbacks run there). Prefer loop.create_future<T>().
    future() : future(detail::loop_for_new_future()) {}
    explicit future(detail::loop_core* loop) : state_(new detail::future_state<T>(loop)) {}
    future(const future& o) noexcept : state_(o.state_) {
        if (state_) state_->refs.fetch_add(1, std::memory_order_relaxed);
    }
    future(future&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
    future& operator=(future o) noexcept {
        std::swap(state_, o.state_);
        return *this;
    }
    ~future() {
        // acq_rel: the last owner must see the result the others wrote.
        if (state_ && state_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete state_;
    }

    template <class... Args>
    void set_result(Args&&... args) {
        bool ok = state_->complete(detail::completion_status::value,
                                   [&] { state_->result.emplace_value(std::forward<Args>(args)...); });
        if (!ok) throw invalid_state_error("future is already done");
    }
    void set_exception(std::exception_ptr e) {
        if (!e) throw std::invalid_argument("set_exception needs an exception");
        // Moved in: the caller's reference must not outlive the completion (an
        // awaiter on another thread may already be done with the exception).
        bool ok = state_->complete(detail::completion_status::exception,
                                   [&] { state_->result.set_exception(std::move(e)); });
        if (!ok) throw invalid_state_error("future is already done");
    }
    /// False if already done; otherwise the future becomes cancelled and its
    /// awaiters see cancelled_error.
    bool cancel() noexcept {
        return state_->complete(detail::completion_status::cancelled, [&] {
            state_->result.set_exception(std::make_exception_ptr(cancelled_error()));
        });
    }

    bool done() const noexcept { return state_->done(); }
    bool cancelled() const noexcept { return state_->status() == detail::completion_status::cancelled; }

    /// The value; invalid_state_error before done, cancelled_error if cancelled, else the exception.
    decltype(auto) result() const {
        check_finished();
        if constexpr (std::is_void_v<T>) state_->result.value();
        else return std::as_const(state_->result.value());
    }
    std::exception_ptr exception() const {
        check_finished();
        return state_->result.exception();
    }

    template <class F>
    std::uintptr_t add_done_callback(F&& fn) {
        return detail::add_done_callback(*state_, state_->loop, *this, std::forward<F>(fn));
    }
    std::size_t remove_done_callback(std::uintptr_t token) noexcept { return detail::remove_done_callback(*state_, token); }

    /// `co_await fut`: suspends the current task until the future is done;
    /// resumes on the task's worker (see wait_operation). If the awaiting task
    /// is cancelled meanwhile, the future is cancelled too (asyncio).
    template <bool Move>
    class wait_operation : public detail::wait_operation {
    public:
        // No reference taken: the awaited future (a variable, or a temporary
        // of the co_await full-expression) outlives this awaiter.
        explicit wait_operation(const future& f) noexcept : detail::wait_operation(*f.state_), future_(f) {}
        decltype(auto) await_resume() {
            if (woken_by_cancel()) const_cast<future&>(future_).cancel();
            detail::throw_if_cancelled();
            auto& slot = future_.state_->result;
            if constexpr (std::is_void_v<T>) slot.value();
            else if constexpr (std::is_reference_v<T>) return slot.value();
            else if constexpr (Move || !std::is_copy_constructible_v<T>) return T(std::move(slot.value()));
            else return T(slot.value());
        }

    private:
        const future& future_;
    };
    wait_operation<false> operator co_await() const& noexcept { return wait_operation<false>{*this}; }
    wait_operation<true> operator co_await() && noexcept { return wait_operation<true>{*this}; }

    detail::loop_core* loop_core() const noexcept { return state_->loop; }
    detail::completion& completion_state() const noexcept { return *state_; }

private:
    void check_finished() const {
        const auto s = state_->status();
        if (s == detail::completion_status::pending) throw invalid_state_error("future is not done");
        if (s == detail::completion_status::cancelled) throw cancelled_error();
    }
    detail::future_state<T>* state_;
};

}  // namespace corio
