// gather: run awaitables concurrently, results in argument order
// (asyncio.gather). Deliberate difference: when one child fails, the others
// are cancelled and awaited before the exception propagates, so no child
// outlives the frame that may own its arguments. gather_settled is
// gather(return_exceptions=True): it waits for all and reports each outcome.
#pragma once

#include <exception>
#include <tuple>
#include <type_traits>
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

/// Awaits every child, each kept alive by the caller's handle meanwhile
/// (raw pointers: a million gathered children cost no reference counting).
/// The awaiting task's cancellation cancels the children, and with
/// `fail_fast` so does the first failure; all are awaited before returning.
/// Returns the exception to rethrow, or null.
task<std::exception_ptr> join_all(std::vector<task_header*> children, bool fail_fast);

template <class... Ts>
std::vector<task_header*> headers_of(const std::tuple<task_handle<Ts>...>& handles) {
    return std::apply([](const auto&... h) { return std::vector<task_header*>{h.header()...}; }, handles);
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
    if (h.cancelled()) return std::make_exception_ptr(cancelled_error());
    if (auto e = h.exception()) return e;
    return take_value(h);
}

}  // namespace detail

template <class... Ts>
task<std::tuple<detail::gather_value_t<Ts>...>> gather(task<Ts>... children) {
    std::tuple<task_handle<Ts>...> handles{create_task(std::move(children))...};
    if (std::exception_ptr e = co_await detail::join_all(detail::headers_of(handles), true)) std::rethrow_exception(e);
    co_return std::apply([](auto&... h) { return std::tuple<detail::gather_value_t<Ts>...>{detail::take_value(h)...}; },
                         handles);
}

template <class T>
task<std::vector<detail::gather_value_t<T>>> gather(std::vector<task<T>> children) {
    std::vector<task_handle<T>> handles;
    handles.reserve(children.size());
    for (auto& c : children) handles.push_back(create_task(std::move(c)));
    if (std::exception_ptr e = co_await detail::join_all(detail::headers_of(handles), true))
        std::rethrow_exception(e);
    std::vector<detail::gather_value_t<T>> results;
    results.reserve(handles.size());
    for (auto& h : handles) results.push_back(detail::take_value(h));
    co_return results;
}

template <class... Ts>
task<std::tuple<outcome<detail::gather_value_t<Ts>>...>> gather_settled(task<Ts>... children) {
    std::tuple<task_handle<Ts>...> handles{create_task(std::move(children))...};
    if (std::exception_ptr e = co_await detail::join_all(detail::headers_of(handles), false)) std::rethrow_exception(e);
    co_return std::apply(
        [](auto&... h) { return std::tuple<outcome<detail::gather_value_t<Ts>>...>{detail::take_outcome(h)...}; },
        handles);
}

template <class T>
task<std::vector<outcome<detail::gather_value_t<T>>>> gather_settled(std::vector<task<T>> children) {
    std::vector<task_handle<T>> handles;
    handles.reserve(children.size());
    for (auto& c : children) handles.push_back(create_task(std::move(c)));
    if (std::exception_ptr e = co_await detail::join_all(detail::headers_of(handles), false))
        std::rethrow_exception(e);
    std::vector<outcome<detail::gather_value_t<T>>> results;
    results.reserve(handles.size());
    for (auto& h : handles) results.push_back(detail::take_outcome(h));
    co_return results;
}

}  // namespace corio
