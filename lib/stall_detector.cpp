// The watchdog thread of the stall detector (stall_detector.hpp).
#include "stall_detector.hpp"

#include <string>

#include "corio/event_loop.hpp"
#include "debug_mode.hpp"
#include "loop_core.hpp"
#include "scheduler.hpp"

namespace corio::detail {

stall_detector::stall_detector(scheduler& sched, std::chrono::nanoseconds threshold)
    : sched_(sched), threshold_(threshold), thread_([this] { watch(); }) {}

stall_detector::~stall_detector() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    stop_requested_.notify_one();
    thread_.join();
}

void stall_detector::watch() {
    // A quarter of the threshold: a stall is seen within a quarter after it
    // began and reported within another quarter after it crossed the threshold.
    const auto period = threshold_ / 4;
    std::vector<sighting> last(sched_.loops.size());
    std::unique_lock lock(mutex_);
    while (!stop_requested_.wait_for(lock, period, [this] { return stopping_; })) {
        lock.unlock();
        const auto now = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < last.size(); ++i) inspect(*sched_.loops[i], last[i], now);
        lock.lock();
    }
}

void stall_detector::inspect(loop_core& loop, sighting& last, std::chrono::steady_clock::time_point now) {
    const std::uint64_t word = loop.current_entry.sample();
    if (word != last.word || !entry_watch::is_inside(word)) {
        last = {word, now, false};
        return;
    }
    const auto so_far = now - last.first_seen;
    if (last.reported || so_far < threshold_) return;
    last.reported = true;
    std::string holder = "a callback";
    if (!loop.current_entry.try_pin(word)) return;  // the entry ended since the sample
    try {
        if (task_header* t = loop.current_entry.pinned_task()) holder = "Task '" + task_name(*t) + "'";
    } catch (...) {
        // Out of memory for the name: the report still says that a task holds the worker.
        holder = "a task";
    }
    loop.current_entry.unpin(word);
    try {
        std::string message = "Stall: worker " + std::to_string(loop.index) + " has been running " + holder;
        message += " for at least " + format_seconds(so_far) + " seconds without returning to its loop";
        message += " (stall threshold " + format_seconds(threshold_) + " seconds)";
        loop.owner->call_exception_handler({std::move(message), nullptr});
    } catch (...) {
        // Out of memory while reporting: the watchdog keeps watching.
    }
}

}  // namespace corio::detail
