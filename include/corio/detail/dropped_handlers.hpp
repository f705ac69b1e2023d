// What an Asio completion handler of use_task that is destroyed without
// being called means, which depends on where it happens.
//
// Asio destroys a pending operation's handler uncalled in two cases: the
// io_context shuts down, or an exception (out of memory: an accept that
// cannot register the new socket with epoll, say) unwinds through the
// operation's completion inside run(). In the second case the awaiting
// task would wait forever, so a handler dropped while a corio loop runs
// its io_context's handlers ends its operation with an error. At shutdown
// nothing may be woken (the loop is going), and while an operation starts
// the failing start ends it itself with the start's own exception, so
// there a dropped handler does nothing.
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

/// Whether a handler dropped on this thread now ends its operation.
bool dropped_handler_ends_operation() noexcept;

}  // namespace corio::detail
