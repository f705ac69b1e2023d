// Signals: event_loop::add_signal_handler / remove_signal_handler over a
// per-loop asio::signal_set (signal_handlers.hpp), and the Ctrl-C handling
// of runtime::run_until_complete / runner::run on top of them (asyncio
// 3.11's Runner._on_sigint).
#include <csignal>
#include <stdexcept>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>

#include "corio/event_loop.hpp"
#include "corio/runtime.hpp"
#include "signal_handlers.hpp"

namespace corio {
namespace detail {

signal_handlers::~signal_handlers() {
    // The set's destructor gives each of its signals the default
    // disposition back (Asio's rule, as remove does).
    std::lock_guard guard(mutex);
    set.reset();
}

void signal_handlers::add(int signum, callback fn) {
    std::lock_guard guard(mutex);
    if (!set) {
        set.emplace(loop.io_context());
        arm_locked();
    }
    const bool fresh = callbacks.find(signum) == callbacks.end();
    if (fresh) set->add(signum);  // throws std::system_error if sigaction refuses
    callbacks[signum] = std::move(fn);
}

bool signal_handlers::remove(int signum, const std::function<void()>* only) {
    std::lock_guard guard(mutex);
    const auto it = callbacks.find(signum);
    if (it == callbacks.end() || (only && it->second.get() != only)) return false;
    callbacks.erase(it);
    std::error_code ignored;  // the signal is in the set: removing it cannot fail
    set->remove(signum, ignored);
    return true;
}

void signal_handlers::arm_locked() {
    set->async_wait([this](std::error_code ec, int signum) { on_signal(ec, signum); });
}

void signal_handlers::on_signal(std::error_code ec, int signum) {
    if (ec) return;  // operation_aborted: the set is being destroyed
    callback fn;
    {
        std::lock_guard guard(mutex);
        arm_locked();
        const auto it = callbacks.find(signum);
        if (it == callbacks.end()) return;  // removed since the signal came
        fn = it->second;
    }
    loop.call_soon([fn = std::move(fn)] { (*fn)(); });
}

namespace {
void check_signal_number(int signum, const char* who) {
    if (signum < 1 || signum >= NSIG)
        throw std::invalid_argument(std::string(who) + ": invalid signal number " + std::to_string(signum));
}
}  // namespace

// ---- Ctrl-C around a run --------------------------------------------------------------

struct interrupt_state {
    std::mutex mutex;  // taken before the handlers' mutex
    task_ref main;     // empty until watch()
    const std::function<void()>* installed = nullptr;  // our callback, to remove only it
    bool interrupted = false;
    bool finished = false;
};

interrupt_guard::interrupt_guard(event_loop& loop) {
    // asyncio installs its handler only in the main thread, and only over
    // the default one (a program that handles SIGINT itself keeps it).
    if (::syscall(SYS_gettid) != ::getpid()) return;
    struct sigaction current {};
    if (::sigaction(SIGINT, nullptr, &current) != 0) return;
    if ((current.sa_flags & SA_SIGINFO) || current.sa_handler != SIG_DFL) return;
    auto state = std::make_shared<interrupt_state>();
    signal_handlers& handlers = loop.signal_registry();
    auto on_sigint = std::make_shared<const std::function<void()>>([state, &handlers] {
        std::lock_guard guard(state->mutex);
        if (state->finished || state->interrupted) return;
        state->interrupted = true;
        // From now on SIGINT has its default disposition: a second Ctrl-C
        // kills the process even if the main task ignores the cancellation.
        handlers.remove(SIGINT, state->installed);
        if (state->main) state->main.cancel();
    });
    std::lock_guard guard(state->mutex);
    state->installed = on_sigint.get();
    handlers.add(SIGINT, std::move(on_sigint));
    loop_ = &loop;
    state_ = std::move(state);
}

void interrupt_guard::watch(task_ref main) {
    if (!state_) return;
    std::lock_guard guard(state_->mutex);
    state_->main = std::move(main);
    if (state_->interrupted) state_->main.cancel();
}

bool interrupt_guard::finish() noexcept {
    if (!state_) return false;
    std::lock_guard guard(state_->mutex);
    if (!state_->finished) {
        state_->finished = true;
        loop_->signal_registry().remove(SIGINT, state_->installed);
    }
    return state_->interrupted;
}

}  // namespace detail

void event_loop::add_signal_handler(int signum, std::function<void()> fn) {
    detail::check_signal_number(signum, "add_signal_handler");
    if (signum == SIGKILL || signum == SIGSTOP)
        throw std::invalid_argument("add_signal_handler: signal " + std::to_string(signum) + " cannot be caught");
    if (!fn) throw std::invalid_argument("add_signal_handler: empty callback");
    if (is_closed()) throw std::runtime_error("Event loop is closed");
    signals_->add(signum, std::make_shared<const std::function<void()>>(std::move(fn)));
}

bool event_loop::remove_signal_handler(int signum) {
    detail::check_signal_number(signum, "remove_signal_handler");
    return signals_->remove(signum);
}

}  // namespace corio
