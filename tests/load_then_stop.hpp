// Stress helper for "stop a server while it is busy" tests: start many
// client tasks, wait until they have done enough work between them, stop
// the server, then collect how each client fared.
//
//   corio_test::progress progress(1000);
//   std::vector<Fate> fates = co_await corio_test::load_then_stop<Fate>(
//       100, progress, [&](int c) { return client(port, c, progress); },
//       [&]() -> corio::task<void> { co_await runner.cleanup(); });
#pragma once

#include <atomic>
#include <vector>

#include "corio/create_task.hpp"
#include "corio/event.hpp"
#include "corio/task.hpp"
#include "corio/task_handle.hpp"

namespace corio_test {

/// Work done by all clients together; `reached` is set at the threshold.
struct progress {
    explicit progress(int threshold) : threshold(threshold) {}

    /// One more unit of work, from any worker.
    void count() {
        if (done.fetch_add(1) + 1 == threshold) reached.set();
    }

    const int threshold;
    std::atomic<int> done{0};
    corio::event reached;
};

template <class Fate, class MakeClient, class Stop>
corio::task<std::vector<Fate>> load_then_stop(int clients, progress& p, MakeClient make_client, Stop stop) {
    std::vector<corio::task_handle<Fate>> running;
    for (int c = 0; c < clients; ++c) running.push_back(corio::create_task(make_client(c)));
    co_await p.reached.wait();
    co_await stop();
    std::vector<Fate> fates;
    for (auto& h : running) fates.push_back(co_await std::move(h));
    co_return fates;
}

}  // namespace corio_test
