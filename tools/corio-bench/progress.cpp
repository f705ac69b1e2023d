// See progress.hpp. The bar is one line ending in no newline; "\r\033[K"
// (carriage return, erase to end of line) takes it away before anything
// else is written, so finished runs scroll up and the bar stays last.
#include "progress.hpp"

#include <algorithm>
#include <cstdio>

namespace corio_bench {

namespace {

constexpr int bar_width = 24;

std::string format(const char* pattern, double value) {
    char text[64];
    std::snprintf(text, sizeof text, pattern, value);
    return text;
}

}  // namespace

progress::progress(std::size_t runs, int reps, bool terminal) : runs_(runs), reps_(reps), terminal_(terminal) {}

void progress::start_run(const std::string& workload, std::size_t workers) {
    workload_ = workload;
    workers_ = workers;
    rep_ = -1;
    run_in_progress_ = true;
    run_line_ = "corio " + workload + " w=" + std::to_string(workers) + ":";
    if (terminal_) {
        redraw_bar();
    } else {
        write(run_line_);
    }
}

void progress::warm_up_done(double value) {
    const std::string piece = format(" warm-up %.3f |", value);
    run_line_ += piece;
    if (!terminal_) write(piece);
}

void progress::rep_started(int rep) {
    rep_ = rep;
    if (terminal_) redraw_bar();
}

void progress::rep_done(double value) {
    const std::string piece = format(" %.3f", value);
    run_line_ += piece;
    if (!terminal_) write(piece);
}

void progress::run_done(double median, const std::string& metric) {
    const std::string piece = format(" -> median %.3f ", median) + metric + "\n";
    ++runs_done_;
    run_in_progress_ = false;
    if (!terminal_) {
        write(piece);
        return;
    }
    clear_bar();
    write(run_line_ + piece);
    redraw_bar();
    if (runs_done_ == runs_) {  // the full bar stays as the run's summary
        write("\n");
        bar_shown_ = false;
    }
}

void progress::note(const std::string& message) {
    if (terminal_) {
        // The bar comes back with the next event; a message that ends the
        // program (a failed check) thus leaves no bar behind.
        clear_bar();
        write(message + "\n");
    } else {
        // A message in the middle of a run's line starts a line of its own.
        write((run_in_progress_ ? "\n" : "") + message + "\n");
    }
}

void progress::redraw_bar() {
    const double fraction = runs_ ? static_cast<double>(runs_done_) / static_cast<double>(runs_) : 1;
    const int filled = static_cast<int>(fraction * bar_width);
    std::string bar = "\r\033[K[" + std::string(static_cast<std::size_t>(filled), '#') +
                      std::string(static_cast<std::size_t>(bar_width - filled), '.') + "] ";
    bar += "run " + std::to_string(std::min(runs_done_ + 1, runs_)) + "/" + std::to_string(runs_);
    if (run_in_progress_) {
        bar += " " + workload_ + " w=" + std::to_string(workers_);
        bar += rep_ < 0 ? std::string(" warm-up") : " rep " + std::to_string(rep_ + 1) + "/" + std::to_string(reps_);
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    bar += format("  %.1f s", elapsed);
    write(bar);
    bar_shown_ = true;
}

void progress::clear_bar() {
    if (!bar_shown_) return;
    write("\r\033[K");
    bar_shown_ = false;
}

void progress::write(const std::string& text) {
    std::fputs(text.c_str(), stderr);
    std::fflush(stderr);
}

}  // namespace corio_bench
