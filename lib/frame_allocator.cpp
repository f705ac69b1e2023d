// Per-thread free lists of coroutine frames by 64-byte size class (see
// corio/detail/frame_allocator.hpp for why frames are recycled this way).
#include "corio/detail/frame_allocator.hpp"

#include <cstdint>
#include <new>
#include <utility>

namespace corio::detail {

namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t num_classes = 16;  // frames up to 1 KiB are recycled
constexpr std::size_t max_cached_per_class = 4096;

struct free_block {
    free_block* next;
};

// The lists are plain data, constant-initialised: accessing a thread_local
// with a constructor or destructor goes through an init guard on every
// access, and this is on the path of every spawn. Returning the blocks at
// thread exit is the job of a separate object, touched once per thread.
struct frame_cache {
    free_block* heads[num_classes];
    std::uint32_t counts[num_classes];
    bool cleanup_registered;
    bool closed;  // the thread is exiting: no more caching (a loop destroyed
                  // at thread exit still frees frames afterwards)
};
thread_local constinit frame_cache cache{};

struct cache_cleanup {
    ~cache_cleanup() {
        cache.closed = true;
        for (auto*& head : cache.heads)
            while (head) ::operator delete(std::exchange(head, head->next));
    }
};
thread_local cache_cleanup cleanup;

constexpr std::size_t size_class(std::size_t size) noexcept { return (size + granule - 1) / granule - 1; }

}  // namespace

void* allocate_frame(std::size_t size) {
    const std::size_t c = size_class(size);
    if (c < num_classes) {
        if (free_block* b = cache.heads[c]) {
            cache.heads[c] = b->next;
            --cache.counts[c];
            return b;
        }
    }
    return ::operator new((c + 1) * granule);
}

void deallocate_frame(void* p, std::size_t size) noexcept {
    const std::size_t c = size_class(size);
    if (c >= num_classes || cache.closed || cache.counts[c] >= max_cached_per_class) {
        ::operator delete(p);
        return;
    }
    if (!cache.cleanup_registered) {
        cache.cleanup_registered = true;
        (void)&cleanup;  // first use constructs it, registering its destructor
    }
    auto* b = static_cast<free_block*>(p);
    b->next = cache.heads[c];
    cache.heads[c] = b;
    ++cache.counts[c];
}

}  // namespace corio::detail
