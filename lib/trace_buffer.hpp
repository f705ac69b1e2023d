// One loop's trace recorder (run_options::trace / CORIO_TRACE): a fixed ring
// of events that the loop's driving thread appends to while tracing is on.
// trace_session.cpp turns the rings of a runtime into Chrome trace JSON.
//
// Invariants:
// - One writer: the thread driving the loop (as for worker_counters). The
//   ring is read only after that thread has been joined, so it needs no
//   atomics: the join orders every write before the read.
// - Events are appended in the order they end (a poll is appended when it
//   returns, a park when it wakes), so `end` never decreases along the
//   ring. Events that overlap (end after) the oldest retained one's end are
//   therefore all retained: that is the window trace_session writes.
// - When full, the oldest event is overwritten (a flight recorder: the last
//   `capacity` events before shutdown survive); overwritten() counts them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "corio/detail/task_header.hpp"
#include "trace_clock.hpp"

namespace corio::detail {

enum class trace_kind : std::uint8_t {
    poll,   // a task ran from begin to end; `completed` if it finished
    spawn,  // instant: this loop's thread created task `task_id`
    steal,  // instant: this loop took `count` entries from loop `peer`
    park,   // the loop slept from begin to end
    exit,   // instant: the thread left the loop's run loop
};

struct trace_event {
    std::uint64_t begin = 0;    // trace_clock ticks
    std::uint64_t end = 0;      // == begin for instants
    std::uint64_t task_id = 0;  // poll, spawn
    std::uint32_t name = 0;     // poll, spawn: index into names(); 0 = unnamed
    std::uint32_t count = 0;    // steal: entries taken
    std::uint16_t peer = 0;     // steal: the victim loop's index
    trace_kind kind = trace_kind::poll;
    bool completed = false;     // poll
};

class trace_buffer {
public:
    /// 65,536 events of 40 bytes: 2.5 MiB per loop, allocated only when tracing.
    static constexpr std::size_t capacity = std::size_t{1} << 16;

    trace_buffer() : events_(std::make_unique<trace_event[]>(capacity)) { names_.emplace_back("Task"); }

    void poll(const task_header& t, std::uint64_t begin, std::uint64_t end, bool completed) {
        trace_event e;
        e.kind = trace_kind::poll;
        e.begin = begin;
        e.end = end;
        e.task_id = t.id;
        e.name = intern(t);
        e.completed = completed;
        append(e);
    }
    void spawn(const task_header& t, std::uint64_t now) {
        trace_event e;
        e.kind = trace_kind::spawn;
        e.begin = e.end = now;
        e.task_id = t.id;
        e.name = intern(t);
        append(e);
    }
    void steal(std::size_t victim, std::uint64_t taken, std::uint64_t now) {
        trace_event e;
        e.kind = trace_kind::steal;
        e.begin = e.end = now;
        e.peer = static_cast<std::uint16_t>(victim);
        e.count = static_cast<std::uint32_t>(taken);
        append(e);
    }
    void park(std::uint64_t begin, std::uint64_t end) {
        trace_event e;
        e.kind = trace_kind::park;
        e.begin = begin;
        e.end = end;
        append(e);
    }
    void exit(std::uint64_t now) {
        trace_event e;
        e.kind = trace_kind::exit;
        e.begin = e.end = now;
        append(e);
    }

    // ---- reading, once the writer thread is joined ---------------------------
    /// Events retained, oldest first.
    template <class F>
    void for_each(F&& f) const {
        for (std::uint64_t i = overwritten(); i < recorded_; ++i) f(events_[i % capacity]);
    }
    std::uint64_t overwritten() const noexcept { return recorded_ > capacity ? recorded_ - capacity : 0; }
    /// The oldest event retained; only when something was recorded.
    const trace_event& oldest() const noexcept { return events_[overwritten() % capacity]; }
    /// Task names by index; names()[0] is "Task", what unnamed tasks show.
    const std::vector<std::string>& names() const noexcept { return names_; }

private:
    void append(const trace_event& e) noexcept { events_[recorded_++ % capacity] = e; }

    /// A task's name as an index. Tasks of one name usually come in runs
    /// (a parent spawning its children), so the last name is checked first.
    std::uint32_t intern(const task_header& t) {
        if (!t.name) return 0;
        const std::string& name = *t.name;
        if (last_name_ != 0 && names_[last_name_] == name) return last_name_;
        auto [it, added] = index_.try_emplace(name, static_cast<std::uint32_t>(names_.size()));
        if (added) names_.push_back(name);
        return last_name_ = it->second;
    }

    std::unique_ptr<trace_event[]> events_;
    std::uint64_t recorded_ = 0;  // events ever appended
    std::vector<std::string> names_;
    std::unordered_map<std::string, std::uint32_t> index_;
    std::uint32_t last_name_ = 0;
};

}  // namespace corio::detail
