// corio-bench --report DIR: report.md (the machine, a table of corio's
// results beside every --compare peer with corio/peer ratios) and the SVG
// charts it links: one bar chart per workload, and a scaling chart per
// workload run at more than one worker count.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "tsv.hpp"

namespace corio_bench {

/// One workload at one worker count, as corio-bench measured it.
struct corio_run {
    std::string workload;
    std::size_t workers = 0;
    std::string metric;
    std::vector<double> reps;  // in the order they ran
};

/// The rows of one --compare file.
struct compared_file {
    std::string path;
    std::vector<result_row> rows;
};

struct report_input {
    std::vector<corio_run> corio;
    std::vector<compared_file> compared;
    std::string command_line;
    std::string started_at;       // utc_now() when the runs began
    std::string load_at_start;    // load_average() then
    std::vector<std::string> notes;  // --note, each a paragraph of its own
};

/// The middle value (the mean of the two middle ones for an even count); 0 for none.
double median(std::vector<double> values);

/// "2026-11-22 11:50 UTC".
std::string utc_now();

/// The 1, 5 and 15 minute load averages, "2.21 1.79 1.73".
std::string load_average();

/// Writes DIR/report.md and DIR/*.svg (DIR must exist). Throws
/// std::runtime_error when a file cannot be written.
void write_report(const std::filesystem::path& dir, const report_input& input);

}  // namespace corio_bench
