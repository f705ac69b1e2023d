// Coroutine frames come from per-thread free lists by size class, so the
// spawn/complete cycle of fork-join work costs no malloc after warm-up.
// A frame freed on another thread than the one that allocated it goes to the
// freeing thread's lists; what a thread frees beyond them goes, a list at a
// time, to a depot shared by all threads, where a thread that allocates
// more than it frees (a producer outside the runtime, a worker running a
// spawner) takes it back.
//
// While event loops run, the depot keeps everything they give it rather
// than sending it to malloc, and gives back only frames that have lain
// unused for a whole decay period (jemalloc's dirty-page decay, at list
// granularity): a burst of a million tasks needs a million frames, and the
// next burst a moment later should not pay malloc for each again.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace corio::detail {

void* allocate_frame(std::size_t size);
void deallocate_frame(void* p, std::size_t size) noexcept;

/// Frames of one class a thread keeps in its own lists, at most (two lists).
inline constexpr std::size_t frames_cached_per_thread = 2 * 2048;

/// What a frame of `size` bytes takes from operator new when no free frame
/// of its class is at hand (for tests).
std::size_t frame_block_size(std::size_t size) noexcept;

/// Frames of `size`'s class that the depot holds now (for tests).
std::size_t frames_in_depot(std::size_t size) noexcept;
/// Frames the depot holds now, all classes (a relaxed read).
std::size_t frames_in_depot() noexcept;
/// Frames per class the depot keeps from threads that run no loop, and
/// keeps at all once no loop runs.
inline constexpr std::size_t frame_depot_bound = 16 * 2048;

using depot_clock = std::chrono::steady_clock;
/// How long frames may lie unused in the depot before they go back to malloc.
inline constexpr depot_clock::duration frame_depot_decay = std::chrono::seconds(1);

/// The most frames one decay_frame_depot call gives back (~2 ms of free).
inline constexpr std::uint32_t frame_depot_trim_batch = 65'536;

/// A loop starts running on this thread: from now on the depot takes every
/// list it gives, not only up to the bound kept for threads without a loop.
void frame_depot_loop_started() noexcept;
/// Gives back to malloc, up to frame_depot_trim_batch at a time, the
/// frames the depot held untouched for a whole decay period (periods start
/// at the first call and end at calls frame_depot_decay or more after
/// their start; any loop's thread may call). Returns when to call again:
/// `now` while some are still owed, else the current period's end, or
/// time_point::max() when the depot is empty (a loop about to park sleeps
/// no later than that).
depot_clock::time_point decay_frame_depot(depot_clock::time_point now) noexcept;
/// The loop on this thread stopped. When no loop is left running, the depot
/// gives back what it holds beyond the bound kept for threads without one.
void frame_depot_loop_stopped() noexcept;

}  // namespace corio::detail
