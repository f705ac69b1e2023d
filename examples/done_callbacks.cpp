// done_callbacks: instead of awaiting a future, register a callback that
// the loop calls (via call_soon) once the future is done; the callback
// prints the result and stops the loop, which runs forever until then.
//
// The Python original:
//
//     import asyncio
//
//     async def slow_operation(future):
//         await asyncio.sleep(1)
//         future.set_result('Future is done!')
//
//     def got_result(future):
//         print(future.result())
//         loop.stop()
//
//     loop = asyncio.get_event_loop()
//     future = asyncio.Future()
//     asyncio.ensure_future(slow_operation(future))
//     future.add_done_callback(got_result)
//     try:
//         loop.run_forever()
//     finally:
//         loop.close()
#include <chrono>
#include <cstdio>
#include <string>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

corio::task<> slow_operation(corio::future<std::string> future) {
    co_await corio::sleep(100ms);
    future.set_result("Future is done!");
}

// A plain function: done callbacks are not coroutines. It runs on the loop
// the future belongs to, never inline inside set_result().
void got_result(const corio::future<std::string>& future) {
    std::puts(future.result().c_str());
    corio::get_event_loop().stop();
}

int main() {
    corio::event_loop& loop = corio::get_event_loop();
    corio::future<std::string> future = loop.create_future<std::string>();
    auto operation = loop.create_task(slow_operation(future));
    future.add_done_callback(got_result);
    try {
        loop.run_forever();
    } catch (...) {
        loop.close();
        throw;
    }
    loop.close();
}
