// generator<T>: a synchronous generator, Python's `def f(): yield x`. The
// body runs only while the consumer advances it (begin(), ++it), on the
// consumer's thread and stack; it cannot co_await (use async_generator<T>).
//
//   corio::generator<int> num(int x) { for (int i = 0; i < x; ++i) co_yield i; }
//   for (int i : num(3)) ...   // 0, 1, 2
//
// - Lazy: calling num(3) runs nothing; begin() runs the body to its first co_yield.
// - An exception leaving the body comes out of begin() or ++it, in the consumer.
// - Destroying the generator before the end destroys its suspended frame:
//   the body's locals are destroyed (RAII runs), the rest of the body never runs.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <iterator>
#include <memory>
#include <type_traits>
#include <utility>

#include "corio/detail/frame_allocator.hpp"

namespace corio {

template <class T>
class generator {
public:
    /// What *it gives: a reference to the object the body yielded, valid
    /// until the iterator is advanced.
    using reference = std::conditional_t<std::is_reference_v<T>, T, T&>;
    using value_type = std::remove_cvref_t<T>;

    class promise_type {
    public:
        generator get_return_object() noexcept {
            return generator(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept { return {}; }

        // The yielded object lives in the body's frame (or is a temporary of
        // the co_yield expression, alive while the body is suspended in it),
        // so a pointer to it is enough.
        std::suspend_always yield_value(std::remove_reference_t<T>& v) noexcept {
            value_ = std::addressof(v);
            return {};
        }
        std::suspend_always yield_value(std::remove_reference_t<T>&& v) noexcept {
            value_ = std::addressof(v);
            return {};
        }
        void return_void() noexcept {}
        void unhandled_exception() noexcept { exception_ = std::current_exception(); }

        /// A generator runs synchronously: there is no loop to suspend to.
        template <class U>
        std::suspend_never await_transform(U&&) = delete;

        static void* operator new(std::size_t size) { return detail::allocate_frame(size); }
        static void operator delete(void* p, std::size_t size) noexcept { detail::deallocate_frame(p, size); }

        reference value() const noexcept { return static_cast<reference>(*value_); }
        void rethrow_if_failed() {
            if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
        }

    private:
        std::add_pointer_t<reference> value_ = nullptr;
        std::exception_ptr exception_;
    };

    /// An input iterator: advancing it resumes the body to its next co_yield.
    class iterator {
    public:
        using iterator_concept = std::input_iterator_tag;
        using value_type = generator::value_type;
        using difference_type = std::ptrdiff_t;
        using reference = generator::reference;

        iterator() noexcept = default;
        explicit iterator(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}

        reference operator*() const noexcept { return handle_.promise().value(); }
        std::add_pointer_t<reference> operator->() const noexcept { return std::addressof(**this); }
        /// Runs the body to its next co_yield; rethrows what the body threw.
        iterator& operator++() {
            advance(handle_);
            return *this;
        }
        void operator++(int) { ++*this; }

        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
            return !it.handle_ || it.handle_.done();
        }

    private:
        std::coroutine_handle<promise_type> handle_;
    };

    generator() noexcept = default;
    generator(generator&& other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)), started_(std::exchange(other.started_, false)) {}
    generator& operator=(generator&& other) noexcept {
        if (this != &other) {
            destroy();
            handle_ = std::exchange(other.handle_, nullptr);
            started_ = std::exchange(other.started_, false);
        }
        return *this;
    }
    generator(const generator&) = delete;
    generator& operator=(const generator&) = delete;
    ~generator() { destroy(); }

    /// Starts the body (runs it to its first co_yield). Call it once: the
    /// generator is a single pass over what the body yields.
    iterator begin() {
        if (handle_ && !started_) {
            started_ = true;
            advance(handle_);
        }
        return iterator(handle_);
    }
    std::default_sentinel_t end() const noexcept { return {}; }

private:
    explicit generator(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}

    static void advance(std::coroutine_handle<promise_type> h) {
        h.resume();
        h.promise().rethrow_if_failed();
    }
    void destroy() noexcept {
        if (handle_) std::exchange(handle_, nullptr).destroy();
    }

    std::coroutine_handle<promise_type> handle_;
    bool started_ = false;
};

}  // namespace corio
