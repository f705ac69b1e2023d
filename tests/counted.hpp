// counted: a value type that counts its constructions and destructions
// (cppcoro's test/counted.hpp). A test resets the counters, runs some code,
// and checks `counted::alive() == 0`: every result, parameter and frame
// that held a counted was destroyed exactly once (no leak, no double free).
#pragma once

#include <atomic>

namespace corio_test {

struct counted {
    // Atomic: results and frames may be destroyed on a runtime's workers.
    static inline std::atomic<int> default_constructions{0};
    static inline std::atomic<int> copy_constructions{0};
    static inline std::atomic<int> move_constructions{0};
    static inline std::atomic<int> destructions{0};

    static void reset() noexcept {
        default_constructions = 0;
        copy_constructions = 0;
        move_constructions = 0;
        destructions = 0;
    }
    static int constructions() noexcept { return default_constructions + copy_constructions + move_constructions; }
    /// Objects constructed and not yet destroyed.
    static int alive() noexcept { return constructions() - destructions; }

    counted() noexcept : id(next_id()) { ++default_constructions; }
    explicit counted(int value) noexcept : id(value) { ++default_constructions; }
    counted(const counted& o) noexcept : id(o.id) { ++copy_constructions; }
    counted(counted&& o) noexcept : id(o.id) {
        o.id = -1;
        ++move_constructions;
    }
    counted& operator=(const counted&) = default;
    counted& operator=(counted&&) = default;
    ~counted() {
        ++destructions;
        id = -2;  // a read after destruction shows up as -2 (ASan catches the rest)
    }

    int id;

private:
    static int next_id() noexcept {
        static std::atomic<int> next{1};
        return next++;
    }
};

}  // namespace corio_test
