// corio's queues: asyncio.Queue, PriorityQueue and LifoQueue, safe when
// their getters and putters run on different workers. All three are one
// implementation (detail/basic_queue.hpp) with a different container policy
// for the order items come out in, so they share its guarantees:
// - a put hands its item straight to the oldest waiting getter, and a get
//   that frees a slot admits the oldest waiting putter's item, each only after
//   that waiter's wake-up succeeded: a cancelled get loses no item, a
//   cancelled put inserts nothing;
// - waiters are served in FIFO order, with no barging past them;
// - maxsize <= 0 is unbounded; shutdown(immediate) as in asyncio 3.13.
//
// Resumption: a waiting get/put/join resumes on the worker its wake-up puts
// it on (the waker's, in a runtime), never inline inside the waker's call.
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

#include "corio/detail/basic_queue.hpp"

namespace corio {

namespace detail {

/// First in, first out (asyncio.Queue).
template <class T>
class fifo_items {
public:
    using storage = std::deque<T>;
    void push(T&& item) { items_.push_back(std::move(item)); }
    T pop() {
        T item(std::move(items_.front()));
        items_.pop_front();
        return item;
    }
    std::size_t size() const noexcept { return items_.size(); }
    storage take_all() { return std::exchange(items_, storage()); }

private:
    storage items_;
};

/// Last in, first out (asyncio.LifoQueue).
template <class T>
class lifo_items {
public:
    using storage = std::vector<T>;
    void push(T&& item) { items_.push_back(std::move(item)); }
    T pop() {
        T item(std::move(items_.back()));
        items_.pop_back();
        return item;
    }
    std::size_t size() const noexcept { return items_.size(); }
    storage take_all() { return std::exchange(items_, storage()); }

private:
    storage items_;
};

/// Least first by `Compare`, a binary heap (asyncio.PriorityQueue, heapq).
/// std::*_heap keep the greatest element by their comparator at the front,
/// so they get `Compare` with its arguments swapped.
template <class T, class Compare>
class least_first_items {
public:
    using storage = std::vector<T>;
    explicit least_first_items(Compare compare = Compare()) : after_{std::move(compare)} {}
    void push(T&& item) {
        items_.push_back(std::move(item));
        std::push_heap(items_.begin(), items_.end(), after_);
    }
    T pop() {
        std::pop_heap(items_.begin(), items_.end(), after_);
        T item(std::move(items_.back()));
        items_.pop_back();
        return item;
    }
    std::size_t size() const noexcept { return items_.size(); }
    storage take_all() { return std::exchange(items_, storage()); }

private:
    /// after_(a, b): `a` comes out after `b`, i.e. compare(b, a).
    struct swapped {
        [[no_unique_address]] Compare compare;
        bool operator()(const T& a, const T& b) { return compare(b, a); }
    };
    storage items_;
    swapped after_;
};

}  // namespace detail

/// asyncio.Queue: items come out in the order they were put.
template <class T>
class queue : public detail::basic_queue<T, detail::fifo_items<T>> {
public:
    /// maxsize <= 0: unbounded.
    explicit queue(std::ptrdiff_t maxsize = 0) : queue::basic_queue(maxsize) {}
};

/// asyncio.PriorityQueue: get returns the least item by `Compare` first,
/// like Python's heapq: with the default std::less, the smallest. This is
/// the opposite of std::priority_queue, whose top() is the greatest by its
/// comparator; pass std::greater<T> here to get the largest first. Items
/// that compare equal come out in no particular order: put (priority,
/// sequence number) pairs where order among equals matters, as asyncio's
/// documentation suggests. `Compare` must be a strict weak ordering; it
/// runs under the queue's internal lock, so it must not use the queue.
template <class T, class Compare = std::less<T>>
class priority_queue : public detail::basic_queue<T, detail::least_first_items<T, Compare>> {
public:
    /// maxsize <= 0: unbounded.
    explicit priority_queue(std::ptrdiff_t maxsize = 0, Compare compare = Compare())
        : priority_queue::basic_queue(maxsize, detail::least_first_items<T, Compare>(std::move(compare))) {}
};

/// asyncio.LifoQueue: get returns the most recently put item first.
template <class T>
class lifo_queue : public detail::basic_queue<T, detail::lifo_items<T>> {
public:
    /// maxsize <= 0: unbounded.
    explicit lifo_queue(std::ptrdiff_t maxsize = 0) : lifo_queue::basic_queue(maxsize) {}
};

}  // namespace corio
