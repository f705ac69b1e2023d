// Subprocesses: spawning (posix_spawn), the pipes as streams over
// connections (connection.hpp), and watching for the child's exit in the
// spawning loop's reactor (a pidfd) or, without pidfd support, from a
// default-executor thread.
//
// Reaping and signalling: the child is reaped (waitpid) under the state's
// lock, and send_signal checks returncode under the same lock, so a signal
// is never sent to a pid the kernel may already have given to another
// process: until the reap, the pid stays ours (a zombie at worst).
#include "corio/subprocess.hpp"

#include <asio/error.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <mutex>
#include <spawn.h>
#include <stdexcept>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>

#include "connection.hpp"
#include "corio/detail/wait_list.hpp"
#include "corio/executor.hpp"
#include "corio/gather.hpp"
#include "corio/policy.hpp"

extern char** environ;

namespace corio {
namespace detail {

struct process_state {
    explicit process_state(pid_t pid) : pid(pid) {}

    const pid_t pid;
    std::mutex lock;
    std::optional<int> returncode;  // [lock] set once, by the reap
    wait_list exit_waiters;         // [lock] tasks in wait()
    // The parent's ends of the pipes (set before the state is shared).
    std::optional<stream_writer> in;
    std::optional<stream_reader> out, err;

    /// Any thread: reaps the child if it has exited (never blocks). True
    /// once reaped.
    bool try_reap() {
        std::lock_guard guard(lock);
        if (returncode) return true;
        int status = 0;
        pid_t r;
        do r = ::waitpid(pid, &status, WNOHANG);
        while (r < 0 && errno == EINTR);
        if (r == 0) return false;
        // ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN, or a
        // waitpid(-1) elsewhere); asyncio reports 255 then.
        if (r < 0) returncode = 255;
        else if (WIFSIGNALED(status)) returncode = -WTERMSIG(status);
        else returncode = WEXITSTATUS(status);
        serve_all(exit_waiters);
        return true;
    }
};

namespace {

std::atomic<bool> pidfd_enabled{true};

/// Waits in the loop's reactor until the pidfd is readable (the child has
/// exited), then reaps. Holds the descriptor, so the watch ends with it; a
/// loop destroyed first destroys this handler unrun (the child is reaped by
/// nobody, as with asyncio's closed loops).
struct pidfd_watch {
    std::shared_ptr<asio::posix::stream_descriptor> pidfd;
    std::shared_ptr<process_state> state;

    void operator()(std::error_code ec) {
        if (ec) return;  // operation_aborted: the loop is going away
        if (!state->try_reap()) arm();  // readable before the exit: not expected, but harmless
    }
    void arm() {
        auto& fd = *pidfd;
        fd.async_wait(asio::posix::descriptor_base::wait_read, std::move(*this));
    }
};

/// Starts watching for the child's exit; called on the spawning loop's thread.
void watch_exit(const std::shared_ptr<process_state>& state, asio::io_context& io) {
    const int pidfd = pidfd_enabled.load(std::memory_order_relaxed)
                          ? static_cast<int>(::syscall(SYS_pidfd_open, state->pid, 0))
                          : -1;
    if (pidfd >= 0) {
        // The descriptor is close-on-exec already (pidfd_open's default).
        pidfd_watch{std::make_shared<asio::posix::stream_descriptor>(io, pidfd), state}.arm();
        return;
    }
    // No pidfd (ENOSYS before Linux 5.3, or out of descriptors): a thread
    // of the default executor blocks until the exit. WNOWAIT leaves the
    // child unreaped, so the reap itself still happens under the lock.
    (void)to_thread([state] {
        siginfo_t info{};
        while (::waitid(P_PID, static_cast<id_t>(state->pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
        }
        state->try_reap();
    });
}

/// Parks the current task until the child is reaped.
struct exit_wait {
    process_state& s;
    parked_waiter w;

    bool await_ready() {
        std::lock_guard guard(s.lock);
        return w.served = s.returncode.has_value();
    }
    bool await_suspend(std::coroutine_handle<> h) {
        std::lock_guard guard(s.lock);
        if ((w.served = s.returncode.has_value())) return false;
        return park_locked(w, h, s.exit_waiters);
    }
    void await_resume() { finish_wait(s.lock, w, s.exit_waiters); }
};

task<int> wait_for_exit(std::shared_ptr<process_state> s) {
    co_await exit_wait{*s, {}};
    std::lock_guard guard(s->lock);
    co_return *s->returncode;
}

/// communicate's stdin part: write, then close so the child sees EOF. A
/// child that exits (or closes stdin) without reading it all is fine.
task<void> feed(std::optional<stream_writer> in, std::optional<std::string> input) {
    if (!in) co_return;
    try {
        if (input && !input->empty()) {
            in->write(*input);
            co_await in->drain();
        }
    } catch (const std::system_error& e) {
        // Asio's own error category: compare with its codes, not std::errc.
        if (e.code() != asio::error::broken_pipe && e.code() != asio::error::connection_reset) throw;
    }
    in->close();
}

task<std::string> read_all(std::optional<stream_reader> r) {
    if (!r) co_return std::string();
    co_return co_await r->read();
}

task<communicate_result> communicate_with(std::shared_ptr<process_state> s, std::optional<std::string> input) {
    if (input && !s->in) throw std::invalid_argument("communicate: input given but stdin_ is not corio::pipe");
    auto outputs = co_await gather(feed(s->in, std::move(input)), read_all(s->out), read_all(s->err));
    co_await wait_for_exit(s);
    co_return communicate_result{std::move(std::get<1>(outputs)), std::move(std::get<2>(outputs))};
}

// ---- spawning ---------------------------------------------------------------------

/// An owned file descriptor.
class unique_fd {
public:
    unique_fd() noexcept = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    ~unique_fd() { reset(); }
    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

/// Writing to a stdin pipe whose child has gone raises SIGPIPE, which kills
/// the process by default; corio wants the EPIPE instead (a std::system_error,
/// or nothing in communicate), as Python gets by ignoring SIGPIPE at startup.
/// Done at the first stdin pipe, and only over the default disposition.
void ignore_sigpipe_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        struct sigaction sa {};
        if (::sigaction(SIGPIPE, nullptr, &sa) != 0 || (sa.sa_flags & SA_SIGINFO) || sa.sa_handler != SIG_DFL) return;
        sa.sa_handler = SIG_IGN;
        ::sigaction(SIGPIPE, &sa, nullptr);
    });
}

[[noreturn]] void throw_errno(int err, const std::string& what) {
    throw std::system_error(err, std::generic_category(), what);
}

/// `fd` itself if it is 3 or more, else a close-on-exec duplicate that is:
/// the child's dup2s onto 0, 1 and 2 must not overwrite a source still to
/// be used. `owned`: `fd` is ours (closed here once duplicated).
unique_fd above_stdio(int fd, bool owned) {
    if (fd >= 3) return unique_fd(owned ? fd : -1);
    const int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (d < 0) throw_errno(errno, "create_subprocess_exec: bad file descriptor " + std::to_string(fd));
    if (owned) ::close(fd);
    return unique_fd(d);
}

/// posix_spawn's two attribute objects, destroyed with the spawn.
struct spawn_setup {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    spawn_setup() {
        if (int e = ::posix_spawn_file_actions_init(&actions)) throw_errno(e, "posix_spawn_file_actions_init");
        if (int e = ::posix_spawnattr_init(&attr)) {
            ::posix_spawn_file_actions_destroy(&actions);
            throw_errno(e, "posix_spawnattr_init");
        }
    }
    ~spawn_setup() {
        ::posix_spawnattr_destroy(&attr);
        ::posix_spawn_file_actions_destroy(&actions);
    }
    spawn_setup(const spawn_setup&) = delete;
    spawn_setup& operator=(const spawn_setup&) = delete;

    void check(int e, const char* what) {
        if (e) throw_errno(e, std::string("create_subprocess_exec: ") + what);
    }
};

/// One standard stream of the child: the file actions that set it up, and
/// for a pipe the parent's end.
struct child_stream {
    unique_fd parent_end;
    unique_fd child_end;  // a pipe's other end, or a duplicate (closed here after the spawn)

    void prepare(spawn_setup& s, stdio how, int target) {
        int source = -1;  // what the child dup2s onto `target`
        switch (how.what()) {
        case stdio::kind::inherit:
            return;
        case stdio::kind::devnull:
            s.check(::posix_spawn_file_actions_addopen(&s.actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0),
                    "addopen");
            return;
        case stdio::kind::stdout_:
            s.check(::posix_spawn_file_actions_adddup2(&s.actions, 1, target), "adddup2");
            return;
        case stdio::kind::fd:
            child_end = above_stdio(how.fd(), false);
            source = child_end.get() >= 0 ? child_end.get() : how.fd();
            break;
        case stdio::kind::pipe: {
            int fds[2];
            // Close-on-exec: a child spawned meanwhile by another thread must not inherit them.
            if (::pipe2(fds, O_CLOEXEC) < 0) throw_errno(errno, "create_subprocess_exec: pipe");
            unique_fd read_end(fds[0]), write_end(fds[1]);
            parent_end = target == 0 ? std::move(write_end) : std::move(read_end);
            child_end = above_stdio((target == 0 ? read_end : write_end).release(), true);
            source = child_end.get();
            break;
        }
        }
        // dup2 clears close-on-exec on the copy.
        s.check(::posix_spawn_file_actions_adddup2(&s.actions, source, target), "adddup2");
    }
};

void check_stdio(stdio how, const char* name, bool may_be_stdout) {
    if (how.what() == stdio::kind::stdout_ && !may_be_stdout)
        throw std::invalid_argument(std::string("create_subprocess_exec: corio::stdout_ is only valid for stderr_, not ") +
                                    name);
    if (how.what() == stdio::kind::fd && how.fd() < 0)
        throw std::invalid_argument(std::string("create_subprocess_exec: negative file descriptor for ") + name);
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (std::string& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

process spawn_now(std::vector<std::string> argv, stdio in, stdio out, stdio err, std::string cwd,
              std::optional<std::vector<std::string>> env, std::size_t limit) {
    if (argv.empty()) throw std::invalid_argument("create_subprocess_exec: argv must not be empty");
    if (argv[0].empty()) throw std::invalid_argument("create_subprocess_exec: the program name is empty");
    for (const std::string& a : argv)
        if (has_nul(a)) throw std::invalid_argument("create_subprocess_exec: an argument contains a NUL byte");
    if (env)
        for (const std::string& e : *env)
            if (has_nul(e) || e.find('=') == std::string::npos)
                throw std::invalid_argument("create_subprocess_exec: env entries must be NAME=value without NUL bytes");
    if (has_nul(cwd)) throw std::invalid_argument("create_subprocess_exec: cwd contains a NUL byte");
    if (limit == 0) throw std::invalid_argument("create_subprocess_exec: limit must be positive");
    check_stdio(in, "stdin_", false);
    check_stdio(out, "stdout_", false);
    check_stdio(err, "stderr_", true);
    asio::io_context& io = get_running_loop().io_context();
    if (in.what() == stdio::kind::pipe) ignore_sigpipe_once();

    spawn_setup setup;
    child_stream streams[3];
    streams[0].prepare(setup, in, 0);
    streams[1].prepare(setup, out, 1);
    streams[2].prepare(setup, err, 2);
    // As Python's close_fds=True: the child gets 0, 1 and 2 only (Asio's
    // sockets are not close-on-exec; a child must not keep a listener open).
    setup.check(::posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3), "addclosefrom");
    if (!cwd.empty()) setup.check(::posix_spawn_file_actions_addchdir_np(&setup.actions, cwd.c_str()), "addchdir");
    // As Python's restore_signals: the child starts with the default
    // SIGPIPE (Asio's io_context ignores it in this process) and SIGXFSZ,
    // and no blocked signals.
    sigset_t defaults, mask;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGXFSZ);
    sigemptyset(&mask);
    setup.check(::posix_spawnattr_setsigdefault(&setup.attr, &defaults), "setsigdefault");
    setup.check(::posix_spawnattr_setsigmask(&setup.attr, &mask), "setsigmask");
    setup.check(::posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK), "setflags");

    std::vector<char*> args = c_strings(argv);
    std::vector<char*> envp = env ? c_strings(*env) : std::vector<char*>();
    pid_t pid = -1;
    // glibc reports a failed exec (no such program, not executable) as
    // posix_spawn's result, after the child has gone.
    if (const int e = ::posix_spawnp(&pid, args[0], &setup.actions, &setup.attr, args.data(), env ? envp.data() : environ))
        throw_errno(e, "create_subprocess_exec: cannot run '" + argv[0] + "'" + (cwd.empty() ? "" : " in '" + cwd + "'"));

    auto state = std::make_shared<process_state>(pid);
    // The parent's ends become streams of this loop; the child's ends
    // close here (child_end) so EOF reaches the reader when the child exits.
    if (streams[0].parent_end.get() >= 0)
        state->in.emplace(std::make_shared<connection>(
            asio::posix::stream_descriptor(io, streams[0].parent_end.release()), limit));
    if (streams[1].parent_end.get() >= 0)
        state->out.emplace(std::make_shared<connection>(
            asio::posix::stream_descriptor(io, streams[1].parent_end.release()), limit));
    if (streams[2].parent_end.get() >= 0)
        state->err.emplace(std::make_shared<connection>(
            asio::posix::stream_descriptor(io, streams[2].parent_end.release()), limit));
    watch_exit(state, io);
    return process(std::move(state));
}

task<process> spawn_process(std::vector<std::string> argv, stdio in, stdio out, stdio err, std::string cwd,
                         std::optional<std::vector<std::string>> env, std::size_t limit) {
    co_return spawn_now(std::move(argv), in, out, err, std::move(cwd), std::move(env), limit);
}

}  // namespace

void set_pidfd_enabled(bool enabled) noexcept { pidfd_enabled.store(enabled, std::memory_order_relaxed); }

}  // namespace detail

int process::pid() const noexcept { return state_->pid; }

std::optional<int> process::returncode() const {
    std::lock_guard guard(state_->lock);
    return state_->returncode;
}

task<int> process::wait() { return detail::wait_for_exit(state_); }

task<communicate_result> process::communicate(std::optional<std::string> input) {
    return detail::communicate_with(state_, std::move(input));
}

void process::send_signal(int signum) {
    if (signum < 0 || signum >= NSIG) throw std::invalid_argument("send_signal: invalid signal number " + std::to_string(signum));
    std::lock_guard guard(state_->lock);
    if (state_->returncode) throw std::system_error(ESRCH, std::generic_category(), "send_signal: the process has exited");
    if (::kill(state_->pid, signum) < 0) detail::throw_errno(errno, "send_signal");
}

void process::terminate() { send_signal(SIGTERM); }
void process::kill() { send_signal(SIGKILL); }

stream_writer* process::stdin_() const noexcept { return state_->in ? &*state_->in : nullptr; }
stream_reader* process::stdout_() const noexcept { return state_->out ? &*state_->out : nullptr; }
stream_reader* process::stderr_() const noexcept { return state_->err ? &*state_->err : nullptr; }

task<process> create_subprocess_exec(std::vector<std::string> argv, subprocess_options options) {
    std::optional<std::vector<std::string>> env;
    if (options.env) env.emplace(options.env->begin(), options.env->end());
    return detail::spawn_process(std::move(argv), options.stdin_, options.stdout_, options.stderr_,
                                 std::string(options.cwd), std::move(env), options.limit);
}

task<process> create_subprocess_shell(std::string cmd, subprocess_options options) {
    return create_subprocess_exec({"/bin/sh", "-c", std::move(cmd)}, options);
}

}  // namespace corio
