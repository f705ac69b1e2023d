// corio-bench: the scheduler workloads of ../shared/peers/WORKLOADS.md on
// corio, printed in the peers' TSV format so corio can be compared side by
// side with Tokio, Go and oneTBB.
//
//   corio-bench [--workers N] [--reps R] [--only a,b] [--table]
//
// stdout: only `corio<TAB>workload<TAB>workers<TAB>metric<TAB>median` lines
// (metric wall_ms, or us_per_op for blocking_rt).
// stderr: one progress line per workload (each repetition's value) and,
// with --table, an aligned summary at the end.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "workloads.hpp"

namespace {

using corio_bench::check_failed;

struct workload {
    const char* name;
    double (*run_once)(corio::runtime&);
    const char* metric = "wall_ms";  // what run_once returns (WORKLOADS.md)
    /// Why it cannot run on this machine (nullptr: it can); it is then skipped.
    const char* (*unavailable)() = nullptr;
};

const char* echo_unavailable() {
    return corio_bench::echo_client_path().empty()
               ? "no echo client built (run ../shared/peers/run --only echo asio once, or set CORIO_ECHO_CLIENT)"
               : nullptr;
}

const char* http_unavailable() { return corio_bench::wrk_available() ? nullptr : "wrk is not installed (apt-get install wrk)"; }

// WORKLOADS.md order.
constexpr workload all_workloads[] = {
    {"spawn_join", corio_bench::spawn_join},   {"spawn_remote", corio_bench::spawn_remote},
    {"fib", corio_bench::fib},                 {"skynet", corio_bench::skynet},
    {"ping_pong", corio_bench::ping_pong},     {"yield_many", corio_bench::yield_many},
    {"chained_spawn", corio_bench::chained_spawn}, {"sleep_many", corio_bench::sleep_many},
    {"blocking_rt", corio_bench::blocking_rt, "us_per_op"},
    {"echo", corio_bench::echo, "msgs_per_s", echo_unavailable},
    {"http", corio_bench::http_hello, "req_per_s", http_unavailable},
};

const workload* find_workload(std::string_view name) {
    for (const auto& w : all_workloads)
        if (name == w.name) return &w;
    return nullptr;
}

struct options {
    std::size_t workers = 0;
    int reps = 5;
    std::vector<const workload*> selected;
    bool table = false;
};

void print_usage(std::FILE* to) {
    std::fputs("usage: corio-bench [--workers N] [--reps R] [--only a,b] [--table]\n"
               "workloads:",
               to);
    for (const auto& w : all_workloads) std::fprintf(to, " %s", w.name);
    std::fputs("\n", to);
}

[[noreturn]] void usage_error(const std::string& message) {
    std::fprintf(stderr, "corio-bench: %s\n", message.c_str());
    print_usage(stderr);
    std::exit(2);
}

long parse_positive(const char* flag, const char* text) {
    errno = 0;
    char* end = nullptr;
    const long v = std::strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 1 || v > 1'000'000)
        usage_error(std::string(flag) + " wants a positive integer, not '" + text + "'");
    return v;
}

options parse_args(int argc, char** argv) {
    options o;
    const unsigned hw = std::thread::hardware_concurrency();
    o.workers = hw ? hw : 1;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage_error(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (arg == "--workers") {
            o.workers = static_cast<std::size_t>(parse_positive("--workers", value()));
        } else if (arg == "--reps") {
            o.reps = static_cast<int>(parse_positive("--reps", value()));
        } else if (arg == "--only") {
            std::string_view list = value();
            while (true) {
                const std::size_t comma = list.find(',');
                const std::string_view name = list.substr(0, comma);
                const workload* w = find_workload(name);
                if (!w) usage_error("unknown workload '" + std::string(name) + "'");
                if (std::find(o.selected.begin(), o.selected.end(), w) == o.selected.end()) o.selected.push_back(w);
                if (comma == std::string_view::npos) break;
                list.remove_prefix(comma + 1);
            }
        } else if (arg == "--table") {
            o.table = true;
        } else if (arg == "-h" || arg == "--help") {
            print_usage(stdout);
            std::exit(0);
        } else {
            usage_error("unknown argument '" + std::string(arg) + "'");
        }
    }
    if (o.selected.empty())
        for (const auto& w : all_workloads) o.selected.push_back(&w);
    return o;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct result {
    const workload* w;
    std::vector<double> reps;
    double median;
};

/// One runtime per workload, built and shut down outside the timed region;
/// one warm-up, then `reps` timed repetitions on it.
result run_workload(const workload& w, const options& o) {
    corio::runtime rt({.workers = o.workers});
    std::fprintf(stderr, "corio %s w=%zu:", w.name, o.workers);
    std::fprintf(stderr, " warm-up %.3f |", w.run_once(rt));
    std::vector<double> reps;
    for (int r = 0; r < o.reps; ++r) {
        reps.push_back(w.run_once(rt));
        std::fprintf(stderr, " %.3f", reps.back());
    }
    const double med = median(reps);
    std::fprintf(stderr, " -> median %.3f %s\n", med, w.metric);
    return {&w, std::move(reps), med};
}

void print_table(const std::vector<result>& results, std::size_t workers) {
    std::fprintf(stderr, "\n%-14s %7s %12s %12s %12s %10s\n", "workload", "workers", "median", "min", "max", "metric");
    for (const auto& r : results) {
        const auto [lo, hi] = std::minmax_element(r.reps.begin(), r.reps.end());
        std::fprintf(stderr, "%-14s %7zu %12.3f %12.3f %12.3f %10s\n", r.w->name, workers, r.median, *lo, *hi, r.w->metric);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse_args(argc, argv);
    std::vector<result> results;
    for (const workload* w : o.selected) {
        if (const char* why = w->unavailable ? w->unavailable() : nullptr) {
            std::fprintf(stderr, "corio %s: skipped: %s\n", w->name, why);
            continue;
        }
        try {
            results.push_back(run_workload(*w, o));
        } catch (const check_failed& e) {
            std::fprintf(stderr, "\ncorio-bench: check failed: %s\n", e.what());
            return 1;
        } catch (const std::exception& e) {
            std::fprintf(stderr, "\ncorio-bench: %s failed: %s\n", w->name, e.what());
            return 1;
        }
        std::printf("corio\t%s\t%zu\t%s\t%.3f\n", w->name, o.workers, w->metric, results.back().median);
        std::fflush(stdout);
    }
    if (o.table) print_table(results, o.workers);
    return 0;
}
