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
#pragma once

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

}  // namespace corio::detail
