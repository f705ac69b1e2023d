// task<T>: a lazy coroutine, asyncio's `async def`. Calling a coroutine
// function allocates its frame and runs nothing; `co_await t` runs it inline
// by symmetric transfer (no scheduler round trip, constant stack depth for
// any chain of awaits), create_task(t) schedules it to run concurrently.
//
// Resumption: an awaiting coroutine resumes on the thread that finished the
// awaited task, which is the thread the awaiting task runs on.
#pragma once

#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>

#include "corio/detail/creation_site.hpp"
#include "corio/detail/frame_allocator.hpp"
#include "corio/detail/result_slot.hpp"
#include "corio/detail/task_header.hpp"
#include "corio/errors.hpp"

namespace corio {

template <class T = void>
class task;

namespace detail {

/// Destroys the frame of a task<T> that was never awaited nor scheduled;
/// in debug mode, first reports it with where it comes from (lib/debug_mode.cpp).
void destroy_unawaited(std::coroutine_handle<> frame, const creation_site& site) noexcept;

class promise_base : public task_header {
public:
    explicit promise_base(creation_site site) noexcept : created_at_(site) {}

    std::suspend_always initial_suspend() noexcept { return {}; }

    struct final_awaiter {
        bool await_ready() noexcept { return false; }
        template <class Promise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) noexcept {
            promise_base& p = h.promise();
            if (p.spawned) {
                // The poller that resumed us releases the alive reference
                // once resume() has returned; nothing here may free the frame.
                complete_spawned(&p, p.outcome);
                return std::noop_coroutine();
            }
            return p.continuation_ ? p.continuation_ : std::noop_coroutine();
        }
        void await_resume() noexcept {}
    };
    final_awaiter final_suspend() noexcept { return {}; }

    void unhandled_exception() noexcept {
        exception = std::current_exception();
        outcome = completion_status::exception;
        try {
            throw;
        } catch (const cancelled_error&) {
            outcome = completion_status::cancelled;
        } catch (...) {
        }
    }

    static void* operator new(std::size_t size) { return allocate_frame(size); }
    static void operator delete(void* p, std::size_t size) noexcept { deallocate_frame(p, size); }

    void set_continuation(std::coroutine_handle<> c) noexcept { continuation_ = c; }
    const creation_site& created_at() const noexcept { return created_at_; }

protected:
    template <class Promise>
    void bind_frame(std::coroutine_handle<Promise> h) noexcept {
        self = h;
        resume_point = h;
    }

private:
    creation_site created_at_;
    std::coroutine_handle<> continuation_;  // the lazy awaiter, resumed at final_suspend
};

template <class T>
class promise final : public promise_base {
public:
    /// The coroutine calls this constructor itself, so the default argument
    /// records the coroutine (creation_site.hpp).
    explicit promise(creation_site site = creation_site()) noexcept : promise_base(site) {}
    task<T> get_return_object() noexcept;
    template <class U>
        requires std::is_convertible_v<U&&, T>
    void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        result.emplace_value(std::forward<U>(v));
    }
    result_slot<T> result;
};

template <class T>
class promise<T&> final : public promise_base {
public:
    explicit promise(creation_site site = creation_site()) noexcept : promise_base(site) {}
    task<T&> get_return_object() noexcept;
    void return_value(T& v) noexcept { result.emplace_value(v); }
    result_slot<T&> result;
};

template <>
class promise<void> final : public promise_base {
public:
    explicit promise(creation_site site = creation_site()) noexcept : promise_base(site) {}
    task<void> get_return_object() noexcept;
    void return_void() noexcept { result.emplace_value(); }
    result_slot<void> result;
};

/// Reads a finished promise's outcome: rethrows its exception or moves the value out.
template <class T>
decltype(auto) take_result(promise<T>& p) {
    if (p.exception) std::rethrow_exception(p.exception);
    if constexpr (std::is_void_v<T>) return;
    else return p.result.take();
}

}  // namespace detail

template <class T>
class [[nodiscard]] task {
public:
    using promise_type = detail::promise<T>;
    using value_type = T;

    task() noexcept = default;
    explicit task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
    task(task&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    task& operator=(task&& other) noexcept {
        if (this != &other) {
            destroy();
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    task(const task&) = delete;
    task& operator=(const task&) = delete;
    ~task() { destroy(); }

    /// False once the task has been awaited or handed to create_task.
    bool valid() const noexcept { return static_cast<bool>(handle_); }

    /// Awaiting consumes the task: it runs inline and its frame is freed
    /// when the await completes. A second await throws invalid_state_error.
    class awaiter {
    public:
        explicit awaiter(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
        awaiter(awaiter&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
        awaiter(const awaiter&) = delete;
        ~awaiter() {
            if (handle_) handle_.destroy();
        }
        bool await_ready() const noexcept { return !handle_; }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
            handle_.promise().set_continuation(awaiting);
            return handle_;  // symmetric transfer: a tail call, not a nested resume
        }
        decltype(auto) await_resume() {
            if (!handle_) throw invalid_state_error("task awaited twice, or after create_task");
            return detail::take_result(handle_.promise());
        }

    private:
        std::coroutine_handle<promise_type> handle_;
    };

    awaiter operator co_await() && noexcept { return awaiter{std::exchange(handle_, nullptr)}; }
    awaiter operator co_await() & noexcept { return awaiter{std::exchange(handle_, nullptr)}; }

    /// Gives up ownership of the frame (create_task takes it).
    std::coroutine_handle<promise_type> release() noexcept { return std::exchange(handle_, nullptr); }

private:
    void destroy() noexcept {
        // A task that still owns its frame was never awaited nor scheduled.
        if (!handle_) return;
        const auto frame = std::exchange(handle_, nullptr);
        detail::destroy_unawaited(frame, frame.promise().created_at());
    }
    std::coroutine_handle<promise_type> handle_;
};

namespace detail {
template <class T>
task<T> promise<T>::get_return_object() noexcept {
    auto h = std::coroutine_handle<promise>::from_promise(*this);
    bind_frame(h);
    return task<T>{h};
}
template <class T>
task<T&> promise<T&>::get_return_object() noexcept {
    auto h = std::coroutine_handle<promise>::from_promise(*this);
    bind_frame(h);
    return task<T&>{h};
}
inline task<void> promise<void>::get_return_object() noexcept {
    auto h = std::coroutine_handle<promise>::from_promise(*this);
    bind_frame(h);
    return task<void>{h};
}
}  // namespace detail

}  // namespace corio
