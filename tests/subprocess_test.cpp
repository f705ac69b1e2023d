#include "corio/subprocess.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include <asio/ip/tcp.hpp>

#include <cerrno>
#include <tuple>
#include <unistd.h>

#include "corio/corio.hpp"
#include "run_modes.hpp"

using namespace std::chrono_literals;

namespace {

/// Deterministic bytes covering every value 0..255 (NULs and newlines included).
std::string pattern(std::size_t n) {
    std::string s(n, '\0');
    std::uint32_t x = 2463534242u;
    for (char& c : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x);
    }
    return s;
}

std::size_t open_fds() {
    std::size_t n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
    return n;
}

corio::subprocess_options out_pipe() { return corio::subprocess_options{.stdout_ = corio::pipe}; }

/// create_subprocess_exec with argv split at spaces. (GCC 12 rejects a
/// braced list inside a co_await expression, "array used as initializer",
/// so the tests do not write `co_await create_subprocess_exec({...})`.)
corio::task<corio::process> exec(const std::string& command, corio::subprocess_options options = {}) {
    std::vector<std::string> argv;
    for (std::size_t at = 0; at <= command.size();) {
        const std::size_t space = std::min(command.find(' ', at), command.size());
        argv.push_back(command.substr(at, space - at));
        at = space + 1;
    }
    return corio::create_subprocess_exec(std::move(argv), std::move(options));
}

struct run_result {
    std::string out, err;
    int rc = -1000;
};

}  // namespace

TEST_CASE("communicate returns what echo printed and its exit code", "[subprocess]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const run_result r = corio_test::run_in(mode, []() -> corio::task<run_result> {
        auto p = co_await exec("echo hello world", out_pipe());
        auto [out, err] = co_await p.communicate();
        co_return run_result{out, err, *p.returncode()};
    });
    REQUIRE(r.out == "hello world\n");
    REQUIRE(r.err.empty());
    REQUIRE(r.rc == 0);
}

TEST_CASE("communicate pushes 10 MB through cat and reads it back byte for byte", "[subprocess]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const std::string input = pattern(10 * 1024 * 1024);
    const run_result r = corio_test::run_in(mode, [&input]() -> corio::task<run_result> {
        auto p = co_await exec(
            "cat", corio::subprocess_options{.stdin_ = corio::pipe, .stdout_ = corio::pipe, .stderr_ = corio::pipe});
        auto [out, err] = co_await p.communicate(input);
        co_return run_result{std::move(out), std::move(err), *p.returncode()};
    });
    REQUIRE(r.rc == 0);
    REQUIRE(r.err.empty());
    REQUIRE(r.out.size() == input.size());
    REQUIRE(r.out == input);
}

TEST_CASE("stdout and stderr are separate pipes, or one with stderr_ = corio::stdout_", "[subprocess]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto results = corio_test::run_in(mode, []() -> corio::task<std::vector<run_result>> {
        std::vector<run_result> rs;
        for (const corio::stdio err : {corio::pipe, corio::stdout_}) {
            auto p = co_await corio::create_subprocess_shell(
                "echo out; echo err >&2; exit 4", corio::subprocess_options{.stdout_ = corio::pipe, .stderr_ = err});
            auto [out, e] = co_await p.communicate();
            rs.push_back({out, e, *p.returncode()});
        }
        co_return rs;
    });
    REQUIRE(results[0].out == "out\n");
    REQUIRE(results[0].err == "err\n");
    REQUIRE(results[0].rc == 4);
    REQUIRE(results[1].out == "out\nerr\n");
    REQUIRE(results[1].err.empty());
}

TEST_CASE("wait returns the exit code, and returncode is empty until the exit", "[subprocess]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto [before, waited, after] = corio_test::run_in(mode, []() -> corio::task<std::tuple<bool, int, int>> {
        auto p = co_await corio::create_subprocess_shell("read line; exit 3",
                                                        corio::subprocess_options{.stdin_ = corio::pipe});
        const bool running = !p.returncode().has_value();  // it waits for its input
        p.stdin_()->write("go\n");
        co_await p.stdin_()->drain();
        const int rc = co_await p.wait();
        co_return std::tuple{running, rc, *p.returncode()};
    });
    REQUIRE(before);
    REQUIRE(waited == 3);
    REQUIRE(after == 3);
}

TEST_CASE("kill and terminate give minus the signal number", "[subprocess]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto codes = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        std::vector<int> rcs;
        auto killed = co_await exec("sleep 30");
        killed.kill();
        rcs.push_back(co_await killed.wait());
        auto terminated = co_await exec("sleep 30");
        terminated.terminate();
        rcs.push_back(co_await terminated.wait());
        auto hup = co_await exec("sleep 30");
        hup.send_signal(SIGHUP);
        rcs.push_back(co_await hup.wait());
        co_return rcs;
    });
    REQUIRE(codes == std::vector<int>{-SIGKILL, -SIGTERM, -SIGHUP});
}

TEST_CASE("signalling a reaped process throws ESRCH", "[subprocess][errors]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const std::error_code ec = corio_test::run_in(mode, []() -> corio::task<std::error_code> {
        auto p = co_await exec("true");
        co_await p.wait();
        try {
            p.kill();
        } catch (const std::system_error& e) {
            co_return e.code();
        }
        co_return std::error_code();
    });
    REQUIRE(ec == std::errc::no_such_process);
}

TEST_CASE("a program that does not exist or cannot run throws std::system_error", "[subprocess][errors]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto [missing, what, not_executable, fds_before, fds_after] =
        corio_test::run_in(mode, []() -> corio::task<std::tuple<std::error_code, std::string, std::error_code,
                                                                std::size_t, std::size_t>> {
            std::error_code missing, not_executable;
            std::string what;
            const std::size_t before = open_fds();
            try {
                co_await exec("corio-no-such-program x",
                                                       corio::subprocess_options{.stdin_ = corio::pipe, .stdout_ = corio::pipe});
            } catch (const std::system_error& e) {
                missing = e.code();
                what = e.what();
            }
            try {
                co_await exec("/etc/passwd");
            } catch (const std::system_error& e) {
                not_executable = e.code();
            }
            co_return std::tuple{missing, what, not_executable, before, open_fds()};
        });
    REQUIRE(missing == std::errc::no_such_file_or_directory);
    REQUIRE(what.find("corio-no-such-program") != std::string::npos);
    REQUIRE(not_executable == std::errc::permission_denied);
    REQUIRE(fds_after == fds_before);  // the pipes made for it are closed again
}

TEST_CASE("bad arguments get std::invalid_argument", "[subprocess][errors]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int refused = corio_test::run_in(mode, []() -> corio::task<int> {
        int n = 0;
        auto expect_invalid = [&n](corio::task<corio::process> t) -> corio::task<void> {
            try {
                co_await std::move(t);
            } catch (const std::invalid_argument&) {
                ++n;
            }
        };
        co_await expect_invalid(corio::create_subprocess_exec(std::vector<std::string>()));
        co_await expect_invalid(exec(""));
        std::vector<std::string> nul_in_argument{"echo", std::string("a\0b", 3)};
        co_await expect_invalid(corio::create_subprocess_exec(nul_in_argument));
        co_await expect_invalid(exec("cat", corio::subprocess_options{.stdin_ = corio::stdout_}));
        co_await expect_invalid(exec("cat", corio::subprocess_options{.stdout_ = corio::stdout_}));
        co_await expect_invalid(
            exec("cat", corio::subprocess_options{.stdout_ = corio::stdio::from_fd(-1)}));
        std::vector<std::string> bad_env{"NOEQUALS"};
        co_await expect_invalid(exec("env", corio::subprocess_options{.env = bad_env}));
        co_await expect_invalid(exec("cat", corio::subprocess_options{.limit = 0}));
        // communicate(input) needs a stdin pipe.
        auto p = co_await exec("true");
        try {
            co_await p.communicate("input");
        } catch (const std::invalid_argument&) {
            ++n;
        }
        co_await p.wait();
        try {
            auto q = co_await exec("sleep 30");
            try {
                q.send_signal(-1);
            } catch (const std::invalid_argument&) {
                ++n;
            }
            q.kill();
            co_await q.wait();
        } catch (...) {
        }
        co_return n;
    });
    REQUIRE(refused == 10);
}

TEST_CASE("a stdout-only pipe is read line by line through its stream", "[subprocess][streams]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto [lines, eof, rc] = corio_test::run_in(mode, []() -> corio::task<std::tuple<std::vector<std::string>, bool, int>> {
        auto p = co_await exec("printf a\\nbb\\nccc", out_pipe());
        std::vector<std::string> got;
        if (p.stdin_() || p.stderr_()) got.push_back("a stream that is not a pipe");
        for (;;) {
            std::string line = co_await p.stdout_()->readline();
            if (line.empty()) break;
            got.push_back(line);
        }
        const bool at_eof = p.stdout_()->at_eof();
        const int code = co_await p.wait();
        co_return std::tuple{got, at_eof, code};
    });
    REQUIRE(lines == std::vector<std::string>{"a\n", "bb\n", "ccc"});
    REQUIRE(eof);
    REQUIRE(rc == 0);
}

TEST_CASE("stdin and stdout streams used directly, stdin closed to end the input", "[subprocess][streams]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const std::string out = corio_test::run_in(mode, []() -> corio::task<std::string> {
        auto p = co_await exec("tr a-z A-Z",
                                                        corio::subprocess_options{.stdin_ = corio::pipe, .stdout_ = corio::pipe});
        p.stdin_()->write("one\n");
        p.stdin_()->writelines({"two\n", "three\n"});
        co_await p.stdin_()->drain();
        p.stdin_()->close();
        co_await p.stdin_()->wait_closed();
        std::string all = co_await p.stdout_()->read();
        co_await p.wait();
        co_return all;
    });
    REQUIRE(out == "ONE\nTWO\nTHREE\n");
}

TEST_CASE("a child that exits without reading its input is not an error for communicate", "[subprocess]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const int rc = corio_test::run_in(mode, []() -> corio::task<int> {
        auto p = co_await exec("true",
                                                        corio::subprocess_options{.stdin_ = corio::pipe});
        co_await p.communicate(pattern(1024 * 1024));  // far more than a pipe holds
        co_return *p.returncode();
    });
    REQUIRE(rc == 0);
}

TEST_CASE("devnull, a file descriptor, cwd and env reach the child", "[subprocess]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto r = corio_test::run_in(mode, []() -> corio::task<std::vector<std::string>> {
        std::vector<std::string> outs;
        auto a = co_await exec(
            "cat", corio::subprocess_options{.stdin_ = corio::devnull, .stdout_ = corio::pipe, .stderr_ = corio::devnull});
        outs.push_back((co_await a.communicate()).stdout_);
        auto b = co_await exec("pwd", corio::subprocess_options{.stdout_ = corio::pipe, .cwd = "/"});
        outs.push_back((co_await b.communicate()).stdout_);
        std::vector<std::string> env{"CORIO_X=42"};
        auto c = co_await corio::create_subprocess_shell("echo \"$CORIO_X\"",
                                                         corio::subprocess_options{.stdout_ = corio::pipe, .env = env});
        outs.push_back((co_await c.communicate()).stdout_);
        // stdout to a pipe of our own, given as a file descriptor.
        int fds[2];
        if (::pipe(fds) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
        auto d = co_await exec("echo via fd",
                                                        corio::subprocess_options{.stdout_ = corio::stdio::from_fd(fds[1])});
        ::close(fds[1]);
        co_await d.wait();
        char buf[64] = {};
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        ::close(fds[0]);
        outs.push_back(n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string());
        co_return outs;
    });
    REQUIRE(r == std::vector<std::string>{"", "/\n", "42\n", "via fd\n"});
}

TEST_CASE("the child gets no descriptors but 0, 1 and 2", "[subprocess]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const std::string fds = corio_test::run_in(mode, []() -> corio::task<std::string> {
        // A listening socket (Asio's are not close-on-exec) must not leak into the child.
        asio::ip::tcp::acceptor listener(corio::get_running_loop().io_context(),
                                         asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        auto p = co_await exec("ls /proc/self/fd", out_pipe());
        co_return (co_await p.communicate()).stdout_;
    });
    // ls itself opens one more to read the directory.
    REQUIRE(fds == "0\n1\n2\n3\n");
}

TEST_CASE("wait from several tasks, and a cancelled wait leaves the process alone", "[subprocess]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    const auto [timed_out, codes] = corio_test::run_in(mode, []() -> corio::task<std::tuple<bool, std::vector<int>>> {
        auto p = co_await exec("sleep 30");
        bool to = false;
        try {
            co_await corio::wait_for(p.wait(), 20ms);
        } catch (const corio::timeout_error&) {
            to = true;
        }
        auto w1 = corio::create_task(p.wait());
        auto w2 = corio::create_task(p.wait());
        co_await corio::sleep(5ms);
        p.kill();
        std::vector<int> rcs;
        rcs.push_back(co_await w1);
        rcs.push_back(co_await w2);
        rcs.push_back(co_await p.wait());
        co_return std::tuple{to, rcs};
    });
    REQUIRE(timed_out);
    REQUIRE(codes == std::vector<int>{-SIGKILL, -SIGKILL, -SIGKILL});
}

TEST_CASE("without pidfd the exit is observed from a default-executor thread", "[subprocess]") {
    const auto mode = GENERATE(corio_test::standalone, corio_test::multi_worker);
    corio::detail::set_pidfd_enabled(false);
    const auto codes = corio_test::run_in(mode, []() -> corio::task<std::vector<int>> {
        std::vector<int> rcs;
        auto a = co_await corio::create_subprocess_shell("exit 5");
        rcs.push_back(co_await a.wait());
        auto b = co_await exec("sleep 30");
        b.kill();
        rcs.push_back(co_await b.wait());
        auto c = co_await exec("echo x", out_pipe());
        rcs.push_back(static_cast<int>((co_await c.communicate()).stdout_.size()));
        co_return rcs;
    });
    corio::detail::set_pidfd_enabled(true);
    REQUIRE(codes == std::vector<int>{5, -SIGKILL, 2});
}

TEST_CASE("many concurrent subprocesses on 4 workers, no descriptor left open", "[subprocess][stress]") {
    constexpr int children = 64;
    const std::size_t fds_before = open_fds();
    const auto outs = corio::run([]() -> corio::task<std::vector<std::string>> {
        std::vector<corio::task<std::string>> runs;
        for (int i = 0; i < children; ++i) {
            runs.push_back([](int i) -> corio::task<std::string> {
                auto p = co_await corio::create_subprocess_shell(
                    "cat; echo " + std::to_string(i), corio::subprocess_options{.stdin_ = corio::pipe, .stdout_ = corio::pipe});
                auto r = co_await p.communicate("child " + std::to_string(i) + ":");
                co_return r.stdout_ + (p.returncode() == 0 ? "" : "!");
            }(i));
        }
        co_return co_await corio::gather(std::move(runs));
    }(), corio::run_options{.workers = 4});
    REQUIRE(outs.size() == children);
    for (int i = 0; i < children; ++i) REQUIRE(outs[static_cast<std::size_t>(i)] == "child " + std::to_string(i) + ":" + std::to_string(i) + "\n");
    REQUIRE(open_fds() == fds_before);
}
