// Turns a runtime's trace buffers into Chrome trace-event JSON
// ({"traceEvents": [...]}, the "JSON Object Format" of the Trace Event
// Format document that chrome://tracing and ui.perfetto.dev read).
//
// What each worker's track (pid 1, tid = worker index + 1) holds:
//   "awake" / "parked"   complete slices ("X") that tile the window up to
//                        the worker's exit: every timestamp a flow may
//                        start at lies inside one, so a flow start on any
//                        track has a slice to bind to
//   task polls           "X" slices named after the task, nested in "awake"
//                        (and in each other: the fork-join fast path polls
//                        a child inside its parent's poll)
//   "spawn"              instants ("i"), the new task's name in args
//   "steal"              a flow ("s" on the victim's track, "f" on the
//                        thief's, same id); the "f" binds to the thief's
//                        next slice, the poll of what it stole
// The window: a buffer that wrapped is complete only after its oldest
// retained event (trace_buffer.hpp), so the file starts at the latest such
// point across workers; otherwise one track would look idle where its
// events were merely overwritten.
#include "trace_session.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "worker_metrics.hpp"

namespace corio::detail {

std::string trace_path(const std::string& option) {
    if (!option.empty()) return option;
    const char* env = std::getenv("CORIO_TRACE");
    return env ? env : "";
}

trace_session::trace_session(std::string path, std::size_t workers)
    : path_(std::move(path)), start_ns_(worker_counters::now_ns()), start_tick_(trace_clock::now()) {
    for (std::size_t i = 0; i < workers; ++i) buffers_.push_back(std::make_unique<trace_buffer>());
}

namespace {

/// A slice of one track, before it is written.
struct slice {
    std::uint64_t begin, end;  // trace_clock ticks
    const std::string* name;  // quoted JSON
    const trace_event* poll;  // null for awake / parked
};

class json_writer {
public:
    json_writer(std::FILE* out, std::uint64_t origin_tick, double ns_per_tick)
        : out_(out), origin_tick_(origin_tick), ns_per_tick_(ns_per_tick) {}

    /// Starts the next element of traceEvents.
    void next() {
        std::fputs(first_ ? "\n" : ",\n", out_);
        first_ = false;
    }
    /// A timestamp or duration field in microseconds with nanosecond digits
    /// (integer arithmetic: a double would print rounding noise).
    void micros(const char* key, std::uint64_t ns) {
        std::fprintf(out_, ",\"%s\":%llu.%03llu", key, static_cast<unsigned long long>(ns / 1000),
                     static_cast<unsigned long long>(ns % 1000));
    }
    /// Nanoseconds since the trace began (0 for a tick read on a core whose
    /// TSC runs a hair behind the one that read the origin).
    std::uint64_t since_origin(std::uint64_t tick) const {
        if (tick <= origin_tick_) return 0;
        return static_cast<std::uint64_t>(static_cast<double>(tick - origin_tick_) * ns_per_tick_ + 0.5);
    }
    void at(std::size_t worker, std::uint64_t tick) {
        std::fprintf(out_, ",\"pid\":1,\"tid\":%zu", worker + 1);
        micros("ts", since_origin(tick));
    }
    /// ts and dur of a slice; both ends are converted, so slices that
    /// nest in ticks still nest after rounding.
    void span(std::size_t worker, std::uint64_t begin, std::uint64_t end) {
        at(worker, begin);
        micros("dur", since_origin(end) - since_origin(begin));
    }

private:
    std::FILE* out_;
    std::uint64_t origin_tick_;
    double ns_per_tick_;
    bool first_ = true;
};

std::string quoted(const std::string& s) {
    // replace: a name that is not valid UTF-8 must not make the file unreadable.
    return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void trace_session::write() const {
    const std::uint64_t end_tick = trace_clock::now();
    const std::uint64_t end_ns = worker_counters::now_ns();
    // The run timed by both clocks gives the tick's length (1 where the
    // trace clock is steady_clock itself).
    const double ns_per_tick = end_tick > start_tick_ ? static_cast<double>(end_ns - start_ns_) /
                                                            static_cast<double>(end_tick - start_tick_)
                                                      : 1.0;
    std::uint64_t window = start_tick_;
    for (const auto& b : buffers_)
        if (b->overwritten() != 0) window = std::max(window, b->oldest().end);

    std::FILE* out = std::fopen(path_.c_str(), "w");
    if (!out) {
        std::fprintf(stderr, "corio: cannot write the trace to %s\n", path_.c_str());
        return;
    }
    json_writer w(out, start_tick_, ns_per_tick);
    std::fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", out);
    w.next();
    std::fputs("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"args\":{\"name\":\"corio runtime\"}}", out);

    const std::string awake = quoted("awake"), parked = quoted("parked");
    std::uint64_t flow_id = 0;
    for (std::size_t worker = 0; worker < buffers_.size(); ++worker) {
        const trace_buffer& b = *buffers_[worker];
        w.next();
        std::fprintf(out, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":%zu,\"args\":{\"name\":\"worker %zu\"}}",
                     worker + 1, worker);
        w.next();
        std::fprintf(out, "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":1,\"tid\":%zu,\"args\":{\"sort_index\":%zu}}",
                     worker + 1, worker);

        std::vector<std::string> names;
        for (const std::string& n : b.names()) names.push_back(quoted(n));
        std::vector<slice> slices;
        std::uint64_t awake_since = window;
        b.for_each([&](const trace_event& e) {
            if (e.end <= window) return;
            const std::uint64_t begin = std::max(e.begin, window);
            switch (e.kind) {
            case trace_kind::poll:
                slices.push_back({begin, e.end, &names[e.name], &e});
                break;
            case trace_kind::park:
                if (begin > awake_since) slices.push_back({awake_since, begin, &awake, nullptr});
                slices.push_back({begin, e.end, &parked, nullptr});
                awake_since = e.end;
                break;
            case trace_kind::spawn:
                w.next();
                std::fputs("{\"ph\":\"i\",\"s\":\"t\",\"name\":\"spawn\",\"cat\":\"task\"", out);
                w.at(worker, e.begin);
                std::fprintf(out, ",\"args\":{\"task\":%s,\"id\":%llu}}", names[e.name].c_str(),
                             static_cast<unsigned long long>(e.task_id));
                break;
            case trace_kind::steal:
                ++flow_id;
                w.next();
                std::fprintf(out, "{\"ph\":\"s\",\"name\":\"steal\",\"cat\":\"steal\",\"id\":%llu",
                             static_cast<unsigned long long>(flow_id));
                w.at(e.peer, e.begin);
                std::fputs("}", out);
                w.next();
                std::fprintf(out, "{\"ph\":\"f\",\"name\":\"steal\",\"cat\":\"steal\",\"id\":%llu",
                             static_cast<unsigned long long>(flow_id));
                w.at(worker, e.begin);
                std::fprintf(out, ",\"args\":{\"from\":%u,\"entries\":%u}}", static_cast<unsigned>(e.peer), e.count);
                break;
            case trace_kind::exit:
                if (begin > awake_since) slices.push_back({awake_since, begin, &awake, nullptr});
                awake_since = 0;  // not running: nothing more to tile
                break;
            }
        });
        if (awake_since != 0 && end_tick > awake_since) slices.push_back({awake_since, end_tick, &awake, nullptr});

        // Outer slices first where two begin together, so nesting is
        // unambiguous to readers that do not sort by duration.
        std::sort(slices.begin(), slices.end(), [](const slice& a, const slice& b) {
            return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
        });
        for (const slice& s : slices) {
            w.next();
            std::fprintf(out, "{\"ph\":\"X\",\"name\":%s,\"cat\":\"%s\"", s.name->c_str(), s.poll ? "task" : "worker");
            w.span(worker, s.begin, s.end);
            if (s.poll)
                std::fprintf(out, ",\"args\":{\"id\":%llu,\"result\":\"%s\"}",
                             static_cast<unsigned long long>(s.poll->task_id), s.poll->completed ? "completed" : "suspended");
            std::fputs("}", out);
        }
    }

    // Not events: what a reader needs to judge what the events leave out.
    std::fputs("\n],\"otherData\":{\"corio_trace\":1", out);
    std::fprintf(out, ",\"workers\":%zu,\"ring_capacity\":%zu", buffers_.size(), trace_buffer::capacity);
    w.micros("window_start_us", w.since_origin(window));
    w.micros("end_us", w.since_origin(end_tick));
    std::fputs(",\"overwritten\":[", out);
    for (std::size_t i = 0; i < buffers_.size(); ++i)
        std::fprintf(out, "%s%llu", i ? "," : "", static_cast<unsigned long long>(buffers_[i]->overwritten()));
    std::fputs("]}}\n", out);
    if (std::fclose(out) != 0) std::fprintf(stderr, "corio: error writing the trace to %s\n", path_.c_str());
}

}  // namespace corio::detail
