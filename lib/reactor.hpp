// One loop's IO reactor and its sleep: an asio::io_context (epoll) that the
// loop polls between task batches and blocks in when it has nothing to run,
// so a parked loop wakes on IO, on its next timer deadline, or on unpark()
// from another thread (Tokio's driver-as-parker).
//
// Wake-ups: an unpark that comes before park is not lost: it leaves the
// state `notified` and the next park returns at once. Only an unpark that
// finds the loop actually parked pays a syscall (io_context::stop, which
// interrupts epoll_wait with one write to the reactor's interrupter).
//
// Asio stays out of this header: every lib/ file includes it through
// loop_core.hpp, and only the IO parts need Asio's declarations.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>

namespace asio {
class io_context;
}

namespace corio::detail {

class reactor {
public:
    using time_point = std::chrono::steady_clock::time_point;

    reactor();
    ~reactor();
    reactor(const reactor&) = delete;
    reactor& operator=(const reactor&) = delete;

    asio::io_context& io() const noexcept { return *io_; }

    /// Runs the IO completion handlers that are ready, without blocking.
    /// Driving thread only. An exception out of a handler (or out of Asio
    /// completing an operation) comes out of here and of park(); the
    /// remaining handlers run on the next call (Asio's rule).
    void poll();
    /// What ended a park.
    enum class park_end {
        unparked,  ///< an unpark() ended (or pre-empted) it: the metrics' wake-ups
        io,        ///< an IO completion, whose handler ran (it may have queued work here)
        deadline,  ///< the deadline passed and nothing else happened
    };
    /// Sleeps in the reactor until unpark(), an IO completion (whose handler
    /// it runs) or `deadline` (time_point::max(): none). Driving thread only.
    park_end park(time_point deadline);
    /// Any thread.
    void unpark();

private:
    struct io_holder;
    std::unique_ptr<io_holder> holder_;  // the io_context and a work guard that keeps run_one blocking
    asio::io_context* io_;
    /// waking: an unparker found the loop parked and is inside stop().
    static constexpr int empty = 0, parked = 1, notified = 2, waking = 3;
    std::atomic<int> state_{empty};
};

}  // namespace corio::detail
