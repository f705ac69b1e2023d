// ping_pong: 1,000 pairs of tasks; each pair passes a token back and forth
// 1,000 times through two corio::queue<T>(1), the single-slot channels of
// WORKLOADS.md (Tokio's mpsc::channel(1), asyncio's Queue(maxsize=1)),
// 2,000,000 wake-ups in all. The pinger returns the final token.
#include <cstdint>
#include <memory>
#include <vector>

#include "corio/queue.hpp"
#include "workloads.hpp"

namespace corio_bench {

namespace {

constexpr std::size_t pairs = 1'000;
constexpr std::uint32_t rounds = 1'000;

struct pair_channels {
    corio::queue<std::uint32_t> to_pong{1};
    corio::queue<std::uint32_t> to_ping{1};
};

corio::task<std::uint32_t> pinger(pair_channels& ch) {
    std::uint32_t token = 0;
    for (std::uint32_t i = 0; i < rounds; ++i) {
        co_await ch.to_pong.put(token);
        token = co_await ch.to_ping.get();
    }
    co_return token;
}

corio::task<void> ponger(pair_channels& ch) {
    for (std::uint32_t i = 0; i < rounds; ++i) {
        const std::uint32_t v = co_await ch.to_pong.get();
        co_await ch.to_ping.put(v + 1);
    }
}

corio::task<std::uint64_t> ping_pong_root() {
    // The channels outlive both tasks of each pair: the root awaits them all.
    std::vector<std::unique_ptr<pair_channels>> channels;
    std::vector<corio::task_handle<void>> pongers;
    std::vector<corio::task_handle<std::uint32_t>> pingers;
    channels.reserve(pairs);
    pongers.reserve(pairs);
    pingers.reserve(pairs);
    for (std::size_t i = 0; i < pairs; ++i) {
        channels.push_back(std::make_unique<pair_channels>());
        pongers.push_back(corio::create_task(ponger(*channels.back())));
        pingers.push_back(corio::create_task(pinger(*channels.back())));
    }
    std::uint64_t finished = 0;
    for (auto& p : pingers) finished += (co_await std::move(p)) == rounds;
    for (auto& p : pongers) co_await std::move(p);
    co_return finished;
}

}  // namespace

double ping_pong(corio::runtime& rt) {
    return time_root(rt, ping_pong_root(), [](std::uint64_t finished) { check(finished == pairs, "ping_pong token"); });
}

}  // namespace corio_bench
