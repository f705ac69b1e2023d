// crawler: a rate-limited crawler over a local site. The site is a corio
// stream server in the same program that answers "GET <path>" with the
// page's links on one line; the crawler follows every link once, fetching
// at most 3 pages at a time (an asyncio.Semaphore(3) around each fetch),
// on a 4-worker runtime. It prints the pages in order and checks the limit.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <corio/corio.hpp>

using namespace std::chrono_literals;

/// The site: page -> links. 40 pages, each linking to a few others.
std::map<std::string, std::vector<std::string>> make_site() {
    std::map<std::string, std::vector<std::string>> site;
    for (int i = 0; i < 40; ++i)
        site["/p" + std::to_string(i)] = {"/p" + std::to_string((i * 3 + 1) % 40), "/p" + std::to_string((i * 7 + 2) % 40)};
    return site;
}

corio::task<void> serve_page(const std::map<std::string, std::vector<std::string>>& site, corio::stream_reader reader,
                             corio::stream_writer writer) {
    std::string request = co_await reader.readline();  // "GET /pN\n"
    const std::string path = request.substr(4, request.size() - 5);
    co_await corio::sleep(2ms);  // a slow server: fetches overlap
    std::string links;
    if (auto it = site.find(path); it != site.end())
        for (const auto& l : it->second) links += l + " ";
    writer.write(links + "\n");
    writer.close();
}

struct crawler {
    explicit crawler(unsigned short site_port) : port(site_port) {}

    unsigned short port;
    corio::semaphore limit{3};
    std::atomic<int> in_flight{0}, most_in_flight{0};
    std::mutex mutex;
    std::set<std::string> seen;

    corio::task<std::vector<std::string>> fetch(std::string path) {
        auto permit = co_await limit.scoped();  // async with semaphore:
        const int now = ++in_flight;
        for (int m = most_in_flight; now > m && !most_in_flight.compare_exchange_weak(m, now);) {
        }
        auto [reader, writer] = co_await corio::open_connection("127.0.0.1", port);
        writer.write("GET " + path + "\n");
        std::istringstream links(co_await reader.readline());
        --in_flight;
        std::vector<std::string> out;
        for (std::string l; links >> l;) out.push_back(l);
        co_return out;
    }

    corio::task<void> crawl(std::string path) {
        std::vector<std::string> links = co_await fetch(path);
        std::vector<corio::task_handle<void>> children;
        for (const std::string& l : links) {
            bool fresh;
            {
                std::lock_guard lock(mutex);
                fresh = seen.insert(l).second;
            }
            if (fresh) children.push_back(corio::create_task(crawl(l)));
        }
        for (auto& c : children) co_await c;
    }
};

corio::task<void> amain() {
    const auto site = make_site();
    corio::server server = co_await corio::start_server(
        [&site](corio::stream_reader r, corio::stream_writer w) { return serve_page(site, r, w); }, "127.0.0.1", 0);
    crawler c(server.port());
    c.seen.insert("/p0");
    co_await c.crawl("/p0");
    std::printf("crawled %zu pages:", c.seen.size());
    std::vector<int> numbers;
    for (const auto& p : c.seen) numbers.push_back(std::stoi(p.substr(2)));
    std::sort(numbers.begin(), numbers.end());
    for (int n : numbers) std::printf(" %d", n);
    std::printf("\nnever more than 3 fetches at once: %s\n", c.most_in_flight <= 3 ? "yes" : "NO");
    server.close();
    co_await server.wait_closed();
}

int main() { corio::run(amain(), corio::run_options{.workers = 4}); }
