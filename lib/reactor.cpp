// reactor: parking a loop inside its io_context. See reactor.hpp.
#include "reactor.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <exception>
#include <thread>

#include "corio/detail/dropped_handlers.hpp"

namespace corio::detail {

struct reactor::io_holder {
    // One thread drives a loop at a time: tell Asio so it skips the
    // locking a multi-threaded io_context needs.
    asio::io_context io{1};
    // Without outstanding work, run_one() returns at once instead of
    // blocking; the guard is that work for the loop's lifetime.
    asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
    // Asio creates its epoll reactor with the first IO object. Until then a
    // parked loop would sleep on the scheduler's condition variable, and
    // waking it would cost futex calls on both sides; with the reactor in
    // place from the start, a parked loop always sleeps in epoll_wait and
    // stop() wakes it with one epoll_ctl on the interrupter.
    asio::steady_timer reactor_from_the_start{io};
};

reactor::reactor() : holder_(std::make_unique<io_holder>()), io_(&holder_->io) {}

reactor::~reactor() {
    // Pending operations' handlers are destroyed, not run (Asio's rule),
    // and must wake nothing: the loop's tasks are finished before its
    // reactor goes.
    const dropped_handler_scope teardown_wakes_nobody(false);
    holder_->guard.reset();
    holder_.reset();
}

void reactor::poll() {
    if (io_->stopped()) io_->restart();  // a late stop() from an unpark
    io_->poll();
}

reactor::park_end reactor::park(time_point deadline) {
    int expected = notified;
    // acquire: pairs with the release in unpark(), so the work published
    // before the unpark is visible after we return.
    if (state_.compare_exchange_strong(expected, empty, std::memory_order_acquire)) return park_end::unparked;
    // Restart before announcing `parked`: an unparker that sees `parked`
    // calls stop() after this point, so its stop cannot be erased by the
    // restart and run_one cannot block through it. A stop() left over from
    // an earlier unpark can only make run_one return early.
    if (io_->stopped()) io_->restart();
    expected = empty;
    if (!state_.compare_exchange_strong(expected, parked, std::memory_order_acq_rel)) {
        state_.store(empty, std::memory_order_relaxed);  // notified meanwhile
        return park_end::unparked;
    }
    std::size_t handlers_run = 0;
    std::exception_ptr failure;
    try {
        handlers_run = deadline == time_point::max() ? io_->run_one() : io_->run_one_until(deadline);
    } catch (...) {
        failure = std::current_exception();  // passed on once this park has ended
        handlers_run = 1;
    }
    // Leave only once no unparker is inside stop(): the loop may be
    // destroyed as soon as we return, and the unparker (a blocking-pool
    // thread, say) holds no reference to it.
    bool woken = false;
    for (int s = state_.load(std::memory_order_acquire);;) {
        woken = s != parked;  // waking or notified: an unparker came
        if (s == waking) {
            std::this_thread::yield();
            s = state_.load(std::memory_order_acquire);
        } else if (state_.compare_exchange_weak(s, empty, std::memory_order_acquire)) {
            if (failure) std::rethrow_exception(failure);
            if (woken) return park_end::unparked;
            return handlers_run != 0 ? park_end::io : park_end::deadline;
        }
    }
}

void reactor::unpark() {
    // Every path ends in a read-modify-write with release semantics, even
    // when a wake-up is already on its way: RMWs continue a release
    // sequence, so the parker's acquire on leaving park() also synchronises
    // with this unparker and sees the work it published before calling us.
    for (int s = state_.load(std::memory_order_relaxed);;) {
        if (s == parked) {
            if (!state_.compare_exchange_weak(s, waking, std::memory_order_acq_rel)) continue;
            io_->stop();
            state_.exchange(notified, std::memory_order_acq_rel);
            return;
        }
        const int next = s == waking ? waking : notified;  // waking: the waker stores `notified` last
        if (state_.compare_exchange_weak(s, next, std::memory_order_acq_rel)) return;
    }
}

}  // namespace corio::detail
