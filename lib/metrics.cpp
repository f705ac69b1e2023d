// Metrics snapshots: reads every loop's single-writer counters
// (worker_metrics.hpp) and the scheduler's shared state, from any thread.
// Nothing here is on a hot path; the cost is all on the reader.
#include "corio/metrics.hpp"

#include <mutex>

#include "corio/event_loop.hpp"
#include "corio/executor.hpp"
#include "loop_core.hpp"
#include "scheduler.hpp"
#include "socket_census.hpp"

namespace corio {

namespace detail {

worker_metrics loop_core::read_metrics() const noexcept {
    const worker_counters& c = counters;
    worker_metrics m;
    m.polls = c.polls.read();
    m.spawned = c.spawned.read();
    m.completed = c.completed.read();
    m.from_local = c.from_local.read();
    m.from_lifo = c.from_lifo.read();
    m.from_inbox = c.from_inbox.read();
    m.from_injection = c.from_injection.read();
    m.stolen = c.stolen.read();
    m.steal_attempts = c.steal_attempts.read();
    m.steal_successes = c.steal_successes.read();
    m.parks = c.parks.read();
    m.unparks = c.unparks.read();
    m.overflows = c.overflows.read();
    // Add the stretch in progress; the owner may close it between our loads,
    // which at worst counts part of it twice or not at all in this snapshot.
    const std::uint64_t now = worker_counters::now_ns();
    std::uint64_t busy = c.busy_ns.read(), parked = c.parked_ns.read();
    if (const std::uint64_t since = c.busy_since_ns.read(); since && since < now) busy += now - since;
    if (const std::uint64_t since = c.parked_since_ns.read(); since && since < now) parked += now - since;
    m.busy = std::chrono::nanoseconds(busy);
    m.parked = std::chrono::nanoseconds(parked);
    m.local_queue_depth = static_cast<std::size_t>(local_.size()) + (lifo_slot_.load(std::memory_order_relaxed) ? 1 : 0) +
                          pinned_.depth() + overflow_.depth();
    m.open_sockets = socket_census::count(io_reactor.io());
    return m;
}

runtime_metrics collect_metrics(scheduler& s) {
    runtime_metrics r;
    r.workers.reserve(s.loops.size());
    std::uint64_t spawned = s.spawned_elsewhere.load(std::memory_order_relaxed), completed = 0;
    for (const loop_core* l : s.loops) {
        r.workers.push_back(l->read_metrics());
        spawned += r.workers.back().spawned;
        completed += r.workers.back().completed;
        r.open_sockets += r.workers.back().open_sockets;
    }
    r.spawned_total = spawned;
    r.live_tasks = spawned > completed ? spawned - completed : 0;
    r.injection_queue_depth = s.injection.size();
    // The default executor, if it was ever made and is corio's pool. Read
    // under the lock rather than through a copied shared_ptr: a copy could
    // make this reader the last owner, and ~executor waits for its jobs.
    std::lock_guard lock(s.executor_mutex);
    if (const auto* pool = dynamic_cast<const thread_pool_executor*>(s.executor_.get())) r.blocking_pool = pool->metrics();
    return r;
}

}  // namespace detail

runtime_metrics event_loop::metrics() const { return detail::collect_metrics(core_->sched); }

}  // namespace corio
