// The stress tests' source of reproducible randomness: splitmix64, a pure
// function, so a test derives each task's choices from its indexes and a
// failing run can be replayed.
#pragma once

#include <cstdint>

namespace corio_test {

inline std::uint64_t mix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

}  // namespace corio_test
