// Coroutine frames come from per-thread free lists by size class, so the
// spawn/complete cycle of fork-join work costs no malloc after warm-up.
// A frame freed on another thread than the one that allocated it goes to the
// freeing thread's lists; what a thread frees beyond them goes, a list at a
// time, to a depot shared by all threads, where a thread that only
// allocates (a producer outside the runtime) takes it back.
#pragma once

#include <cstddef>

namespace corio::detail {

void* allocate_frame(std::size_t size);
void deallocate_frame(void* p, std::size_t size) noexcept;

/// Frames of `size`'s class that the depot holds now (for tests).
std::size_t frames_in_depot(std::size_t size) noexcept;

}  // namespace corio::detail
