// tbb_executor: jobs run inside a tbb::task_arena, so a blocking function
// that uses oneTBB's parallel algorithms (parallel_for, parallel_reduce)
// is awaited from a coroutine while the loop workers keep running.
#include <oneapi/tbb/task_arena.h>

#include <condition_variable>
#include <mutex>
#include <stdexcept>

#include "corio/executor.hpp"

namespace corio {

struct tbb_executor::impl {
    explicit impl(int max_concurrency)
        // No slot reserved for a master thread: nobody calls execute(); all
        // jobs arrive through enqueue() from the loops.
        : arena(max_concurrency, 0) {}

    tbb::task_arena arena;
    std::mutex mutex;
    std::condition_variable idle;
    std::size_t in_flight = 0;  // enqueued, not finished; guarded by mutex
    bool shut_down = false;     // guarded by mutex
};

tbb_executor::tbb_executor(int max_concurrency)
    : impl_(std::make_unique<impl>(max_concurrency > 0 ? max_concurrency : int{tbb::task_arena::automatic})) {}

tbb_executor::~tbb_executor() { shutdown(std::chrono::seconds(300)); }

void tbb_executor::submit(std::function<void()> job) {
    {
        std::lock_guard lock(impl_->mutex);
        if (impl_->shut_down) throw std::runtime_error("executor is shut down");
        ++impl_->in_flight;
    }
    impl_->arena.enqueue([this, job = std::move(job)] {
        job();  // executor jobs report their own exceptions (executor_job::run is noexcept)
        std::lock_guard lock(impl_->mutex);
        if (--impl_->in_flight == 0) impl_->idle.notify_all();
    });
}

bool tbb_executor::shutdown(std::chrono::steady_clock::duration timeout) {
    std::unique_lock lock(impl_->mutex);
    impl_->shut_down = true;
    return impl_->idle.wait_for(lock, timeout, [&] { return impl_->in_flight == 0; });
}

}  // namespace corio
