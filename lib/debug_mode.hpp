// Debug mode (asyncio's loop.set_debug and PYTHONASYNCIODEBUG): how it is
// switched on, and the reports it makes. Every report goes to a loop's
// exception handler as an exception_context with a message and no
// exception (the default handler prints it to stderr); a report with no
// loop to go to (a task destroyed on a thread that runs none) is printed
// to stderr.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace corio::detail {

struct loop_core;
struct task_header;

/// CORIO_DEBUG is set to something other than "" or "0": loops and
/// runtimes created now start in debug mode.
bool debug_from_environment();
/// CORIO_STALL_MS as a threshold (0: off), or nothing when unset or not a number.
std::optional<std::chrono::milliseconds> stall_threshold_from_environment();
/// The stall threshold a runtime starts with in debug mode when neither
/// run_options nor CORIO_STALL_MS sets one: ten times asyncio's default
/// slow_callback_duration, so a stall report means a worker is really stuck
/// while the slow-callback report covers shorter blocking polls.
inline constexpr std::chrono::milliseconds debug_stall_threshold{1000};
inline constexpr std::chrono::milliseconds default_slow_callback_duration{100};

/// "0.201": a duration in seconds as reports give it (asyncio's "%.3f").
std::string format_seconds(std::chrono::nanoseconds d);

/// A loop entered (true) or left (false) debug mode, or a loop in debug
/// mode was destroyed (false). The process-wide count decides whether a
/// task destroyed on a thread that runs no loop is reported.
void count_debug_loop(bool entered) noexcept;

/// An outermost entry of `loop` (the task `t`, or a callback when null) ran
/// for `elapsed_ns`, longer than its slow_callback_duration.
void report_slow_entry(loop_core& loop, task_header* t, std::uint64_t elapsed_ns) noexcept;

/// Shutdown cancels `t`, which has started and not finished; reported if
/// its loop is in debug mode.
void report_pending_at_shutdown(task_header& t) noexcept;

}  // namespace corio::detail
