// The blocking pool's threads: start on demand, run jobs until the queue is
// empty, wait keep_alive for more, then retire. See blocking_pool.hpp for
// the invariants and the shutdown protocol.
#include "blocking_pool.hpp"

#include <cerrno>
#include <ctime>
#include <stdexcept>
#include <utility>

namespace corio::detail {

blocking_pool::blocking_pool(std::size_t max_threads, std::chrono::steady_clock::duration keep_alive)
    : s_(std::make_shared<shared>()) {
    s_->max_threads = max_threads ? max_threads : 1;
    s_->keep_alive = keep_alive;
}

blocking_pool::~blocking_pool() {
    // Nobody shut us down: do it now, but never hang a destructor on a job
    // that does not return (its thread is detached and frees itself).
    shutdown(std::chrono::seconds(5));
}

void blocking_pool::submit(job j) {
    std::unique_lock lock(s_->mutex);
    if (s_->shut_down) throw std::runtime_error("executor is shut down");
    s_->queue.push_back(std::move(j));
    if (wake_idle(*s_, lock)) return;
    if (s_->live >= s_->max_threads) return;  // the next thread to finish a job takes it
    // Spawned under the lock (as Tokio does): the new thread cannot look up
    // its handle before it is in `handles`.
    const std::uint64_t id = s_->next_id++;
    try {
        // The handle's slot first: a thread started and then not stored
        // (out of memory for the map's node) would be destroyed joinable.
        auto slot = s_->handles.try_emplace(id).first;
        try {
            slot->second = std::thread(&blocking_pool::thread_main, s_, id);
        } catch (...) {
            s_->handles.erase(slot);
            throw;
        }
    } catch (...) {
        if (s_->live > 0) return;  // out of threads, but a live one will get to it
        s_->queue.pop_back();
        throw;
    }
    ++s_->live;
}

void blocking_pool::thread_main(std::shared_ptr<shared> s, std::uint64_t id) {
    std::unique_lock lock(s->mutex);
    for (;;) {
        if (!s->queue.empty()) {
            job j = std::move(s->queue.front());
            s->queue.pop_front();
            lock.unlock();
            try {
                j();
            } catch (...) {
                // A job's exception must not kill the thread; executor jobs
                // catch their own (they complete a future with it).
            }
            j = nullptr;  // destroy the job's captures outside the lock
            lock.lock();
            continue;
        }
        if (s->shut_down) break;
        if (wait_idle(*s, lock)) continue;
        if (s->shut_down) continue;  // drain what is left, then exit above
        // Retire after keep_alive without work.
        std::thread prev;
        if (auto it = s->handles.find(id); it != s->handles.end()) {
            prev = std::exchange(s->last_exiting, std::move(it->second));
            s->handles.erase(it);
        }
        --s->live;
        lock.unlock();
        if (prev.joinable()) prev.join();  // it has left the lock and is exiting
        return;
    }
    --s->live;
    s->exit_cv.notify_all();
}

blocking_pool::idle_thread::idle_thread() { sem_init(&sem, 0, 0); }

blocking_pool::idle_thread::~idle_thread() { sem_destroy(&sem); }

bool blocking_pool::idle_thread::sleep_for(std::chrono::steady_clock::duration timeout) noexcept {
    // steady_clock is CLOCK_MONOTONIC on Linux: sem_clockwait takes its time.
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
    const timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    for (;;) {
        if (sem_clockwait(&sem, CLOCK_MONOTONIC, &ts) == 0) return true;
        if (errno != EINTR) return false;  // ETIMEDOUT
    }
}

void blocking_pool::idle_thread::sleep() noexcept {
    while (sem_wait(&sem) != 0) {  // only EINTR
    }
}

void blocking_pool::idle_thread::wake() noexcept { sem_post(&sem); }

bool blocking_pool::wait_idle(shared& s, std::unique_lock<std::mutex>& lock) {
    idle_thread self;
    s.idle_threads.push_back(&self);
    lock.unlock();
    const bool woken = self.sleep_for(s.keep_alive);
    lock.lock();
    if (!self.claimed) {  // timed out and nobody popped us: leave the stack
        std::erase(s.idle_threads, &self);
        return false;
    }
    // Claimed: the claimer releases our semaphore after unlocking; wait for
    // that release before `self` goes out of scope, even if we timed out.
    if (!woken) {
        lock.unlock();
        self.sleep();
        lock.lock();
    }
    --s.notified;
    return true;
}

bool blocking_pool::wake_idle(shared& s, std::unique_lock<std::mutex>& lock) {
    if (s.idle_threads.empty()) return false;
    idle_thread* t = s.idle_threads.back();
    s.idle_threads.pop_back();
    t->claimed = true;
    ++s.notified;
    // Released after unlocking: woken under the lock, the thread would at
    // once block again on the mutex we hold. `t` stays valid until released
    // (wait_idle waits for it).
    lock.unlock();
    t->wake();
    return true;
}

bool blocking_pool::shutdown(std::chrono::steady_clock::duration timeout) {
    std::unique_lock lock(s_->mutex);
    s_->shut_down = true;
    while (wake_idle(*s_, lock)) lock.lock();
    const bool all_exited = s_->exit_cv.wait_for(lock, timeout, [&] { return s_->live == 0; });
    std::deque<job> dropped = std::move(s_->queue);
    s_->queue.clear();
    auto handles = std::move(s_->handles);
    s_->handles.clear();
    std::thread last = std::move(s_->last_exiting);
    lock.unlock();
    dropped.clear();  // job destructors may complete futures: outside the lock
    if (last.joinable()) last.join();
    for (auto& [id, th] : handles) {
        // On time-out some threads are still inside a job: detach them; they
        // own a reference to *s_ and free it when the last one exits.
        if (all_exited) th.join();
        else th.detach();
    }
    return all_exited;
}

blocking_pool_metrics blocking_pool::metrics() const {
    std::lock_guard lock(s_->mutex);
    blocking_pool_metrics m;
    m.threads = s_->live;
    // A claimed (notified) thread has not taken its job yet: still idle.
    m.idle = s_->idle_threads.size() + s_->notified;
    m.busy = m.threads > m.idle ? m.threads - m.idle : 0;
    m.queued = s_->queue.size();
    return m;
}

std::size_t blocking_pool::threads() const {
    std::lock_guard lock(s_->mutex);
    return s_->live;
}

}  // namespace corio::detail
