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
//
// Past the magazines and the depot, a loop's thread keeps frames in an
// unbounded per-class reserve. Without it a burst of live frames larger than
// the caches went through malloc twice per frame, each call taking the
// arena's lock (two fifths of spawn_join's samples). The reserve is trimmed by
// its low-water mark: at the end of every decay period, as many frames are
// owed back to malloc as the reserve never dipped into during it, so a
// thread whose bursts recur keeps what they need and an idle one keeps
// nothing. They go back a batch per call, so a loop that has a million to
// give back looks at its queues between batches.
#include "corio/detail/frame_allocator.hpp"

#include <algorithm>
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
    frame_list reserve[num_classes];  // unbounded; only while `reserving`
    /// The fewest frames each reserve held in the current period: those
    /// were not needed during the whole of it.
    std::uint32_t reserve_low[num_classes];
    /// Frames an ended period left untouched, not yet given back.
    std::uint32_t reserve_owed[num_classes];
    reserve_clock::time_point period_end;
    bool reserving;
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
        close_frame_reserve();
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

// The fast paths (a list pop or push) stay free of the slow paths' register
// saves: GCC saves every callee-saved register at the entry of a function
// whose slow path needs them, and that was half of the instructions of a
// spawn's allocation and free (fib, skynet).
namespace {

[[gnu::noipa]] void* allocate_frame_slow(std::size_t size) {
    const std::size_t c = size_class(size);
    if (c < num_classes) {
        frame_list& loaded = cache.loaded[c];
        if (loaded.count == 0) {
            if (cache.spare[c].count != 0) {
                loaded = std::exchange(cache.spare[c], frame_list{});
            } else if (frame_list& reserve = cache.reserve[c]; reserve.count != 0) {
                void* p = reserve.pop();
                cache.reserve_low[c] = std::min(cache.reserve_low[c], reserve.count);
                cache.reserve_owed[c] = std::min(cache.reserve_owed[c], reserve.count);
                return p;
            } else if (!cache.closed && depot.take(c, loaded)) {
                // A thread that only allocates holds frames now too.
                register_cleanup();
            }
        }
        if (loaded.count != 0) return loaded.pop();
    }
    return ::operator new((c + 1) * granule);
}

[[gnu::noipa]] void deallocate_frame_slow(void* p, std::size_t size) noexcept {
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
            // Every list is full: this frame goes to the reserve, or back to
            // malloc while it is still in cache (freeing a whole list would
            // touch it again).
            if (cache.reserving) cache.reserve[c].push(p);
            else ::operator delete(p);
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
    // A list that holds frames is known to the exit cleanup already, and
    // `closed` empties the lists for good.
    if (c < num_classes) [[likely]] {
        frame_list& loaded = cache.loaded[c];
        if (loaded.count - 1 < batch - 1) [[likely]] {  // 1 <= count < batch
            loaded.push(p);
            return;
        }
    }
    deallocate_frame_slow(p, size);
}

std::size_t frames_in_depot(std::size_t size) noexcept {
    const std::size_t c = size_class(size);
    return c < num_classes ? depot.frames(c) : 0;
}

void open_frame_reserve() noexcept {
    if (cache.closed) return;
    register_cleanup();
    cache.reserving = true;
}

reserve_clock::time_point decay_frame_reserve(reserve_clock::time_point now) noexcept {
    if (now >= cache.period_end) {  // what the ended period left untouched is owed back
        cache.period_end = now + frame_reserve_decay;
        for (std::size_t c = 0; c < num_classes; ++c) {
            cache.reserve_owed[c] = cache.reserve_low[c];
            cache.reserve_low[c] = cache.reserve[c].count;
        }
    }
    std::uint32_t budget = frame_reserve_trim_batch;
    bool owing = false;
    bool kept = false;
    for (std::size_t c = 0; c < num_classes; ++c) {
        frame_list& reserve = cache.reserve[c];
        const std::uint32_t n = std::min(cache.reserve_owed[c], budget);
        for (std::uint32_t i = 0; i < n; ++i) ::operator delete(reserve.pop());
        budget -= n;
        cache.reserve_owed[c] -= n;
        cache.reserve_low[c] = std::min(cache.reserve_low[c], reserve.count);
        owing = owing || cache.reserve_owed[c] != 0;
        kept = kept || reserve.count != 0;
    }
    if (owing) return now;
    return kept ? cache.period_end : reserve_clock::time_point::max();
}

void close_frame_reserve() noexcept {
    cache.reserving = false;
    for (std::size_t c = 0; c < num_classes; ++c) {
        cache.reserve[c].free_all();
        cache.reserve_low[c] = cache.reserve_owed[c] = 0;
    }
}

std::size_t frames_in_reserve() noexcept {
    std::size_t n = 0;
    for (const frame_list& reserve : cache.reserve) n += reserve.count;
    return n;
}

}  // namespace corio::detail
