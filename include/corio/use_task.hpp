// corio::use_task: the Asio completion token that makes any Asio
// asynchronous operation awaitable from a task:
//
//   std::size_t n = co_await sock.async_read_some(asio::buffer(buf), corio::use_task);
//
// The operation returns a lazy task<R> that starts the operation when it is
// awaited. R follows the completion signature: void(error_code) -> void,
// void(error_code, T) -> T, more values -> std::tuple; an error_code or
// exception_ptr argument is thrown (std::system_error) instead of returned.
//
// The completion handler runs on the thread of the io_context that owns the
// IO object (the loop that opened the socket) and wakes the task there, so
// the task resumes through that loop's run queue; it may then be stolen.
//
// Cancellation: cancel() on the awaiting task emits a terminal cancellation
// on the operation's cancellation slot, from the io_context's thread (Asio's
// cancellation slots are not thread-safe), waits until the handler has run
// (the operation may hold buffers in the task's frame), then throws
// cancelled_error. An operation that finishes anyway before the
// cancellation reaches it (its handler gets anything but
// operation_aborted) keeps its result, and the cancellation stays pending
// for the task's next suspension point, as with a future: bytes it read
// or a connection it accepted are not lost.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/bind_allocator.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/error_code.hpp>
#include <asio/execution/context.hpp>
#include <asio/execution_context.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <coroutine>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

#include "corio/detail/dropped_handlers.hpp"
#include "corio/detail/reserved_allocator.hpp"
#include "corio/detail/spinlock.hpp"
#include "corio/detail/task_header.hpp"
#include "corio/errors.hpp"
#include "corio/event_loop.hpp"
#include "corio/policy.hpp"
#include "corio/task.hpp"

namespace corio {

struct use_task_t {
    constexpr use_task_t() noexcept = default;
};
/// Pass as the completion token of an Asio operation to get a task<R>.
inline constexpr use_task_t use_task{};

namespace detail {

/// What an operation completing with `Args...` returns: nothing, the one
/// value, or a tuple of them ...
template <class... Args>
struct io_values {
    using type = std::tuple<Args...>;
};
template <>
struct io_values<> {
    using type = void;
};
template <class A>
struct io_values<A> {
    using type = A;
};
/// ... once its leading error argument, if any, is taken off (and thrown).
template <class... Args>
struct io_value : io_values<Args...> {};
template <class... Rest>
struct io_value<std::error_code, Rest...> : io_values<Rest...> {};
template <class... Rest>
struct io_value<std::exception_ptr, Rest...> : io_values<Rest...> {};

/// The state one awaited operation shares with its completion handler and
/// its cancellation, in the awaiting task's frame. `lock` orders the three:
/// whoever finds the task armed wakes it, exactly once per arming.
template <class... Args>
struct io_state final : droppable_operation {
    spinlock lock;
    std::optional<std::tuple<Args...>> result;  // set by the handler
    /// Handler not run yet, plus a cancellation emit not run yet.
    int pending = 1;
    bool armed = false;
    task_header* task = nullptr;
    std::uint32_t generation = 0;
    asio::cancellation_signal signal;
    /// The operation ended in an exception: its initiation threw, or one
    /// unwound through its completion and dropped the handler. Neither this
    /// nor a result once it ended: Asio dropped the handler for another
    /// reason (dropped_handlers.hpp).
    std::exception_ptr error;
    handler_memory emit_memory;  // the cancellation's post cannot fail

    /// [locked] Arms the current task's wait unless a cancellation is
    /// pending (then false).
    bool arm_locked(std::coroutine_handle<> h) {
        const std::int64_t gen = arm_wait(h);
        if (gen < 0) return false;
        task = current_task_header();
        generation = static_cast<std::uint32_t>(gen);
        armed = true;
        return true;
    }
    /// [locked] One of the pending parts finished (on the io thread).
    void finish_part_locked() noexcept {
        if (--pending == 0 && armed) {
            armed = false;
            wake(task, generation);
        }
    }
    /// A pending part finished (on the io thread).
    void finish_part() noexcept {
        std::lock_guard guard(lock);
        finish_part_locked();
    }
    /// The handler, or the start that would have made it, was destroyed
    /// uncalled (dropped_handlers.hpp): the operation ends in an error.
    void end_dropped(std::exception_ptr why) noexcept override {
        std::lock_guard guard(lock);
        error = std::move(why);  // null: operation_aborted at the await
        finish_part_locked();
    }
};

/// The completion handler Asio holds: completes the state on the io
/// thread. Its cancellation slot is the state's signal. Move-only: the one
/// handler not moved from is called once or dropped.
template <class... Args>
class io_handler {
public:
    explicit io_handler(io_state<Args...>* state) noexcept : state_(state) {}
    io_handler(io_handler&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
    io_handler& operator=(io_handler&&) = delete;
    ~io_handler() {
        if (state_ && dropped_handler_ends_operation()) end_dropped_operation(*state_);
    }

    /// The state, which this handler no longer completes (it is not
    /// dropped either): whoever takes it must.
    io_state<Args...>& release() noexcept { return *std::exchange(state_, nullptr); }

    using cancellation_slot_type = asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept {
        return state_ ? state_->signal.slot() : cancellation_slot_type();
    }

    void operator()(Args... args) {
        io_state<Args...>& s = release();
        // A cancellation emitted after this point must find nothing to cancel.
        s.signal.slot().clear();
        std::lock_guard guard(s.lock);
        s.result.emplace(std::move(args)...);
        s.finish_part_locked();  // the last access: the task may run and free `s` after the unlock
    }

private:
    io_state<Args...>* state_;
};

/// True when this thread drives the loop that owns `ctx` (an io_context).
bool runs_io_here(const asio::execution_context& ctx) noexcept;

/// The operation could not start (the current exception says why): it
/// completes with that exception, as if its handler had run.
template <class... Args>
void fail_start(io_state<Args...>& state) noexcept {
    std::lock_guard guard(state.lock);
    state.error = std::current_exception();
    state.finish_part_locked();  // the handler's part: it will never run
}

/// Starts the operation on the io thread; an initiation that throws
/// completes the operation with its exception.
template <class Start, class... Args>
void launch_io(io_state<Args...>& state, Start& start) noexcept {
    const dropped_handler_scope failed_start_ends_it(false);
    try {
        start(io_handler<Args...>(&state));
    } catch (...) {
        fail_start(state);
    }
}

/// The operation's start, posted to its io thread. It holds the handler
/// to be: dropped by Asio uncalled (its io_context shut down first), it
/// ends the operation as a dropped handler does (dropped_handlers.hpp).
template <class Start, class... Args>
class posted_start {
public:
    posted_start(io_state<Args...>& state, Start& start) noexcept : pending_(&state), start_(&start) {}
    void operator()() { launch_io(pending_.release(), *start_); }

private:
    io_handler<Args...> pending_;
    Start* start_;
};

/// Suspends the task and starts the operation: here when this thread owns
/// the IO object's io_context, else posted there (an IO object is used by
/// its own loop's thread only, wherever the awaiting task has migrated).
/// Resumes when the handler ran or the task was cancelled.
template <class Start, class Executor, class... Args>
struct io_start {
    io_state<Args...>& state;
    Start& start;  // in the operation's frame, which outlives the operation
    const Executor& executor;
    bool started = false;

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
        {
            std::lock_guard guard(state.lock);
            if (!state.arm_locked(h)) return false;  // cancelled before it started
        }
        started = true;
        if (runs_io_here(asio::query(executor, asio::execution::context))) {
            launch_io(state, start);
        } else {
            try {
                const dropped_handler_scope failed_post_ends_it(false);  // the catch below does
                asio::post(executor, posted_start<Start, Args...>(state, start));
            } catch (...) {
                // Out of memory: the wait armed above ends as a failed start
                // does (a wake-up now, the error at the resume), so nothing
                // else can wake it later.
                fail_start(state);
            }
        }
        return true;
    }
    void await_resume() {
        if (!started) throw_if_cancelled();  // arming refused: a cancellation is pending
    }
};

/// Suspends until every pending part of the operation has run, whatever
/// cancellations arrive meanwhile (the operation may use the frame).
template <class... Args>
struct io_drain {
    io_state<Args...>& state;

    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
        std::lock_guard guard(state.lock);
        if (state.pending == 0) return false;
        return state.arm_locked(h);  // false: cancelled again; the caller loops
    }
    void await_resume() const noexcept {}
};

template <class... Args>
typename io_value<Args...>::type take_io_value(std::tuple<Args...>&& values) {
    using value = typename io_value<Args...>::type;
    if constexpr (sizeof...(Args) == 0) {
        return;
    } else {
        using first = std::tuple_element_t<0, std::tuple<Args...>>;
        constexpr bool has_error = std::is_same_v<first, std::error_code> || std::is_same_v<first, std::exception_ptr>;
        if constexpr (has_error) {
            if constexpr (std::is_same_v<first, std::error_code>) {
                if (const std::error_code ec = std::get<0>(values)) throw std::system_error(ec);
            } else {
                if (std::get<0>(values)) std::rethrow_exception(std::get<0>(values));
            }
            if constexpr (std::is_void_v<value>) return;
            else if constexpr (sizeof...(Args) == 2) return std::move(std::get<1>(values));
            else return std::apply([](auto&&, auto&&... rest) { return value(std::move(rest)...); }, std::move(values));
        } else if constexpr (sizeof...(Args) == 1) {
            return std::move(std::get<0>(values));
        } else {
            return value(std::move(values));
        }
    }
}

/// True if the operation completed before a cancellation reached it: its
/// handler ran with anything but operation_aborted (what Asio passes to an
/// operation that the cancellation stopped), so what it did stands.
template <class... Args>
bool finished_before_cancel(const io_state<Args...>& state) {
    if (state.error || !state.result) return false;
    if constexpr (sizeof...(Args) > 0) {
        if constexpr (std::is_same_v<std::tuple_element_t<0, std::tuple<Args...>>, std::error_code>)
            return std::get<0>(*state.result) != asio::error::operation_aborted;
    }
    return true;
}

/// The executor of the io_context the IO object belongs to, when the
/// initiation tells (Asio's initiations do), else the current loop's.
template <class Initiation>
auto io_executor(const Initiation& init) {
    if constexpr (requires { init.get_executor(); }) return init.get_executor();
    else return get_running_loop().io_context().get_executor();
}

/// A terminal cancellation on its way to the operation's io thread.
/// Dropped by Asio uncalled (dropped_handlers.hpp), it cancels nothing and
/// counts as done: the operation's own handler, run or dropped, still ends
/// the wait.
template <class... Args>
class posted_cancellation {
public:
    explicit posted_cancellation(io_state<Args...>& state) noexcept : state_(&state) {}
    posted_cancellation(posted_cancellation&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
    posted_cancellation& operator=(posted_cancellation&&) = delete;
    ~posted_cancellation() {
        if (state_ && dropped_handler_ends_operation()) state_->finish_part();
    }
    void operator()() {
        io_state<Args...>& s = *std::exchange(state_, nullptr);
        s.signal.emit(asio::cancellation_type::terminal);
        s.finish_part();
    }

private:
    io_state<Args...>* state_;
};

/// Emits a terminal cancellation on the operation's slot, on its io
/// thread. On an io_context's executor (corio's IO objects use their
/// loop's) the post takes no memory but what `state` set aside: should it
/// fail, the operation would run on into the frame that the failure
/// frees. A type-erased executor (any_io_executor) would allocate a
/// wrapper of its own, so the io_context's executor is taken out of it.
template <class... Args, class Executor>
void post_cancellation(io_state<Args...>& state, const Executor& executor) {
    const dropped_handler_scope failed_post_ends_nothing(false);  // the caller's catch does
    auto emit = asio::bind_allocator(reserved_allocator<void>(state.emit_memory), posted_cancellation<Args...>(state));
    if constexpr (std::is_same_v<Executor, asio::any_io_executor>) {
        if (const auto* io = executor.template target<asio::io_context::executor_type>()) {
            asio::post(*io, std::move(emit));
            return;
        }
    }
    asio::post(executor, std::move(emit));
}

template <class... Args, class Initiation, class... InitArgs>
task<typename io_value<Args...>::type> run_io_operation(Initiation init, InitArgs... init_args) {
    io_state<Args...> state;
    const auto executor = io_executor(init);
    auto start = [&](io_handler<Args...> handler) { std::move(init)(std::move(handler), std::move(init_args)...); };
    co_await io_start<decltype(start), decltype(executor), Args...>{state, start, executor};
    bool completed;
    {
        std::lock_guard guard(state.lock);
        completed = state.pending == 0;
        if (!completed) {
            state.armed = false;  // woken by cancel(): that wake-up consumed the arming
            ++state.pending;      // the emit posted below
        }
    }
    if (!completed) {
        try {
            post_cancellation(state, executor);
        } catch (...) {
            // Out of memory, on an executor other than an io_context's:
            // the operation cannot be cancelled, and must end by itself
            // before its frame goes.
            std::lock_guard guard(state.lock);
            --state.pending;
        }
        for (;;) {
            take_cancel();  // this cancellation is thrown below; a later one wakes the drain again
            bool drained;
            {
                std::lock_guard guard(state.lock);
                drained = state.pending == 0;
            }
            if (drained) break;
            co_await io_drain<Args...>{state};
        }
        // Bytes it took off a socket or a connection it accepted would be
        // lost with a cancelled_error: its outcome is delivered instead and
        // the cancellation waits for the task's next suspension point.
        if (!finished_before_cancel(state)) throw cancelled_error();
        keep_cancel_pending();
    }
    if (state.error) std::rethrow_exception(state.error);
    if (!state.result)
        throw std::system_error(asio::error::operation_aborted,
                                "Asio dropped the operation without completing it (its io_context shut down, or an exception "
                                "left its completion outside a corio loop's run)");
    co_return take_io_value(std::move(*state.result));
}

}  // namespace detail
}  // namespace corio

template <class R, class... Args>
struct asio::async_result<corio::use_task_t, R(Args...)> {
    template <class Initiation, class... InitArgs>
    static auto initiate(Initiation&& init, corio::use_task_t, InitArgs&&... args) {
        return corio::detail::run_io_operation<std::decay_t<Args>...>(std::forward<Initiation>(init),
                                                                      std::forward<InitArgs>(args)...);
    }
};
