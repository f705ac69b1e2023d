// event_loop's public API over loop_core: running a standalone loop,
// posting callbacks and timers, blocking a foreign thread until a result.
#include "corio/event_loop.hpp"

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <unordered_set>

#include "context.hpp"
#include "debug_mode.hpp"
#include "loop_core.hpp"
#include "signal_handlers.hpp"

namespace corio {

namespace detail {

void drop_entry(queue_entry e) noexcept {
    schedulable* s = entry_target(e);
    if (entry_is_initial(e)) drop_spawn_entry(static_cast<task_header*>(s));
    else if (s->run == &run_callback) static_cast<callback_node*>(s)->release();
}

void run_callback(schedulable* s, bool) noexcept {
    auto* node = static_cast<callback_node*>(s);
    if (!node->cancelled.load(std::memory_order_relaxed)) {
        // Callbacks run only from a loop's own queues and timers, never
        // nested in a task's poll: each is an outermost entry.
        loop_core* const loop = tl_core;
        const bool watched = loop->watches_entries();
        if (watched) loop->begin_watched_entry(nullptr);
        try {
            node->invoke(node);
        } catch (...) {
            // asyncio: an exception in a callback goes to the loop's handler; the loop keeps running.
            if (loop->owner) loop->owner->call_exception_handler({"Exception in callback", std::current_exception()});
        }
        if (watched) loop->end_watched_entry(nullptr);
    }
    node->release();
}

void post_callback(loop_core* loop, callback_node* node) noexcept {
    const queue_entry e = make_entry(node, false);
    if (tl_core == loop && loop->sched.asyncio_order) loop->push_local(e);  // FIFO with task steps
    else loop->push_inbox(e);  // only this loop may run it (a local entry could be stolen)
}

void add_timer(loop_core* loop, callback_node* node) { loop->add_timer(node); }

namespace {
/// A foreign thread blocked until a completion fires.
struct blocking_waiter : waiter_node {
    blocking_waiter() {
        fire = [](waiter_node* w) noexcept {
            auto* self = static_cast<blocking_waiter*>(w);
            // Notify under the mutex: the waiting thread cannot return (and
            // destroy *self) before we let go of it.
            std::lock_guard lock(self->mutex);
            self->done = true;
            self->cv.notify_one();
        };
    }
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
};

/// Drives a standalone loop until `c` is done or the loop is stopped.
void drive_until(loop_core* loop, completion& c) {
    struct stop_waiter : waiter_node {
        loop_core* loop;
    } w;
    w.loop = loop;
    w.fire = [](waiter_node* n) noexcept {
        auto* self = static_cast<stop_waiter*>(n);
        self->loop->stop_requested.store(true, std::memory_order_release);
        self->loop->wake_up();
    };
    if (!c.add_waiter(&w)) return;
    loop->running.store(true, std::memory_order_release);
    loop->run_loop();
    loop->stop_requested.store(false, std::memory_order_relaxed);
    loop->running.store(false, std::memory_order_release);
    c.remove_waiter(&w);
}
}  // namespace

namespace {
void throw_if_inside_a_loop() {
    if (tl_core) throw std::runtime_error("cannot block inside a running event loop; co_await instead");
}
}  // namespace

void block_until_done(completion& c) {
    throw_if_inside_a_loop();
    blocking_waiter w;
    if (!c.add_waiter(&w)) return;
    std::unique_lock lock(w.mutex);
    w.cv.wait(lock, [&] { return w.done; });
}

void check_can_run(loop_core* loop) {
    if (!loop->sched.asyncio_order) {
        throw_if_inside_a_loop();  // a runtime's loop: its worker drives it, the caller blocks
        return;
    }
    if (loop->closed.load()) throw std::runtime_error("Event loop is closed");
    if (loop->running.load()) throw std::runtime_error("This event loop is already running");
    if (tl_core) throw std::runtime_error("Cannot run the event loop while another loop is running");
}

void run_until_done(loop_core* loop, completion& c) {
    check_can_run(loop);
    if (!loop->sched.asyncio_order) {
        block_until_done(c);
        return;
    }
    drive_until(loop, c);
    if (!c.done()) throw std::runtime_error("Event loop stopped before the task or future completed");
}

void loop_core::cancel_and_drain_tasks() {
    // asyncio.run's _cancel_all_tasks: cancel each task once, then run the
    // loop until each has finished (a task may await during its cleanup).
    // Tasks that never started are completed as cancelled when their queue
    // entries are dropped (~loop_core).
    sched.cancelling_all.store(true, std::memory_order_relaxed);
    std::vector<task_header*> tasks;
    std::unordered_set<std::uint64_t> listed;  // by id: a task cancelled in several rounds is listed once
    for (int round = 0; round < 100 && !registry_empty(); ++round) {
        tasks.clear();
        collect_tasks(tasks);
        for (task_header* t : tasks) {
            if (listed.insert(t->id).second) report_pending_at_shutdown(*t);
            request_cancel(t);
        }
        for (task_header* t : tasks) {
            if (!t->done() && !running.load()) drive_until(this, *t);
            t->release();
        }
    }
    if (!registry_empty()) std::fputs("corio: tasks still pending at loop destruction ignored cancellation\n", stderr);
}

}  // namespace detail

void timer_handle::cancel() noexcept {
    if (node_) node_->cancelled.store(true, std::memory_order_relaxed);
}

event_loop::event_loop(std::unique_ptr<detail::loop_core> core)
    : core_(std::move(core)), signals_(std::make_unique<detail::signal_handlers>(*this)) {
    core_->owner = this;
    // asyncio: PYTHONASYNCIODEBUG sets the debug mode of loops created while it is set.
    if (detail::debug_from_environment()) set_debug(true);
}

event_loop::~event_loop() {
    if (core_->sched.asyncio_order && !core_->running.load()) core_->cancel_and_drain_tasks();
    // A standalone loop owns its scheduler, hence its default executor: the
    // tasks are gone, so running jobs only complete abandoned futures.
    if (core_->sched.asyncio_order) core_->sched.shutdown_default_executor(detail::executor_shutdown_timeout);
    set_debug(false);  // out of the process-wide count of loops in debug mode
}

void event_loop::run_forever() {
    auto* c = core();
    detail::check_can_run(c);
    if (!c->sched.asyncio_order) throw std::runtime_error("a runtime's loops are run by its workers");
    c->running.store(true, std::memory_order_release);
    c->run_loop();
    c->stop_requested.store(false, std::memory_order_relaxed);
    c->running.store(false, std::memory_order_release);
}

void event_loop::stop() {
    core_->stop_requested.store(true, std::memory_order_release);
    core_->wake_up();
}

void event_loop::close() {
    if (core_->running.load()) throw std::runtime_error("Cannot close a running event loop");
    core_->closed.store(true);
}

bool event_loop::is_running() const noexcept { return core_->running.load(std::memory_order_acquire); }
bool event_loop::is_closed() const noexcept { return core_->closed.load(std::memory_order_acquire); }

void event_loop::set_exception_handler(exception_handler handler) {
    std::lock_guard lock(core_->handler_mutex);
    core_->handler = std::move(handler);
}

void event_loop::call_exception_handler(const exception_context& context) {
    exception_handler handler;
    {
        std::lock_guard lock(core_->handler_mutex);
        handler = core_->handler;
    }
    if (!handler) {
        default_exception_handler(context);
        return;
    }
    try {
        handler(*this, context);
    } catch (...) {
        // asyncio: an error in the handler is reported by the default handler.
        default_exception_handler({"Unhandled error in exception handler", std::current_exception()});
    }
}

void event_loop::default_exception_handler(const exception_context& context) {
    std::string what;
    if (context.exception) {
        try {
            std::rethrow_exception(context.exception);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (const cancelled_error& e) {
            what = e.what();
        } catch (...) {
            what = "unknown exception";
        }
    }
    std::fprintf(stderr, "corio: %s%s%s\n", context.message.c_str(), what.empty() ? "" : ": ", what.c_str());
}

asio::io_context& event_loop::io_context() noexcept { return core_->io_reactor.io(); }

void event_loop::set_debug(bool enabled) noexcept {
    if (core_->debug.exchange(enabled) != enabled) detail::count_debug_loop(enabled);
    core_->watching_entries.store(enabled || core_->stall_watched, std::memory_order_relaxed);
}
bool event_loop::get_debug() const noexcept { return core_->debug.load(); }

void event_loop::set_slow_callback_duration(clock::duration d) noexcept {
    core_->slow_callback_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(),
                                  std::memory_order_relaxed);
}
clock::duration event_loop::slow_callback_duration() const noexcept {
    return std::chrono::duration_cast<clock::duration>(
        std::chrono::nanoseconds(core_->slow_callback_ns.load(std::memory_order_relaxed)));
}

std::shared_ptr<event_loop> new_event_loop() {
    auto sched = std::make_unique<detail::scheduler>(1, /*asyncio_order=*/true);
    detail::scheduler& s = *sched;
    auto core = std::make_unique<detail::loop_core>(s, 0, std::move(sched));
    s.loops.push_back(core.get());
    return std::make_shared<event_loop>(std::move(core));
}

}  // namespace corio
