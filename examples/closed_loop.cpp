// closed_loop: once a loop is closed it can never run again; asking it to
// raises RuntimeError in asyncio and throws std::runtime_error in corio,
// with the same message.
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
//     print("closed:", loop.is_closed())
//     try:
//         loop.run_until_complete(hello())
//     except RuntimeError as e:
//         print("RuntimeError:", e)
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

corio::task<> hello() {
    std::puts("Hello");
    co_await corio::sleep(100ms);
    std::puts("World");
}

int main() {
    corio::event_loop& loop = corio::get_event_loop();
    loop.run_until_complete(hello());
    loop.close();
    std::printf("closed: %s\n", loop.is_closed() ? "True" : "False");
    try {
        loop.run_until_complete(hello());  // never prints "Hello": nothing runs
    } catch (const std::runtime_error& e) {
        std::printf("RuntimeError: %s\n", e.what());
    }
}
