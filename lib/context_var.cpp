// context_var's operations on the current context: the running task's map
// (task_header::context) or, outside tasks, the thread's (see
// context_map.hpp for who holds what).
#include "corio/context_var.hpp"

#include <algorithm>
#include <atomic>
#include <memory>

#include "context.hpp"
#include "context_map.hpp"
#include "corio/detail/task_header.hpp"

namespace corio::detail {

namespace {

/// Drops the thread's context when the thread exits. Touched only by
/// set(), so threads that never set a variable register nothing.
struct thread_context_owner {
    ~thread_context_owner() {
        if (tl_thread_context) release_context(std::exchange(tl_thread_context, nullptr));
    }
};

/// The current context's slot: the running task's, else the thread's.
context_map*& current_slot() noexcept {
    if (task_header* t = tl_task) return t->context;
    return tl_thread_context;
}

const context_map::entry* find(const context_map* c, std::uint64_t var) noexcept {
    if (!c) return nullptr;
    auto it = std::lower_bound(c->entries.begin(), c->entries.end(), var,
                               [](const context_map::entry& e, std::uint64_t v) { return e.var < v; });
    return it != c->entries.end() && it->var == var ? &*it : nullptr;
}

/// Sets (or, with a null value, erases) `var` in `c`, which the caller owns alone.
void put(context_map& c, std::uint64_t var, std::shared_ptr<const void> value) {
    auto it = std::lower_bound(c.entries.begin(), c.entries.end(), var,
                               [](const context_map::entry& e, std::uint64_t v) { return e.var < v; });
    const bool present = it != c.entries.end() && it->var == var;
    if (!value) {
        if (present) c.entries.erase(it);
    } else if (present) {
        it->value = std::move(value);
    } else {
        c.entries.insert(it, {var, std::move(value)});
    }
}

}  // namespace

std::uint64_t new_context_var_id() noexcept {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
}

const void* context_get(std::uint64_t var) noexcept {
    const context_map::entry* e = find(current_slot(), var);
    return e ? e->value.get() : nullptr;
}

std::shared_ptr<const void> context_set(std::uint64_t var, std::shared_ptr<const void> value) {
    if (!tl_task) {
        static thread_local thread_context_owner owner;  // first use registers the thread-exit release
        (void)owner;
    }
    context_map*& slot = current_slot();
    context_map* const current = slot;
    const context_map::entry* e = find(current, var);
    std::shared_ptr<const void> old = e ? e->value : nullptr;
    if (!value && !e) return old;  // removing what is not there
    // acquire: pairs with the release of a holder that dropped its share,
    // so its reads of the map are done before we change it in place.
    if (current && current->refs.load(std::memory_order_acquire) == 1) {
        put(*current, var, std::move(value));
    } else {
        auto copy = std::make_unique<context_map>();  // freed if the copy or the put runs out of memory
        if (current) copy->entries = current->entries;
        put(*copy, var, std::move(value));
        slot = copy.release();
        if (current) release_context(current);
    }
    if (slot->entries.empty()) release_context(std::exchange(slot, nullptr));  // empty is null: spawns copy nothing
    return old;
}

std::uint64_t context_owner() noexcept {
    if (task_header* t = tl_task) return t->id;
    // Threads get ids from their own range, apart from task ids.
    static std::atomic<std::uint64_t> next_thread{0};
    thread_local const std::uint64_t thread_id = (std::uint64_t{1} << 63) | next_thread.fetch_add(1, std::memory_order_relaxed);
    return thread_id;
}

}  // namespace corio::detail
