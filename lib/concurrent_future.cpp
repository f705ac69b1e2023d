// The blocking side of concurrent_future: a plain thread waits, with an
// optional deadline, for a completion that a loop fires.
#include "corio/concurrent_future.hpp"

#include <condition_variable>
#include <mutex>
#include <stdexcept>

#include "context.hpp"

namespace corio::detail {

namespace {
/// A thread blocked until a completion fires or its deadline passes.
///
/// Invariant: fire() runs with the completion's lock held, and notifies
/// under `mutex`; the waiting thread never holds `mutex` while it takes the
/// completion's lock (remove_waiter), so the two locks are never taken in
/// opposite orders. The node lives on the waiting thread's stack: it returns
/// only after fire() has finished (it saw `fired` under `mutex`) or after
/// remove_waiter unlinked it (so fire() will never run).
struct timed_waiter : waiter_node {
    timed_waiter() {
        fire = [](waiter_node* w) noexcept {
            auto* self = static_cast<timed_waiter*>(w);
            std::lock_guard lock(self->mutex);
            self->fired = true;
            self->cv.notify_one();
        };
    }
    std::mutex mutex;
    std::condition_variable cv;
    bool fired = false;
};
}  // namespace

bool block_until_done_or(completion& c, const std::chrono::steady_clock::time_point* deadline) {
    if (tl_core) throw std::runtime_error("cannot block inside a running event loop; co_await instead");
    if (c.done()) return true;
    timed_waiter w;
    if (!c.add_waiter(&w)) return true;
    {
        std::unique_lock lock(w.mutex);
        if (!deadline) {
            w.cv.wait(lock, [&] { return w.fired; });
            return true;
        }
        if (w.cv.wait_until(lock, *deadline, [&] { return w.fired; })) return true;
    }
    // Timed out. If the completion fired meanwhile, the node is already
    // unlinked and fire() has returned (it ran under the lock remove_waiter takes).
    return !c.remove_waiter(&w);
}

}  // namespace corio::detail
