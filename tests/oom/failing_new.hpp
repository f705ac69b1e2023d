// The global operator new of corio_oom_tests (and OpenSSL's allocator
// there), which a test can make fail
// (failing_new.cpp replaces it for this executable only: the sanitizers'
// own operator new stays in force for the main suite).
#pragma once

#include <cstddef>
#include <vector>

namespace corio_oom {

/// Which allocation through the global operator new (or OpenSSL's
/// allocator) on this thread fails.
struct failure {
    /// Allocations let through first.
    std::size_t skip = 0;
    /// If nonzero, allocations of other sizes neither fail nor count.
    std::size_t only_size = 0;
    /// Called (with failures off, so it may allocate) just before the throw.
    void (*before_throw)(void*) = nullptr;
    void* arg = nullptr;
};
/// That allocation throws std::bad_alloc.
void fail_allocation(const failure& f);
/// True while a failure asked for has not happened; clears the request.
bool cancel_pending_failure() noexcept;
/// True while a failure asked for has not happened.
bool failure_pending() noexcept;

/// While one lives, allocations on this thread neither fail nor count.
class failures_paused {
public:
    failures_paused() noexcept;
    ~failures_paused();
    failures_paused(const failures_paused&) = delete;
    failures_paused& operator=(const failures_paused&) = delete;
};

/// Holds every frame of `size`'s class that this thread's lists and the
/// frame allocator's depot have, so the next frame of that class comes from
/// operator new (no other thread may free frames of the class meanwhile).
class frame_class_drained {
public:
    explicit frame_class_drained(std::size_t size);
    ~frame_class_drained();
    frame_class_drained(const frame_class_drained&) = delete;
    frame_class_drained& operator=(const frame_class_drained&) = delete;

private:
    std::size_t size_;
    std::vector<void*> held_;
};

}  // namespace corio_oom
