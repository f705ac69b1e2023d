// two_hellos: two hello() coroutines run concurrently on one loop. Both
// print "Hello", both sleep at the same time, both print "World" (run one
// after the other they would print Hello World Hello World).
//
// The Python original:
//
//     import asyncio
//
//     async def hello():
//         print("Hello")
//         await asyncio.sleep(1)
//         print("World")
//
//     loop = asyncio.get_event_loop()
//     loop.run_until_complete(asyncio.gather(hello(), hello()))
//     loop.close()
#include <chrono>
#include <cstdio>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

corio::task<> hello() {
    std::puts("Hello");
    co_await corio::sleep(100ms);
    std::puts("World");
}

int main() {
    corio::event_loop& loop = corio::get_event_loop();
    // gather() schedules both children when it is awaited (here: when the
    // loop runs it); a standalone loop runs ready tasks in FIFO order, so the
    // first child prints "Hello" before the second does.
    loop.run_until_complete(corio::gather(hello(), hello()));
    loop.close();
}
