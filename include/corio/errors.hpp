// corio's exception types, matching asyncio's: cancelled_error is not a
// std::exception (Python's CancelledError is a BaseException), so a
// `catch (const std::exception&)` never swallows a cancellation.
#pragma once

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace corio {

/// Thrown into a task at its suspension point when it is cancelled.
/// Deliberately not derived from std::exception.
class cancelled_error {
public:
    cancelled_error() = default;
    explicit cancelled_error(std::string message) : message_(std::move(message)) {}
    const char* what() const noexcept { return message_.empty() ? "cancelled" : message_.c_str(); }

private:
    std::string message_;
};

/// Base of corio's ordinary errors.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class timeout_error : public error {
public:
    timeout_error() : error("timeout") {}
    using error::error;
};

class invalid_state_error : public error {
public:
    using error::error;
};

/// A read reached EOF before `expected` bytes arrived; `partial()` keeps what did.
class incomplete_read_error : public error {
public:
    incomplete_read_error(std::string partial, std::size_t expected)
        : error(std::to_string(partial.size()) + " bytes read on a total of " + std::to_string(expected) +
                " expected bytes"),
          partial_(std::move(partial)),
          expected_(expected) {}
    const std::string& partial() const noexcept { return partial_; }
    std::size_t expected() const noexcept { return expected_; }

private:
    std::string partial_;
    std::size_t expected_;
};

/// A separator was not found within the stream's limit; `consumed()` bytes stay buffered.
class limit_overrun_error : public error {
public:
    limit_overrun_error(const std::string& message, std::size_t consumed) : error(message), consumed_(consumed) {}
    std::size_t consumed() const noexcept { return consumed_; }

private:
    std::size_t consumed_;
};

class queue_full : public error {
public:
    queue_full() : error("queue is full") {}
};

class queue_empty : public error {
public:
    queue_empty() : error("queue is empty") {}
};

/// put/get on a queue after shutdown() (asyncio 3.13's QueueShutDown).
class queue_shut_down : public error {
public:
    queue_shut_down() : error("queue is shut down") {}
};

/// A barrier wait on a barrier that was aborted or reset under its waiters
/// (asyncio's BrokenBarrierError).
class broken_barrier_error : public error {
public:
    broken_barrier_error() : error("barrier is broken") {}
};

/// Several failures at once (asyncio's ExceptionGroup), e.g. from a task_group.
class exception_group : public error {
public:
    explicit exception_group(std::vector<std::exception_ptr> errors)
        : error("exception group with " + std::to_string(errors.size()) + " exception(s)"),
          errors_(std::move(errors)) {}
    const std::vector<std::exception_ptr>& exceptions() const noexcept { return errors_; }

private:
    std::vector<std::exception_ptr> errors_;
};

}  // namespace corio
