// downloads: the asyncio tutorial's "blocking library in an executor"
// program. A blocking download function (here a plain synchronous Asio
// socket stream, standing in for Python's requests.get) runs on the default
// executor through run_in_executor, so three downloads overlap in time
// while the event loop stays free.
//
// The Python original:
//
//     async def main():
//         loop = asyncio.get_running_loop()
//         futures = [loop.run_in_executor(None, requests.get, url) for url in urls]
//         for response in await asyncio.gather(*futures):
//             print(response.text)
//
// Instead of the internet, the program starts a local corio HTTP server on
// a free port. Its handler holds every request until all three are in
// flight at once (or gives up after 5 s), so the last line proves the
// downloads overlapped: run one after another, the most in flight would be 1.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/ip/tcp.hpp>

#include <corio/corio.hpp>
#include <corio/http.hpp>

namespace http = corio::http;
using namespace std::chrono_literals;

constexpr int download_count = 3;

// The server side: counts the requests in flight and remembers the most.
struct download_server {
    std::atomic<int> in_flight{0};
    std::atomic<int> most_in_flight{0};
    corio::event all_arrived;
};

corio::task<bool> wait_until_set(corio::event& e) { co_return co_await e.wait(); }

corio::task<http::response> serve_file(download_server& server, http::request& req) {
    const int now = ++server.in_flight;
    int most = server.most_in_flight.load();
    while (now > most && !server.most_in_flight.compare_exchange_weak(most, now)) {
    }
    if (now == download_count) server.all_arrived.set();
    try {
        co_await corio::wait_for(wait_until_set(server.all_arrived), 5s);
    } catch (const corio::timeout_error&) {
        // The downloads did not overlap; answer anyway, the count tells.
    }
    --server.in_flight;
    http::response resp;
    resp.text = "contents of " + req.match_info().at("name") + "\n";
    co_return resp;
}

// The blocking function: one HTTP/1.0 GET over a synchronous socket; the
// body, or an exception for anything but 200.
std::string blocking_download(const std::string& host, const std::string& port, const std::string& path) {
    asio::ip::tcp::iostream stream(host, port);
    if (!stream) throw std::runtime_error("connect to " + host + ":" + port + ": " + stream.error().message());
    stream << "GET " << path << " HTTP/1.0\r\nHost: " << host << "\r\nConnection: close\r\n\r\n" << std::flush;
    std::string version;
    int status = 0;
    stream >> version >> status;
    if (status != 200) throw std::runtime_error("GET " + path + ": status " + std::to_string(status));
    std::string response((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
    const std::size_t body = response.find("\r\n\r\n");
    if (body == std::string::npos) throw std::runtime_error("GET " + path + ": no end of headers");
    return response.substr(body + 4);
}

corio::task<void> amain() {
    download_server server;
    http::application app;
    app.router().get("/files/{name}", [&server](http::request& req) { return serve_file(server, req); });
    http::app_runner runner(app);
    http::tcp_site site(runner, "127.0.0.1", 0);
    co_await site.start();

    corio::event_loop& loop = corio::get_running_loop();
    const std::string port = std::to_string(site.port());
    std::vector<corio::future<std::string>> futures;
    for (const char* name : {"a.txt", "b.txt", "c.txt"})
        futures.push_back(loop.run_in_executor(nullptr, blocking_download, "127.0.0.1", port, std::string("/files/") + name));
    for (auto& f : futures) std::printf("%s", (co_await f).c_str());
    std::printf("most downloads in flight at once: %d\n", server.most_in_flight.load());

    co_await runner.cleanup();
}

int main() { corio::run(amain()); }
