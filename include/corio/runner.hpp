// corio::runner: asyncio 3.11's Runner, the explicit form of corio::run.
// Several run() calls share one runtime (or one loop); close() (or the
// destructor) cancels what is left and shuts down. With a loop_factory it
// drives that loop on the calling thread instead of a multi-worker runtime.
#pragma once

#include <functional>
#include <stdexcept>
#include <memory>
#include <utility>

#include "corio/event_loop.hpp"
#include "corio/runtime.hpp"
#include "corio/task.hpp"

namespace corio {

class runner {
public:
    using loop_factory = std::function<std::shared_ptr<event_loop>()>;

    explicit runner(run_options options = {}) : runtime_(std::make_unique<runtime>(options)) {}
    explicit runner(loop_factory factory) : loop_(factory()) {
        if (!loop_) throw std::invalid_argument("runner: loop_factory returned no loop");
    }
    ~runner() { close(); }
    runner(const runner&) = delete;
    runner& operator=(const runner&) = delete;

    /// Runs `main` to completion and returns its value (or rethrows). A
    /// SIGINT cancels it, and run then throws keyboard_interrupt (see runtime.hpp).
    template <class T>
    T run(task<T> main) {
        if (!runtime_ && !loop_) throw std::runtime_error("runner is closed");
        if (runtime_) return runtime_->run_until_complete(std::move(main));
        detail::check_can_run(loop_->core());  // refuse before spawning, as run_until_complete does
        detail::interrupt_guard sigint(*loop_);
        task_handle<T> h = loop_->create_task(std::move(main));
        sigint.watch(h);
        detail::run_until_done(loop_->core(), *h.header());
        return detail::take_main_result(sigint, h);
    }

    /// The loop tasks run on (a runtime's first worker loop).
    event_loop& get_loop() const {
        if (runtime_) return runtime_->loop(0);
        if (loop_) return *loop_;
        throw std::runtime_error("runner is closed");
    }

    /// Cancels the tasks still pending, waits for them, shuts down. Idempotent.
    void close() {
        runtime_.reset();  // runtime::shutdown cancels and awaits leftovers
        if (loop_) {
            loop_->close();
            loop_.reset();  // the last reference cancels and drains leftovers
        }
    }

private:
    std::unique_ptr<runtime> runtime_;
    std::shared_ptr<event_loop> loop_;
};

}  // namespace corio
