// The stall detector (Seastar's reactor stall detector): a watchdog thread
// per runtime that notices, while it happens, a worker that has not come
// back to its loop for longer than a threshold, and reports which task
// holds it. Workers pay one store and one CAS per outermost entry
// (entry_watch.hpp); the watchdog reads no clock on their behalf.
//
// The watchdog samples each worker's entry word every threshold / 4. A
// worker found inside the same entry as at an earlier sample has been in it
// at least since that sample; once that is the threshold or more, the stall
// is reported, once per entry, to the worker's loop's exception handler, on
// the watchdog thread. So a stall is reported between 1 and 1.5 thresholds
// after it began, and the time it reports is a lower bound.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace corio::detail {

struct scheduler;
struct loop_core;

class stall_detector {
public:
    /// Starts watching every loop of `sched` (whose stall_watched flags must
    /// already be set).
    stall_detector(scheduler& sched, std::chrono::nanoseconds threshold);
    /// Stops the watchdog thread and joins it.
    ~stall_detector();
    stall_detector(const stall_detector&) = delete;
    stall_detector& operator=(const stall_detector&) = delete;

private:
    /// What the watchdog last saw of one worker.
    struct sighting {
        std::uint64_t word = 0;  // entry_watch::sample()
        std::chrono::steady_clock::time_point first_seen{};
        bool reported = false;
    };

    void watch();
    void inspect(loop_core& loop, sighting& last, std::chrono::steady_clock::time_point now);

    scheduler& sched_;
    const std::chrono::nanoseconds threshold_;
    std::mutex mutex_;
    std::condition_variable stop_requested_;
    bool stopping_ = false;  // guarded by mutex_
    std::thread thread_;
};

}  // namespace corio::detail
