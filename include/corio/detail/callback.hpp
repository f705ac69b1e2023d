// A call_soon / call_later callback as a run-queue entry: one heap node
// holding the callable, reference-counted between the queue (or timer heap)
// and the timer_handle the caller got back.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "corio/detail/frame_allocator.hpp"
#include "corio/detail/task_header.hpp"

namespace corio::detail {

struct callback_node : schedulable {
    /// References: the queue or timer heap holding the node, plus each timer_handle.
    std::atomic<std::uint32_t> refs{1};
    /// Set by timer_handle::cancel() on any thread; read by the loop before
    /// invoking (relaxed is enough: cancelling concurrently with the call is
    /// a race the caller accepted, as in asyncio).
    std::atomic<bool> cancelled{false};
    std::chrono::steady_clock::time_point when{};  // deadline, for timers
    void (*invoke)(callback_node*) = nullptr;
    void (*destroy)(callback_node*) noexcept = nullptr;

    void add_ref() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
    // From the frame allocator's free lists: call_soon is a hot path.
    static void* operator new(std::size_t size) { return allocate_frame(size); }
    static void operator delete(void* p, std::size_t size) noexcept { deallocate_frame(p, size); }
    void release() noexcept {
        // acq_rel: the last releaser destroys the callable other threads touched.
        if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy(this);
    }
};

/// Runs a callback entry (lib/event_loop.cpp): skips it if cancelled,
/// reports an exception to the loop's exception handler, drops the queue's reference.
void run_callback(schedulable* s, bool initial) noexcept;

template <class F>
struct callback_impl final : callback_node {
    explicit callback_impl(F&& f) : fn(std::move(f)) {
        run = &run_callback;
        invoke = [](callback_node* n) { static_cast<callback_impl*>(n)->fn(); };
        destroy = [](callback_node* n) noexcept { delete static_cast<callback_impl*>(n); };
    }
    F fn;
};

/// A node holding one reference per holder: `refs` = 1 (the queue or timer
/// heap) or 2 (plus a timer_handle that adopts it).
template <class F>
callback_node* make_callback(F&& f, std::uint32_t refs = 1) {
    auto* n = new callback_impl<std::decay_t<F>>(std::decay_t<F>(std::forward<F>(f)));
    n->refs.store(refs, std::memory_order_relaxed);
    return n;
}

}  // namespace corio::detail
