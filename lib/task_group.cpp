// task_group's state: the live children, the failures, and the parent's
// join() waiting for the last child. Children finish on any worker; each
// one's end is seen by a waiter node on its header (fired on the finishing
// thread, under the child's completion lock), which reports to the group
// under the group's lock.
//
//   task_group (parent's frame) ──► task_group_state (heap, ref-counted)
//                                     │ live:   child ⇄ child ⇄ ...  (each also linked
//                                     │                              in its task's waiters)
//                                     │ failed: child → child → ...  (exception kept)
//                                     └ joiner: the parked join()
//
// Invariants (all under state.lock):
// - A child node is in `live` from start_child, which enters its task
//   before queueing it, until the task's completion fires it (or the queue
//   refused it); while it is there its task is alive (the completion's
//   fire, which unlinks it, runs before the task drops its alive
//   reference), so cancelling it under the lock is safe. One locked
//   section a spawn: a task not yet queued cannot finish before it is in
//   the group, so no reservation has to come first.
// - `live` counts live nodes.
// - finished = exiting && live == 0, set once; after it no child is added.
// - refs = 1 for the task_group object + 1 per live node: a child finishing
//   after its group was destroyed still has the state to report to. Counted
//   under the lock, which every holder takes anyway to let go: whoever
//   brings it to 0 is the last to touch the state and frees it after
//   unlocking (an atomic count cost two more locked instructions a child).
// - A failed child's node keeps a reference on the task, so the exception
//   join() hands out is freed with the frame, after the group is destroyed
//   (whose release of the reference orders the parent's reads of it before
//   the free on whichever thread drops the frame last).
//
// Lock order: a child's completion lock, then the group's lock (the fire
// path). Under the group's lock only request_cancel is called on tasks (a
// CAS plus a queue push, no completion lock), so the order never inverts.
#include "corio/task_group.hpp"

#include <cstddef>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "context.hpp"
#include "corio/detail/callback.hpp"
#include "corio/detail/done_callback.hpp"
#include "corio/detail/frame_allocator.hpp"
#include "corio/detail/spinlock.hpp"
#include "corio/detail/wait_list.hpp"
#include "corio/event_loop.hpp"
#include "corio/policy.hpp"
#include "loop_core.hpp"

namespace corio::detail {

struct task_group_child : waiter_node {
    task_group_state* group = nullptr;
    /// No reference while live (the task is alive until its completion
    /// fires this node); a failed
    /// child's node holds one, so its exception stays in the task and the
    /// frame is freed after the group is done with it (see child_done).
    task_header* task = nullptr;
    task_group_child* group_prev = nullptr;
    task_group_child* group_next = nullptr;

    // Nodes come and go with every child: the frame allocator's free lists.
    static void* operator new(std::size_t size) { return allocate_frame(size); }
    static void operator delete(void* p, std::size_t size) noexcept { deallocate_frame(p, size); }
};

struct task_group_state {
    spinlock lock;
    // ---- everything below is guarded by `lock` ----
    /// Who holds the state: the task_group object and each live child node.
    std::uint32_t refs = 1;
    task_group_child* live_head = nullptr;
    std::size_t live = 0;
    task_group_child* failed_head = nullptr;  // in failure order
    task_group_child* failed_tail = nullptr;
    bool exiting = false;                  // join() has begun
    bool finished = false;                 // join() saw the last child go: create_task refused
    bool aborting = false;                 // children cancelled: create_task refused
    bool parent_in_join = false;           // a failure then wakes nobody: join is waiting anyway
    bool parent_cancel_requested = false;  // we cancelled the parent; join() takes it back
    bool orphaned = false;                 // the task_group object is gone
    task_ref parent;                       // the task that joins
    std::uint32_t parent_level = 0;        // parent's cancelling() when it became the parent
    wait_list joiner;                      // join() parked until live == 0

    ~task_group_state() {
        while (task_group_child* c = failed_head) {
            failed_head = c->group_next;
            c->task->release();
            delete c;
        }
    }

    /// Drops a holder's reference; true when it was the last (the caller
    /// then deletes the state once it has unlocked).
    [[nodiscard]] bool release_locked() noexcept { return --refs == 0; }

    void link_live(task_group_child* c) noexcept {
        c->group_prev = nullptr;
        c->group_next = live_head;
        if (live_head) live_head->group_prev = c;
        live_head = c;
        ++live;
    }
    void unlink_live(task_group_child* c) noexcept {
        (c->group_prev ? c->group_prev->group_next : live_head) = c->group_next;
        if (c->group_next) c->group_next->group_prev = c->group_prev;
        c->group_prev = c->group_next = nullptr;
        --live;
    }
    void append_failed(task_group_child* c) noexcept {
        (failed_tail ? failed_tail->group_next : failed_head) = c;
        failed_tail = c;
    }

    /// Cancels every live child once (asyncio's _abort).
    void abort_locked() noexcept {
        aborting = true;
        for (task_group_child* c = live_head; c; c = c->group_next) request_cancel(c->task);
    }

    /// A child is done (or was never queued). Called on the finishing
    /// thread, under the child's completion lock when fired.
    void child_done(task_group_child* c, bool failed) noexcept;
};

namespace {

/// Reports `error` to the handler of `loop` (its own thread runs the handler).
void report_on(loop_core* loop, std::string message, std::exception_ptr error) {
    post_callback(loop, make_callback([message = std::move(message), error] {
        get_running_loop().call_exception_handler({message, error});
    }));
}

/// What create_task throws while the group shuts down after a failure.
/// When it comes out of the group's own body or one of its children it is
/// the group's doing, like its cancellation of them: it is left out of the
/// failures (in a runtime a child can fail while the parent, or a child
/// adding siblings, is still creating tasks, so this is met often).
struct shutting_down_error : std::runtime_error {
    explicit shutting_down_error(const task_group_state* g)
        : std::runtime_error("task_group is shutting down: create_task after a child failed or the group was cancelled"),
          group(g) {}
    const task_group_state* group;
};

enum class body_outcome { none, failed, cancelled, interrupted_by_group };

body_outcome classify(const std::exception_ptr& e, const task_group_state* group) {
    if (!e) return body_outcome::none;
    try {
        std::rethrow_exception(e);
    } catch (const cancelled_error&) {
        return body_outcome::cancelled;
    } catch (const shutting_down_error& s) {
        return s.group == group ? body_outcome::interrupted_by_group : body_outcome::failed;
    } catch (...) {
        return body_outcome::failed;
    }
}

/// The waiter node's fire: the child's completion has its final status.
/// A child that failed only because it called create_task on its own
/// shutting-down group was being cancelled by the group anyway: not a failure.
void on_child_done(waiter_node* w) noexcept {
    auto* c = static_cast<task_group_child*>(w);
    task_header* t = c->task;
    const bool failed = t->status() == completion_status::exception &&
                        classify(t->exception, c->group) != body_outcome::interrupted_by_group;
    c->group->child_done(c, failed);
}

}  // namespace

void task_group_state::child_done(task_group_child* c, bool failed) noexcept {
    loop_core* orphan_loop = nullptr;
    std::exception_ptr orphan_error;
    lock.lock();
    unlink_live(c);
    if (failed) {
        if (orphaned) {
            orphan_loop = c->task->home;
            orphan_error = c->task->exception;
        } else {
            c->task->add_ref();  // alive while it fires us, so a plain increment is enough
            append_failed(c);
            c = nullptr;  // the state owns it now
            if (!aborting) {
                abort_locked();
                // The parent's code between create_task and join() is
                // interrupted (asyncio); a parent already in join() is not.
                if (!parent_in_join && !parent_cancel_requested && parent) {
                    parent_cancel_requested = true;
                    request_cancel(parent.header());
                }
            }
        }
    }
    if (live == 0 && exiting) {
        finished = true;
        serve_all(joiner);
    }
    const bool last = release_locked();  // the live node's reference
    lock.unlock();
    if (orphan_loop) report_on(orphan_loop, "task_group child failed after its group was destroyed", orphan_error);
    delete c;
    if (last) delete this;
}

}  // namespace corio::detail

namespace corio {

using detail::task_group_child;

task_group::task_group() : state_(new detail::task_group_state) {
    if (detail::task_header* t = detail::current_task_header()) {
        state_->parent = task_ref(t, true);
        state_->parent_level = detail::cancelling(t);
    }
}

task_group::~task_group() {
    detail::task_group_state& s = *state_;
    std::size_t live = 0;
    detail::loop_core* loop = nullptr;
    std::vector<std::exception_ptr> unretrieved;
    task_ref parent;
    s.lock.lock();
    s.orphaned = true;
    if (!s.finished) {
        live = s.live;
        for (task_group_child* c = s.live_head; c; c = c->group_next) loop = c->task->home;
        if (live) s.abort_locked();
        for (task_group_child* c = s.failed_head; c; c = c->group_next) unretrieved.push_back(c->task->exception);
    }
    parent = std::move(s.parent);  // dropped outside the lock: it may be the last reference
    const bool last = s.release_locked();  // children still live may outlive us with it
    s.lock.unlock();
    if (!loop && detail::tl_core) loop = detail::tl_core;
    if (!loop && parent) loop = parent.header()->home;
    if (loop && loop->owner) {
        if (live)
            loop->owner->call_exception_handler(
                {"task_group destroyed before join(): " + std::to_string(live) + " children still live; they were cancelled",
                 std::make_exception_ptr(std::logic_error("task_group destroyed before join()"))});
        for (auto& e : unretrieved)
            loop->owner->call_exception_handler({"task_group destroyed before join(): a child's exception was never retrieved", e});
    }
    if (last) delete &s;
}

void task_group::start_child(detail::task_header* task) {
    task_group_child* c = nullptr;
    try {
        c = new task_group_child;
    } catch (...) {
        detail::discard_spawn(task);
        throw;
    }
    c->group = state_;
    c->fire = &detail::on_child_done;
    c->task = task;
    bool finished = false, aborting = false;
    {
        std::lock_guard guard(state_->lock);
        finished = state_->finished;
        aborting = state_->aborting;
        if (!finished && !aborting) {
            state_->link_live(c);
            ++state_->refs;
        }
    }
    if (finished || aborting) {
        delete c;
        detail::discard_spawn(task);
        if (finished) throw std::runtime_error("task_group is finished: create_task after join()");
        throw detail::shutting_down_error(state_);
    }
    // Until it is queued nobody can complete the task (a failing sibling
    // may already cancel it: that only marks its state word), so its
    // waiter list needs no lock yet.
    task->add_waiter_unshared(c);
    try {
        detail::publish_spawn(task);
    } catch (...) {
        task->remove_waiter(c);
        state_->child_done(c, false);  // out of the group, where a canceller could reach the task
        detail::discard_spawn(task);
        throw;
    }
}

namespace {

/// join()'s wait: until no child is live. Resumes on the worker that
/// finished the last child (or where its wake-up is stolen to).
class join_operation {
public:
    explicit join_operation(detail::task_group_state& s) noexcept : s_(s) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) {
        std::lock_guard guard(s_.lock);
        if (s_.live == 0) {
            w_.served = true;
            return false;
        }
        return detail::park_locked(w_, h, s_.joiner);
    }
    void await_resume() { detail::finish_wait(s_.lock, w_, s_.joiner); }

private:
    detail::task_group_state& s_;
    detail::parked_waiter w_;
};

}  // namespace

task<void> task_group::join(std::exception_ptr body_error) {
    detail::task_group_state& s = *state_;
    detail::task_header* const me = detail::current_task_header();
    if (!me) throw std::runtime_error("task_group::join must be awaited inside a task");
    {
        std::lock_guard guard(s.lock);
        if (s.exiting) throw std::runtime_error("task_group::join awaited twice");
        if (!s.parent) {
            s.parent = task_ref(me, true);
            s.parent_level = detail::cancelling(me);
        } else if (s.parent.header() != me) {
            throw std::runtime_error("task_group::join must be awaited by the task that created the group");
        }
        s.exiting = true;
        s.parent_in_join = true;
        if (body_error && !s.aborting) s.abort_locked();
        if (s.live == 0) s.finished = true;
    }
    // Wait for every child, whatever cancels us meanwhile: a cancellation
    // from outside cancels the children first (ours, from a failure, only
    // interrupts the wait: the children are being cancelled already).
    std::exception_ptr wait_cancellation;
    for (;;) {
        try {
            co_await join_operation(s);
            break;
        } catch (const cancelled_error&) {
            wait_cancellation = std::current_exception();
        }
        std::lock_guard guard(s.lock);
        if (!s.aborting) s.abort_locked();
    }
    std::vector<std::exception_ptr> errors;
    bool we_cancelled_parent;
    {
        std::lock_guard guard(s.lock);
        s.parent_in_join = false;
        for (task_group_child* c = s.failed_head; c; c = c->group_next) errors.push_back(c->task->exception);
        we_cancelled_parent = s.parent_cancel_requested;
    }
    // Take back our own cancellation of the parent; what is left above the
    // level the parent had when the group was made came from outside.
    const std::uint32_t left = we_cancelled_parent ? detail::uncancel(me) : detail::cancelling(me);
    const auto body = detail::classify(body_error, state_);
    if (body == detail::body_outcome::failed) errors.push_back(body_error);
    if (!errors.empty()) throw exception_group(std::move(errors));
    if (body_error) std::rethrow_exception(body_error);  // leaving `async with` re-raises
    if (wait_cancellation && left > s.parent_level) std::rethrow_exception(wait_cancellation);
}

}  // namespace corio
