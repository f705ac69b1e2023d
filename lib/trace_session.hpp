// A runtime's trace (run_options::trace, or CORIO_TRACE): one trace_buffer
// per worker while the workers run, written as Chrome trace-event JSON
// (what ui.perfetto.dev and chrome://tracing open) when the runtime shuts
// down. README "Tracing" describes the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "trace_buffer.hpp"

namespace corio::detail {

/// Where to write the trace: `option` (run_options::trace), else the
/// CORIO_TRACE environment variable; empty means tracing is off.
std::string trace_path(const std::string& option);

class trace_session {
public:
    trace_session(std::string path, std::size_t workers);

    /// The buffer worker `index` records into (from its own thread only).
    trace_buffer* buffer(std::size_t index) const { return buffers_.at(index).get(); }

    /// Writes the file. Call once every worker thread has been joined. A
    /// file that cannot be written is reported on stderr, not thrown: this
    /// runs inside the runtime's destructor.
    void write() const;

private:
    std::string path_;
    // The time origin of the file's timestamps, read from both clocks
    // (trace_clock.hpp).
    std::uint64_t start_ns_;
    std::uint64_t start_tick_;
    std::vector<std::unique_ptr<trace_buffer>> buffers_;
};

}  // namespace corio::detail
