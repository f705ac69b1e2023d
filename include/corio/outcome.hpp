// outcome<T>: a value or the exception that took its place; what
// gather_settled returns per child (asyncio's gather(return_exceptions=True)).
#pragma once

#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

namespace corio {

template <class T>
class outcome {
public:
    outcome(T value) : storage_(std::in_place_index<0>, std::move(value)) {}
    outcome(std::exception_ptr error) : storage_(std::in_place_index<1>, std::move(error)) {}

    bool has_value() const noexcept { return storage_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }
    /// The value; rethrows the stored exception when there is none.
    T& value() & {
        if (!has_value()) std::rethrow_exception(std::get<1>(storage_));
        return std::get<0>(storage_);
    }
    T&& value() && { return std::move(value()); }
    std::exception_ptr error() const noexcept { return has_value() ? nullptr : std::get<1>(storage_); }

private:
    std::variant<T, std::exception_ptr> storage_;
};

}  // namespace corio
