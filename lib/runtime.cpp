// The multi-core runtime: builds N loops over one scheduler, runs each on
// its own thread, and shuts them down the asyncio way.
#include "corio/runtime.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_set>
#include <vector>

#include "context.hpp"
#include "debug_mode.hpp"
#include "loop_core.hpp"
#include "stall_detector.hpp"
#include "trace_session.hpp"

namespace corio {

namespace {
/// run_options::stall_threshold, else CORIO_STALL_MS, else the debug-mode
/// default when debug mode is on; zero: no stall detector.
std::chrono::nanoseconds stall_threshold(const run_options& options, bool debug) {
    if (options.stall_threshold > std::chrono::steady_clock::duration::zero()) return options.stall_threshold;
    if (const auto from_environment = detail::stall_threshold_from_environment()) return *from_environment;
    return debug ? std::chrono::nanoseconds(detail::debug_stall_threshold) : std::chrono::nanoseconds::zero();
}
}  // namespace

struct runtime::impl {
    explicit impl(std::size_t n) : sched(n, /*asyncio_order=*/false) {}

    detail::scheduler sched;
    /// Null unless tracing. Declared before the loops, which point into it.
    std::unique_ptr<detail::trace_session> trace;
    std::vector<std::shared_ptr<event_loop>> loops;
    std::vector<std::thread> threads;
    /// Declared after sched and loops: it watches them (null: off).
    std::unique_ptr<detail::stall_detector> stall_watchdog;
    bool stopped = false;

    /// Makes every worker leave its run loop and joins it.
    void stop_workers() {
        sched.shutting_down.store(true, std::memory_order_release);
        sched.unpark_all();
        for (auto& th : threads) th.join();
        threads.clear();
    }
};

runtime::runtime(run_options options) {
    std::size_t n = options.workers ? options.workers : std::thread::hardware_concurrency();
    if (n == 0) n = 1;
    // A task names the loop whose registry holds it in 16 bits (task_header).
    if (n > max_workers)
        throw std::invalid_argument("run_options::workers: " + std::to_string(n) + " is more than the " +
                                    std::to_string(max_workers) + " workers a runtime can have");
    impl_ = std::make_unique<impl>(n);
    if (std::string path = detail::trace_path(options.trace); !path.empty())
        impl_->trace = std::make_unique<detail::trace_session>(std::move(path), n);
    for (std::size_t i = 0; i < n; ++i) {
        auto core = std::make_unique<detail::loop_core>(impl_->sched, i);
        if (impl_->trace) core->trace = impl_->trace->buffer(i);
        impl_->sched.loops.push_back(core.get());
        impl_->loops.push_back(std::make_shared<event_loop>(std::move(core)));
        event_loop& l = *impl_->loops.back();
        if (options.debug) l.set_debug(true);  // (CORIO_DEBUG may have set it already)
        l.set_slow_callback_duration(options.slow_callback_duration);
    }
    const auto threshold = stall_threshold(options, impl_->loops.front()->get_debug());
    if (threshold > std::chrono::nanoseconds::zero()) {
        for (auto* core : impl_->sched.loops) {
            core->stall_watched = true;
            core->watching_entries.store(true, std::memory_order_relaxed);
        }
        impl_->stall_watchdog = std::make_unique<detail::stall_detector>(impl_->sched, threshold);
    }
    impl_->sched.pool_max_threads = options.blocking_pool_max_threads;
    impl_->sched.pool_keep_alive = options.blocking_pool_keep_alive;
    try {
        for (auto& l : impl_->loops) {
            impl_->threads.emplace_back([core = l->core()] {
                core->running.store(true, std::memory_order_release);
                core->run_loop();
                core->running.store(false, std::memory_order_release);
            });
        }
    } catch (const std::system_error& e) {
        // The system gave fewer threads than asked for (a process or thread
        // limit): the workers already running must be stopped and joined
        // before the runtime unwinds, or their std::thread would terminate.
        const std::size_t started = impl_->threads.size();
        impl_->stop_workers();
        throw std::system_error(e.code(), "corio::runtime: could not start worker " + std::to_string(started + 1) +
                                              " of " + std::to_string(n));
    }
}

runtime::~runtime() { shutdown(); }

std::size_t runtime::workers() const noexcept { return impl_->loops.size(); }

event_loop& runtime::loop(std::size_t index) const { return *impl_->loops.at(index); }

runtime_metrics runtime::metrics() const { return detail::collect_metrics(impl_->sched); }

void runtime::shutdown() {
    if (impl_->stopped) return;
    if (detail::tl_core && &detail::tl_core->sched == &impl_->sched)
        throw std::runtime_error("runtime::shutdown called from one of its own workers");
    // 1. From now on a task's first poll cancels it before its body runs.
    impl_->sched.cancelling_all.store(true, std::memory_order_release);
    // 2. Cancel every registered (suspended at least once) task, once each,
    //    until none is left; close each loop's registry as soon as it is
    //    empty, after which a task that tries to suspend is cancelled instead
    //    and so finishes without suspending (nothing can be left behind).
    std::unordered_set<std::uint64_t> cancelled;  // by id: a freed header's address can be reused
    std::vector<detail::task_header*> live;
    for (;;) {
        bool all_closed = true;
        for (auto* core : impl_->sched.loops) all_closed = core->try_close_registry() && all_closed;
        if (all_closed) break;
        live.clear();
        for (auto* core : impl_->sched.loops) core->collect_tasks(live);
        for (auto* t : live) {
            if (cancelled.insert(t->id).second) {
                detail::report_pending_at_shutdown(*t);
                detail::request_cancel(t);
            }
            t->release();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // 3. Shut the default executor down (bounded): every task is done, so a
    //    job still running only completes a future nobody awaits.
    impl_->sched.shutdown_default_executor(detail::executor_shutdown_timeout);
    // 4. Stop and join the workers; entries still queued are dropped below
    //    (a spawn entry of a task that never ran completes it as cancelled).
    impl_->stop_workers();
    if (impl_->trace) impl_->trace->write();  // after the join: the buffers' writers are done
    impl_->stall_watchdog.reset();  // kept until here: a stuck cancellation is a stall too
    // 5. Drop what the injection queue still holds (the loops drop their own).
    for (detail::queue_entry e; (e = impl_->sched.injection.pop()) != 0;) detail::drop_entry(e);
    impl_->stopped = true;
}

}  // namespace corio
