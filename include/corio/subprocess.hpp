// Subprocesses as in asyncio: create_subprocess_exec / create_subprocess_shell
// spawn a child (posix_spawn) whose pipes are corio streams, and return a
// process handle to wait for it, signal it and talk to it.
//
//   auto p = co_await corio::create_subprocess_exec({"cat"}, {.stdin_ = corio::pipe, .stdout_ = corio::pipe});
//   auto [out, err] = co_await p.communicate("hello");   // out == "hello"
//   int rc = *p.returncode();                              // 0
//
// The child's exit is observed by the loop that spawned it, without
// blocking a worker: a pidfd (Linux >= 5.3) waits in that loop's reactor;
// on older kernels a thread of the default executor waits instead. The
// child is reaped as soon as it exits, whether or not anyone awaits wait().
// The pipes belong to the spawning loop like sockets do: every operation
// on them runs on its thread, whichever worker the awaiting task is on.
//
// SIGPIPE: the first stdin pipe makes this process ignore SIGPIPE (if it
// had the default disposition), as Python always does, so that writing to
// a child that has exited gives EPIPE instead of killing the parent. The
// children start with the default SIGPIPE again.
//
// Lifetime: a process handle (and its streams) must be destroyed before
// the loop that spawned it, as any Asio object of that loop.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "corio/streams.hpp"
#include "corio/task.hpp"

namespace corio {

namespace detail {
struct process_state;
/// For tests: false makes children spawned from now on use the fallback
/// exit watch (a default-executor thread), as on kernels without pidfd.
void set_pidfd_enabled(bool enabled) noexcept;
}  // namespace detail

/// Where one of the child's standard streams goes (asyncio's PIPE, DEVNULL,
/// STDOUT, None, or a file descriptor).
class stdio {
public:
    enum class kind { inherit, pipe, devnull, stdout_, fd };

    constexpr explicit stdio(kind k) noexcept : kind_(k) {}
    /// The child gets a duplicate of `fd` (the parent keeps its own).
    static constexpr stdio from_fd(int fd) noexcept { return stdio(kind::fd, fd); }

    constexpr kind what() const noexcept { return kind_; }
    constexpr int fd() const noexcept { return fd_; }

private:
    constexpr stdio(kind k, int fd) noexcept : kind_(k), fd_(fd) {}
    kind kind_;
    int fd_ = -1;
};

/// The parent's own stream (asyncio's None).
inline constexpr stdio inherit{stdio::kind::inherit};
/// A pipe to the parent, read or written through the process's streams.
inline constexpr stdio pipe{stdio::kind::pipe};
/// /dev/null.
inline constexpr stdio devnull{stdio::kind::devnull};
/// For stderr_ only: wherever stdout goes (asyncio's STDOUT).
inline constexpr stdio stdout_{stdio::kind::stdout_};

/// Trivially copyable on purpose, hence the views: GCC 12 destroys a
/// braced aggregate temporary inside a co_await expression twice (or
/// relocates it bitwise), so an options struct owning strings or vectors
/// would corrupt memory in `co_await create_subprocess_exec(argv, {...})`.
/// create_subprocess_exec copies what the views show before it returns.
struct subprocess_options {
    stdio stdin_ = inherit;
    stdio stdout_ = inherit;
    stdio stderr_ = inherit;
    /// The child's working directory (empty: the parent's).
    std::string_view cwd{};
    /// The child's whole environment, "NAME=value" each (nullopt: the parent's).
    std::optional<std::span<const std::string>> env{};
    /// The stream limit of the stdout / stderr readers.
    std::size_t limit = default_stream_limit;
};
static_assert(std::is_trivially_copyable_v<subprocess_options>);

/// What communicate() read: each stream's whole output ("" when it is not a pipe).
struct communicate_result {
    std::string stdout_;
    std::string stderr_;
};

/// A running or finished child (asyncio.subprocess.Process). Copies share
/// the same child. Any thread, any task.
class process {
public:
    explicit process(std::shared_ptr<detail::process_state> s) noexcept : state_(std::move(s)) {}

    int pid() const noexcept;
    /// The exit status once the child has exited and been reaped: its exit
    /// code, or -N when signal N killed it (asyncio's convention).
    std::optional<int> returncode() const;
    /// Waits until the child exits; returns returncode(). With pipes, the
    /// child may block writing to a full one: read it, or use communicate().
    task<int> wait();
    /// Writes `input` to stdin (if given) and closes it, reads stdout and
    /// stderr to EOF, all at once (so no pipe fills up and blocks the
    /// child), then waits for the exit. A child that exits without reading
    /// its input is not an error. Throws std::invalid_argument when input
    /// is given but stdin is not a pipe.
    task<communicate_result> communicate(std::optional<std::string> input);
    task<communicate_result> communicate() { return communicate(std::nullopt); }
    /// Sends signal `signum`. Throws std::system_error (ESRCH, asyncio's
    /// ProcessLookupError) once the child has been reaped, so a reused pid
    /// is never signalled.
    void send_signal(int signum);
    /// SIGTERM.
    void terminate();
    /// SIGKILL.
    void kill();

    /// The pipes' streams, or nullptr for a stream that is not a pipe
    /// (asyncio's None). The writer's close() closes the child's stdin.
    stream_writer* stdin_() const noexcept;
    stream_reader* stdout_() const noexcept;
    stream_reader* stderr_() const noexcept;

private:
    std::shared_ptr<detail::process_state> state_;
};

/// Runs argv[0] (searched in PATH when it has no '/') with arguments
/// argv[1..] on the running loop. (GCC 12 also rejects a braced argv
/// inside a co_await expression, "array used as initializer": build the
/// vector in a variable first there.) Throws std::invalid_argument for an empty
/// argv or a bad option, std::system_error when the program cannot be run
/// (ENOENT: not found, EACCES: not executable) or a pipe cannot be made.
task<process> create_subprocess_exec(std::vector<std::string> argv, subprocess_options options);
/// (Overloads, not default arguments: see open_connection in streams.hpp.)
inline task<process> create_subprocess_exec(std::vector<std::string> argv) {
    return create_subprocess_exec(std::move(argv), subprocess_options{});
}
/// Runs `cmd` through /bin/sh -c.
task<process> create_subprocess_shell(std::string cmd, subprocess_options options);
inline task<process> create_subprocess_shell(std::string cmd) {
    return create_subprocess_shell(std::move(cmd), subprocess_options{});
}

}  // namespace corio
