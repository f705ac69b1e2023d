// hello_world: the first program of the asyncio tutorials, with corio.
// A coroutine prints, sleeps without blocking the loop, prints again; the
// thread's default loop runs it to completion.
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
//     loop.run_until_complete(hello())
//     loop.close()
//
// (The sleep is 100 ms here so that the test runs fast.)
#include <chrono>
#include <cstdio>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

// `async def hello()`: calling hello() runs nothing, it returns a lazy task.
corio::task<> hello() {
    std::puts("Hello");
    co_await corio::sleep(100ms);  // suspends this task; the loop is free meanwhile
    std::puts("World");
}

int main() {
    // The main thread's default loop (asyncio.get_event_loop()); a
    // standalone, single-threaded loop driven by this thread.
    corio::event_loop& loop = corio::get_event_loop();
    loop.run_until_complete(hello());
    loop.close();
}
