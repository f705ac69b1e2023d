// Replaces the global operator new and delete of this executable with
// malloc and free plus a failure a test can ask for. Every unaligned form
// is replaced, not only the two the others forward to in libstdc++: under
// AddressSanitizer the runtime's own forms would otherwise pair with ours
// (an alloc-dealloc mismatch). The aligned forms are left alone, as pairs.
// OpenSSL's allocation functions are replaced too, with the same failure.
#include "failing_new.hpp"

#include <cstdio>
#include <cstdlib>
#include <execinfo.h>
#include <new>
#include <openssl/crypto.h>

#include "corio/detail/frame_allocator.hpp"

namespace corio_oom {

namespace {
struct failure_request {
    bool pending = false;
    failure what;
};
thread_local failure_request request;
thread_local int pauses = 0;
}  // namespace

void fail_allocation(const failure& f) { request = failure_request{true, f}; }

bool cancel_pending_failure() noexcept {
    const bool pending = request.pending;
    request = failure_request{};
    return pending;
}

bool failure_pending() noexcept { return request.pending; }

failures_paused::failures_paused() noexcept { ++pauses; }
failures_paused::~failures_paused() { --pauses; }

frame_class_drained::frame_class_drained(std::size_t size) : size_(size) {
    // This thread holds at most frames_cached_per_thread of the class; taking
    // that many plus what the depot holds takes every one (and some from
    // operator new, which is fine).
    const std::size_t n = corio::detail::frames_cached_per_thread + corio::detail::frames_in_depot(size);
    held_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) held_.push_back(corio::detail::allocate_frame(size));
}

frame_class_drained::~frame_class_drained() {
    for (void* p : held_) corio::detail::deallocate_frame(p, size_);
}

}  // namespace corio_oom

namespace {
/// Where an injected failure happens (CORIO_OOM_BACKTRACE=1), for finding
/// what a sweep tripped over: addr2line or gdb's `info symbol` names them.
void print_backtrace() {
    void* frames[64];
    const int n = backtrace(frames, 64);
    std::fputs("corio_oom: injected failure at\n", stderr);
    backtrace_symbols_fd(frames, n, 2);
}

/// Whether this allocation is the one a test asked to fail (counting it
/// otherwise); if so, the request is used up.
bool injected_failure(std::size_t size) {
    using corio_oom::request;
    const bool counted = request.what.only_size == 0 || request.what.only_size == size;
    if (!request.pending || corio_oom::pauses != 0 || !counted) [[likely]]
        return false;
    if (request.what.skip != 0) {
        --request.what.skip;
        return false;
    }
    const corio_oom::failure what = request.what;
    request = {};
    if (what.before_throw) what.before_throw(what.arg);
    if (std::getenv("CORIO_OOM_BACKTRACE")) print_backtrace();
    return true;
}

void* allocate(std::size_t size) {
    if (injected_failure(size)) [[unlikely]]
        throw std::bad_alloc();
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}

// OpenSSL's allocations (the TLS streams') count and fail as operator
// new's do: OpenSSL reports a failed one as an error of its own.
void* openssl_malloc(std::size_t size, const char*, int) {
    return injected_failure(size) ? nullptr : std::malloc(size);
}
void* openssl_realloc(void* p, std::size_t size, const char*, int) {
    return injected_failure(size) ? nullptr : std::realloc(p, size);
}
void openssl_free(void* p, const char*, int) { std::free(p); }

/// Before any other initialiser of the executable (priority 101): OpenSSL
/// takes new allocation functions only before its first allocation, and
/// Asio's OpenSSL initialiser in corio's streams allocates.
__attribute__((constructor(101))) void route_openssl_allocations() {
    if (CRYPTO_set_mem_functions(openssl_malloc, openssl_realloc, openssl_free) == 0) {
        std::fputs("corio_oom: OpenSSL allocated before its allocation functions could be set\n", stderr);
        std::abort();
    }
}
}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    try {
        return allocate(size);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
