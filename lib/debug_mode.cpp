// Debug mode's switches and reports (debug_mode.hpp), and the timing of a
// loop's outermost entries that the slow-callback report and the stall
// detector share.
#include "debug_mode.hpp"

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include "context.hpp"
#include "corio/event_loop.hpp"
#include "corio/task.hpp"
#include "loop_core.hpp"

namespace corio::detail {

namespace {

/// Loops in debug mode, process-wide. Written by set_debug and loop
/// destruction on any thread, read by a thread destroying an unawaited
/// task outside any loop; relaxed: a count, ordered with nothing.
std::atomic<int> debug_loops{0};

/// Set while this thread destroys an unawaited task's frame: the tasks that
/// frame owns (its arguments, such as gather's children) are destroyed with
/// it and are part of the same mistake, so they are not reported again.
thread_local bool tl_destroying_unawaited = false;

void report(loop_core& loop, std::string message) {
    loop.owner->call_exception_handler({std::move(message), nullptr});
}

/// Whether a task destroyed unawaited on this thread is reported: by the
/// debug mode of the loop this thread runs, or, off the loops, by whether
/// any loop is in debug mode.
bool unawaited_reported_here() noexcept {
    if (tl_destroying_unawaited) return false;
    if (loop_core* loop = tl_core) return loop->debug.load(std::memory_order_relaxed);
    return debug_loops.load(std::memory_order_relaxed) > 0;
}

std::string describe_never_awaited(const creation_site& site) {
    std::string message = "coroutine '";
    message += site.function();
    message += "' was never awaited";
    if (*site.file()) {
        message += " (";
        message += site.file();
        message += ':';
        message += std::to_string(site.line());
        message += ')';
    }
    return message;
}

}  // namespace

bool debug_from_environment() {
    const char* value = std::getenv("CORIO_DEBUG");
    return value && *value && std::strcmp(value, "0") != 0;
}

std::optional<std::chrono::milliseconds> stall_threshold_from_environment() {
    const char* value = std::getenv("CORIO_STALL_MS");
    if (!value) return std::nullopt;
    long long ms = 0;
    const char* end = value + std::strlen(value);
    const auto [rest, error] = std::from_chars(value, end, ms);
    if (error != std::errc() || rest != end || ms < 0) return std::nullopt;
    return std::chrono::milliseconds(ms);
}

std::string format_seconds(std::chrono::nanoseconds d) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", std::chrono::duration<double>(d).count());
    return text;
}

void count_debug_loop(bool entered) noexcept { debug_loops.fetch_add(entered ? 1 : -1, std::memory_order_relaxed); }

void destroy_unawaited(std::coroutine_handle<> frame, const creation_site& site) noexcept {
    if (!unawaited_reported_here()) {
        frame.destroy();
        return;
    }
    try {
        std::string message = describe_never_awaited(site);
        if (loop_core* loop = tl_core) report(*loop, std::move(message));
        else std::fprintf(stderr, "corio: %s\n", message.c_str());
    } catch (...) {
        // Out of memory while reporting: the frame is still destroyed.
    }
    tl_destroying_unawaited = true;
    frame.destroy();
    tl_destroying_unawaited = false;
}

void report_slow_entry(loop_core& loop, task_header* t, std::uint64_t elapsed_ns) noexcept {
    try {
        const std::string what = t ? "<Task '" + task_name(*t) + "'>" : std::string("<callback>");
        report(loop, "Executing " + what + " took " + format_seconds(std::chrono::nanoseconds(elapsed_ns)) +
                         " seconds");
    } catch (...) {
        // Out of memory while reporting: nothing to report it to.
    }
}

void report_pending_at_shutdown(task_header& t) noexcept {
    if (!t.home->debug.load(std::memory_order_relaxed)) return;
    try {
        report(*t.home, "Task '" + task_name(t) + "' was still pending at shutdown; cancelling it");
    } catch (...) {
    }
}

void check_loop_thread(loop_core* loop, const char* operation) noexcept {
    if (!loop->debug.load(std::memory_order_relaxed)) return;
    // A standalone loop that is not running may be called from any thread
    // (asyncio checks only while it runs), then only from the thread
    // running it. A runtime's loops run from its start to its shutdown, and
    // any of its workers may call, since a task may resume on any of them.
    if (loop->sched.asyncio_order && !loop->running.load(std::memory_order_relaxed)) return;
    if (tl_core && &tl_core->sched == &loop->sched) return;
    try {
        report(*loop, std::string(operation) +
                          "() called from a thread that does not run the loop; use call_soon_threadsafe()");
    } catch (...) {
    }
}

// ---- watched entries ------------------------------------------------------------

void loop_core::begin_watched_entry(task_header* t) noexcept {
    if (stall_watched) current_entry.begin(t);
    entry_started_ns_ = debug.load(std::memory_order_relaxed) ? worker_counters::now_ns() : 0;
}

void loop_core::end_watched_entry(task_header* t) noexcept {
    if (stall_watched) current_entry.end();
    if (entry_started_ns_ == 0) return;
    const std::uint64_t elapsed = worker_counters::now_ns() - entry_started_ns_;
    if (elapsed >= static_cast<std::uint64_t>(slow_callback_ns.load(std::memory_order_relaxed)))
        report_slow_entry(*this, t, elapsed);
}

}  // namespace corio::detail
