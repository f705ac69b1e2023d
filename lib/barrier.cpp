// corio::barrier (corio/barrier.hpp), after CPython's asyncio/locks.py Barrier.
#include "corio/barrier.hpp"

#include <exception>
#include <stdexcept>

#include "corio/errors.hpp"

namespace corio {

namespace {
std::size_t checked_parties(std::ptrdiff_t parties) {
    if (parties < 1) throw std::invalid_argument("barrier parties must be > 0");
    return static_cast<std::size_t>(parties);
}
}  // namespace

barrier::barrier(std::ptrdiff_t parties) : parties_(checked_parties(parties)) {}

std::size_t barrier::n_waiting() const noexcept {
    const std::uint64_t w = count_and_phase_.load(std::memory_order_relaxed);
    return static_cast<phase>(w & 3) == phase::filling ? static_cast<std::size_t>(w >> 2) : 0;
}

bool barrier::broken() const noexcept {
    return static_cast<phase>(count_and_phase_.load(std::memory_order_relaxed) & 3) == phase::broken;
}

task<std::size_t> barrier::wait() {
    auto held = co_await cond_.scoped();
    co_await wait_until_filling();
    const std::size_t index = count();
    store(index + 1, current());
    std::exception_ptr failure;  // cleanup below needs no co_await, but runs on every exit
    try {
        if (index + 1 == parties_) {
            // The last party: release the others. Arrivals wait until they have left.
            store(count(), phase::draining);
            cond_.notify_all();
        } else {
            co_await wait_until_released();
        }
    } catch (...) {
        failure = std::current_exception();  // cancelled or broken: this party leaves too
    }
    store(count() - 1, current());
    leave_locked();
    if (failure) std::rethrow_exception(failure);
    co_return index;
}

task<void> barrier::wait_until_filling() {
    co_await cond_.wait_for([this] { return current() != phase::draining && current() != phase::resetting; });
    if (current() == phase::broken) throw broken_barrier_error();
}

task<void> barrier::wait_until_released() {
    // Still filling when woken: a reset emptied the barrier meanwhile.
    co_await cond_.wait_for([this] { return current() != phase::filling; });
    if (current() == phase::broken || current() == phase::resetting) throw broken_barrier_error();
}

void barrier::leave_locked() {
    if (count() != 0) return;
    // The last one out: the next cycle may fill.
    if (current() == phase::resetting || current() == phase::draining) store(0, phase::filling);
    cond_.notify_all();
}

task<void> barrier::reset() {
    auto held = co_await cond_.scoped();
    // With parties inside, they leave with broken_barrier_error first.
    store(count(), count() > 0 ? phase::resetting : phase::filling);
    cond_.notify_all();
}

task<void> barrier::abort() {
    auto held = co_await cond_.scoped();
    store(count(), phase::broken);
    cond_.notify_all();
}

}  // namespace corio
