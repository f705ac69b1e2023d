// What an Asio completion handler of use_task that is destroyed without
// being called means, which depends on where it happens.
//
// Asio destroys a pending operation's handler uncalled when its
// io_context shuts down (a user's own io_context destroyed while a task
// waits on it), or when an exception (out of memory: an accept that
// cannot register the new socket with epoll, say) unwinds through the
// operation's completion inside run(). Either way the awaiting task would
// wait forever, so by default a dropped handler ends its operation with an
// error. Two places turn that off for their scope: a corio loop's
// teardown, where nothing may be woken (the loop's tasks are gone and the
// loop is going), and an operation's start, where the failing start ends
// the operation itself with the start's own exception.
//
// Which error: inside a corio loop's run of its io_context, a handler
// dropped while an exception unwinds out of that run ends its operation
// with that exception, as if the operation had thrown it. A destructor
// cannot see the exception that unwinds through it (std::current_exception
// is empty until a catch), so the operation waits on a list of the run's
// until the loop's catch hands it over. Anywhere else (a user's own
// io_context, whose run the exception leaves for the user's catch, or one
// shut down) the operation ends in asio::error::operation_aborted.
#pragma once

#include <exception>

namespace corio::detail {

/// Sets, for this thread and the scope's lifetime, whether a dropped
/// handler ends its operation; the previous setting comes back after.
class dropped_handler_scope {
public:
    explicit dropped_handler_scope(bool ends_operation) noexcept;
    ~dropped_handler_scope();
    dropped_handler_scope(const dropped_handler_scope&) = delete;
    dropped_handler_scope& operator=(const dropped_handler_scope&) = delete;

private:
    bool previous_;
};

/// Whether a handler dropped on this thread now ends its operation (true
/// outside any dropped_handler_scope).
bool dropped_handler_ends_operation() noexcept;

/// An awaited operation that a dropped handler ends.
class droppable_operation {
public:
    /// Ends the operation: with `why`, or with operation_aborted when null.
    virtual void end_dropped(std::exception_ptr why) noexcept = 0;

protected:
    droppable_operation() = default;
    ~droppable_operation() = default;
    droppable_operation(const droppable_operation&) = delete;
    droppable_operation& operator=(const droppable_operation&) = delete;

private:
    friend class io_run_catch;
    friend void end_dropped_operation(droppable_operation& op) noexcept;
    droppable_operation* next_dropped_ = nullptr;  // on an io_run_catch's list
};

/// What a handler destroyed uncalled does where
/// dropped_handler_ends_operation() holds: ends `op` now, or, while an
/// exception unwinds out of a corio loop's io run, once that run's catch
/// knows the exception.
void end_dropped_operation(droppable_operation& op) noexcept;

/// A corio loop's run of its io_context, on this thread: collects the
/// operations whose handlers an exception unwinding out of the run
/// dropped, for the catch to end with it.
class io_run_catch {
public:
    io_run_catch() noexcept;
    /// Ends with operation_aborted whatever no catch took: handlers dropped
    /// while an exception unwound that was caught inside the run.
    ~io_run_catch();
    io_run_catch(const io_run_catch&) = delete;
    io_run_catch& operator=(const io_run_catch&) = delete;

    /// Ends the operations dropped so far with `failure`, the exception
    /// that came out of the run; false if there were none.
    bool deliver(const std::exception_ptr& failure) noexcept;

private:
    friend void end_dropped_operation(droppable_operation& op) noexcept;
    io_run_catch* outer_;
    droppable_operation* dropped_ = nullptr;
};

}  // namespace corio::detail
