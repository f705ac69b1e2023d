// gather_many: gather over 2,000 coroutines. The results come back in
// argument order whatever order the children finished in, so the checksum
// below is the same on one worker or many.
//
// The Python original:
//
//     import asyncio
//
//     async def square(i):
//         await asyncio.sleep(0)     # let the others run
//         return i * i
//
//     async def main():
//         results = await asyncio.gather(*(square(i) for i in range(2000)))
//         print(len(results), "results")
//         print("in order:", all(r == i * i for i, r in enumerate(results)))
//         print("checksum:", sum(results))
//
//     asyncio.run(main())
#include <cstdint>
#include <cstdio>
#include <vector>

#include <corio/corio.hpp>

corio::task<std::int64_t> square(std::int64_t i) {
    co_await corio::yield();  // asyncio.sleep(0)
    co_return i * i;
}

corio::task<> main_task() {
    std::vector<corio::task<std::int64_t>> children;
    children.reserve(2000);
    for (std::int64_t i = 0; i < 2000; ++i) children.push_back(square(i));
    std::vector<std::int64_t> results = co_await corio::gather(std::move(children));

    bool in_order = true;
    std::int64_t checksum = 0;
    for (std::size_t i = 0; i < results.size(); ++i) {
        in_order = in_order && results[i] == static_cast<std::int64_t>(i * i);
        checksum += results[i];
    }
    std::printf("%zu results\n", results.size());
    std::printf("in order: %s\n", in_order ? "True" : "False");
    std::printf("checksum: %lld\n", static_cast<long long>(checksum));
}

int main() {
    // asyncio.run: a multi-core runtime (one worker per core). Only main_task
    // prints, after the gather, so the output does not depend on which
    // worker ran which child.
    corio::run(main_task());
}
