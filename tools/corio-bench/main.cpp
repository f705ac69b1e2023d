// corio-bench: the scheduler workloads of ../shared/peers/WORKLOADS.md on
// corio, printed in the peers' TSV format so corio can be compared side by
// side with Tokio, Go and oneTBB.
//
//   corio-bench [--workers N[,N...]] [--reps R] [--only a,b] [--table]
//               [--report DIR [--compare peers.tsv]... [--note TEXT]...]
//
// stdout: only `corio<TAB>workload<TAB>workers<TAB>metric<TAB>median` lines
// (metric wall_ms, or us_per_op for blocking_rt), one per workload and
// worker count. stderr: progress (progress.hpp) and, with --table, an
// aligned summary at the end. --report DIR writes DIR/report.md and its SVG
// charts (report.hpp), setting corio beside the rows of the --compare files.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include "progress.hpp"
#include "report.hpp"
#include "tsv.hpp"
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
    std::vector<std::size_t> worker_counts;  // each workload runs at each, in this order
    int reps = 5;
    std::vector<const workload*> selected;
    bool table = false;
    std::optional<std::filesystem::path> report_dir;
    std::vector<std::string> compare_paths;
    std::vector<std::string> notes;
};

void print_usage(std::FILE* to) {
    std::fputs("usage: corio-bench [--workers N[,N...]] [--reps R] [--only a,b] [--table]\n"
               "                   [--report DIR [--compare peers.tsv]... [--note TEXT]...]\n"
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

/// The value of `text` if it is a whole number from 1 to 1,000,000.
std::optional<long> to_positive(const std::string& text) {
    errno = 0;
    char* end = nullptr;
    const long v = std::strtol(text.c_str(), &end, 10);
    if (errno != 0 || end == text.c_str() || *end != '\0' || v < 1 || v > 1'000'000) return std::nullopt;
    return v;
}

long parse_positive(const char* flag, const char* text) {
    const std::optional<long> v = to_positive(text);
    if (!v) usage_error(std::string(flag) + " wants a positive integer, not '" + text + "'");
    return *v;
}

/// "a,b,c" -> {"a", "b", "c"}; empty items are kept so that callers reject them.
std::vector<std::string> split_commas(std::string_view list) {
    std::vector<std::string> items;
    while (true) {
        const std::size_t comma = list.find(',');
        items.emplace_back(list.substr(0, comma));
        if (comma == std::string_view::npos) return items;
        list.remove_prefix(comma + 1);
    }
}

/// "1,2,4": each a positive integer, none twice.
std::vector<std::size_t> parse_worker_counts(const char* text) {
    std::vector<std::size_t> counts;
    for (const std::string& item : split_commas(text)) {
        const std::optional<long> count = to_positive(item);
        if (!count)
            usage_error(std::string("--workers wants positive integers separated by commas; '") + item + "' in '" +
                        text + "' is not one");
        const auto workers = static_cast<std::size_t>(*count);
        if (std::find(counts.begin(), counts.end(), workers) != counts.end())
            usage_error("--workers lists " + item + " twice in '" + text + "'");
        counts.push_back(workers);
    }
    return counts;
}

options parse_args(int argc, char** argv) {
    options o;
    const unsigned hw = std::thread::hardware_concurrency();
    o.worker_counts = {hw ? hw : 1};
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage_error(std::string(arg) + " needs a value");
            return argv[++i];
        };
        if (arg == "--workers") {
            o.worker_counts = parse_worker_counts(value());
        } else if (arg == "--reps") {
            o.reps = static_cast<int>(parse_positive("--reps", value()));
        } else if (arg == "--only") {
            for (const std::string& name : split_commas(value())) {
                const workload* w = find_workload(name);
                if (!w) usage_error("unknown workload '" + name + "'");
                if (std::find(o.selected.begin(), o.selected.end(), w) == o.selected.end()) o.selected.push_back(w);
            }
        } else if (arg == "--table") {
            o.table = true;
        } else if (arg == "--report") {
            o.report_dir = value();
        } else if (arg == "--compare") {
            o.compare_paths.emplace_back(value());
        } else if (arg == "--note") {
            o.notes.emplace_back(value());
        } else if (arg == "-h" || arg == "--help") {
            print_usage(stdout);
            std::exit(0);
        } else {
            usage_error("unknown argument '" + std::string(arg) + "'");
        }
    }
    if (o.selected.empty())
        for (const auto& w : all_workloads) o.selected.push_back(&w);
    if (!o.report_dir && !o.compare_paths.empty()) usage_error("--compare goes with --report");
    if (!o.report_dir && !o.notes.empty()) usage_error("--note goes with --report");
    return o;
}

/// One runtime per (workload, workers), built and shut down outside the
/// timed region; one warm-up, then `reps` timed repetitions on it.
corio_bench::corio_run run_workload(const workload& w, std::size_t workers, int reps,
                                    corio_bench::progress& progress) {
    corio::runtime rt({.workers = workers});
    progress.start_run(w.name, workers);
    progress.warm_up_done(w.run_once(rt));
    corio_bench::corio_run run{w.name, workers, w.metric, {}};
    for (int r = 0; r < reps; ++r) {
        progress.rep_started(r);
        run.reps.push_back(w.run_once(rt));
        progress.rep_done(run.reps.back());
    }
    progress.run_done(corio_bench::median(run.reps), w.metric);
    return run;
}

void print_table(const std::vector<corio_bench::corio_run>& runs) {
    std::fprintf(stderr, "\n%-14s %7s %12s %12s %12s %10s\n", "workload", "workers", "median", "min", "max", "metric");
    for (const auto& run : runs) {
        const auto [lo, hi] = std::minmax_element(run.reps.begin(), run.reps.end());
        std::fprintf(stderr, "%-14s %7zu %12.3f %12.3f %12.3f %10s\n", run.workload.c_str(), run.workers,
                     corio_bench::median(run.reps), *lo, *hi, run.metric.c_str());
    }
}

/// Reads the --compare files and makes the report folder before anything
/// runs, so that a typo costs no benchmark time; exits 2 on an error.
corio_bench::report_input prepare_report(const options& o, int argc, char** argv) {
    corio_bench::report_input input;
    for (const std::string& path : o.compare_paths) {
        try {
            input.compared.push_back({path, corio_bench::read_rows(path)});
        } catch (const corio_bench::tsv_error& e) {
            std::fprintf(stderr, "corio-bench: --compare %s\n", e.what());
            std::exit(2);
        }
    }
    std::error_code error;
    std::filesystem::create_directories(*o.report_dir, error);
    if (error) {
        std::fprintf(stderr, "corio-bench: --report %s: %s\n", o.report_dir->c_str(), error.message().c_str());
        std::exit(2);
    }
    // The notes appear in full below the command line, so it leaves them out.
    input.command_line = "corio-bench";
    for (int i = 1; i < argc; ++i) {
        if (std::string_view(argv[i]) == "--note") {
            ++i;
            continue;
        }
        input.command_line += std::string(" ") + argv[i];
    }
    input.notes = o.notes;
    input.started_at = corio_bench::utc_now();
    input.load_at_start = corio_bench::load_average();
    return input;
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse_args(argc, argv);
    std::optional<corio_bench::report_input> report;
    if (o.report_dir) report = prepare_report(o, argc, argv);

    std::vector<const workload*> runnable;
    for (const workload* w : o.selected) {
        if (const char* why = w->unavailable ? w->unavailable() : nullptr) {
            std::fprintf(stderr, "corio %s: skipped: %s\n", w->name, why);
        } else {
            runnable.push_back(w);
        }
    }
    corio_bench::progress progress(runnable.size() * o.worker_counts.size(), o.reps, isatty(STDERR_FILENO) == 1);
    std::vector<corio_bench::corio_run> runs;
    for (const workload* w : runnable) {
        for (const std::size_t workers : o.worker_counts) {
            try {
                runs.push_back(run_workload(*w, workers, o.reps, progress));
            } catch (const check_failed& e) {
                progress.note(std::string("corio-bench: check failed: ") + e.what());
                return 1;
            } catch (const std::exception& e) {
                progress.note(std::string("corio-bench: ") + w->name + " failed: " + e.what());
                return 1;
            }
            const corio_bench::corio_run& run = runs.back();
            std::fputs(corio_bench::format_row({"corio", run.workload, workers, run.metric, corio_bench::median(run.reps)})
                           .c_str(),
                       stdout);
            std::fflush(stdout);
        }
    }
    if (o.table) print_table(runs);
    if (report) {
        report->corio = std::move(runs);
        try {
            corio_bench::write_report(*o.report_dir, *report);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "corio-bench: --report: %s\n", e.what());
            return 1;
        }
        std::fprintf(stderr, "corio-bench: wrote %s\n", (*o.report_dir / "report.md").c_str());
    }
    return 0;
}
