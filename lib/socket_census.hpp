// socket_census: how many sockets each event loop's io_context holds open,
// for the open_sockets metric. An Asio service, so each io_context (each
// loop) has its own counter and finding it needs nothing but the socket's
// io_context. A census_entry is held by whatever owns a socket (a stream
// connection, a listener) for as long as it owns it.
#pragma once

#include <asio/execution_context.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <cstddef>

namespace corio::detail {

class socket_census : public asio::execution_context::service {
public:
    using key_type = socket_census;
    static inline asio::execution_context::id id;

    explicit socket_census(asio::execution_context& ctx) : service(ctx) {}

    /// Sockets counted in on this io_context now.
    static std::size_t count(asio::io_context& io) {
        // has_service first: reading a metric must not create the service.
        if (!asio::has_service<socket_census>(io)) return 0;
        return asio::use_service<socket_census>(io).open_.load(std::memory_order_relaxed);
    }

private:
    friend class census_entry;
    void shutdown() override {}

    std::atomic<std::size_t> open_{0};
};

/// Counts one socket in on `io` for the entry's lifetime. Movable: a moved-
/// from entry counts nothing.
class census_entry {
public:
    census_entry() noexcept = default;
    explicit census_entry(asio::io_context& io) : census_(&asio::use_service<socket_census>(io)) {
        census_->open_.fetch_add(1, std::memory_order_relaxed);
    }
    census_entry(census_entry&& other) noexcept : census_(other.census_) { other.census_ = nullptr; }
    census_entry& operator=(census_entry&&) = delete;
    ~census_entry() {
        if (census_) census_->open_.fetch_sub(1, std::memory_order_relaxed);
    }

private:
    socket_census* census_ = nullptr;
};

}  // namespace corio::detail
