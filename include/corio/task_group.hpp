// task_group: asyncio.TaskGroup. Children are ordinary spawned tasks (any
// worker may run them); the group watches each child's completion through
// a waiter node on the child's header, so a child's end is noticed on the
// thread that finished it, with no callback round trip.
//
//   corio::task_group tg;                      // in the parent task
//   auto a = tg.create_task(fetch(url1));
//   auto b = tg.create_task(fetch(url2));
//   co_await tg.join();                        // both done, or exception_group
//
// C++ has no `async with`: join() is the block's exit. When the code
// between create_task and join() may throw (a cancellation counts: a
// failing child cancels the parent), run that code under the group instead,
// so join() runs however it ends:
//
//   co_await tg.run([&]() -> corio::task<> {   // async with TaskGroup() as tg:
//       tg.create_task(worker(q));
//       co_await q.join();
//   }());
//
// Semantics (asyncio's):
// - The first child to fail (an exception, not a cancellation) cancels the
//   other children and the parent task. If the parent is already waiting in
//   join() it is not cancelled: join just goes on waiting for the others.
// - join() waits for every child (children may add children meanwhile),
//   then throws corio::exception_group with every failure, in the order the
//   children failed (and the body's own exception last, for run()/join(e)).
// - A cancellation of the parent from outside while it waits in join()
//   cancels every child, waits for them, then propagates cancelled_error
//   (unless there are failures: the exception_group wins, as in asyncio).
//   The parent's own cancellation by the group is taken back (uncancel) and
//   never propagates.
// - create_task after join() finished, or while the group is shutting down
//   after a failure, throws std::runtime_error. In a runtime a child may
//   fail on another worker while the body (or a child adding siblings) is
//   still creating tasks; that error, thrown into the group's own body or
//   children, is the group interrupting them (like its cancellation) and is
//   left out of the exception_group, which holds only the real failures.
//
// Destroying a group whose join() never ran (or never finished) while
// children are still live is a bug in the caller; the destructor cancels
// those children and reports it through the loop's exception handler
// (message "task_group destroyed before join(): N children still live"),
// and reports every child failure nobody will retrieve the same way. Why
// not std::terminate: the usual way to get here is a cancellation (e.g.
// corio::run cancelling main at exit) unwinding a body that had no run()
// around it, and ending the process for that would turn an orderly
// shutdown into a crash; the group's own state is reference-counted, so the
// children finishing later touch nothing that is gone. What the children's
// own cleanup touches is the caller's to keep alive: the children may still
// be running their cancellation cleanup after the destructor returns,
// which is why run() is the form to use.
//
// Thread safety: create_task may be called from any task on any worker
// (children adding siblings included); join() must be awaited by the task
// that created the group (or, for a group created outside any task, by a
// single task).
//
// Resumption: join() resumes on the worker that finished the last child,
// or wherever the parent's wake-up is stolen to.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include "corio/create_task.hpp"
#include "corio/detail/result_slot.hpp"
#include "corio/errors.hpp"
#include "corio/task.hpp"
#include "corio/task_handle.hpp"

namespace corio {

namespace detail {
struct task_group_state;
struct task_group_child;
}  // namespace detail

class task_group {
public:
    /// The parent is the task running the constructor (if any).
    task_group();
    ~task_group();
    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;

    /// Starts `t` as a child on the running loop (as corio::create_task).
    /// Throws std::runtime_error once join() has finished or while the
    /// group shuts down after a failure (`t` is then never run).
    // (Overloads, not a defaulted argument: see corio::create_task.)
    template <class T>
    task_handle<T> create_task(task<T> t, const task_options& opts) {
        detail::promise<T>* p = detail::release_for_spawn(std::move(t));
        detail::prepare_spawn(p, nullptr, opts.name.empty() ? nullptr : &opts.name, opts.pinned);
        // On a refusal the task is freed unrun: like asyncio's TaskGroup,
        // which closes the coroutine, debug mode does not call it unawaited.
        start_child(p);
        return task_handle<T>(p, false);
    }
    template <class T>
    task_handle<T> create_task(task<T> t) {
        return create_task(std::move(t), task_options{});
    }

    /// Waits until every child is done; throws exception_group if any failed.
    /// At most once per group (std::runtime_error otherwise).
    task<void> join() { return join(nullptr); }
    /// Leaving `async with` with an exception: join() after the code between
    /// create_task and join threw `body_error` (saved with
    /// std::current_exception(), as C++ cannot co_await in a catch block;
    /// nullptr: it did not throw). The children are cancelled first and
    /// awaited; a body_error that is not a cancellation joins the
    /// exception_group; one that is, is rethrown unless there is a group to
    /// throw.
    task<void> join(std::exception_ptr body_error);

    /// `async with task_group`: awaits `body` inline in this task, then
    /// join()s however the body ended. Returns the body's value.
    template <class T>
    task<T> run(task<T> body) {
        detail::result_slot<T> result;
        std::exception_ptr body_error;
        try {
            if constexpr (std::is_void_v<T>) co_await std::move(body);
            else result.emplace_value(co_await std::move(body));
        } catch (...) {
            body_error = std::current_exception();
        }
        co_await join(std::move(body_error));
        co_return result.take();
    }

private:
    /// Enters `task` (prepared, not yet queued) in the group and queues it;
    /// frees it unrun and throws if the group refuses children.
    void start_child(detail::task_header* task);

    detail::task_group_state* state_;
};

}  // namespace corio
