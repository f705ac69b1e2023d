// timer_handle: what call_soon / call_later / call_at return (asyncio's
// Handle and TimerHandle). cancel() may be called from any thread.
#pragma once

#include <chrono>
#include <mutex>
#include <utility>

#include "corio/detail/callback.hpp"

namespace corio {

class timer_handle {
public:
    timer_handle() noexcept = default;
    /// Takes a new reference on `node`.
    explicit timer_handle(detail::callback_node* node) noexcept : node_(node) {
        if (node_) node_->add_ref();
    }
    /// Adopts a reference the caller already counted in `node`.
    timer_handle(detail::callback_node* node, std::adopt_lock_t) noexcept : node_(node) {}
    timer_handle(const timer_handle& o) noexcept : timer_handle(o.node_) {}
    timer_handle(timer_handle&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
    timer_handle& operator=(timer_handle o) noexcept {
        std::swap(node_, o.node_);
        return *this;
    }
    ~timer_handle() {
        if (node_) node_->release();
    }

    /// Prevents the callback from running if it has not run yet.
    void cancel() noexcept;
    bool cancelled() const noexcept { return node_ && node_->cancelled.load(std::memory_order_relaxed); }
    /// The deadline of a call_later / call_at timer.
    std::chrono::steady_clock::time_point when() const noexcept { return node_ ? node_->when : decltype(node_->when){}; }

private:
    detail::callback_node* node_ = nullptr;
};

}  // namespace corio
