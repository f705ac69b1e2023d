// Runs a load generator (the peers' echo client, wrk) as a child process
// while the measured server keeps running on the runtime's workers.
#pragma once

#include <string>
#include <vector>

namespace corio_bench {

struct child_result {
    std::string out;  // what it printed on stdout and stderr
    bool ok = false;  // exited with status 0
};

/// Runs argv[0] (searched in PATH) and waits for it.
child_result run_child(const std::vector<std::string>& argv);

/// The environment variable's value, or `fallback` when unset or empty.
std::string env_or(const char* name, std::string fallback);

}  // namespace corio_bench
