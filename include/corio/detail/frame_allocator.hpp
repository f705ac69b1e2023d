// Coroutine frames come from per-thread free lists by size class, so the
// spawn/complete cycle of fork-join work costs no malloc after warm-up.
// A frame freed on another thread than the one that allocated it goes to the
// freeing thread's list; each list is capped so a producer/consumer pair
// cannot grow one list without bound.
#pragma once

#include <cstddef>

namespace corio::detail {

void* allocate_frame(std::size_t size);
void deallocate_frame(void* p, std::size_t size) noexcept;

}  // namespace corio::detail
