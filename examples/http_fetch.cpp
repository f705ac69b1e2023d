// http_fetch: the aiohttp tutorial's first client, fetch(session), with the
// server it talks to, in one program. The server answers GET /test/ with
// {"data": ...}; the client prints data["data"].
//
// The Python original (client against a local aiohttp server):
//
//     async def fetch(session):
//         async with session.get("http://localhost:10056/test/") as resp:
//             data = await resp.json()
//             print(data["data"])
//
//     async def main():
//         async with aiohttp.ClientSession() as session:
//             await fetch(session)
//
// Here the server listens on a free port (0) instead of 10056, so the
// example never collides with anything else on the machine.
#include <cstdio>
#include <string>

#include <corio/corio.hpp>
#include <corio/http.hpp>

namespace http = corio::http;

corio::task<http::response> test_handler(http::request&) {
    nlohmann::json body;
    body["data"] = "Hello from corio";
    co_return http::json_response(body);
}

corio::task<void> fetch(http::client_session& session, const std::string& base) {
    http::client_response resp = co_await session.get(base + "/test/");
    nlohmann::json data = co_await resp.json();
    std::printf("%d %s\n", resp.status(), data["data"].get<std::string>().c_str());
}

corio::task<void> amain() {
    http::application app;
    app.router().get("/test/", test_handler);
    http::app_runner runner(app);
    http::tcp_site site(runner, "127.0.0.1", 0);
    co_await site.start();

    http::client_session session;
    co_await fetch(session, site.name());
    co_await session.close();

    co_await runner.cleanup();
    std::puts("server stopped");
}

int main() { corio::run(amain()); }
