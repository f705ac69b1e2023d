// The multi-core runtime: builds N loops over one scheduler, runs each on
// its own thread, and shuts them down the asyncio way.
#include "corio/runtime.hpp"

#include <chrono>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <vector>

#include "context.hpp"
#include "loop_core.hpp"

namespace corio {

struct runtime::impl {
    explicit impl(std::size_t n) : sched(n, /*asyncio_order=*/false) {}

    detail::scheduler sched;
    std::vector<std::shared_ptr<event_loop>> loops;
    std::vector<std::thread> threads;
    bool stopped = false;
};

runtime::runtime(run_options options) {
    std::size_t n = options.workers ? options.workers : std::thread::hardware_concurrency();
    if (n == 0) n = 1;
    impl_ = std::make_unique<impl>(n);
    for (std::size_t i = 0; i < n; ++i) {
        auto core = std::make_unique<detail::loop_core>(impl_->sched, i);
        impl_->sched.loops.push_back(core.get());
        impl_->loops.push_back(std::make_shared<event_loop>(std::move(core)));
        impl_->loops.back()->set_debug(options.debug);
    }
    for (auto& l : impl_->loops) {
        impl_->threads.emplace_back([core = l->core()] {
            core->running.store(true, std::memory_order_release);
            core->run_loop();
            core->running.store(false, std::memory_order_release);
        });
    }
}

runtime::~runtime() { shutdown(); }

std::size_t runtime::workers() const noexcept { return impl_->loops.size(); }

event_loop& runtime::loop(std::size_t index) const { return *impl_->loops.at(index); }

void runtime::shutdown() {
    if (impl_->stopped) return;
    if (detail::tl_core && &detail::tl_core->sched == &impl_->sched)
        throw std::runtime_error("runtime::shutdown called from one of its own workers");
    // 1. Cancel what is left, once per task, until nothing is left.
    std::unordered_set<std::uint64_t> cancelled;  // by id: a freed header's address can be reused
    std::vector<detail::task_header*> live;
    for (;;) {
        live.clear();
        for (auto* core : impl_->sched.loops) core->collect_tasks(live);
        if (live.empty()) break;
        for (auto* t : live) {
            if (cancelled.insert(t->id).second) detail::request_cancel(t);
            t->release();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // 2. Stop and join the workers.
    impl_->sched.shutting_down.store(true, std::memory_order_release);
    impl_->sched.unpark_all();
    for (auto& th : impl_->threads) th.join();
    // 3. What queues still hold are tombstones and callbacks: give them back.
    for (detail::queue_entry e; (e = impl_->sched.injection.pop()) != 0;) detail::drop_entry(e);
    impl_->stopped = true;
}

}  // namespace corio
