// Which job queue for the blocking pool (issue 4): a mutex + condition
// variable + deque (what lib/blocking_pool.cpp uses, sharing that mutex with
// its idle-thread accounting) against oneTBB's concurrent_bounded_queue.
// The measure is what run_in_executor pays: a job handed to a waiting
// thread and its answer handed back, one round trip per iteration.
#include <benchmark/benchmark.h>
#include <oneapi/tbb/concurrent_queue.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace {

/// The pool's scheme, reduced to the queue: a deque under a mutex, waiters
/// on a condition variable.
class mutex_queue {
public:
    void push(int v) {
        {
            std::lock_guard lock(mutex_);
            items_.push_back(v);
        }
        cv_.notify_one();
    }
    int pop() {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return !items_.empty(); });
        const int v = items_.front();
        items_.pop_front();
        return v;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<int> items_;
};

template <class Queue>
void round_trips(benchmark::State& state) {
    Queue to_worker, to_caller;
    std::thread worker([&] {
        for (;;) {
            int v = 0;
            if constexpr (requires { to_worker.pop(); }) v = to_worker.pop();
            else to_worker.pop(v);
            if (v < 0) return;
            to_caller.push(v + 1);
        }
    });
    long long sum = 0;
    int i = 0;
    for (auto _ : state) {
        to_worker.push(i);
        int back = 0;
        if constexpr (requires { to_caller.pop(); }) back = to_caller.pop();
        else to_caller.pop(back);
        sum += back - i;
        ++i;
    }
    to_worker.push(-1);
    worker.join();
    if (sum != i) state.SkipWithError("a job's answer was wrong");
    state.SetItemsProcessed(state.iterations());
}

void BM_job_round_trip_mutex_cv(benchmark::State& state) { round_trips<mutex_queue>(state); }
void BM_job_round_trip_tbb_bounded_queue(benchmark::State& state) {
    round_trips<tbb::concurrent_bounded_queue<int>>(state);
}

}  // namespace

BENCHMARK(BM_job_round_trip_mutex_cv)->UseRealTime();
BENCHMARK(BM_job_round_trip_tbb_bounded_queue)->UseRealTime();
