// add_done_callback's node: linked into a completion's waiter list; when it
// fires it posts itself to a loop, with call_soon semantics, to run the
// user's callback (asyncio never runs a done callback inline from set_result).
#pragma once

#include <cstdint>
#include <utility>

#include "corio/detail/callback.hpp"
#include "corio/detail/completion.hpp"

namespace corio::detail {

/// Thread-safe call_soon onto `loop` (lib/event_loop.cpp). Takes the node's reference.
void post_callback(loop_core* loop, callback_node* node) noexcept;

struct done_callback_base : waiter_node {
    void (*discard)(done_callback_base*) noexcept = nullptr;  // removed before it fired
};

/// One node for both lives of a done callback: first a waiter on the
/// completion, then, once fired, the call_soon entry that runs it. Made as
/// one, so that firing (on a completion, where nothing may fail) allocates
/// nothing and only queues the node.
template <class Handle, class F>
struct done_callback final : done_callback_base, callback_node {
    done_callback(loop_core* l, Handle h, F&& f) : loop(l), handle(std::move(h)), fn(std::move(f)) {
        fire = [](waiter_node* w) noexcept {
            post_callback(static_cast<done_callback*>(w)->loop, static_cast<done_callback*>(w));  // refs: the queue's 1
        };
        discard = [](done_callback_base* b) noexcept { delete static_cast<done_callback*>(b); };
        run = &run_callback;
        invoke = [](callback_node* n) {
            auto* self = static_cast<done_callback*>(n);
            self->fn(self->handle);
        };
        callback_node::destroy = [](callback_node* n) noexcept { delete static_cast<done_callback*>(n); };
    }
    loop_core* loop;
    Handle handle;
    F fn;
};

/// Adds a done callback to `c`; if `c` is already done, schedules it at once.
/// Returns the token remove_done_callback takes.
template <class Handle, class F>
std::uintptr_t add_done_callback(completion& c, loop_core* loop, Handle h, F&& f) {
    auto* node = new done_callback<Handle, std::decay_t<F>>(loop, std::move(h), std::decay_t<F>(std::forward<F>(f)));
    if (!c.add_waiter(node)) node->fire(node);
    return reinterpret_cast<std::uintptr_t>(static_cast<done_callback_base*>(node));
}

/// Removes a callback that has not been scheduled yet; returns how many were removed (0 or 1).
inline std::size_t remove_done_callback(completion& c, std::uintptr_t token) noexcept {
    auto* node = reinterpret_cast<done_callback_base*>(token);
    if (!token || !c.remove_waiter_by_address(node)) return 0;
    node->discard(node);
    return 1;
}

}  // namespace corio::detail
