// The type-erased cores of gather, wait and wait_for.
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <vector>

#include "children_watch.hpp"
#include "corio/detail/wait_operation.hpp"
#include "corio/gather.hpp"
#include "corio/policy.hpp"
#include "corio/wait.hpp"

namespace corio::detail {

namespace {
/// One wait for `t` to end, which a cancellation of the waiting task ends
/// early without throwing: await_resume returns that cancellation (taken),
/// or null. A loop of them awaits `t`'s end whatever comes, allocating
/// nothing: cleanup that must work when memory has run out too.
class end_wait : public wait_operation {
public:
    explicit end_wait(task_header* t) noexcept : wait_operation(*t, t) {}
    std::exception_ptr await_resume() {
        woken_by_cancel();
        return take_cancel() ? std::make_exception_ptr(cancelled_error()) : nullptr;
    }
};

}  // namespace

std::exception_ptr take_failure(task_header* t) {
    if (t->status() == completion_status::cancelled) return std::make_exception_ptr(cancelled_error());
    return std::move(t->exception);
}

task<std::exception_ptr> join_all(const spawned_children& spawned, bool fail_fast) {
    const std::vector<task_header*>& children = spawned.headers;
    std::exception_ptr error = spawned.failure;
    try {
        // The fork-join fast path, as for `co_await handle`: in a runtime,
        // the children nobody has started yet run here, now, nested, in
        // order, and a failing one ends the pass (the first failure in
        // time, as far as this worker can tell); only those still running
        // after it are waited for. A million children gathered with one
        // done callback each took 10x as long as awaiting them in a loop.
        // A standalone loop runs nothing here (try_run_inline keeps
        // asyncio's order).
        std::vector<task_header*> running;
        if (!error) {
            for (task_header* c : children) {
                if (!c->done()) try_run_inline(c);
                if (!c->done()) {
                    running.push_back(c);
                } else if (fail_fast && failed(c)) {
                    error = take_failure(c);
                    break;
                }
            }
        }
        if (!error && !running.empty()) {
            // Wake when all are done, or at the first failure in time,
            // whichever child it is (asyncio).
            try {
                children_watch watch(running, fail_fast ? &failed : nullptr);  // named: its nodes must outlive the wait
                if (task_header* f = co_await watch) error = take_failure(f);
            } catch (const cancelled_error&) {
                // The gather itself was cancelled: its children are too,
                // return_exceptions or not (asyncio).
                error = std::current_exception();
            }
        }
    } catch (...) {
        error = std::current_exception();  // out of memory: the children are cancelled, as at a failure
    }
    if (error)
        for (task_header* c : children) request_cancel(c);
    // Every child ends before we return, even if we are cancelled meanwhile.
    for (task_header* c : children)
        while (!c->done())
            if (std::exception_ptr interrupted = co_await end_wait(c); interrupted && !error) error = interrupted;
    co_return error;
}

namespace {
bool finished(const task_header*) noexcept { return true; }
/// asyncio.wait's FIRST_EXCEPTION: an exception, a cancellation not being one.
bool raised(const task_header* t) noexcept {
    return t->status() != completion_status::cancelled && t->exception != nullptr;
}
children_watch::stop_rule stop_rule_for(completion_condition condition) noexcept {
    switch (condition) {
        case completion_condition::first_completed: return &finished;
        case completion_condition::first_exception: return &raised;
        case completion_condition::all_completed: break;
    }
    return nullptr;
}
/// now + `timeout`, or none when that is beyond what the clock can count.
std::optional<clock::time_point> deadline_after(std::optional<clock::duration> timeout) {
    if (!timeout) return std::nullopt;
    const clock::time_point now = clock::now();
    if (*timeout > clock::time_point::max() - now) return std::nullopt;
    return now + *timeout;
}
}  // namespace

task<void> wait_for_condition(std::vector<task_header*> children, completion_condition condition,
                              std::optional<clock::duration> timeout) {
    children_watch watch(children, stop_rule_for(condition), deadline_after(timeout));  // named: its nodes must outlive the wait
    co_await watch;
}

task<bool> await_with_timeout(const task_ref& target, clock::duration timeout) {
    std::shared_ptr<std::atomic<bool>> fired;
    timer_handle timer;
    // Our cancellation, or running out of memory for the timer: either way
    // `target` is cancelled and ends before we do.
    std::exception_ptr interrupted;
    try {
        fired = std::make_shared<std::atomic<bool>>(false);
        timer = get_running_loop().call_later(timeout, [fired, target = task_ref(target)]() mutable {
            fired->store(true, std::memory_order_relaxed);
            target.cancel();
        });
        co_await target.wait_done();
    } catch (...) {
        interrupted = std::current_exception();
    }
    timer.cancel();
    if (interrupted) {
        request_cancel(target.header());
        while (!target.done()) (void)co_await end_wait(target.header());
        std::rethrow_exception(interrupted);
    }
    co_return fired->load(std::memory_order_relaxed);
}

}  // namespace corio::detail
