// Progress of a corio-bench run on stderr (stdout carries only TSV rows).
// On a terminal: a bar redrawn in place (run i/n, repetition r/R, elapsed),
// with each finished run's line printed above it. Elsewhere (a log file, a
// pipe): the plain line per run that grows as its repetitions finish, with
// no control characters, as before the bar existed.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace corio_bench {

class progress {
public:
    /// `runs`: how many (workload, workers) runs there will be, each one
    /// warm-up and `reps` repetitions. `terminal`: whether stderr is a TTY.
    progress(std::size_t runs, int reps, bool terminal);
    progress(const progress&) = delete;
    progress& operator=(const progress&) = delete;

    void start_run(const std::string& workload, std::size_t workers);
    void warm_up_done(double value);
    /// rep counts from 0.
    void rep_started(int rep);
    void rep_done(double value);
    void run_done(double median, const std::string& metric);
    /// A message on a line of its own (a skipped workload, an error).
    void note(const std::string& message);

private:
    void redraw_bar();
    void clear_bar();
    void write(const std::string& text);

    std::size_t runs_;
    int reps_;
    bool terminal_;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
    std::size_t runs_done_ = 0;
    std::string workload_;
    std::size_t workers_ = 0;
    int rep_ = -1;           // -1: warming up
    bool run_in_progress_ = false;
    std::string run_line_;   // "corio fib w=2: warm-up 91.2 | 90.1 92.3"
    bool bar_shown_ = false;
};

}  // namespace corio_bench
