// generator_num: the tutorials' first generator. num(x) yields 0..x-1 one
// value at a time; nothing runs until the loop asks for the next value.
//
// The Python original:
//
//     def num(x):
//         for i in range(x):
//             yield i
//
//     g = num(5)
//     print(type(g).__name__)
//     for i in g:
//         print(i)
//
// corio::generator<T> is synchronous, as a Python `def` generator is: it
// needs no event loop and cannot co_await (corio::async_generator<T> can).
#include <cstdio>

#include <corio/corio.hpp>

corio::generator<int> num(int x) {
    for (int i = 0; i < x; ++i) co_yield i;
}

int main() {
    auto g = num(5);  // runs nothing yet: the body starts at the first value asked for
    std::puts("generator");
    for (int i : g) std::printf("%d\n", i);
}
