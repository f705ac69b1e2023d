// context_var<T>: asyncio's contextvars.ContextVar. Each spawned task runs
// in its own context, a copy of its creator's taken at create_task time, so
// a value set in a request handler flows into the tasks it spawns, while a
// child's set() is never seen by its parent or its siblings.
//
//   corio::context_var<std::string> request_id("request_id", "-");
//
//   corio::task<void> handle(request r) {
//       auto token = request_id.set(r.id);
//       co_await corio::gather(fetch_user(), fetch_items());  // both see r.id
//       request_id.reset(token);
//   }
//
// Contexts:
// - Each spawned task (create_task, gather, task_group, wait_for, ...) has
//   one; a lazily awaited task<T> runs in its awaiter's (it is the same
//   asyncio Task). Code outside any task (a plain thread, or a loop's
//   callbacks) uses its thread's context; a task created from there starts
//   with a copy of it.
// - Copying is copy-on-write: a spawn shares its creator's immutable map
//   (one pointer and a reference count; a null pointer while no variable is
//   set, so programs without context_vars pay nothing more), and set()
//   makes a new map for the setter only (set() costs a copy of the map:
//   contexts hold a handful of variables).
//
// Thread safety: a context_var object may be used from any thread; each
// call acts on the calling task's (or thread's) own context.
//
// Differences from asyncio: no Context object to run code in
// (copy_context / Context.run); get() returns a copy of the value; a token
// is move-only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace corio {

namespace detail {
/// Implemented in lib/context_var.cpp; all act on the current task's (or
/// thread's) context.
std::uint64_t new_context_var_id() noexcept;
/// The value of `var` (a `const T*`), or null if it has none. Valid until
/// the current context is next changed.
const void* context_get(std::uint64_t var) noexcept;
/// Sets `var` to `value` (null: removes it); returns its previous value
/// (null: it had none).
std::shared_ptr<const void> context_set(std::uint64_t var, std::shared_ptr<const void> value);
/// Identifies the current context (a task's or a thread's), for tokens.
std::uint64_t context_owner() noexcept;
}  // namespace detail

template <class T>
class context_var {
public:
    /// What set() returns: reset(token) restores the value set() replaced.
    class token {
    public:
        token(token&&) noexcept = default;
        token& operator=(token&&) noexcept = default;
        token(const token&) = delete;
        token& operator=(const token&) = delete;

        /// The value before set() (asyncio's Token.old_value), or
        /// std::nullopt if the variable had none (Token.MISSING).
        std::optional<T> old_value() const {
            if (!old_) return std::nullopt;
            return *static_cast<const T*>(old_.get());
        }

    private:
        friend class context_var;
        token(std::uint64_t var, std::uint64_t owner, std::shared_ptr<const void> old) noexcept
            : var_(var), owner_(owner), old_(std::move(old)) {}
        std::uint64_t var_;
        std::uint64_t owner_;
        std::shared_ptr<const void> old_;
        bool used_ = false;
    };

    /// A variable without a default: get() throws std::out_of_range while unset.
    explicit context_var(std::string name) : id_(detail::new_context_var_id()), name_(std::move(name)) {}
    context_var(std::string name, T default_value)
        : id_(detail::new_context_var_id()), name_(std::move(name)), default_(std::move(default_value)) {}
    /// A variable is an identity (as in asyncio): not copyable.
    context_var(const context_var&) = delete;
    context_var& operator=(const context_var&) = delete;

    const std::string& name() const noexcept { return name_; }

    /// The value in the current context, else the variable's default; throws
    /// std::out_of_range (asyncio's LookupError) if there is neither.
    T get() const {
        if (const void* v = detail::context_get(id_)) return *static_cast<const T*>(v);
        if (default_) return *default_;
        throw std::out_of_range("context_var '" + name_ + "' has no value and no default");
    }
    /// The value in the current context, else `fallback` (asyncio's get(default)).
    T get(T fallback) const {
        if (const void* v = detail::context_get(id_)) return *static_cast<const T*>(v);
        return fallback;
    }

    /// Sets the value in the current context only.
    token set(T value) {
        auto old = detail::context_set(id_, std::make_shared<const T>(std::move(value)));
        return token(id_, detail::context_owner(), std::move(old));
    }

    /// Restores the value `t`'s set() replaced (or removes it, if there was
    /// none). Throws std::invalid_argument if `t` came from another variable
    /// or another context (asyncio's ValueError), std::runtime_error if it
    /// was used already.
    void reset(token& t) {
        if (t.var_ != id_) throw std::invalid_argument("context_var token was created by a different variable");
        if (t.owner_ != detail::context_owner())
            throw std::invalid_argument("context_var token was created in a different context");
        if (t.used_) throw std::runtime_error("context_var token has already been used once");
        detail::context_set(id_, t.old_);
        t.used_ = true;
    }

private:
    std::uint64_t id_;
    std::string name_;
    std::optional<T> default_;
};

}  // namespace corio
