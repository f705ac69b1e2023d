// Reading and writing the WORKLOADS.md result lines (see tsv.hpp).
#include "tsv.hpp"

#include <array>
#include <charconv>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string_view>

namespace corio_bench {

namespace {

constexpr std::size_t field_count = 5;

[[noreturn]] void fail(const std::string& source, std::size_t line_number, const std::string& what) {
    throw tsv_error(source + ":" + std::to_string(line_number) + ": " + what);
}

/// Splits on tabs; returns how many fields the line has (only the first
/// `field_count` are stored), so an error can say what it got.
std::size_t split_fields(std::string_view line, std::array<std::string_view, field_count>& fields) {
    std::size_t count = 0;
    while (true) {
        const std::size_t tab = line.find('\t');
        if (count < field_count) fields[count] = line.substr(0, tab);
        ++count;
        if (tab == std::string_view::npos) return count;
        line.remove_prefix(tab + 1);
    }
}

template <class Number>
bool parse_number(std::string_view text, Number& out) {
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
    return error == std::errc{} && end == text.data() + text.size();
}

}  // namespace

std::string format_row(const result_row& row) {
    char value[64];
    std::snprintf(value, sizeof value, "%.3f", row.value);
    return row.runtime + '\t' + row.workload + '\t' + std::to_string(row.workers) + '\t' + row.metric + '\t' + value +
           '\n';
}

std::vector<result_row> parse_rows(std::istream& in, const std::string& source) {
    std::vector<result_row> rows;
    std::string line;
    for (std::size_t line_number = 1; std::getline(in, line); ++line_number) {
        if (!line.empty() && line.back() == '\r') line.pop_back();  // a file saved on Windows
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        std::array<std::string_view, field_count> fields;
        const std::size_t count = split_fields(line, fields);
        if (count != field_count)
            fail(source, line_number,
                 "expected 5 tab-separated fields (runtime, workload, workers, metric, value), got " +
                     std::to_string(count));
        for (std::size_t i = 0; i < 4; ++i)
            if (fields[i].empty()) fail(source, line_number, "field " + std::to_string(i + 1) + " is empty");
        result_row row{std::string(fields[0]), std::string(fields[1]), 0, std::string(fields[3]), 0};
        if (!parse_number(fields[2], row.workers) || row.workers == 0)
            fail(source, line_number, "workers must be a positive integer, not '" + std::string(fields[2]) + "'");
        if (!parse_number(fields[4], row.value) || !std::isfinite(row.value) || row.value < 0)
            fail(source, line_number, "value must be a non-negative number, not '" + std::string(fields[4]) + "'");
        rows.push_back(std::move(row));
    }
    if (in.bad()) throw tsv_error(source + ": read error");
    return rows;
}

std::vector<result_row> read_rows(const std::string& path) {
    errno = 0;
    std::ifstream file(path);
    if (!file) throw tsv_error(path + ": cannot open: " + (errno ? std::strerror(errno) : "unknown error"));
    return parse_rows(file, path);
}

}  // namespace corio_bench
