// Self-contained SVG charts for corio-bench's --report: a grouped bar chart
// (runtimes side by side per worker count) and a line chart (a value against
// the worker count). Written as plain text, so the report needs no plotting
// library; every mark carries a <title> that browsers show as a tooltip.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace corio_bench::svg {

/// How an annotation reads: the report uses `good` for "corio as fast or
/// faster than this peer" and `bad` for "corio slower".
enum class tone { neutral, good, bad };

struct bar {
    double value = 0;
    double low = 0;           // whisker from low to high (the spread of the
    double high = 0;          // repetitions); low == high draws none
    std::string annotation;   // short text above the bar, e.g. "0.27x"
    tone annotation_tone = tone::neutral;
    std::string tooltip;
};

struct bar_group {
    std::string label;                      // under the group, e.g. "2 workers"
    std::vector<std::optional<bar>> bars;   // one per series; nullopt: no value ("n/a")
};

struct bar_chart {
    std::string title;
    std::string value_label;           // the y axis
    std::vector<std::string> series;   // legend; series i has colour i in every chart
    std::vector<bar_group> groups;
};

struct line_series {
    std::string name;
    std::vector<std::pair<double, double>> points;  // (x, y), x ascending; empty: left out
};

struct line_chart {
    std::string title;
    std::string x_label;
    std::string y_label;
    std::vector<line_series> series;  // series i has colour i, as in bar_chart
};

/// A complete SVG document.
std::string render(const bar_chart& chart);

/// A complete SVG document. The distinct x values are spaced evenly (worker
/// counts are usually 1, 2, 4, ...), labelled with their values.
std::string render(const line_chart& chart);

}  // namespace corio_bench::svg
