// Coroutine frames come from per-thread free lists by size class, so the
// spawn/complete cycle of fork-join work costs no malloc after warm-up.
// A frame freed on another thread than the one that allocated it goes to the
// freeing thread's lists; what a thread frees beyond them goes, a list at a
// time, to a depot shared by all threads, where a thread that only
// allocates (a producer outside the runtime) takes it back.
//
// A thread running an event loop keeps what is left over in a reserve
// rather than giving it to malloc, and gives back only frames that have
// lain unused for a whole decay period (jemalloc's dirty-page decay, at
// frame granularity): a burst of a million tasks needs a million frames,
// and the next burst a moment later should not pay malloc for each again.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace corio::detail {

void* allocate_frame(std::size_t size);
void deallocate_frame(void* p, std::size_t size) noexcept;

/// Frames of `size`'s class that the depot holds now (for tests).
std::size_t frames_in_depot(std::size_t size) noexcept;

using reserve_clock = std::chrono::steady_clock;
/// How long a reserved frame may lie unused before it goes back to malloc.
inline constexpr reserve_clock::duration frame_reserve_decay = std::chrono::seconds(1);

/// The most frames one decay_frame_reserve call gives back (~2 ms of free).
inline constexpr std::uint32_t frame_reserve_trim_batch = 65'536;

/// From now on this thread keeps frames it frees beyond its lists (a loop
/// starting to run on it).
void open_frame_reserve() noexcept;
/// Gives back to malloc, up to frame_reserve_trim_batch at a time, the
/// reserved frames this thread left untouched for a whole decay period
/// (periods start at the first call and end at calls frame_reserve_decay
/// or more after their start). Returns when to call again: `now` while
/// some are still owed, else the current period's end, or time_point::max()
/// when the reserve is empty (a loop about to park sleeps no later than
/// that).
reserve_clock::time_point decay_frame_reserve(reserve_clock::time_point now) noexcept;
/// Gives the whole reserve back and stops keeping one (the loop stopped).
void close_frame_reserve() noexcept;
/// Frames this thread's reserve holds, all classes.
std::size_t frames_in_reserve() noexcept;

}  // namespace corio::detail
