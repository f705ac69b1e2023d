// Timeout scopes: asyncio.timeout / asyncio.timeout_at (Python 3.11). A
// scope puts a deadline on the work it runs, in the task that runs it: on
// expiry it cancels that task, and the cancelled_error the work ends with
// becomes corio::timeout_error.
//
// C++ has no `async with`, so the scope runs the work it guards:
//
//   async with asyncio.timeout(1):            T v = co_await corio::timeout(1s).run(fetch());
//       v = await fetch()
//
//   async with asyncio.timeout(None) as cm:   auto scope = corio::timeout(std::nullopt);
//       cm.reschedule(loop.time() + 5)        scope.reschedule(loop.time() + 5s);
//       await work()                          co_await scope.run(work());
//   if cm.expired(): ...                      if (scope.expired()) ...
//
// The work runs inline in the awaiting task (no new task: `co_await` of a
// task<T>), so the scope's task is that task, and the work may hold a copy
// of the scope to reschedule it. A timeout_scope is a cheap reference-
// counted handle; run() keeps the scope alive, so a temporary is fine.
//
// Semantics (asyncio's):
// - Entering (the start of run()) records the task and its cancelling()
//   count and arms a timer for when(); a deadline already past fires at the
//   loop's next timer check, so work that finishes without suspending
//   completes normally.
// - On expiry the scope calls cancel() on its task. When run() ends, the
//   scope takes that request back (uncancel); if the work ended with
//   cancelled_error and the count is back at its level on entry, the
//   cancellation was the scope's, and run() throws timeout_error instead.
//   Any other cancellation (someone called cancel(), or an outer scope
//   expired too) stays cancelled_error, so nested scopes convert only the
//   one that expired, and the outermost expired one wins.
// - Expired, but the work finished anyway (it swallowed the cancellation,
//   or finished before seeing it): run() returns its result; a cancellation
//   that was never delivered is dropped with the count (uncancel).
// - when() is std::nullopt for "never". reschedule(t) moves the deadline
//   (re-arming the timer); reschedule(std::nullopt) disarms it. Unlike
//   asyncio, reschedule before run() is allowed (it just sets when()); after
//   the scope expired or was left it throws std::runtime_error.
// - run() twice, or outside a corio task, throws std::runtime_error.
//
// Threads: the timer lives on the loop that runs the task when the scope
// is entered (or rescheduled from that task). If the task migrates to
// another worker meanwhile, the timer still fires there and cancels the task
// with the thread-safe cancel(); the scope's state is guarded by a lock, so
// an expiry racing with the end of the work is seen by exactly one of them.
// reschedule/when/expired may be called from any thread.
//
// Resumption: run() resumes where the guarded work finished, in its task.
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "corio/detail/result_slot.hpp"
#include "corio/errors.hpp"
#include "corio/event_loop.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {
struct timeout_state;
}  // namespace detail

class timeout_scope {
public:
    /// A scope with deadline `when` (std::nullopt: never), not entered yet.
    explicit timeout_scope(std::optional<clock::time_point> when);
    timeout_scope(const timeout_scope& o) noexcept;
    timeout_scope(timeout_scope&& o) noexcept : state_(std::exchange(o.state_, nullptr)) {}
    timeout_scope& operator=(timeout_scope o) noexcept {
        std::swap(state_, o.state_);
        return *this;
    }
    ~timeout_scope();

    /// The deadline (a loop-clock time point, see event_loop::time()), or std::nullopt for never.
    std::optional<clock::time_point> when() const;
    /// Moves the deadline; std::nullopt disarms it. Throws std::runtime_error
    /// once the scope has expired or been left.
    void reschedule(std::optional<clock::time_point> when);
    /// True once the deadline passed while the work ran (asyncio's expired()).
    bool expired() const;

    /// Runs `work` under the deadline, inline in the awaiting task; returns
    /// its result, or throws timeout_error if the scope expired and
    /// cancelled it. A scope runs once.
    template <class T>
    task<T> run(task<T> work) {
        return run_guarded(*this, std::move(work));
    }

private:
    /// Enters the scope for the current task (throws if it cannot).
    void enter();
    /// Leaves it; returns what run() must throw (`failure`, or timeout_error
    /// in its place), or null.
    std::exception_ptr exit(std::exception_ptr failure) noexcept;
    /// Disarms the timer if the scope was not left (run()'s frame destroyed
    /// while suspended): the timer must not cancel a task that is gone.
    void abandon() noexcept;

    template <class T>
    static task<T> run_guarded(timeout_scope self, task<T> work) {
        self.enter();
        struct abandon_guard {
            timeout_scope& scope;
            ~abandon_guard() { scope.abandon(); }
        } guard{self};
        detail::result_slot<T> result;
        std::exception_ptr failure;
        try {
            if constexpr (std::is_void_v<T>) co_await std::move(work);
            else result.emplace_value(co_await std::move(work));
        } catch (...) {
            failure = std::current_exception();
        }
        if (std::exception_ptr e = self.exit(std::move(failure))) std::rethrow_exception(e);
        co_return result.take();
    }

    detail::timeout_state* state_;
};

/// asyncio.timeout(delay): a scope whose deadline is `delay` from now.
inline timeout_scope timeout(clock::duration delay) { return timeout_scope(clock::now() + delay); }
/// asyncio.timeout(None): a scope with no deadline (yet).
inline timeout_scope timeout(std::nullopt_t) { return timeout_scope(std::nullopt); }
/// asyncio.timeout_at(when): a scope with an absolute deadline (std::nullopt: never).
inline timeout_scope timeout_at(std::optional<clock::time_point> when) { return timeout_scope(when); }

}  // namespace corio
