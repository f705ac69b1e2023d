// blocking_rt: 10,000 sequential round trips to the blocking pool,
// co_await corio::to_thread(identity, i); metric us_per_op, checked by the
// sum of the results (WORKLOADS.md; Tokio's spawn_blocking).
#include <cstdint>

#include "workloads.hpp"

namespace corio_bench {

namespace {

constexpr std::int64_t round_trips = 10'000;

corio::task<std::int64_t> blocking_rt_root() {
    std::int64_t sum = 0;
    for (std::int64_t i = 0; i < round_trips; ++i) sum += co_await corio::to_thread([](std::int64_t x) { return x; }, i);
    co_return sum;
}

}  // namespace

double blocking_rt(corio::runtime& rt) {
    const double ms = time_root(rt, blocking_rt_root(), [](std::int64_t sum) {
        check(sum == round_trips * (round_trips - 1) / 2, "blocking_rt sum");
    });
    return ms * 1000.0 / static_cast<double>(round_trips);
}

}  // namespace corio_bench
