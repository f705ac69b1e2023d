// The asyncio streams echo handler, for tests that need a server to talk to.
#pragma once

#include <string>

#include "corio/streams.hpp"
#include "corio/task.hpp"

namespace corio_test {

/// Sends each line back until EOF, then closes.
inline corio::task<void> echo_lines(corio::stream_reader reader, corio::stream_writer writer) {
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) break;
        writer.write(line);
        co_await writer.drain();
    }
    writer.close();
    co_await writer.wait_closed();
}

}  // namespace corio_test
