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

// Trivially destructible, so it stays usable while other thread_local
// destructors run (a loop destroyed at thread exit frees its frames).
thread_local bool cache_closed = false;

struct frame_cache {
    free_block* heads[num_classes] = {};
    std::size_t counts[num_classes] = {};

    ~frame_cache() {
        cache_closed = true;
        for (auto*& head : heads)
            while (head) ::operator delete(std::exchange(head, head->next));
    }
};

thread_local frame_cache cache;

constexpr std::size_t size_class(std::size_t size) noexcept { return (size + granule - 1) / granule - 1; }

}  // namespace

void* allocate_frame(std::size_t size) {
    const std::size_t c = size_class(size);
    if (c >= num_classes || cache_closed) return ::operator new((c + 1) * granule);
    if (free_block* b = cache.heads[c]) {
        cache.heads[c] = b->next;
        --cache.counts[c];
        return b;
    }
    return ::operator new((c + 1) * granule);
}

void deallocate_frame(void* p, std::size_t size) noexcept {
    const std::size_t c = size_class(size);
    if (c >= num_classes || cache_closed || cache.counts[c] >= max_cached_per_class) {
        ::operator delete(p);
        return;
    }
    auto* b = static_cast<free_block*>(p);
    b->next = cache.heads[c];
    cache.heads[c] = b;
    ++cache.counts[c];
}

}  // namespace corio::detail
