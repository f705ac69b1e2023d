// Tracing (run_options::trace, CORIO_TRACE): a runtime writes a Chrome
// trace-event JSON file at shutdown whose tracks, slices, spawns and steal
// flows match what the test made it do; tools/corio-trace renders it.
#include "corio/runtime.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "corio/create_task.hpp"
#include "corio/metrics.hpp"
#include "corio/task_handle.hpp"

using namespace std::chrono_literals;

namespace {

constexpr int leaves = 300;

/// A path in the temporary directory, removed when the test ends.
class temp_file {
public:
    explicit temp_file(const std::string& suffix)
        : path_(std::filesystem::temp_directory_path() /
                ("corio-trace-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++) + suffix)) {}
    ~temp_file() { std::filesystem::remove(path_); }
    temp_file(const temp_file&) = delete;
    temp_file& operator=(const temp_file&) = delete;
    std::string str() const { return path_.string(); }

private:
    static inline int counter_ = 0;
    std::filesystem::path path_;
};

std::string read_all(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

corio::task<int> leaf(std::atomic<int>& ran) {
    // A few microseconds of work, so the timeline has slices to show.
    const auto until = std::chrono::steady_clock::now() + 5us;
    while (std::chrono::steady_clock::now() < until) {
    }
    ran.fetch_add(1, std::memory_order_relaxed);
    co_return 1;
}

/// Spawns `leaves` tasks named "leaf" and awaits them. The first two are
/// spawned while this task keeps its worker busy until one of them has run:
/// the other worker can only have reached it by stealing, so the trace is
/// sure to hold a steal.
corio::task<int> fan_out() {
    std::atomic<int> ran{0};
    corio::task_options leaf_options;
    leaf_options.name = "leaf";
    std::vector<corio::task_handle<int>> children;
    for (int i = 0; i < 2; ++i) children.push_back(corio::create_task(leaf(ran), leaf_options));
    const auto deadline = std::chrono::steady_clock::now() + 30s;  // fail, not hang, if broken
    while (ran.load(std::memory_order_relaxed) == 0)
        if (std::chrono::steady_clock::now() > deadline) co_return -1;
    for (int i = 2; i < leaves; ++i) children.push_back(corio::create_task(leaf(ran), leaf_options));
    int sum = 0;
    for (auto& c : children) sum += co_await c;
    co_return sum;
}

corio::task<int> fan_out_named_main(corio::runtime& rt) {
    corio::task_options options;
    options.name = "fan_out";
    co_return co_await rt.create_task(fan_out(), options);
}

/// What a trace file holds, gathered for the checks.
struct trace_digest {
    std::map<int, std::string> thread_names;  // tid -> name
    std::map<std::string, int> completed_polls;
    int polls = 0, negative_durations = 0;
    std::map<std::string, int> spawns;  // by task name
    std::map<std::uint64_t, int> flow_start_tid, flow_end_tid;
    nlohmann::json other;
};

trace_digest digest(const std::string& path) {
    const nlohmann::json trace = nlohmann::json::parse(read_all(path));  // throws if not valid JSON
    trace_digest d;
    d.other = trace.at("otherData");
    for (const auto& e : trace.at("traceEvents")) {
        const auto ph = e.at("ph").get<std::string>();
        const auto name = e.at("name").get<std::string>();
        if (ph == "M" && name == "thread_name") {
            const int tid = e.at("tid").get<int>();
            REQUIRE(d.thread_names.count(tid) == 0);
            d.thread_names[tid] = e.at("args").at("name").get<std::string>();
        } else if (ph == "X" && e.at("cat") == "task") {
            ++d.polls;
            if (e.at("args").at("result") == "completed") ++d.completed_polls[name];
            if (e.at("dur").get<double>() < 0) ++d.negative_durations;
        } else if (ph == "X") {
            if (e.at("dur").get<double>() < 0) ++d.negative_durations;
        } else if (ph == "i" && name == "spawn") {
            ++d.spawns[e.at("args").at("task").get<std::string>()];
        } else if (ph == "s") {
            d.flow_start_tid[e.at("id").get<std::uint64_t>()] = e.at("tid").get<int>();
        } else if (ph == "f") {
            d.flow_end_tid[e.at("id").get<std::uint64_t>()] = e.at("tid").get<int>();
        }
    }
    return d;
}

std::uint64_t total(const corio::runtime_metrics& m, std::uint64_t corio::worker_metrics::*field) {
    std::uint64_t sum = 0;
    for (const auto& w : m.workers) sum += w.*field;
    return sum;
}

}  // namespace

TEST_CASE("a traced runtime writes worker tracks, task slices, spawns and steal flows", "[trace]") {
    temp_file file(".json");
    corio::runtime rt({.workers = 2, .trace = file.str()});
    REQUIRE(rt.run_until_complete(fan_out_named_main(rt)) == leaves);
    rt.shutdown();  // writes the file
    const corio::runtime_metrics m = rt.metrics();

    const trace_digest d = digest(file.str());
    REQUIRE(d.other.at("overwritten") == nlohmann::json::array({0, 0}));  // small enough to keep every event
    REQUIRE(d.thread_names == std::map<int, std::string>{{1, "worker 0"}, {2, "worker 1"}});

    // Each leaf ran once to completion; so did its parent.
    CHECK(d.completed_polls.at("leaf") == leaves);
    CHECK(d.completed_polls.at("fan_out") == 1);
    CHECK(static_cast<std::uint64_t>(d.polls) == total(m, &corio::worker_metrics::polls));
    CHECK(d.negative_durations == 0);

    // Every spawn made on a worker (the main task came from this thread).
    CHECK(d.spawns.at("leaf") == leaves);
    CHECK(static_cast<std::uint64_t>(d.spawns.at("leaf") + d.spawns.at("fan_out")) ==
          total(m, &corio::worker_metrics::spawned));

    // One flow per successful steal, from the victim's track to the thief's.
    CHECK(!d.flow_start_tid.empty());
    CHECK(d.flow_start_tid.size() == total(m, &corio::worker_metrics::steal_successes));
    for (const auto& [id, from] : d.flow_start_tid) {
        REQUIRE(d.flow_end_tid.count(id) == 1);
        CHECK(d.flow_end_tid.at(id) != from);
    }
    CHECK(d.flow_end_tid.size() == d.flow_start_tid.size());
}

TEST_CASE("CORIO_TRACE turns tracing on when run_options::trace is empty", "[trace]") {
    temp_file file(".json");
    ::setenv("CORIO_TRACE", file.str().c_str(), 1);
    {
        corio::runtime rt({.workers = 2});
        ::unsetenv("CORIO_TRACE");  // read by the constructor; later runtimes of this process stay untraced
        REQUIRE(rt.run_until_complete(fan_out()) == leaves);
    }
    const trace_digest d = digest(file.str());
    CHECK(d.thread_names.size() == 2);
    CHECK(d.completed_polls.at("leaf") == leaves);
    CHECK(d.spawns.at("leaf") == leaves);
}

TEST_CASE("corio-trace renders a trace as a well-formed SVG with a lane per worker, and a summary", "[trace]") {
    temp_file trace(".json"), svg(".svg"), summary(".txt");
    {
        corio::runtime rt({.workers = 2, .trace = trace.str()});
        REQUIRE(rt.run_until_complete(fan_out()) == leaves);
    }
    const std::string tool = CORIO_SOURCE_DIR "/tools/corio-trace/corio-trace";
    const std::string render = "python3 '" + tool + "' '" + trace.str() + "' --top 1000 --svg '" + svg.str() +
                               "' > '" + summary.str() + "'";
    REQUIRE(std::system(render.c_str()) == 0);
    // Python's XML parser rejects a file that is not well-formed; the lanes
    // are the <g class="lane"> elements.
    const std::string count_lanes =
        "python3 -c 'import sys, xml.dom.minidom as m; "
        "lanes = [g for g in m.parse(sys.argv[1]).getElementsByTagName(\"g\") if g.getAttribute(\"class\") == \"lane\"]; "
        "sys.exit(0 if [g.getAttribute(\"data-worker\") for g in lanes] == [\"worker 0\", \"worker 1\"] else 1)' '" +
        svg.str() + "'";
    CHECK(std::system(count_lanes.c_str()) == 0);
    const std::string text = read_all(summary.str());
    CHECK(text.find("worker 0") != std::string::npos);
    CHECK(text.find("worker 1") != std::string::npos);
    CHECK(text.find("leaf") != std::string::npos);  // in the list of the longest polls, which here lists all
}
