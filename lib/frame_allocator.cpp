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
// and a thread that only allocates (one spawning into the runtime from
// outside) takes back, a batch per lock, the frames the workers freed,
// instead of racing them for malloc's arena lock once per frame.
#include "corio/detail/frame_allocator.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <type_traits>
#include <utility>

namespace corio::detail {

namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t num_classes = 16;  // frames up to 1 KiB are recycled
constexpr std::uint32_t batch = 2048;    // frames per list
constexpr std::size_t depot_batches = 16;  // full lists the depot keeps per class

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

/// Full lists shared by all threads. Constant-initialised and trivially
/// destructible, so it exists before the first frame and after the last
/// static destructor (frames freed then still find it); what it holds at
/// exit stays reachable from it.
struct frame_depot {
    std::mutex mutex;
    frame_list lists[num_classes][depot_batches];
    /// Written under the mutex; read without it as a hint (relaxed: the
    /// mutex orders the lists themselves).
    std::atomic<std::size_t> sizes[num_classes];

    /// Takes `l` (leaving it empty) unless the class is full.
    bool put(std::size_t c, frame_list& l) noexcept {
        // A glance first: a thread freeing more than it allocates (the
        // consumer side, once the depot is full) checks once per frame.
        if (sizes[c].load(std::memory_order_relaxed) == depot_batches) return false;
        std::lock_guard lock(mutex);
        const std::size_t n = sizes[c].load(std::memory_order_relaxed);
        if (n == depot_batches) return false;
        lists[c][n] = std::exchange(l, frame_list{});
        sizes[c].store(n + 1, std::memory_order_relaxed);
        return true;
    }
    /// Moves a list into the empty `l`; false if the class has none.
    bool take(std::size_t c, frame_list& l) noexcept {
        if (sizes[c].load(std::memory_order_relaxed) == 0) return false;
        std::lock_guard lock(mutex);
        const std::size_t n = sizes[c].load(std::memory_order_relaxed);
        if (n == 0) return false;
        l = lists[c][n - 1];
        sizes[c].store(n - 1, std::memory_order_relaxed);
        return true;
    }
    std::size_t frames(std::size_t c) noexcept {
        std::lock_guard lock(mutex);
        std::size_t n = 0;
        for (std::size_t i = 0; i < sizes[c].load(std::memory_order_relaxed); ++i) n += lists[c][i].count;
        return n;
    }
};
static_assert(std::is_trivially_destructible_v<frame_depot>);
constinit frame_depot depot{};

// The lists are plain data, constant-initialised: accessing a thread_local
// with a constructor or destructor goes through an init guard on every
// access, and this is on the path of every spawn. Handing the lists back at
// thread exit is the job of a separate object, touched once per thread.
struct frame_cache {
    frame_list loaded[num_classes];
    frame_list spare[num_classes];  // empty, or full (batch frames)
    bool cleanup_registered;
    bool closed;  // the thread is exiting: no more caching (a loop destroyed
                  // at thread exit still frees frames afterwards)
};
thread_local constinit frame_cache cache{};

/// Gives `l` to the depot, or back to malloc when the depot has no room.
void retire(std::size_t c, frame_list& l) noexcept {
    if (l.count != 0 && !depot.put(c, l)) l.free_all();
}

struct cache_cleanup {
    ~cache_cleanup() {
        cache.closed = true;
        for (std::size_t c = 0; c < num_classes; ++c) {
            retire(c, cache.loaded[c]);
            retire(c, cache.spare[c]);
        }
    }
};
thread_local cache_cleanup cleanup;

/// Before this thread's lists first hold a frame: they must go back at exit.
void register_cleanup() noexcept {
    if (cache.cleanup_registered) return;
    cache.cleanup_registered = true;
    (void)&cleanup;  // first use constructs it, registering its destructor
}

constexpr std::size_t size_class(std::size_t size) noexcept { return (size + granule - 1) / granule - 1; }

}  // namespace

void* allocate_frame(std::size_t size) {
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
    return ::operator new((c + 1) * granule);
}

void deallocate_frame(void* p, std::size_t size) noexcept {
    const std::size_t c = size_class(size);
    if (c >= num_classes || cache.closed) {
        ::operator delete(p);
        return;
    }
    register_cleanup();
    frame_list& loaded = cache.loaded[c];
    if (loaded.count == batch) {
        frame_list& spare = cache.spare[c];
        if (spare.count != 0 && !depot.put(c, spare)) {
            // Every list is full: this frame goes back to malloc while it
            // is still in cache (freeing a whole list would touch it again).
            ::operator delete(p);
            return;
        }
        spare = std::exchange(loaded, frame_list{});
    }
    loaded.push(p);
}

std::size_t frames_in_depot(std::size_t size) noexcept {
    const std::size_t c = size_class(size);
    return c < num_classes ? depot.frames(c) : 0;
}

}  // namespace corio::detail
