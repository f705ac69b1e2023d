// One loop's signal handlers (add_signal_handler): an asio::signal_set on
// the loop's io_context, kept waiting for as long as the loop lives, and
// the callback of each signal it catches.
//
// How a signal reaches its callback:
//   1. Asio's process-wide handler writes the number to its self-pipe (the
//      only thing done inside the signal handler).
//   2. A reactor of some loop reads the pipe and completes this loop's
//      pending async_wait (a signal with no wait pending is remembered).
//   3. on_signal, on this loop's thread, re-arms the wait and schedules the
//      callback with call_soon: it runs as an ordinary loop callback, and an
//      exception goes to the loop's exception handler.
//
// Invariants: every use of `set` and `callbacks` is under `mutex` (add and
// remove come from any thread, on_signal from the loop's thread; Asio's
// signal_set is not thread-safe itself). Owned by the event_loop and
// destroyed before its io_context, after the loop last ran: a wait that the
// destruction cancels completes into an io_context nobody runs again.
#pragma once

#include <asio/signal_set.hpp>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>

namespace corio {
class event_loop;
}

namespace corio::detail {

struct signal_handlers {
    explicit signal_handlers(event_loop& loop) noexcept : loop(loop) {}
    ~signal_handlers();

    using callback = std::shared_ptr<const std::function<void()>>;

    /// Installs (or replaces) the callback of `signum`, already validated.
    void add(int signum, callback fn);
    /// Removes the callback of `signum`, if it is `*only` (when given). True if removed.
    bool remove(int signum, const std::function<void()>* only = nullptr);

    event_loop& loop;
    std::mutex mutex;
    std::map<int, callback> callbacks;     // [mutex]
    std::optional<asio::signal_set> set;  // [mutex] made by the first add

private:
    void arm_locked();
    void on_signal(std::error_code ec, int signum);
};

}  // namespace corio::detail
