// http_init: the aiohttp tutorial's init(num), two client sessions POSTing
// {"data": "hello"} to /hello/ at the same time, with the server they talk
// to in the same program. The server answers with what it got, and says
// which request of how many it was.
//
// The Python original:
//
//     async def init(num):
//         async with aiohttp.ClientSession() as session:
//             async with session.post("http://localhost:10056/hello/",
//                                     json={"data": "hello"}) as resp:
//                 print(num, resp.status, await resp.text())
//
//     async def main():
//         await asyncio.gather(init(1), init(2))
//
// The two sessions run concurrently (gather); their lines are printed in
// argument order once both are done, so the output does not depend on
// which finished first.
#include <cstdio>
#include <string>

#include <corio/corio.hpp>
#include <corio/http.hpp>

namespace http = corio::http;

corio::task<http::response> hello(http::request& req) {
    nlohmann::json in = co_await req.json();
    nlohmann::json out;
    out["received"] = in["data"];
    co_return http::json_response(out);
}

corio::task<std::string> init(int num, std::string base) {
    http::client_session session;  // one session per caller, as in the tutorial
    http::request_options options;
    options.json = nlohmann::json::object();
    (*options.json)["data"] = "hello";
    http::client_response resp = co_await session.post(base + "/hello/", std::move(options));
    std::string text = co_await resp.text();
    co_await session.close();
    co_return std::to_string(num) + " " + std::to_string(resp.status()) + " " + text;
}

corio::task<void> amain() {
    http::application app;
    app.router().post("/hello/", hello);
    http::app_runner runner(app);
    http::tcp_site site(runner, "127.0.0.1", 0);
    co_await site.start();

    auto [first, second] = co_await corio::gather(init(1, site.name()), init(2, site.name()));
    std::printf("%s\n%s\n", first.c_str(), second.c_str());

    co_await runner.cleanup();
    std::puts("server stopped");
}

int main() { corio::run(amain()); }
