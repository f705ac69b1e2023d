// Timeout scopes' state: the phase, the deadline and the armed timer,
// shared (reference-counted) by the scope handles and the timer callback,
// which may fire on another worker than the one the task runs on now.
//
// Phases (asyncio's Timeout states), all changes under `lock`:
//
//   created ──run()──► entered ──timer──► expiring ──run() ends──► expired
//                         └────────── run() ends ──────────────► exited
//
// Invariants:
// - `task` is set exactly while entered or expiring; the task is alive then
//   (it is running the scope), so the timer may cancel it under the lock.
// - Every arming bumps `armed`; a timer fires the scope only when its
//   generation is still the armed one, so a timer that was already running
//   when reschedule() replaced it does nothing (timer_handle::cancel alone
//   cannot stop a callback that has started).
// - The timer callback holds a reference on the state; the state holds the
//   timer's handle until the scope is left (or run()'s frame is destroyed),
//   which breaks the cycle.
#include "corio/timeout.hpp"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>

#include "context.hpp"
#include "corio/detail/callback.hpp"
#include "corio/detail/spinlock.hpp"
#include "corio/timer_handle.hpp"
#include "loop_core.hpp"

namespace corio::detail {

struct timeout_state {
    enum class phase { created, entered, expiring, expired, exited };

    /// Scope handles plus one per pending timer callback. acq_rel on
    /// release: the last holder frees what the others wrote.
    std::atomic<std::uint32_t> refs{1};
    spinlock lock;
    // ---- guarded by `lock` ----
    phase at = phase::created;
    std::optional<clock::time_point> when;
    task_header* task = nullptr;
    loop_core* loop = nullptr;  // the loop the scope was entered on
    std::uint32_t cancelling_on_entry = 0;
    std::uint64_t armed = 0;
    timer_handle timer;

    void add_ref() noexcept { refs.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    /// The timer callback.
    void on_timer(std::uint64_t generation) noexcept {
        std::lock_guard guard(lock);
        if (at != phase::entered || armed != generation) return;
        at = phase::expiring;
        request_cancel(task);
    }

    /// [locked] Replaces the armed timer by one for `when` (none for never)
    /// and returns the new node, to add to `where` once unlocked; `old`
    /// receives the previous handle, to drop once unlocked too.
    callback_node* rearm_locked(timer_handle& old) {
        disarm_locked(old);
        if (!when) return nullptr;
        add_ref();  // the callback's
        struct fire {
            timeout_state* state;
            std::uint64_t generation;
            fire(timeout_state* s, std::uint64_t g) noexcept : state(s), generation(g) {}
            fire(fire&& o) noexcept : state(std::exchange(o.state, nullptr)), generation(o.generation) {}
            fire(const fire&) = delete;
            ~fire() {
                if (state) state->release();
            }
            void operator()() const noexcept { state->on_timer(generation); }
        };
        // Out of memory for the node, the `fire` given to make_callback is
        // destroyed unmoved (a new-expression allocates before it evaluates
        // its initializer) and gives the callback's reference back itself.
        callback_node* const node = make_callback(fire(this, armed), 2);  // the timer heap's reference and ours
        node->when = *when;
        timer = timer_handle(node, std::adopt_lock);
        return node;
    }

    /// [locked] Cancels the armed timer, if any; `old` receives its handle,
    /// to drop once unlocked. A timer that was already firing is stale now.
    void disarm_locked(timer_handle& old) noexcept {
        timer.cancel();
        old = std::move(timer);
        timer = timer_handle();
        ++armed;
    }

    /// The loop a new timer goes to: the caller's, if it is a worker of the
    /// same runtime (the task most likely runs there now), else the one the
    /// scope was entered on.
    loop_core* timer_loop() const noexcept {
        loop_core* here = tl_core;
        return here && &here->sched == &loop->sched ? here : loop;
    }
};

}  // namespace corio::detail

namespace corio {

using state_phase = detail::timeout_state::phase;

timeout_scope::timeout_scope(std::optional<clock::time_point> when) : state_(new detail::timeout_state) {
    state_->when = when;
}

timeout_scope::timeout_scope(const timeout_scope& o) noexcept : state_(o.state_) {
    if (state_) state_->add_ref();
}

timeout_scope::~timeout_scope() {
    if (state_) state_->release();
}

std::optional<clock::time_point> timeout_scope::when() const {
    std::lock_guard guard(state_->lock);
    return state_->when;
}

bool timeout_scope::expired() const {
    std::lock_guard guard(state_->lock);
    return state_->at == state_phase::expiring || state_->at == state_phase::expired;
}

void timeout_scope::reschedule(std::optional<clock::time_point> when) {
    detail::timeout_state& s = *state_;
    timer_handle old;
    detail::callback_node* node = nullptr;
    detail::loop_core* where = nullptr;
    std::uint64_t armed = 0;
    try {
        {
            std::lock_guard guard(s.lock);
            switch (s.at) {
                case state_phase::expiring:
                case state_phase::expired: throw std::runtime_error("cannot reschedule an expired timeout scope");
                case state_phase::exited: throw std::runtime_error("cannot reschedule a timeout scope that was left");
                case state_phase::created: s.when = when; return;  // armed when run() enters
                case state_phase::entered: break;
            }
            s.when = when;
            node = s.rearm_locked(old);
            armed = s.armed;
            where = s.timer_loop();
        }
        if (node) detail::add_timer(where, node);
    } catch (const std::bad_alloc&) {
        // The old timer is cancelled and the new one could not be armed:
        // the scope goes on without a deadline, which when() says. Its
        // handle of the new timer goes too (the timer holds the state).
        timer_handle unarmed;
        std::lock_guard guard(s.lock);
        if (s.armed == armed || !node) {  // not rearmed by another reschedule meanwhile
            s.disarm_locked(unarmed);
            s.when = std::nullopt;
        }
        throw;
    }
}

void timeout_scope::enter() {
    detail::timeout_state& s = *state_;
    detail::task_header* const t = detail::current_task_header();
    if (!t) throw std::runtime_error("a timeout scope must run inside a corio task");
    timer_handle old;
    detail::callback_node* node = nullptr;
    try {
        {
            std::lock_guard guard(s.lock);
            if (s.at != state_phase::created) throw std::runtime_error("a timeout scope runs only once");
            s.at = state_phase::entered;
            s.task = t;
            s.loop = detail::tl_core;
            s.cancelling_on_entry = detail::cancelling(t);
            node = s.rearm_locked(old);
        }
        if (node) detail::add_timer(s.loop, node);
    } catch (const std::bad_alloc&) {
        abandon();  // left at once; it drops the state's handle of the timer, which holds the state
        throw;
    }
}

std::exception_ptr timeout_scope::exit(std::exception_ptr failure) noexcept {
    detail::timeout_state& s = *state_;
    timer_handle old;
    detail::task_header* t;
    bool was_expiring;
    {
        std::lock_guard guard(s.lock);
        s.disarm_locked(old);
        t = s.task;
        s.task = nullptr;
        was_expiring = s.at == state_phase::expiring;
        s.at = was_expiring ? state_phase::expired : state_phase::exited;
    }
    if (!was_expiring) return failure;
    // Take our cancellation back. Only if no other request is left above the
    // level on entry was the work's cancellation ours to convert.
    if (detail::uncancel(t) > s.cancelling_on_entry || !failure) return failure;
    try {
        std::rethrow_exception(failure);
    } catch (const cancelled_error&) {
        try {
            return std::make_exception_ptr(timeout_error());
        } catch (...) {
            return std::current_exception();  // out of memory for its message: that instead
        }
    } catch (...) {
        return failure;
    }
}

void timeout_scope::abandon() noexcept {
    detail::timeout_state& s = *state_;
    timer_handle old;
    std::lock_guard guard(s.lock);
    if (s.at != state_phase::entered && s.at != state_phase::expiring) return;
    s.disarm_locked(old);
    s.task = nullptr;
    s.at = state_phase::exited;
}

}  // namespace corio
