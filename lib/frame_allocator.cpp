// Per-thread free lists of coroutine frames by 64-byte size class, with a
// shared depot between them (see corio/detail/frame_allocator.hpp for why
// frames are recycled this way).
//
// Each thread keeps, per class, two lists of at most `batch` frames (the
// magazines of Bonwick & Adams, "Magazines and Vmem", USENIX 2001): frees
// go to `loaded`; when it is full it becomes `spare` and a fresh list
// starts. Only when both are full does a whole list go to the depot, and
// only when both are empty does a thread take one from there. So a thread
// whose live frames swing by less than a batch never touches the depot,
// and a thread that allocates more than it frees (one spawning into the
// runtime from outside, or the worker running a spawner while others run
// what it spawns) takes back, a batch per lock, the frames the others
// freed, instead of racing them for malloc's arena lock once per frame.
//
// For threads that run no loop the depot holds depot_bound lists per class
// and the rest goes to malloc. A loop's thread puts every list there: a
// burst of live frames larger than the caches went through malloc twice per
// frame otherwise, each call taking the arena's lock (two fifths of
// spawn_join's samples). The depot is shared rather than kept per thread
// (as it was) because the thread that frees a burst is often not the one
// that allocates the next: a spawner's frames are freed by whichever worker
// drops their last reference. It is trimmed by its low-water mark: at the
// end of every decay period, as many lists are owed back to malloc as it
// held untouched through the whole period, so bursts that recur keep what
// they need and an idle runtime keeps nothing. They go back a batch per
// call, so a loop with a million to give back looks at its queues between
// batches; when the last loop stops, the depot is cut back to its bound.
#include "corio/detail/frame_allocator.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>

#include "slow_path.hpp"

namespace corio::detail {

namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t num_classes = 16;  // frames up to 1 KiB are recycled
constexpr std::uint32_t batch = 2048;    // frames per list
static_assert(2 * batch == frames_cached_per_thread);
constexpr std::size_t depot_bound = 16;  // lists per class kept from threads that run no loop
static_assert(depot_bound * batch == frame_depot_bound);

struct free_block {
    free_block* next;
};

/// A singly linked list of free frames of one class.
struct frame_list {
    free_block* head;
    std::uint32_t count;

    void push(void* p) noexcept {
        auto* b = static_cast<free_block*>(p);
        b->next = head;
        head = b;
        ++count;
    }
    void* pop() noexcept {
        free_block* b = head;
        head = b->next;
        --count;
        return b;
    }
    void free_all() noexcept {
        while (head) ::operator delete(std::exchange(head, head->next));
        count = 0;
    }
};

/// A list in the depot: its first frame (64 bytes at least) carries the
/// link to the list below it and the list's length, after the free chain.
struct stored_list : free_block {
    stored_list* below;
    std::uint32_t count;
};

/// Lists shared by all threads, a stack per class. Constant-initialised and
/// trivially destructible, so it exists before the first frame and after
/// the last static destructor (frames freed then still find it); what it
/// holds at exit stays reachable from it.
struct frame_depot {
    std::mutex mutex;
    stored_list* top[num_classes];
    /// Written under the mutex; read without it as hints (relaxed: the
    /// mutex orders the lists themselves).
    std::atomic<std::size_t> lists[num_classes];
    std::atomic<std::size_t> frames_held;
    /// The fewest lists each class held in the current period: those were
    /// not needed during the whole of it.
    std::size_t low[num_classes];
    /// Lists an ended period left untouched, not yet given back.
    std::size_t owed[num_classes];
    depot_clock::time_point period_end;
    std::size_t loops;  // threads between frame_depot_loop_started and frame_depot_loop_stopped

    /// Takes `l` (leaving it empty) unless the class holds `bound` lists.
    bool put(std::size_t c, frame_list& l, std::size_t bound) noexcept {
        // A glance first: a thread freeing more than it allocates (the
        // consumer side, once the depot is full) checks once per frame.
        if (lists[c].load(std::memory_order_relaxed) >= bound) return false;
        std::lock_guard lock(mutex);
        const std::size_t n = lists[c].load(std::memory_order_relaxed);
        if (n >= bound) return false;
        auto* s = static_cast<stored_list*>(std::exchange(l.head, nullptr));
        s->below = top[c];
        s->count = std::exchange(l.count, 0);
        top[c] = s;
        lists[c].store(n + 1, std::memory_order_relaxed);
        frames_held.store(frames_held.load(std::memory_order_relaxed) + s->count, std::memory_order_relaxed);
        return true;
    }
    /// Moves a list into the empty `l`; false if the class has none.
    bool take(std::size_t c, frame_list& l) noexcept {
        if (lists[c].load(std::memory_order_relaxed) == 0) return false;
        std::lock_guard lock(mutex);
        if (lists[c].load(std::memory_order_relaxed) == 0) return false;
        l = pop(c);
        return true;
    }
    /// Under the mutex, the class not empty.
    frame_list pop(std::size_t c) noexcept {
        stored_list* s = top[c];
        top[c] = s->below;
        const std::size_t n = lists[c].load(std::memory_order_relaxed) - 1;
        lists[c].store(n, std::memory_order_relaxed);
        frames_held.store(frames_held.load(std::memory_order_relaxed) - s->count, std::memory_order_relaxed);
        low[c] = std::min(low[c], n);
        owed[c] = std::min(owed[c], n);
        return frame_list{s, s->count};
    }
    /// Under the mutex, the class not empty: moves the top list onto
    /// `chain`, to be freed once the mutex is released (free_lists).
    void pop_onto(std::size_t c, stored_list*& chain) noexcept {
        stored_list* const s = top[c];
        pop(c);  // leaves s's count as it was
        s->below = chain;
        chain = s;
    }
    std::size_t frames(std::size_t c) noexcept {
        std::lock_guard lock(mutex);
        std::size_t n = 0;
        for (const stored_list* s = top[c]; s; s = s->below) n += s->count;
        return n;
    }
};
static_assert(std::is_trivially_destructible_v<frame_depot>);
static_assert(sizeof(stored_list) <= granule);
constinit frame_depot depot{};

// The lists are plain data, constant-initialised: accessing a thread_local
// with a constructor or destructor goes through an init guard on every
// access, and this is on the path of every spawn. Handing the lists back at
// thread exit is the job of a separate object, touched once per thread.
struct frame_cache {
    frame_list loaded[num_classes];
    frame_list spare[num_classes];  // empty, or full (batch frames)
    bool in_loop;  // a loop runs on this thread: the depot takes all it gives
    bool closed;  // the thread is exiting: no more caching (a loop destroyed
                  // at thread exit still frees frames afterwards)
    /// A free into a list holding fewer frames takes the fast path: batch
    /// once the exit cleanup is registered (so nonzero says it is), 0
    /// before (the first free registers it) and once closed. Not
    /// `1 <= count < batch`: a thread whose frees and allocations alternate
    /// at an empty list (fib's leaves, right after a full list went to
    /// spare) took the slow path for every other free.
    std::uint32_t push_limit;
};
thread_local constinit frame_cache cache{};

/// Gives `l` to the depot, or back to malloc when the depot has no room.
void retire(std::size_t c, frame_list& l) noexcept {
    if (l.count != 0 && !depot.put(c, l, depot_bound)) l.free_all();
}

/// Frees the lists chained below `s` (taken out of the depot).
void free_lists(stored_list* s) noexcept {
    while (s) {
        stored_list* const below = s->below;
        frame_list l{s, s->count};
        l.free_all();
        s = below;
    }
}

struct cache_cleanup {
    ~cache_cleanup() {
        cache.closed = true;
        cache.push_limit = 0;
        frame_depot_loop_stopped();
        for (std::size_t c = 0; c < num_classes; ++c) {
            retire(c, cache.loaded[c]);
            retire(c, cache.spare[c]);
        }
    }
};
thread_local cache_cleanup cleanup;

/// Before this thread's lists first hold a frame: they must go back at exit.
void register_cleanup() noexcept {
    if (cache.push_limit != 0 || cache.closed) return;
    cache.push_limit = batch;
    (void)&cleanup;  // first use constructs it, registering its destructor
}

constexpr std::size_t size_class(std::size_t size) noexcept { return (size + granule - 1) / granule - 1; }

}  // namespace

// The fast paths are a list pop or push; the rest is CORIO_SLOW_PATH.
namespace {

CORIO_SLOW_PATH void* allocate_frame_slow(std::size_t size) {
    const std::size_t c = size_class(size);
    if (c < num_classes) {
        frame_list& loaded = cache.loaded[c];
        if (loaded.count == 0) {
            if (cache.spare[c].count != 0) {
                loaded = std::exchange(cache.spare[c], frame_list{});
            } else if (!cache.closed && depot.take(c, loaded)) {
                // A thread that only allocates holds frames now too.
                register_cleanup();
            }
        }
        if (loaded.count != 0) return loaded.pop();
    }
    return ::operator new(frame_block_size(size));
}

CORIO_SLOW_PATH void deallocate_frame_slow(void* p, std::size_t size) noexcept {
    const std::size_t c = size_class(size);
    if (c >= num_classes || cache.closed) {
        ::operator delete(p);
        return;
    }
    register_cleanup();
    frame_list& loaded = cache.loaded[c];
    if (loaded.count == batch) {
        frame_list& spare = cache.spare[c];
        if (spare.count != 0 && !depot.put(c, spare, cache.in_loop ? SIZE_MAX : depot_bound)) {
            // A thread without a loop, the depot full: this frame goes back
            // to malloc while it is still in cache (freeing a whole list
            // would touch it again).
            ::operator delete(p);
            return;
        }
        spare = std::exchange(loaded, frame_list{});
    }
    loaded.push(p);
}

}  // namespace

void* allocate_frame(std::size_t size) {
    const std::size_t c = size_class(size);
    if (c < num_classes) [[likely]] {
        frame_list& loaded = cache.loaded[c];
        if (loaded.count != 0) [[likely]]
            return loaded.pop();
    }
    return allocate_frame_slow(size);
}

void deallocate_frame(void* p, std::size_t size) noexcept {
    const std::size_t c = size_class(size);
    if (c < num_classes) [[likely]] {
        frame_list& loaded = cache.loaded[c];
        if (loaded.count < cache.push_limit) [[likely]] {
            loaded.push(p);
            return;
        }
    }
    deallocate_frame_slow(p, size);
}

std::size_t frame_block_size(std::size_t size) noexcept { return (size_class(size) + 1) * granule; }

std::size_t frames_in_depot(std::size_t size) noexcept {
    const std::size_t c = size_class(size);
    return c < num_classes ? depot.frames(c) : 0;
}

std::size_t frames_in_depot() noexcept { return depot.frames_held.load(std::memory_order_relaxed); }

void frame_depot_loop_started() noexcept {
    if (cache.closed || cache.in_loop) return;
    register_cleanup();
    cache.in_loop = true;
    std::lock_guard lock(depot.mutex);
    ++depot.loops;
}

depot_clock::time_point decay_frame_depot(depot_clock::time_point now) noexcept {
    stored_list* trimmed = nullptr;
    bool owing = false;
    depot_clock::time_point next = depot_clock::time_point::max();
    {
        std::lock_guard lock(depot.mutex);
        // A period end more than a period away: the clock went back (tests
        // call this with times of their own); start afresh.
        if (now >= depot.period_end || depot.period_end - now > frame_depot_decay) {
            // What the ended period left untouched is owed back.
            depot.period_end = now + frame_depot_decay;
            for (std::size_t c = 0; c < num_classes; ++c) {
                depot.owed[c] = depot.low[c];
                depot.low[c] = depot.lists[c].load(std::memory_order_relaxed);
            }
        }
        std::size_t budget = frame_depot_trim_batch;
        for (std::size_t c = 0; c < num_classes; ++c) {
            while (depot.owed[c] != 0 && budget >= depot.top[c]->count) {
                --depot.owed[c];
                budget -= depot.top[c]->count;
                depot.pop_onto(c, trimmed);
            }
            owing = owing || depot.owed[c] != 0;
        }
        if (owing) next = now;
        else if (depot.frames_held.load(std::memory_order_relaxed) != 0) next = depot.period_end;
    }
    free_lists(trimmed);  // outside the lock: a million frees take milliseconds
    return next;
}

void frame_depot_loop_stopped() noexcept {
    if (!cache.in_loop) return;
    cache.in_loop = false;
    stored_list* trimmed = nullptr;
    {
        std::lock_guard lock(depot.mutex);
        if (--depot.loops == 0) {
            // No loop is left to trim the depot: back to what threads
            // without one may leave there.
            for (std::size_t c = 0; c < num_classes; ++c) {
                while (depot.lists[c].load(std::memory_order_relaxed) > depot_bound) depot.pop_onto(c, trimmed);
            }
        }
    }
    free_lists(trimmed);
}

}  // namespace corio::detail
