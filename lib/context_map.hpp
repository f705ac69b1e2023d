// The storage behind context_var (asyncio's contextvars.Context): an
// immutable map from variable id to value, shared by reference count
// between a task and the tasks it spawned (each spawn copies the pointer,
// not the map); set() in one of them replaces that one's map only
// (copy-on-write), so a child's set() is never seen by its parent.
//
// Who holds a context: each spawned task (task_header::context, from spawn
// to completion) and each thread outside tasks (tl_thread_context, until
// the thread exits). Only the holder reads or replaces its own pointer; the
// maps are never changed while shared, so readers take no lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace corio::detail {

struct context_map {
    struct entry {
        std::uint64_t var;                  // context_var's id
        std::shared_ptr<const void> value;  // a `const T` (never null)
    };
    /// Holders. acq_rel on release: pairs with the acquire load of a holder
    /// that finds itself the only one (and then changes the map in place).
    std::atomic<std::uint32_t> refs{1};
    std::vector<entry> entries;  // sorted by var
};

/// The context of code that runs outside any task on this thread (a plain
/// thread, or a loop's callbacks). Holds one reference; null while empty.
inline thread_local context_map* tl_thread_context = nullptr;

inline void context_add_ref(context_map* c) noexcept { c->refs.fetch_add(1, std::memory_order_relaxed); }
inline void release_context(context_map* c) noexcept {
    if (c->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete c;
}

}  // namespace corio::detail
