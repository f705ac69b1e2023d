// The loop policy: the running loop comes from the thread's context; the
// policy decides the rest (asyncio's events.py).
#include "corio/policy.hpp"

#include <mutex>
#include <stdexcept>
#include <thread>

#include "context.hpp"
#include "loop_core.hpp"

namespace corio {

namespace {
const std::thread::id main_thread_id = std::this_thread::get_id();

thread_local std::shared_ptr<event_loop> thread_loop;

std::mutex policy_mutex;
std::unique_ptr<event_loop_policy>& policy_slot() {
    static std::unique_ptr<event_loop_policy> policy = std::make_unique<default_event_loop_policy>();
    return policy;
}
}  // namespace

event_loop& default_event_loop_policy::get_event_loop() {
    if (!thread_loop) {
        if (std::this_thread::get_id() != main_thread_id)
            throw std::runtime_error("There is no current event loop in this thread");
        thread_loop = new_event_loop();
    }
    return *thread_loop;
}

void default_event_loop_policy::set_event_loop(std::shared_ptr<event_loop> loop) { thread_loop = std::move(loop); }

std::shared_ptr<event_loop> default_event_loop_policy::new_event_loop() { return corio::new_event_loop(); }

event_loop_policy& get_event_loop_policy() {
    std::lock_guard lock(policy_mutex);
    return *policy_slot();
}

void set_event_loop_policy(std::unique_ptr<event_loop_policy> policy) {
    std::lock_guard lock(policy_mutex);
    policy_slot() = policy ? std::move(policy) : std::make_unique<default_event_loop_policy>();
}

event_loop& get_event_loop() {
    if (detail::tl_core && detail::tl_core->owner) return *detail::tl_core->owner;
    return get_event_loop_policy().get_event_loop();
}

void set_event_loop(std::shared_ptr<event_loop> loop) { get_event_loop_policy().set_event_loop(std::move(loop)); }

event_loop& get_running_loop() {
    if (!detail::tl_core || !detail::tl_core->owner) throw std::runtime_error("no running event loop");
    return *detail::tl_core->owner;
}

namespace detail {
loop_core* loop_for_new_future() { return tl_core ? tl_core : get_event_loop().core(); }
}  // namespace detail

}  // namespace corio
