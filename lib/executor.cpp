// Executors' compiled side: thread_pool_executor over the blocking pool, and
// the default executor that the loops of one scheduler (a runtime, or a
// standalone loop) share, created on first use.
#include "corio/executor.hpp"

#include <stdexcept>
#include <utility>

#include "blocking_pool.hpp"
#include "context.hpp"
#include "loop_core.hpp"
#include "scheduler.hpp"

namespace corio {

thread_pool_executor::thread_pool_executor(std::size_t max_workers, std::chrono::steady_clock::duration keep_alive)
    : pool_(std::make_unique<detail::blocking_pool>(max_workers, keep_alive)) {}

thread_pool_executor::~thread_pool_executor() = default;  // ~blocking_pool shuts down (bounded)

void thread_pool_executor::submit(std::function<void()> job) { pool_->submit(std::move(job)); }

bool thread_pool_executor::shutdown(std::chrono::steady_clock::duration timeout) { return pool_->shutdown(timeout); }

std::size_t thread_pool_executor::threads() const { return pool_->threads(); }

blocking_pool_metrics thread_pool_executor::metrics() const { return pool_->metrics(); }

namespace detail {

loop_core* running_core_for_executor() {
    if (!tl_core) throw std::runtime_error("no running event loop");
    return tl_core;
}

std::shared_ptr<executor> default_executor_of(loop_core* loop) { return loop->sched.default_executor(); }

std::shared_ptr<executor> scheduler::default_executor() {
    std::lock_guard lock(executor_mutex);
    if (!executor_) {
        if (executor_shut_down_) throw std::runtime_error("executor is shut down");
        executor_ = std::make_shared<thread_pool_executor>(pool_max_threads, pool_keep_alive);
    }
    return executor_;
}

bool scheduler::shutdown_default_executor(std::chrono::steady_clock::duration timeout) {
    std::shared_ptr<executor> ex;
    {
        std::lock_guard lock(executor_mutex);
        executor_shut_down_ = true;
        ex = executor_;  // kept: later submits to it are refused with a clear error
    }
    // Outside the lock: the wait may be long, and jobs may call run_in_executor.
    return ex ? ex->shutdown(timeout) : true;
}

}  // namespace detail

void event_loop::set_default_executor(std::shared_ptr<executor> ex) {
    auto& s = core_->sched;
    {
        std::lock_guard lock(s.executor_mutex);
        std::swap(s.executor_, ex);
        s.executor_shut_down_ = false;
    }
    // `ex` now holds the old one: if this was its last owner, its destructor
    // drains it (bounded wait), outside the lock.
}

std::shared_ptr<executor> event_loop::default_executor() { return core_->sched.default_executor(); }

bool event_loop::shutdown_default_executor(std::chrono::steady_clock::duration timeout) {
    return core_->sched.shutdown_default_executor(timeout);
}

}  // namespace corio
