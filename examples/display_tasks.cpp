// display_tasks: ten tasks run concurrently; each sleeps in proportion to
// its number and then displays it, so they finish (and print) in order
// 0..9 although all of them were waiting at the same time.
//
// The Python original:
//
//     import asyncio
//
//     async def display(num):
//         await asyncio.sleep(num * 0.01)
//         print(num)
//         return num
//
//     loop = asyncio.get_event_loop()
//     tasks = [loop.create_task(display(i)) for i in range(10)]
//     done, pending = loop.run_until_complete(asyncio.wait(tasks))
//     print(len(done), "done,", sum(t.result() for t in done), "in total")
//     loop.close()
#include <chrono>
#include <cstdio>
#include <vector>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

corio::task<int> display(int num) {
    co_await corio::sleep(num * 10ms);
    std::printf("%d\n", num);
    co_return num;
}

int main() {
    corio::event_loop& loop = corio::get_event_loop();
    std::vector<corio::task_handle<int>> tasks;
    for (int i = 0; i < 10; ++i) tasks.push_back(loop.create_task(display(i)));
    // wait() returns {done, pending}; with no timeout everything is done.
    auto [done, pending] = loop.run_until_complete(corio::wait(tasks));
    int total = 0;
    for (auto& t : done) total += t.result();
    std::printf("%zu done, %d in total\n", done.size(), total);
    loop.close();
}
