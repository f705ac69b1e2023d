// dropped_handler_scope: see corio/detail/dropped_handlers.hpp.
#include "corio/detail/dropped_handlers.hpp"

namespace corio::detail {

namespace {
thread_local bool tl_dropped_handler_ends_operation = true;
}

dropped_handler_scope::dropped_handler_scope(bool ends_operation) noexcept
    : previous_(tl_dropped_handler_ends_operation) {
    tl_dropped_handler_ends_operation = ends_operation;
}

dropped_handler_scope::~dropped_handler_scope() { tl_dropped_handler_ends_operation = previous_; }

bool dropped_handler_ends_operation() noexcept { return tl_dropped_handler_ends_operation; }

}  // namespace corio::detail
