// start_run: a coroutine starts two tasks with create_task and waits for
// both with wait(); the tasks run concurrently while start_run is suspended.
//
// The Python original:
//
//     import asyncio
//
//     async def hello(name, delay):
//         print(f"{name}: start")
//         await asyncio.sleep(delay)
//         print(f"{name}: done after {delay}s")
//         return name
//
//     async def start_run():
//         task1 = asyncio.create_task(hello("A", 0.2))
//         task2 = asyncio.create_task(hello("B", 0.1))
//         done, pending = await asyncio.wait([task1, task2])
//         print(f"{len(done)} done, {len(pending)} pending")
//         print("results:", task1.result(), task2.result())
//
//     loop = asyncio.get_event_loop()
//     loop.run_until_complete(start_run())
//     loop.close()
#include <chrono>
#include <cstdio>
#include <string>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

corio::task<std::string> hello(std::string name, std::chrono::milliseconds delay) {
    std::printf("%s: start\n", name.c_str());
    co_await corio::sleep(delay);
    std::printf("%s: done after %lldms\n", name.c_str(), static_cast<long long>(delay.count()));
    co_return name;
}

corio::task<> start_run() {
    // create_task schedules each task on the running loop at once; they start
    // when start_run next suspends (at the co_await below).
    corio::task_handle<std::string> task1 = corio::create_task(hello("A", 200ms));
    corio::task_handle<std::string> task2 = corio::create_task(hello("B", 100ms));
    std::vector<corio::task_handle<std::string>> tasks{task1, task2};
    corio::wait_result<std::string> finished = co_await corio::wait(std::move(tasks));
    std::printf("%zu done, %zu pending\n", finished.done.size(), finished.pending.size());
    std::printf("results: %s %s\n", task1.result().c_str(), task2.result().c_str());
}

int main() {
    corio::event_loop& loop = corio::get_event_loop();
    loop.run_until_complete(start_run());
    loop.close();
}
