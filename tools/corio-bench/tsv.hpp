// The result line format of ../shared/peers/WORKLOADS.md,
//   runtime <TAB> workload <TAB> workers <TAB> metric <TAB> value
// which corio-bench prints on stdout and the peers' runner prints too;
// --compare reads such files back so a report can set corio beside a peer.
#pragma once

#include <cstddef>
#include <istream>
#include <stdexcept>
#include <string>
#include <vector>

namespace corio_bench {

struct result_row {
    std::string runtime;   // corio, tokio, go, tbb, ...
    std::string workload;  // fib, skynet, ...
    std::size_t workers = 0;
    std::string metric;    // wall_ms, us_per_op, msgs_per_s, wall_ms_n10, ...
    double value = 0;      // the median of the runtime's repetitions
};

/// A --compare file that cannot be read or has a malformed line; what()
/// starts with "<file>:<line>: " so the user can go straight to it.
struct tsv_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// One line, newline included, with the value to three decimals (as the
/// peers print it).
std::string format_row(const result_row& row);

/// Every row of `in`; blank lines are skipped, anything else must be a row.
/// `source` names the input in error messages.
std::vector<result_row> parse_rows(std::istream& in, const std::string& source);

/// parse_rows on the file at `path`; a missing or unreadable file is a tsv_error.
std::vector<result_row> read_rows(const std::string& path);

}  // namespace corio_bench
