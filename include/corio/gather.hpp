// gather: run awaitables concurrently, results in argument order
// (asyncio.gather). Deliberate difference: when one child fails, the others
// are cancelled and awaited before the exception propagates, so no child
// outlives the frame that may own its arguments. gather_settled is
// gather(return_exceptions=True): it waits for all and reports each outcome.
#pragma once

#include <cstddef>
#include <exception>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "corio/create_task.hpp"
#include "corio/outcome.hpp"
#include "corio/task.hpp"
#include "corio/task_handle.hpp"

namespace corio {

namespace detail {

template <class T>
using gather_value_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

/// A gather's children as it spawns them. Every child spawned must end
/// before the gather returns, out of memory too (it may use the gathering
/// frame): so what allocates (this list, join_all's frame) is made before
/// the first spawn, and a spawn that fails leaves the rest unspawned and
/// has join_all cancel those before it.
struct spawned_children {
    explicit spawned_children(std::size_t n) { headers.reserve(n); }

    template <class T>
    void spawn(task_handle<T>& handle, task<T>& child) noexcept {
        if (failure) return;
        try {
            handle = create_task(std::move(child));
        } catch (...) {
            failure = std::current_exception();
            return;
        }
        headers.push_back(handle.header());  // reserved: cannot throw
    }

    /// Raw pointers, each child kept alive by the gather's handle: a
    /// million gathered children cost no reference counting.
    std::vector<task_header*> headers;
    std::exception_ptr failure;  // of the first spawn that failed
};

/// What a failed (cancelled or raising) child of a gather makes it throw or
/// report: its exception taken out of it, not copied (nobody else can
/// reach a gather's child). The worker that last polled the child may free
/// its frame after the gather's awaiter has caught the exception; were the
/// frame to hold a reference, that worker could free the exception object,
/// ordered after the catch only by libstdc++'s reference count, which
/// ThreadSanitizer cannot see (uninstrumented): a false report. Taken, the
/// object dies with its last catch.
std::exception_ptr take_failure(task_header* t);

/// Awaits every child in `children` (read when first awaited). The
/// awaiting task's cancellation cancels them, and with `fail_fast` so does
/// the first failure, as does a failed spawn or running out of memory
/// here; all are awaited before returning. Returns the exception to
/// rethrow (a failed spawn's first), or null.
task<std::exception_ptr> join_all(const spawned_children& children, bool fail_fast);

/// Spawns `children` into `handles`, in order.
template <class... Ts, std::size_t... I>
void spawn_each(spawned_children& spawned, std::tuple<task_handle<Ts>...>& handles, std::index_sequence<I...>,
                task<Ts>&... children) noexcept {
    (spawned.spawn(std::get<I>(handles), children), ...);
}
template <class T>
void spawn_each(spawned_children& spawned, std::vector<task_handle<T>>& handles, std::vector<task<T>>& children) noexcept {
    for (std::size_t i = 0; i < children.size(); ++i) spawned.spawn(handles[i], children[i]);
}

template <class T>
std::vector<task_header*> headers_of(const std::vector<task_handle<T>>& handles) {
    std::vector<task_header*> headers;
    headers.reserve(handles.size());
    for (const auto& h : handles) headers.push_back(h.header());
    return headers;
}

template <class T>
gather_value_t<T> take_value(task_handle<T>& h) {
    if constexpr (std::is_void_v<T>) {
        h.take_result();
        return {};
    } else {
        return h.take_result();
    }
}

template <class T>
outcome<gather_value_t<T>> take_outcome(task_handle<T>& h) {
    if (h.cancelled() || h.header()->exception) return take_failure(h.header());
    return take_value(h);
}

}  // namespace detail

template <class... Ts>
task<std::tuple<detail::gather_value_t<Ts>...>> gather(task<Ts>... children) {
    std::tuple<task_handle<Ts>...> handles;
    detail::spawned_children spawned(sizeof...(Ts));
    auto joined = detail::join_all(spawned, true);  // its frame before the first spawn
    detail::spawn_each(spawned, handles, std::index_sequence_for<Ts...>{}, children...);
    if (std::exception_ptr e = co_await std::move(joined)) std::rethrow_exception(e);
    co_return std::apply([](auto&... h) { return std::tuple<detail::gather_value_t<Ts>...>{detail::take_value(h)...}; },
                         handles);
}

template <class T>
task<std::vector<detail::gather_value_t<T>>> gather(std::vector<task<T>> children) {
    std::vector<task_handle<T>> handles(children.size());
    detail::spawned_children spawned(children.size());
    auto joined = detail::join_all(spawned, true);  // its frame before the first spawn
    detail::spawn_each(spawned, handles, children);
    if (std::exception_ptr e = co_await std::move(joined)) std::rethrow_exception(e);
    std::vector<detail::gather_value_t<T>> results;
    results.reserve(handles.size());
    for (auto& h : handles) results.push_back(detail::take_value(h));
    co_return results;
}

template <class... Ts>
task<std::tuple<outcome<detail::gather_value_t<Ts>>...>> gather_settled(task<Ts>... children) {
    std::tuple<task_handle<Ts>...> handles;
    detail::spawned_children spawned(sizeof...(Ts));
    auto joined = detail::join_all(spawned, false);  // its frame before the first spawn
    detail::spawn_each(spawned, handles, std::index_sequence_for<Ts...>{}, children...);
    if (std::exception_ptr e = co_await std::move(joined)) std::rethrow_exception(e);
    co_return std::apply(
        [](auto&... h) { return std::tuple<outcome<detail::gather_value_t<Ts>>...>{detail::take_outcome(h)...}; },
        handles);
}

template <class T>
task<std::vector<outcome<detail::gather_value_t<T>>>> gather_settled(std::vector<task<T>> children) {
    std::vector<task_handle<T>> handles(children.size());
    detail::spawned_children spawned(children.size());
    auto joined = detail::join_all(spawned, false);  // its frame before the first spawn
    detail::spawn_each(spawned, handles, children);
    if (std::exception_ptr e = co_await std::move(joined)) std::rethrow_exception(e);
    std::vector<outcome<detail::gather_value_t<T>>> results;
    results.reserve(handles.size());
    for (auto& h : handles) results.push_back(detail::take_outcome(h));
    co_return results;
}

}  // namespace corio
