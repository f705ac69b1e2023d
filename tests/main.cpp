// The one translation unit that holds Catch2's main(); every *_test.cpp only
// includes <catch2/catch.hpp>, so test files stay quick to recompile.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CORIO_TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CORIO_TEST_TSAN 1
#endif

#ifdef CORIO_TEST_TSAN
/// ThreadSanitizer's built-in suppressions hook. One entry, for libstdc++,
/// not corio: std::exception_ptr counts its references inside libstdc++.so,
/// which is not instrumented, so TSan cannot see that a task which caught
/// an exception on one worker let go of it before another worker, freeing
/// the failed task's frame, dropped the last reference and freed the
/// exception object (tests/stress/exception_crossing_stress_test.cpp makes
/// that happen). The entry matches only accesses made inside _M_release;
/// a race on corio's own memory, a frame freed early included, is still
/// reported. README ("ThreadSanitizer") gives users the same line.
extern "C" const char* __tsan_default_suppressions() {
    return "race:std::__exception_ptr::exception_ptr::_M_release\n";
}
#endif
