// dropped_handler_scope, io_run_catch: see corio/detail/dropped_handlers.hpp.
#include "corio/detail/dropped_handlers.hpp"

#include <utility>

namespace corio::detail {

namespace {
thread_local bool tl_dropped_handler_ends_operation = true;
thread_local io_run_catch* tl_io_run = nullptr;
}  // namespace

dropped_handler_scope::dropped_handler_scope(bool ends_operation) noexcept
    : previous_(tl_dropped_handler_ends_operation) {
    tl_dropped_handler_ends_operation = ends_operation;
}

dropped_handler_scope::~dropped_handler_scope() { tl_dropped_handler_ends_operation = previous_; }

bool dropped_handler_ends_operation() noexcept { return tl_dropped_handler_ends_operation; }

void end_dropped_operation(droppable_operation& op) noexcept {
    // Any exception unwinding here counts, even one that was unwinding
    // when the run began (a loop run from a destructor): the run's end
    // ends whatever its catch did not take with operation_aborted, as an
    // immediate end would have, only later in the same run.
    io_run_catch* run = tl_io_run;
    if (run && std::uncaught_exceptions() > 0) {
        op.next_dropped_ = run->dropped_;
        run->dropped_ = &op;
        return;
    }
    op.end_dropped(nullptr);
}

io_run_catch::io_run_catch() noexcept : outer_(tl_io_run) { tl_io_run = this; }

io_run_catch::~io_run_catch() {
    tl_io_run = outer_;
    deliver(nullptr);
}

bool io_run_catch::deliver(const std::exception_ptr& failure) noexcept {
    if (!dropped_) return false;
    // Ending an operation may wake its task, which may then run, finish
    // and free the operation on another worker: take the link first.
    for (droppable_operation* op = std::exchange(dropped_, nullptr); op;) {
        droppable_operation* next = op->next_dropped_;
        op->end_dropped(failure);
        op = next;
    }
    return true;
}

}  // namespace corio::detail
