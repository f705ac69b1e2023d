// The first program of README.md, verbatim, so the README cannot drift
// from code that compiles and runs (checked against readme_first_program.expected).
#include <corio/corio.hpp>
#include <cstdio>
using namespace std::chrono_literals;

corio::task<int> slow_double(int x) {
    co_await corio::sleep(100ms);
    co_return 2 * x;
}

corio::task<int> main_task() {
    auto [a, b] = co_await corio::gather(slow_double(1), slow_double(2));  // concurrently
    co_return a + b;
}

int main() { std::printf("%d\n", corio::run(main_task())); }  // 6, after ~100 ms
