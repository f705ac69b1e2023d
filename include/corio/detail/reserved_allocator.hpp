// Memory set aside for one Asio handler that must be posted even when
// memory has run out: the cancellation of an IO operation, which, if it
// could not be posted, would leave the operation running with buffers in
// a frame that is about to be freed. The buffer lives with the state that
// posts; an allocator over it is bound to the handler, and Asio allocates
// the posted operation with it (and frees it before calling the handler).
#pragma once

#include <cstddef>
#include <new>

namespace corio::detail {

/// Room for one posted operation at a time.
struct handler_memory {
    static constexpr std::size_t size = 128;
    alignas(std::max_align_t) unsigned char bytes[size];
    bool in_use = false;  // ordered by the post's queue, like the handler itself
};

/// An allocator that hands out a handler_memory's buffer.
template <class T>
class reserved_allocator {
public:
    using value_type = T;

    explicit reserved_allocator(handler_memory& memory) noexcept : memory_(&memory) {}
    template <class U>
    reserved_allocator(const reserved_allocator<U>& other) noexcept : memory_(other.memory_) {}

    T* allocate(std::size_t n) {
        // Checked where Asio instantiates it, for the one type it allocates.
        static_assert(sizeof(T) <= handler_memory::size && alignof(T) <= alignof(std::max_align_t),
                      "corio: the posted operation outgrew handler_memory");
        if (n != 1 || memory_->in_use) throw std::bad_alloc();  // one operation at a time, by construction
        memory_->in_use = true;
        return reinterpret_cast<T*>(memory_->bytes);
    }
    void deallocate(T*, std::size_t) noexcept { memory_->in_use = false; }

    template <class U>
    friend bool operator==(const reserved_allocator& a, const reserved_allocator<U>& b) noexcept {
        return a.memory_ == b.memory_;
    }

private:
    template <class>
    friend class reserved_allocator;
    handler_memory* memory_;
};

}  // namespace corio::detail
