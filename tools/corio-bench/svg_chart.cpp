// Renders svg_chart.hpp's charts as SVG 1.1 text. Layout is fixed-pitch
// arithmetic: text widths are estimated from the character count (no font
// metrics here), which is enough for labels of a few words.
#include "svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace corio_bench::svg {

namespace {

// Okabe–Ito-like colours that stay apart for colour-blind readers; green and
// red are left out because the annotations use them for good and bad.
constexpr const char* series_colours[] = {"#0072B2", "#E69F00", "#8E6BBF", "#7F7F7F",
                                          "#CC79A7", "#56B4E9", "#8C564B", "#F0E442"};
constexpr const char* good_colour = "#1A7F37";
constexpr const char* bad_colour = "#CF222E";
constexpr const char* axis_colour = "#444444";
constexpr const char* grid_colour = "#E5E5E5";

constexpr double font_size = 12;
constexpr double char_width = 7;  // estimate for a 12 px sans-serif character
constexpr double plot_height = 260;
constexpr double margin_left = 70;
constexpr double margin_right = 20;
constexpr double title_height = 28;
constexpr double legend_row_height = 20;
constexpr double margin_bottom = 56;
constexpr double min_plot_width = 360;

const char* colour_of(std::size_t series) { return series_colours[series % std::size(series_colours)]; }

std::string escape(const std::string& text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.6g", v);
    return text;
}

/// The axis from 0 to the first tick at or above `max`, in steps of 1, 2 or
/// 5 times a power of ten, about five of them (the usual "nice numbers").
struct value_axis {
    double step;
    double top;

    explicit value_axis(double max) {
        if (!(max > 0)) max = 1;
        const double rough = max / 5;
        const double power = std::pow(10, std::floor(std::log10(rough)));
        const double fraction = rough / power;
        step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
        top = std::ceil(max / step - 1e-9) * step;
    }
};

struct legend_layout {
    struct item {
        std::size_t series;
        double x, y;  // top left of the swatch
    };
    std::vector<item> items;
    double height = 0;
};

/// A swatch and name per series that `shown` accepts, left to right below
/// the title, wrapped to the chart width.
template <class Shown>
legend_layout lay_out_legend(const std::vector<std::string>& names, double width, Shown&& shown) {
    legend_layout layout;
    double x = margin_left;
    double y = title_height + 6;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (!shown(i)) continue;
        const double item_width = 18 + char_width * static_cast<double>(names[i].size()) + 16;
        if (x + item_width > width - margin_right && x > margin_left) {
            x = margin_left;
            y += legend_row_height;
        }
        layout.items.push_back({i, x, y});
        x += item_width;
    }
    layout.height = y + legend_row_height - title_height;
    return layout;
}

/// Accumulates SVG elements; coordinates are user units (= px).
class svg_writer {
public:
    svg_writer(double width, double height) : width_(width) {
        out_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
        out_ += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + number(width) +
                "\" height=\"" + number(height) + "\" viewBox=\"0 0 " + number(width) + ' ' + number(height) +
                "\" font-family=\"sans-serif\" font-size=\"" + number(font_size) + "\">\n";
        out_ += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    }

    void text(double x, double y, const std::string& content, const char* anchor = "start",
              const std::string& extra = {}) {
        out_ += "<text x=\"" + number(x) + "\" y=\"" + number(y) + "\" text-anchor=\"" + anchor + '"' + extra + '>' +
                escape(content) + "</text>\n";
    }

    void line(double x1, double y1, double x2, double y2, const char* colour, double stroke_width = 1) {
        out_ += "<line x1=\"" + number(x1) + "\" y1=\"" + number(y1) + "\" x2=\"" + number(x2) + "\" y2=\"" +
                number(y2) + "\" stroke=\"" + colour + "\" stroke-width=\"" + number(stroke_width) + "\"/>\n";
    }

    void rect(double x, double y, double w, double h, const char* colour, const std::string& tooltip = {}) {
        out_ += "<rect x=\"" + number(x) + "\" y=\"" + number(y) + "\" width=\"" + number(w) + "\" height=\"" +
                number(h) + "\" fill=\"" + colour + '"';
        close_with_tooltip("rect", tooltip);
    }

    void circle(double x, double y, double r, const char* colour, const std::string& tooltip) {
        out_ += "<circle cx=\"" + number(x) + "\" cy=\"" + number(y) + "\" r=\"" + number(r) + "\" fill=\"" + colour +
                '"';
        close_with_tooltip("circle", tooltip);
    }

    void polyline(const std::vector<std::pair<double, double>>& points, const char* colour) {
        out_ += "<polyline fill=\"none\" stroke=\"" + std::string(colour) + "\" stroke-width=\"2\" points=\"";
        for (const auto& [x, y] : points) out_ += number(x) + ',' + number(y) + ' ';
        out_ += "\"/>\n";
    }

    void title(const std::string& content) {
        text(width_ / 2, 20, content, "middle", " font-size=\"15\" font-weight=\"bold\"");
    }

    void legend(const legend_layout& layout, const std::vector<std::string>& names) {
        for (const auto& item : layout.items) {
            rect(item.x, item.y, 12, 12, colour_of(item.series));
            text(item.x + 17, item.y + 10.5, names[item.series]);
        }
    }

    /// Horizontal grid lines with their values, the y axis and its label.
    void value_grid(const value_axis& axis, double left, double right, double top, double bottom,
                    const std::string& label) {
        for (double v = 0; v <= axis.top * (1 + 1e-9); v += axis.step) {
            const double y = bottom - (bottom - top) * v / axis.top;
            line(left, y, right, y, v == 0 ? axis_colour : grid_colour);
            text(left - 6, y + 4, number(v), "end");
        }
        line(left, top, left, bottom, axis_colour);
        const double middle = (top + bottom) / 2;
        text(16, middle, label, "middle", " transform=\"rotate(-90 16 " + number(middle) + ")\"");
    }

    std::string finish() && {
        out_ += "</svg>\n";
        return std::move(out_);
    }

private:
    void close_with_tooltip(const char* element, const std::string& tooltip) {
        if (tooltip.empty()) {
            out_ += "/>\n";
        } else {
            out_ += "><title>" + escape(tooltip) + "</title></" + element + ">\n";
        }
    }

    double width_;
    std::string out_;
};

const char* tone_colour(tone t) {
    switch (t) {
        case tone::good: return good_colour;
        case tone::bad: return bad_colour;
        case tone::neutral: break;
    }
    return axis_colour;
}

}  // namespace

std::string render(const bar_chart& chart) {
    constexpr double bar_width = 26;
    constexpr double bar_gap = 6;
    constexpr double group_padding = 18;
    const double series_count = static_cast<double>(std::max<std::size_t>(chart.series.size(), 1));
    const double group_count = static_cast<double>(std::max<std::size_t>(chart.groups.size(), 1));
    const double group_width = std::max(series_count * (bar_width + bar_gap) - bar_gap + 2 * group_padding,
                                        min_plot_width / group_count);
    const double width = margin_left + margin_right + group_width * group_count;
    const legend_layout legend = lay_out_legend(chart.series, width, [](std::size_t) { return true; });
    const double plot_top = title_height + legend.height + 24;
    const double plot_bottom = plot_top + plot_height;
    svg_writer svg(width, plot_bottom + margin_bottom);
    svg.title(chart.title);
    svg.legend(legend, chart.series);

    double max = 0;
    for (const auto& group : chart.groups)
        for (const auto& b : group.bars)
            if (b) max = std::max({max, b->value, b->high});
    // Head room for the annotations above the tallest bar.
    const value_axis axis(max * 1.08);
    const auto y_of = [&](double v) { return plot_bottom - plot_height * v / axis.top; };
    svg.value_grid(axis, margin_left, width - margin_right, plot_top, plot_bottom, chart.value_label);

    for (std::size_t g = 0; g < chart.groups.size(); ++g) {
        const bar_group& group = chart.groups[g];
        const double group_left = margin_left + group_width * static_cast<double>(g);
        const double bars_width = static_cast<double>(group.bars.size()) * (bar_width + bar_gap) - bar_gap;
        const double first_bar = group_left + (group_width - bars_width) / 2;
        for (std::size_t s = 0; s < group.bars.size(); ++s) {
            const double x = first_bar + static_cast<double>(s) * (bar_width + bar_gap);
            const double centre = x + bar_width / 2;
            if (!group.bars[s]) {
                svg.text(centre, plot_bottom - 4, "n/a", "middle", " font-size=\"10\" fill=\"#999999\"");
                continue;
            }
            const bar& b = *group.bars[s];
            svg.rect(x, y_of(b.value), bar_width, plot_bottom - y_of(b.value), colour_of(s), b.tooltip);
            if (b.high > b.low) {
                svg.line(centre, y_of(b.low), centre, y_of(b.high), axis_colour);
                svg.line(centre - 5, y_of(b.low), centre + 5, y_of(b.low), axis_colour);
                svg.line(centre - 5, y_of(b.high), centre + 5, y_of(b.high), axis_colour);
            }
            if (!b.annotation.empty()) {
                const std::string weight = b.annotation_tone == tone::neutral ? "" : " font-weight=\"bold\"";
                svg.text(centre, y_of(std::max(b.value, b.high)) - 5, b.annotation, "middle",
                         " font-size=\"10\" fill=\"" + std::string(tone_colour(b.annotation_tone)) + '"' + weight);
            }
        }
        svg.text(group_left + group_width / 2, plot_bottom + 18, group.label, "middle");
    }
    return std::move(svg).finish();
}

std::string render(const line_chart& chart) {
    std::vector<double> xs;
    double max = 0;
    for (const auto& series : chart.series)
        for (const auto& [x, y] : series.points) {
            xs.push_back(x);
            max = std::max(max, y);
        }
    std::sort(xs.begin(), xs.end());
    xs.erase(std::unique(xs.begin(), xs.end()), xs.end());

    constexpr double x_pitch = 120;
    const double width =
        margin_left + margin_right + std::max(min_plot_width, x_pitch * static_cast<double>(xs.size()));
    std::vector<std::string> names;
    for (const auto& series : chart.series) names.push_back(series.name);
    const legend_layout legend =
        lay_out_legend(names, width, [&](std::size_t i) { return !chart.series[i].points.empty(); });
    const double plot_top = title_height + legend.height + 16;
    const double plot_bottom = plot_top + plot_height;
    svg_writer svg(width, plot_bottom + margin_bottom);
    svg.title(chart.title);
    svg.legend(legend, names);

    const value_axis axis(max * 1.05);
    const double plot_left = margin_left;
    const double plot_right = width - margin_right;
    svg.value_grid(axis, plot_left, plot_right, plot_top, plot_bottom, chart.y_label);
    // Evenly spaced positions with half a pitch of margin on either side.
    const double pitch = (plot_right - plot_left) / static_cast<double>(std::max<std::size_t>(xs.size(), 1));
    const auto x_of = [&](double x) {
        const auto index = std::lower_bound(xs.begin(), xs.end(), x) - xs.begin();
        return plot_left + pitch * (static_cast<double>(index) + 0.5);
    };
    const auto y_of = [&](double y) { return plot_bottom - plot_height * y / axis.top; };
    for (const double x : xs) {
        svg.line(x_of(x), plot_bottom, x_of(x), plot_bottom + 4, axis_colour);
        svg.text(x_of(x), plot_bottom + 18, number(x), "middle");
    }
    svg.text((plot_left + plot_right) / 2, plot_bottom + 40, chart.x_label, "middle");

    for (std::size_t s = 0; s < chart.series.size(); ++s) {
        const line_series& series = chart.series[s];
        std::vector<std::pair<double, double>> placed;
        for (const auto& [x, y] : series.points) placed.emplace_back(x_of(x), y_of(y));
        if (placed.size() > 1) svg.polyline(placed, colour_of(s));
        for (std::size_t p = 0; p < placed.size(); ++p)
            svg.circle(placed[p].first, placed[p].second, 4, colour_of(s),
                       series.name + ", " + chart.x_label + ' ' + number(series.points[p].first) + ": " +
                           number(series.points[p].second));
    }
    return std::move(svg).finish();
}

}  // namespace corio_bench::svg
