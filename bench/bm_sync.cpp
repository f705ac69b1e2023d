// Micro-costs of corio::lock and corio::queue: uncontended on one standalone
// loop, contended on a 2-worker runtime. bench/tokio_sync runs the same
// shapes on tokio::sync::Mutex and mpsc, and bench/sync_vs_tokio.sh puts the
// two side by side, so a case here and its twin there must keep one shape
// (batch size, task count, capacities, what is checked).
//
// Every case reports per_op (one acquire+release, one put+get pair, one
// round trip, one item) in wall time, as the Tokio twin measures it, plus
// two counters that the script prints: `workers` (1: the standalone loop)
// and `value`, the answer each batch is checked against.
#include <corio/corio.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "bm_common.hpp"

namespace {

using corio_bench::ops_per_batch;

/// Operations per batch of the contended cases: larger than ops_per_batch
/// so that spawning and joining the batch's tasks (a few µs) stays under 1%
/// of its time.
constexpr std::int64_t contended_ops = 10'000;

/// The contended cases' runtime: two workers, as many as the development
/// machine has cores, and as the Tokio twin's worker_threads.
constexpr std::size_t contended_workers = 2;

/// The counters that sync_vs_tokio.sh reads besides per_op.
void report_shape(benchmark::State& state, std::size_t workers, std::int64_t value) {
    state.counters["workers"] = static_cast<double>(workers);
    state.counters["value"] = static_cast<double>(value);
}

/// The runtime twin of corio_bench::run_batches_on_loop: one runtime for the
/// whole benchmark, one batch of `ops` operations per iteration, its answer
/// checked against `expected`. The calling thread only blocks, so the time
/// must be real time (UseRealTime()).
template <class MakeBatch>
void run_batches_on_runtime(benchmark::State& state, MakeBatch make_batch, std::int64_t ops, std::int64_t expected,
                            const char* error) {
    corio::runtime rt({.workers = contended_workers});
    for (auto _ : state) {
        if (rt.run_until_complete(make_batch()) != expected) {
            state.SkipWithError(error);
            break;
        }
    }
    corio_bench::report_per_op(state, ops);
    report_shape(state, contended_workers, expected);
}

// ---- lock ---------------------------------------------------------------

/// What the lock guards in every lock case: a plain counter, so a lost
/// mutual exclusion shows as a wrong count.
struct guarded_counter {
    corio::lock lock;
    std::int64_t value = 0;
};

corio::task<> increment(guarded_counter& c, std::int64_t times) {
    for (std::int64_t i = 0; i < times; ++i) {
        co_await c.lock.acquire();
        ++c.value;
        c.lock.release();
    }
}

/// One task, never a waiter: acquire and release each take the lock's
/// spinlock once and never suspend (but for the coop budget's yield).
corio::task<std::int64_t> lock_uncontended_batch() {
    guarded_counter c;
    co_await increment(c, ops_per_batch);
    co_return c.value;
}

void BM_lock_uncontended(benchmark::State& state) {
    corio_bench::run_batches_on_loop(state, lock_uncontended_batch, ops_per_batch, "wrong count");
    report_shape(state, 1, ops_per_batch);
}
BENCHMARK(BM_lock_uncontended)->UseRealTime();

/// `tasks` tasks share contended_ops acquisitions. Once a second task waits,
/// every release hands the lock to the oldest waiter (FIFO, no barging), so
/// most acquisitions are a suspension plus a wake-up on some worker.
corio::task<std::int64_t> lock_contended_batch(std::int64_t tasks) {
    guarded_counter c;
    std::vector<corio::task_handle<>> handles;
    handles.reserve(static_cast<std::size_t>(tasks));
    for (std::int64_t t = 0; t < tasks; ++t) {
        corio::task_handle<> h = corio::create_task(increment(c, contended_ops / tasks));
        handles.push_back(std::move(h));
    }
    for (auto& h : handles) co_await h;
    co_return c.value;
}

void BM_lock_contended_handoff(benchmark::State& state) {
    const std::int64_t tasks = state.range(0);
    run_batches_on_runtime(
        state, [tasks] { return lock_contended_batch(tasks); }, contended_ops, contended_ops, "wrong count");
}
BENCHMARK(BM_lock_contended_handoff)->ArgName("tasks")->Arg(2)->Arg(8)->UseRealTime();

// ---- queue: one task ------------------------------------------------------

/// Bounded like the Tokio twin's channel(1024); only one item is ever in it.
constexpr std::ptrdiff_t uncontended_capacity = 1024;

using put_get_batch = corio::task<std::int64_t> (*)(corio::queue<std::int64_t>&);

/// One queue for the whole benchmark, as one loop is: a batch finds it empty.
void run_put_get_batches(benchmark::State& state, put_get_batch batch) {
    corio::queue<std::int64_t> q(uncontended_capacity);
    const std::int64_t expected = corio_bench::sum_below(ops_per_batch);
    corio_bench::run_batches_on_loop(state, [&q, batch] { return batch(q); }, expected, "wrong sum");
    report_shape(state, 1, expected);
}

corio::task<std::int64_t> put_get_nowait_batch(corio::queue<std::int64_t>& q) {
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < ops_per_batch; ++i) {
        q.put_nowait(i);
        sum += q.get_nowait();
    }
    co_return sum;
}

void BM_queue_put_get_uncontended_nowait(benchmark::State& state) { run_put_get_batches(state, put_get_nowait_batch); }
BENCHMARK(BM_queue_put_get_uncontended_nowait)->UseRealTime();

/// The awaited forms never suspend here (the put finds room, the get an
/// item): this is the awaiter overhead over the nowait pair.
corio::task<std::int64_t> put_get_await_batch(corio::queue<std::int64_t>& q) {
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < ops_per_batch; ++i) {
        co_await q.put(i);
        sum += co_await q.get();
    }
    co_return sum;
}

void BM_queue_put_get_uncontended_await(benchmark::State& state) { run_put_get_batches(state, put_get_await_batch); }
BENCHMARK(BM_queue_put_get_uncontended_await)->UseRealTime();

// ---- queue: two tasks on two workers ----------------------------------------

/// Two single-slot queues (Tokio's mpsc::channel(1)): each round trip is two
/// hand-overs, each waking the other task.
struct ping_pong_channels {
    corio::queue<std::int64_t> to_pong{1};
    corio::queue<std::int64_t> to_ping{1};
};

corio::task<> ponger(ping_pong_channels& ch, std::int64_t rounds) {
    for (std::int64_t i = 0; i < rounds; ++i) {
        const std::int64_t v = co_await ch.to_pong.get();
        co_await ch.to_ping.put(v + 1);
    }
}

/// The batch's own task is the pinger; the token comes back incremented
/// once per round trip.
corio::task<std::int64_t> ping_pong_batch() {
    ping_pong_channels ch;
    corio::task_handle<> pong = corio::create_task(ponger(ch, contended_ops));
    std::int64_t token = 0;
    for (std::int64_t i = 0; i < contended_ops; ++i) {
        co_await ch.to_pong.put(token);
        token = co_await ch.to_ping.get();
    }
    co_await pong;  // before `ch` goes away with this frame
    co_return token;
}

void BM_queue_ping_pong(benchmark::State& state) {
    run_batches_on_runtime(state, ping_pong_batch, contended_ops, contended_ops, "wrong token");
}
BENCHMARK(BM_queue_ping_pong)->UseRealTime();

/// Room for 1024 items (Tokio's channel(1024)): the producer runs ahead
/// until the queue is full, so items move in bursts, not one wake-up each.
constexpr std::ptrdiff_t spsc_capacity = 1024;

corio::task<> produce(corio::queue<std::int64_t>& q, std::int64_t items) {
    for (std::int64_t i = 0; i < items; ++i) co_await q.put(i);
}

/// The batch's own task is the consumer.
corio::task<std::int64_t> spsc_batch() {
    corio::queue<std::int64_t> q(spsc_capacity);
    corio::task_handle<> producer = corio::create_task(produce(q, contended_ops));
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < contended_ops; ++i) sum += co_await q.get();
    co_await producer;  // before `q` goes away with this frame
    co_return sum;
}

void BM_queue_spsc_throughput(benchmark::State& state) {
    run_batches_on_runtime(state, spsc_batch, contended_ops, corio_bench::sum_below(contended_ops), "wrong sum");
}
BENCHMARK(BM_queue_spsc_throughput)->UseRealTime();

}  // namespace
