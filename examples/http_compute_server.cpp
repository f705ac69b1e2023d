// http_compute_server: compute plus IO. A server whose /sum handler does CPU
// work as fork-join tasks spread over every core (divide and conquer:
// create_task the left half, compute the right half, await the left),
// while the same server keeps answering /ping. A client asks for two sums
// at once and, meanwhile, pings ten times.
//
// What asyncio cannot do here: its handler would hold the one event-loop
// thread for the whole sum (or ship it to a process pool). In corio the
// forked halves are ordinary tasks that idle workers steal, and a /ping
// arriving meanwhile is accepted and answered by whichever worker is free.
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <corio/corio.hpp>
#include <corio/http.hpp>

namespace http = corio::http;

/// sum of (i * i) mod 1000003 over [lo, hi), forked down to 64k-element leaves.
corio::task<std::uint64_t> partial_sum(std::uint64_t lo, std::uint64_t hi) {
    if (hi - lo <= 65536) {
        std::uint64_t s = 0;
        for (std::uint64_t i = lo; i < hi; ++i) s += (i * i) % 1000003;
        co_return s;
    }
    const std::uint64_t mid = lo + (hi - lo) / 2;
    corio::task_handle<std::uint64_t> left = corio::create_task(partial_sum(lo, mid));  // fork: may run on another core
    const std::uint64_t right = co_await partial_sum(mid, hi);
    co_return right + co_await left;  // join
}

corio::task<http::response> sum_handler(http::request& req) {
    const auto n = req.query().find("n");
    if (n == req.query().end()) throw http::http_error(400, "n is required");
    const std::uint64_t count = std::stoull(n->second);
    nlohmann::json out;
    out["n"] = count;
    out["sum"] = co_await partial_sum(0, count);
    co_return http::json_response(out);
}

corio::task<http::response> ping_handler(http::request&) { co_return http::response{.text = "pong"}; }

corio::task<std::string> ask_sum(http::client_session& session, std::string url) {
    http::client_response r = co_await session.get(std::move(url));
    nlohmann::json j = co_await r.json();
    co_return "sum of (i*i) mod 1000003 for i < " + j["n"].dump() + " = " + j["sum"].dump();
}

corio::task<int> ping_ten_times(http::client_session& session, std::string url) {
    int pongs = 0;
    for (int i = 0; i < 10; ++i) {
        http::client_response r = co_await session.get(url);
        pongs += (co_await r.text()) == "pong";
    }
    co_return pongs;
}

corio::task<void> amain() {
    http::application app;
    app.router().get("/sum", sum_handler);
    app.router().get("/ping", ping_handler);
    http::app_runner runner(app);
    http::tcp_site site(runner, "127.0.0.1", 0);
    co_await site.start();

    http::client_session session;
    const std::string base = site.name();
    auto [a, b, pongs] = co_await corio::gather(ask_sum(session, base + "/sum?n=4000000"),
                                                ask_sum(session, base + "/sum?n=6000000"),
                                                ping_ten_times(session, base + "/ping"));
    std::printf("%s\n%s\n%d pings answered\n", a.c_str(), b.c_str(), pongs);
    co_await session.close();

    co_await runner.cleanup();
    std::puts("server stopped");
}

int main() { corio::run(amain()); }
