// The clock of trace events (trace_buffer.hpp): on x86-64 the CPU's
// time-stamp counter, a register read, where steady_clock::now() is a vDSO
// call (about 2.4 times the cost of rdtsc on the development VM, whose
// clock source is kvm-clock); steady_clock nanoseconds elsewhere.
// trace_session converts ticks to nanoseconds by timing the run with both
// clocks. The TSC must tick at a constant rate and agree across cores
// (constant_tsc and nonstop_tsc in /proc/cpuinfo: x86-64 CPUs of the last
// decade, and their VMs).
#pragma once

#include <chrono>
#include <cstdint>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace corio::detail {

struct trace_clock {
    static std::uint64_t now() noexcept {
#if defined(__x86_64__)
        return __rdtsc();
#else
        return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::steady_clock::now().time_since_epoch())
                                              .count());
#endif
    }
};

}  // namespace corio::detail
