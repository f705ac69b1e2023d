// use_task's one non-template part: which thread may start an operation.
#include "corio/use_task.hpp"

#include "context.hpp"
#include "loop_core.hpp"

namespace corio::detail {

bool runs_io_here(const asio::execution_context& ctx) noexcept {
    return tl_core && static_cast<const asio::execution_context*>(&tl_core->io_reactor.io()) == &ctx;
}

}  // namespace corio::detail
