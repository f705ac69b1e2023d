// Storage for a task's or future's outcome: nothing yet, a T, or an
// exception_ptr. Who may read it is decided by the owner's status word.
#pragma once

#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace corio::detail {

template <class T>
class result_slot {
public:
    result_slot() noexcept {}
    result_slot(const result_slot&) = delete;
    result_slot& operator=(const result_slot&) = delete;
    ~result_slot() { reset(); }

    template <class... Args>
    void emplace_value(Args&&... args) {
        reset();
        ::new (static_cast<void*>(std::addressof(value_))) T(std::forward<Args>(args)...);
        kind_ = kind::value;
    }
    void set_exception(std::exception_ptr e) noexcept {
        reset();
        ::new (static_cast<void*>(std::addressof(error_))) std::exception_ptr(std::move(e));
        kind_ = kind::error;
    }
    bool has_value() const noexcept { return kind_ == kind::value; }
    bool has_exception() const noexcept { return kind_ == kind::error; }
    std::exception_ptr exception() const noexcept { return kind_ == kind::error ? error_ : nullptr; }

    T& value() & {
        if (kind_ == kind::error) std::rethrow_exception(error_);
        return value_;
    }
    /// The value, moved out (the slot keeps a moved-from T).
    T take() {
        if (kind_ == kind::error) std::rethrow_exception(error_);
        return std::move(value_);
    }

    void reset() noexcept {
        if (kind_ == kind::value) value_.~T();
        else if (kind_ == kind::error) error_.~exception_ptr();
        kind_ = kind::empty;
    }

private:
    enum class kind : unsigned char { empty, value, error };
    kind kind_ = kind::empty;
    union {
        T value_;
        std::exception_ptr error_;
    };
};

/// References are stored as pointers.
template <class T>
class result_slot<T&> {
public:
    void emplace_value(T& v) noexcept { ptr_ = std::addressof(v); error_ = nullptr; }
    void set_exception(std::exception_ptr e) noexcept { error_ = std::move(e); ptr_ = nullptr; }
    bool has_value() const noexcept { return ptr_ != nullptr; }
    bool has_exception() const noexcept { return error_ != nullptr; }
    std::exception_ptr exception() const noexcept { return error_; }
    T& value() {
        if (error_) std::rethrow_exception(error_);
        return *ptr_;
    }
    T& take() { return value(); }

private:
    T* ptr_ = nullptr;
    std::exception_ptr error_;
};

template <>
class result_slot<void> {
public:
    void emplace_value() noexcept { has_value_ = true; error_ = nullptr; }
    void set_exception(std::exception_ptr e) noexcept { error_ = std::move(e); has_value_ = false; }
    bool has_value() const noexcept { return has_value_; }
    bool has_exception() const noexcept { return error_ != nullptr; }
    std::exception_ptr exception() const noexcept { return error_; }
    void value() {
        if (error_) std::rethrow_exception(error_);
    }
    void take() { value(); }

private:
    bool has_value_ = false;
    std::exception_ptr error_;
};

}  // namespace corio::detail
