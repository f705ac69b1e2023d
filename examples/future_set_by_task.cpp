// future_set_by_task: a future is a result that somebody else sets. Here a
// task sets it after a sleep, and the loop runs until the future is done.
//
// The Python original:
//
//     import asyncio
//
//     async def slow_operation(future):
//         await asyncio.sleep(1)
//         future.set_result('Future is done!')
//
//     loop = asyncio.get_event_loop()
//     future = asyncio.Future()
//     asyncio.ensure_future(slow_operation(future))
//     loop.run_until_complete(future)
//     print(future.result())
//     loop.close()
#include <chrono>
#include <cstdio>
#include <string>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

// The future is a handle to shared state: the copy this task holds and the
// one main() holds refer to the same future.
corio::task<> slow_operation(corio::future<std::string> future) {
    co_await corio::sleep(100ms);
    future.set_result("Future is done!");
}

int main() {
    corio::event_loop& loop = corio::get_event_loop();
    corio::future<std::string> future = loop.create_future<std::string>();
    // asyncio.ensure_future(coro) outside a running loop schedules it on
    // get_event_loop(); in corio that is loop.create_task (the free
    // corio::ensure_future needs a running loop).
    auto operation = loop.create_task(slow_operation(future));
    loop.run_until_complete(future);  // returns the value too
    std::puts(future.result().c_str());
    loop.close();
}
