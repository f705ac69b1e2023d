// See report.hpp. The rows of every --compare file are matched to corio's
// runs by workload, worker count and metric; rows that cannot be matched
// (a workload corio did not run, a scaled-down Python metric) are listed at
// the end of the report rather than dropped silently.
#include "report.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "svg_chart.hpp"

namespace corio_bench {

namespace {

/// One workload: every runtime's values at every worker count that any of
/// them ran, all in corio's metric for it.
struct workload_view {
    std::string workload;
    std::string metric;
    std::set<std::size_t> workers;
    // (runtime index, workers) -> values: corio's repetitions, or a peer's
    // medians (one per row; several when several files hold the same run).
    std::map<std::pair<std::size_t, std::size_t>, std::vector<double>> values;

    const std::vector<double>* find(std::size_t runtime, std::size_t worker_count) const {
        const auto it = values.find({runtime, worker_count});
        return it == values.end() ? nullptr : &it->second;
    }
};

constexpr std::size_t corio_index = 0;

/// For metrics like msgs_per_s a larger value is better; for times, smaller.
bool higher_is_better(const std::string& metric) {
    return metric.ends_with("_per_s");
}

/// Whether corio did at least as well as the peer, given ratio = corio / peer.
bool corio_as_good(double ratio, const std::string& metric) {
    return higher_is_better(metric) ? ratio >= 1 : ratio <= 1;
}

std::string format_value(double v) {
    char text[32];
    std::snprintf(text, sizeof text, v >= 1000 ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
    return text;
}

std::string format_ratio(double ratio) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", ratio);
    return text;
}

std::string workers_text(std::size_t n) { return std::to_string(n) + (n == 1 ? " worker" : " workers"); }

std::string metric_direction(const std::string& metric) {
    return metric + (higher_is_better(metric) ? " (higher is better)" : " (lower is better)");
}

std::string machine_description() {
    std::string cpu = "unknown CPU";
    std::ifstream cpuinfo("/proc/cpuinfo");
    for (std::string line; std::getline(cpuinfo, line);) {
        if (line.starts_with("model name") && line.find(':') != std::string::npos) {
            cpu = line.substr(line.find(':') + 2);
            break;
        }
    }
    std::string text = cpu + ", " + std::to_string(std::thread::hardware_concurrency()) + " logical CPUs";
    utsname system{};
    if (uname(&system) == 0) text += std::string(", ") + system.sysname + ' ' + system.release + ' ' + system.machine;
    return text;
}

struct comparison {
    std::vector<std::string> runtimes;  // corio first, then peers in order of their first matched row
    std::vector<workload_view> workloads;
    // "tokio: corio did not run this workload" -> {"echo w=2", ...}
    std::map<std::string, std::vector<std::string>> not_compared;
};

comparison match_rows(const report_input& input) {
    comparison c;
    c.runtimes.push_back("corio");
    for (const corio_run& run : input.corio) {
        auto view = std::find_if(c.workloads.begin(), c.workloads.end(),
                                 [&](const workload_view& v) { return v.workload == run.workload; });
        if (view == c.workloads.end()) view = c.workloads.insert(c.workloads.end(), {run.workload, run.metric, {}, {}});
        view->workers.insert(run.workers);
        view->values[{corio_index, run.workers}] = run.reps;
    }
    for (const compared_file& file : input.compared) {
        for (const result_row& row : file.rows) {
            // A corio row in a compared file is an earlier corio (a baseline), not this run.
            const std::string name =
                row.runtime == "corio" ? "corio (" + std::filesystem::path(file.path).stem().string() + ")" : row.runtime;
            const auto view = std::find_if(c.workloads.begin(), c.workloads.end(),
                                           [&](const workload_view& v) { return v.workload == row.workload; });
            const std::string run_name = row.workload + " w=" + std::to_string(row.workers);
            if (view == c.workloads.end()) {
                c.not_compared[name + ": corio did not run this workload"].push_back(run_name);
            } else if (view->metric != row.metric) {
                c.not_compared[name + ": metric " + row.metric + ", corio's is " + view->metric].push_back(run_name);
            } else {
                // A runtime gets a column (and a colour) only once a row of it matches.
                const auto known = std::find(c.runtimes.begin(), c.runtimes.end(), name);
                const auto runtime = static_cast<std::size_t>(known - c.runtimes.begin());
                if (known == c.runtimes.end()) c.runtimes.push_back(name);
                view->workers.insert(row.workers);
                view->values[{runtime, row.workers}].push_back(row.value);
            }
        }
    }
    return c;
}

void write_file(const std::filesystem::path& path, const std::string& content) {
    std::ofstream out(path, std::ios::binary);
    out << content;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::optional<double> ratio_to_corio(const workload_view& view, std::size_t peer, std::size_t workers) {
    const std::vector<double>* corio = view.find(corio_index, workers);
    const std::vector<double>* other = view.find(peer, workers);
    if (!corio || !other) return std::nullopt;
    const double peer_median = median(*other);
    if (peer_median == 0) return std::nullopt;
    return median(*corio) / peer_median;
}

svg::bar_chart bar_chart_of(const workload_view& view, const std::vector<std::string>& runtimes) {
    svg::bar_chart chart{view.workload + ": corio and peers", metric_direction(view.metric), runtimes, {}};
    for (const std::size_t workers : view.workers) {
        svg::bar_group group{workers_text(workers), {}};
        for (std::size_t r = 0; r < runtimes.size(); ++r) {
            const std::vector<double>* values = view.find(r, workers);
            if (!values) {
                group.bars.emplace_back();
                continue;
            }
            const auto [low, high] = std::minmax_element(values->begin(), values->end());
            svg::bar b{median(*values), *low, *high, format_value(median(*values)), svg::tone::neutral,
                       runtimes[r] + ' ' + view.workload + ", " + workers_text(workers) + ": " +
                           format_value(median(*values)) + ' ' + view.metric};
            if (const auto ratio = ratio_to_corio(view, r, workers); ratio && r != corio_index) {
                b.annotation = format_ratio(*ratio) + "x";
                b.annotation_tone = corio_as_good(*ratio, view.metric) ? svg::tone::good : svg::tone::bad;
                b.tooltip += " (corio/" + runtimes[r] + ' ' + format_ratio(*ratio) + ')';
            }
            group.bars.push_back(std::move(b));
        }
        chart.groups.push_back(std::move(group));
    }
    return chart;
}

svg::line_chart scaling_chart_of(const workload_view& view, const std::vector<std::string>& runtimes) {
    svg::line_chart chart{view.workload + ": scaling with workers", "workers", metric_direction(view.metric), {}};
    for (std::size_t r = 0; r < runtimes.size(); ++r) {
        svg::line_series series{runtimes[r], {}};
        for (const std::size_t workers : view.workers)
            if (const std::vector<double>* values = view.find(r, workers))
                series.points.emplace_back(static_cast<double>(workers), median(*values));
        chart.series.push_back(std::move(series));
    }
    return chart;
}

/// "90.1, 92.3, 91.0"; many repetitions shrink to "min 90.1, max 92.3".
std::string repetitions_text(const std::vector<double>& reps) {
    constexpr std::size_t listed_at_most = 9;
    if (reps.size() > listed_at_most) {
        const auto [low, high] = std::minmax_element(reps.begin(), reps.end());
        return "min " + format_value(*low) + ", max " + format_value(*high);
    }
    std::string text;
    for (const double v : reps) text += (text.empty() ? "" : ", ") + format_value(v);
    return text;
}

std::string results_table(const comparison& c) {
    std::string header = "| workload | workers | metric | corio | corio reps |";
    std::string rule = "|---|---:|---|---:|---|";
    for (std::size_t r = 1; r < c.runtimes.size(); ++r) {
        header += ' ' + c.runtimes[r] + " | corio/" + c.runtimes[r] + " |";
        rule += "---:|---:|";
    }
    std::string table = header + '\n' + rule + '\n';
    for (const workload_view& view : c.workloads) {
        for (const std::size_t workers : view.workers) {
            const std::vector<double>* corio = view.find(corio_index, workers);
            table += "| " + view.workload + " | " + std::to_string(workers) + " | " + view.metric + " | " +
                     (corio ? format_value(median(*corio)) + " | " + repetitions_text(*corio) : "– | –") + " |";
            for (std::size_t r = 1; r < c.runtimes.size(); ++r) {
                const std::vector<double>* peer = view.find(r, workers);
                table += ' ' + (peer ? format_value(median(*peer)) : "–") + " | ";
                if (const auto ratio = ratio_to_corio(view, r, workers))
                    table += (corio_as_good(*ratio, view.metric) ? "🟢 " : "🔴 ") + format_ratio(*ratio);
                else
                    table += "–";
                table += " |";
            }
            table += '\n';
        }
    }
    return table;
}

}  // namespace

double median(std::vector<double> values) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm parts{};
    gmtime_r(&now, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &parts);
    return text;
}

std::string load_average() {
    double load[3];
    if (getloadavg(load, 3) != 3) return "unknown";
    char text[64];
    std::snprintf(text, sizeof text, "%.2f %.2f %.2f", load[0], load[1], load[2]);
    return text;
}

void write_report(const std::filesystem::path& dir, const report_input& input) {
    const comparison c = match_rows(input);

    std::string md = "# corio-bench report\n\n";
    md += "- Date: " + input.started_at + "\n";
    md += "- Machine: " + machine_description() + "\n";
    md += "- Load average (1, 5, 15 min): " + input.load_at_start + " when the runs began, " + load_average() +
          " when they ended\n";
    md += "- Command: `" + input.command_line + "`\n";
    for (const compared_file& file : input.compared)
        md += "- Compared with `" + std::filesystem::path(file.path).filename().string() + "` (" +
              std::to_string(file.rows.size()) + " rows)\n";
    for (const std::string& note : input.notes) md += "\n" + note + "\n";
    md += "\ncorio's value is the median of its repetitions (all listed) after one warm-up; a peer's value is the "
          "median its own program printed (if several compared files hold the same run, the median of those). "
          "Ratios are corio/peer on the workload's metric: 🟢 corio as good as the peer or better, 🔴 corio "
          "worse (for `wall_ms` and `us_per_op` lower is better, for `*_per_s` higher). Figures taken at different "
          "times on a shared machine are noisy: trust ratios of runs taken side by side.\n";

    md += "\n## Results\n\n" + results_table(c);

    md += "\n## Charts\n\nBars are medians; whiskers span corio's repetitions (or a peer's values from several "
          "files); the label above a peer's bar is corio/peer, green where corio is as good or better, red where "
          "it is worse.\n";
    for (const workload_view& view : c.workloads) {
        md += "\n### " + view.workload + "\n\n";
        write_file(dir / (view.workload + ".svg"), svg::render(bar_chart_of(view, c.runtimes)));
        md += "![" + view.workload + ": corio and peers](" + view.workload + ".svg)\n";
        if (view.workers.size() > 1) {
            write_file(dir / (view.workload + "-scaling.svg"), svg::render(scaling_chart_of(view, c.runtimes)));
            md += "\n![" + view.workload + ": scaling with workers](" + view.workload + "-scaling.svg)\n";
        }
    }

    if (!c.not_compared.empty()) {
        md += "\n## Not compared\n\nRows of the compared files that have no corio counterpart:\n\n";
        for (const auto& [why, runs] : c.not_compared) {
            md += "- " + why + ": ";
            for (std::size_t i = 0; i < runs.size(); ++i) md += (i ? ", " : "") + runs[i];
            md += "\n";
        }
    }
    write_file(dir / "report.md", md);
}

}  // namespace corio_bench
