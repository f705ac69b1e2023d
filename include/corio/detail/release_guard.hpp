// `co_await x.scoped()` for lock and the semaphores: C++'s form of
// `async with lock:` (the exit is synchronous, so a destructor can do it).
// The awaiter acquires like x.acquire() and hands back a guard that owns the
// acquisition and releases it when destroyed.
#pragma once

#include <utility>

namespace corio::detail {

template <class Primitive>
class [[nodiscard]] release_guard {
public:
    /// Adopts an acquisition the caller already made.
    explicit release_guard(Primitive& p) noexcept : p_(&p) {}
    release_guard(release_guard&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
    release_guard& operator=(release_guard&& other) noexcept {
        if (this != &other) {
            reset();
            p_ = std::exchange(other.p_, nullptr);
        }
        return *this;
    }
    release_guard(const release_guard&) = delete;
    release_guard& operator=(const release_guard&) = delete;
    ~release_guard() { reset(); }

    /// True until the acquisition is released or moved away.
    bool owns() const noexcept { return p_ != nullptr; }
    /// Releases now instead of at the end of the scope. (Releasing the
    /// primitive by hand as well is a double release: std::terminate.)
    void reset() noexcept {
        if (p_) std::exchange(p_, nullptr)->release();
    }

private:
    Primitive* p_;
};

/// `co_await x.scoped()`: x.acquire()'s awaiter, resuming with a guard.
template <class Primitive, class AcquireOperation>
class scoped_operation : public AcquireOperation {
public:
    explicit scoped_operation(Primitive& p) : AcquireOperation(p), p_(p) {}
    release_guard<Primitive> await_resume() {
        AcquireOperation::await_resume();  // throws when not acquired: no guard then
        return release_guard<Primitive>(p_);
    }

private:
    Primitive& p_;
};

}  // namespace corio::detail
