// Fault-injection sweeps: a scenario runs on a standalone loop again and
// again, the first allocation through operator new (or OpenSSL's
// allocator) on the loop's thread failing in the first run, the second in
// the second, and so on, until a run makes no allocation that fails. Every
// run must end with the scenario's own outcome or with std::bad_alloc out
// of it (or a stream's asio::error::no_memory, or OpenSSL's "malloc
// failure"), leave the main task with no wait armed, and leak nothing
// (LSan, in the ASan build, checks after each run); a run that crashes,
// hangs or trips a sanitizer fails the test. Each scenario is swept with
// the frame allocator's free lists as they are, and most also with them
// held elsewhere (frame_source). CORIO_OOM_SWEEP_LOG=1 prints each run's
// number, CORIO_OOM_BACKTRACE=1 where each injected failure happened.
#pragma once

#include <catch2/catch.hpp>

#include <asio/error.hpp>
#include <asio/ssl/error.hpp>
#include <openssl/err.h>

#include <chrono>
#include <cstdio>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define CORIO_SWEEP_HAS_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORIO_SWEEP_HAS_LSAN 1
#endif
#endif
#if CORIO_SWEEP_HAS_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#include "corio/corio.hpp"
#include "corio/detail/frame_allocator.hpp"
#include "failing_new.hpp"
#include "left_armed.hpp"
#include "run_modes.hpp"

namespace corio_oom {

using namespace std::chrono_literals;

/// Whether LeakSanitizer finds memory leaked now (it reports it); false
/// without it. Checked after each run, so a leak is pinned to its run (and
/// so to the failure that caused it: CORIO_OOM_BACKTRACE).
inline bool leak_found() {
#if CORIO_SWEEP_HAS_LSAN
    return __lsan_do_recoverable_leak_check() != 0;
#else
    return false;
#endif
}

/// Whether `e` says memory ran out: a stream whose write could not start
/// failed with asio::error::no_memory, and OpenSSL reports a failed
/// allocation as an error of its own, its reason "malloc failure" (README,
/// Out of memory).
inline bool out_of_memory(const std::system_error& e) {
    if (e.code() == asio::error::no_memory) return true;
    return e.code().category() == asio::error::get_ssl_category() &&
        ERR_GET_REASON(static_cast<unsigned long>(e.code().value())) == ERR_R_MALLOC_FAILURE;
}

struct sweep_run {
    bool failure_injected = false;
    bool finished = false;  // the scenario's own outcome
    bool bad_alloc = false;
    bool leaked = false;
    after_failure after;
};

/// Where the scenario's coroutine frames and callback nodes come from: the
/// frame allocator's free lists, as they are after the runs before (most
/// never reach operator new, so they never fail), or operator new, each
/// class's free frames being held elsewhere for the run (the first frame
/// of each size then can fail).
enum class frame_source { cached, fresh };

/// Holds every free frame of every class the frame allocator recycles.
class all_frame_classes_drained {
public:
    all_frame_classes_drained() {
        // The classes recycled: frames up to 1 KiB, in steps of one block
        // (lib/frame_allocator.cpp).
        const std::size_t step = corio::detail::frame_block_size(1);
        for (std::size_t size = step; size <= 1024; size += step)
            held_.push_back(std::make_unique<frame_class_drained>(size));
    }

private:
    std::vector<std::unique_ptr<frame_class_drained>> held_;
};

/// Sweeps `scenario`, a callable returning a task<void>, and returns one
/// entry per run (the last one the run in which nothing failed, unless the
/// sweep gave up after 5,000 runs: a TLS handshake allocates about 2,400
/// times, mostly inside OpenSSL).
template <class Scenario>
std::vector<sweep_run> sweep_from(frame_source frames, Scenario& scenario) {
    std::vector<sweep_run> runs;
    for (std::size_t skip = 0; skip < 5000; ++skip) {
        sweep_run r;
        if (std::getenv("CORIO_OOM_SWEEP_LOG")) std::fprintf(stderr, "corio_oom: run %zu\n", skip);
        corio_test::run_in(corio_test::standalone, [&]() -> corio::task<void> {
            std::optional<all_frame_classes_drained> drained;
            if (frames == frame_source::fresh) drained.emplace();
            fail_allocation({.skip = skip});
            try {
                co_await scenario();
                r.finished = true;
            } catch (const std::bad_alloc&) {
                r.bad_alloc = true;
            } catch (const std::system_error& e) {
                if (!out_of_memory(e)) throw;
                r.bad_alloc = true;
            }
            r.failure_injected = !cancel_pending_failure();
            co_await check_not_left_armed(r.after);
        });
        r.leaked = leak_found();
        runs.push_back(r);
        if (!r.failure_injected) break;
    }
    return runs;
}

/// Both sweeps of `scenario`: frames cached, then fresh.
template <class Scenario>
std::vector<std::vector<sweep_run>> sweep(Scenario scenario) {
    return {sweep_from(frame_source::cached, scenario), sweep_from(frame_source::fresh, scenario)};
}

/// The first only, for a scenario whose allocations are mostly another
/// library's (OpenSSL's), which the frame allocator does not serve.
template <class Scenario>
std::vector<std::vector<sweep_run>> sweep_frames_cached(Scenario scenario) {
    return {sweep_from(frame_source::cached, scenario)};
}

inline void check(const std::vector<std::vector<sweep_run>>& sweeps) {
    for (std::size_t s = 0; s < sweeps.size(); ++s) {
        const std::vector<sweep_run>& runs = sweeps[s];
        INFO((s == 0 ? "frames cached" : "fresh frames"));
        REQUIRE(runs.size() >= 2);
        CHECK_FALSE(runs.back().failure_injected);  // the sweep reached its end
        CHECK(runs.back().finished);
        for (std::size_t i = 0; i < runs.size(); ++i) {
            INFO("run " << i << " of " << runs.size());
            CHECK(runs[i].finished != runs[i].bad_alloc);
            CHECK_FALSE(runs[i].leaked);
            CHECK(runs[i].after.cancel_seen);
            CHECK(runs[i].after.slept_through());
        }
    }
}

/// Set by the running loop's exception handler from now on: the server's
/// side reported a failure. Shared: the loop may report one after the
/// scenario's frame is gone.
inline std::shared_ptr<corio::event> watch_reported_failures() {
    auto reported = std::make_shared<corio::event>();
    corio::get_running_loop().set_exception_handler(
        [reported](corio::event_loop&, const corio::exception_context&) { reported->set(); });
    return reported;
}

/// Throws unless the server's side reports a failure within 5 s: a
/// connection the client saw fail must have failed there. The client may
/// see it first (a TLS peer sends its alert before its task ends).
inline corio::task<void> expect_reported_failure(corio::event& reported) {
    try {
        co_await corio::wait_for([](corio::event& e) -> corio::task<void> { co_await e.wait(); }(reported), 5s);
    } catch (const corio::timeout_error&) {
        throw std::logic_error("a connection ended with no failure reported");
    }
}

}  // namespace corio_oom
