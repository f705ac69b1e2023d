// async_generator<T>: Python's `async def f(): ... await x ... yield v`. The
// body may co_await anything a task<T> can (sleep, futures, queues, other
// tasks) and co_yield values; the consumer pulls them one at a time:
//
//   corio::async_generator<int> ticks(int n) {
//       for (int i = 0; i < n; ++i) { co_await corio::sleep(10ms); co_yield i; }
//   }
//   auto g = ticks(3);
//   while (std::optional<int> v = co_await g.next()) use(*v);       // anext()
//   for (auto it = co_await g.begin(); it != g.end(); co_await ++it) use(*it);  // async for
//   co_await g.aclose();                                              // aclose()
//
// Where it runs: the body is not a task of its own. next() transfers control
// to it (symmetric transfer, as `co_await task` does) and each co_yield
// transfers back, so the body runs inside the consuming task, on that task's
// thread; after an await inside the body it resumes wherever the consuming
// task's wake-up puts it. Consequences:
// - Cancelling the consuming task while the body is suspended in an await
//   throws cancelled_error there, in the body: it unwinds (RAII runs) and the
//   same cancelled_error comes out of the consumer's next().
// - An exception leaving the body comes out of next() (or begin(), ++it)
//   once; after it the generator is finished and next() gives nullopt.
// - One consumer at a time: a next() or aclose() while another is still in
//   progress throws std::runtime_error, as Python's anext() does.
//
// Closing (asyncio's aclose() and shutdown_asyncgens()):
// - `co_await g.aclose()` throws generator_exit into the body at the co_yield
//   where it is suspended, so the body can still await its cleanup after the
//   handler (C++ cannot co_await inside catch), then destroys the frame. A
//   body that co_yields again instead gets std::runtime_error out of
//   aclose(); any other exception it ends with is rethrown by aclose().
// - Destroying an unfinished generator destroys its frame: the body's locals
//   are destroyed (RAII runs), no await runs.
// - There is no loop.shutdown_asyncgens(): Python needs it because a
//   garbage-collected generator is finalised by the loop at some later time;
//   here the consumer owns the generator, so it is finalised when its owner
//   ends. At corio::run / runtime shutdown every pending task is cancelled
//   and awaited, which unwinds each consumer and with it every generator it
//   owns, before the loops close.
#pragma once

#include <atomic>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "corio/detail/frame_allocator.hpp"

namespace corio {

/// Thrown into an async generator at its co_yield by aclose() (Python's
/// GeneratorExit). Like cancelled_error, not a std::exception, so
/// `catch (const std::exception&)` in the body does not swallow it.
class generator_exit {
public:
    const char* what() const noexcept { return "generator_exit"; }
};

template <class T>
class async_generator {
    static_assert(std::is_object_v<T> && !std::is_const_v<T> && !std::is_array_v<T>,
                  "async_generator<T> yields values: T must be a non-const object type");

public:
    using value_type = T;
    class promise_type;

private:
    using handle_type = std::coroutine_handle<promise_type>;

public:
    class promise_type {
    public:
        async_generator get_return_object() noexcept { return async_generator(handle_type::from_promise(*this)); }
        std::suspend_always initial_suspend() noexcept { return {}; }

        /// co_yield: stores the value and hands control back to the consumer.
        class yield_operation {
        public:
            explicit yield_operation(promise_type& p) noexcept : promise_(p) {}
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept { return promise_.leave(); }
            void await_resume() const {
                if (promise_.closing_) throw generator_exit();
            }

        private:
            promise_type& promise_;
        };
        template <class U = T>
            requires std::constructible_from<T, U&&>
        yield_operation yield_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
            // A copy (or a move from an rvalue): the consumer may keep it
            // while the body goes on with its own object.
            value_.emplace(std::forward<U>(v));
            return yield_operation(*this);
        }

        class final_operation {
        public:
            explicit final_operation(promise_type& p) noexcept : promise_(p) {}
            bool await_ready() const noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept { return promise_.leave(); }
            void await_resume() const noexcept {}

        private:
            promise_type& promise_;
        };
        final_operation final_suspend() noexcept { return final_operation(*this); }

        void return_void() noexcept {}
        void unhandled_exception() noexcept { exception_ = std::current_exception(); }

        static void* operator new(std::size_t size) { return detail::allocate_frame(size); }
        static void operator delete(void* p, std::size_t size) noexcept { detail::deallocate_frame(p, size); }

    private:
        friend async_generator;

        /// The consumer's side of a step: claims the generator (or throws if
        /// another step is in progress) and clears the previous value.
        void claim() {
            // acquire: pairs with the release in leave(), so a consumer on
            // another worker sees the frame as the last step left it.
            if (running_.exchange(true, std::memory_order_acquire))
                throw std::runtime_error("async generator is already running");
            started_ = true;
            value_.reset();
        }
        /// The body's side: gives control back to the consumer.
        std::coroutine_handle<> leave() noexcept {
            // Read before the release: from then on a new step may rewrite it.
            const std::coroutine_handle<> consumer = consumer_;
            running_.store(false, std::memory_order_release);
            return consumer;
        }

        std::coroutine_handle<> consumer_;  // resumed at the next co_yield or at the end
        std::optional<T> value_;            // what the last co_yield gave, until the next step
        std::exception_ptr exception_;      // what the body ended with, until a step rethrows it
        /// A step (next or aclose) is in progress: written by the consumer
        /// when it starts one and by the body when it hands control back.
        std::atomic<bool> running_{false};
        bool started_ = false;  // a step has run: aclose() must unwind the body
        bool closing_ = false;  // set by aclose(): the co_yield throws generator_exit
    };

private:
    /// The awaiter core of next(), begin() and ++it: runs the body to its
    /// next co_yield or to its end, inside the awaiting coroutine's task.
    class step_operation {
    public:
        explicit step_operation(handle_type g) noexcept : gen_(g) {}
        bool await_ready() {
            if (!gen_ || gen_.done()) return true;
            gen_.promise().claim();
            return false;
        }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> consumer) noexcept {
            gen_.promise().consumer_ = consumer;
            return gen_;  // symmetric transfer: a tail call, as `co_await task` does
        }

    protected:
        /// After the step: true when the body yielded a value; rethrows what it ended with.
        bool finish() {
            if (!gen_) return false;
            promise_type& p = gen_.promise();
            if (p.exception_) std::rethrow_exception(std::exchange(p.exception_, nullptr));
            return !gen_.done();
        }
        handle_type gen_;
    };

public:
    /// An awaitable iterator over the yielded values: `co_await ++it`
    /// advances it, `*it` is the current value (valid until the next step).
    class iterator {
    public:
        iterator() noexcept = default;
        explicit iterator(handle_type g) noexcept : gen_(g) {}

        T& operator*() const noexcept { return *gen_.promise().value_; }
        T* operator->() const noexcept { return &**this; }

        class advance_operation : public step_operation {
        public:
            explicit advance_operation(iterator& it) noexcept : step_operation(it.gen_), it_(it) {}
            iterator& await_resume() {
                this->finish();
                return it_;
            }

        private:
            iterator& it_;
        };
        /// `co_await ++it`: runs the body to its next co_yield (or its end).
        [[nodiscard]] advance_operation operator++() noexcept { return advance_operation(*this); }

        friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
            return !it.gen_ || it.gen_.done();
        }

    private:
        handle_type gen_;
    };

    async_generator() noexcept = default;
    async_generator(async_generator&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    async_generator& operator=(async_generator&& other) noexcept {
        if (this != &other) {
            destroy();
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    async_generator(const async_generator&) = delete;
    async_generator& operator=(const async_generator&) = delete;
    /// An unfinished body is destroyed where it is suspended (RAII runs, no await).
    ~async_generator() { destroy(); }

    class next_operation : public step_operation {
    public:
        using step_operation::step_operation;
        std::optional<T> await_resume() {
            if (!this->finish()) return std::nullopt;
            std::optional<T>& slot = this->gen_.promise().value_;
            std::optional<T> out(std::move(slot));
            slot.reset();
            return out;
        }
    };
    /// `co_await g.next()`: the next yielded value, or nullopt once the body
    /// has returned (or after aclose()). Python's anext(), with nullopt for
    /// StopAsyncIteration. Rethrows the exception the body ended with.
    [[nodiscard]] next_operation next() noexcept { return next_operation(handle_); }

    class begin_operation : public step_operation {
    public:
        using step_operation::step_operation;
        iterator await_resume() {
            this->finish();
            return iterator(this->gen_);
        }
    };
    /// `co_await g.begin()`: runs the body to its next co_yield and returns
    /// an iterator at that value (== end() if the body returned instead).
    [[nodiscard]] begin_operation begin() noexcept { return begin_operation(handle_); }
    std::default_sentinel_t end() const noexcept { return {}; }

    class close_operation {
    public:
        explicit close_operation(async_generator& g) noexcept : gen_(g) {}
        bool await_ready() {
            handle_type h = gen_.handle_;
            // Never started or already finished: there is no body to unwind.
            if (!h || !h.promise().started_ || h.done()) return true;
            h.promise().claim();
            h.promise().closing_ = true;
            return false;
        }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> consumer) noexcept {
            gen_.handle_.promise().consumer_ = consumer;
            return gen_.handle_;  // resumes the co_yield, which throws generator_exit
        }
        void await_resume() {
            handle_type h = std::exchange(gen_.handle_, nullptr);
            if (!h) return;
            const bool resumed = h.promise().closing_;
            const bool finished = h.done();
            std::exception_ptr ended_with = std::exchange(h.promise().exception_, nullptr);
            h.destroy();
            if (!resumed) return;
            if (!finished) throw std::runtime_error("async generator ignored generator_exit");
            if (!ended_with) return;  // it caught generator_exit and returned
            try {
                std::rethrow_exception(ended_with);
            } catch (const generator_exit&) {  // the body let it through: closed as asked
            }
        }

    private:
        async_generator& gen_;
    };
    /// `co_await g.aclose()`: finishes the body (see the top of this file)
    /// and destroys its frame; later next() calls give nullopt.
    [[nodiscard]] close_operation aclose() noexcept { return close_operation(*this); }

private:
    explicit async_generator(handle_type h) noexcept : handle_(h) {}
    void destroy() noexcept {
        if (handle_) std::exchange(handle_, nullptr).destroy();
    }

    handle_type handle_;
};

}  // namespace corio
