// Where a coroutine comes from, recorded in every task<T> frame so that
// debug mode can name a task destroyed without ever being awaited or
// scheduled (asyncio's "coroutine 'f' was never awaited"). It is one
// pointer, recorded whether debug mode is on or not: the frame is created
// before any loop may exist, and one store of a constant costs less than
// asking whether debug mode is on.
//
// The constructor is explicit so that a coroutine whose first parameter
// would convert (a const char*, a source_location) never has it taken for
// the promise's constructor argument.
#pragma once

#if __has_include(<source_location>)
#include <source_location>
#endif

namespace corio::detail {

#if defined(__cpp_lib_source_location)
/// A pointer to the compiler's static record of the call site. As the
/// default argument of the promise's constructor, whose caller is the
/// coroutine itself, it names the coroutine function (qualified, with its
/// signature) and its file; GCC gives the line of the function's closing
/// brace.
class creation_site {
public:
    explicit constexpr creation_site(std::source_location location = std::source_location::current()) noexcept
        : location_(location) {}
    const char* function() const noexcept { return location_.function_name(); }
    /// Empty when unknown.
    const char* file() const noexcept { return location_.file_name(); }
    unsigned line() const noexcept { return location_.line(); }

private:
    std::source_location location_;
};
#else
/// Without std::source_location (Clang 14 with libstdc++ 12): the
/// coroutine function's unqualified name only.
class creation_site {
public:
    explicit constexpr creation_site(const char* function = __builtin_FUNCTION()) noexcept : function_(function) {}
    const char* function() const noexcept { return function_; }
    const char* file() const noexcept { return ""; }
    unsigned line() const noexcept { return 0; }

private:
    const char* function_;
};
#endif

}  // namespace corio::detail
