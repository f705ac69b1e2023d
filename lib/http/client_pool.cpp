#include "http/client_pool.hpp"

#include <sys/socket.h>

#include <any>
#include <cerrno>
#include <new>
#include <utility>

namespace corio::http::detail {

bool looks_dropped(const stream_writer& w) noexcept {
    try {
        const std::any fd = w.get_extra_info("socket");
        if (!fd.has_value()) return true;
        char byte;
        const ssize_t n = ::recv(std::any_cast<int>(fd), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        // 0: the peer's FIN; > 0: bytes with no request behind them (over TLS
        // perhaps a close_notify): either way this connection is done.
        // EAGAIN: nothing to read, the normal state of an idle connection.
        if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
        return true;
    } catch (...) {
        return true;
    }
}

std::optional<stream_pair> connection_pool::try_acquire(const origin& o) {
    std::vector<stream_writer> stale;  // closed outside the lock
    std::optional<stream_pair> found;
    {
        const std::lock_guard guard(mutex_);
        if (closed_) return std::nullopt;
        const auto it = idle_.find(o);
        if (it == idle_.end()) return std::nullopt;
        auto& queue = it->second;
        const auto now = std::chrono::steady_clock::now();
        // Oldest first at the front: the ones past the keep-alive time go.
        while (!queue.empty() && now - queue.front().since > keepalive_timeout) {
            stale.push_back(queue.front().streams.writer);
            queue.pop_front();
        }
        // The most recently used one is the likeliest still open.
        while (!queue.empty()) {
            idle_connection c = std::move(queue.back());
            queue.pop_back();
            if (looks_dropped(c.streams.writer)) {
                stale.push_back(c.streams.writer);
                continue;
            }
            found.emplace(std::move(c.streams));
            break;
        }
        if (queue.empty()) idle_.erase(it);
    }
    for (stream_writer& w : stale) w.close();
    return found;
}

void connection_pool::release(const origin& o, stream_pair c) noexcept {
    try {
        const std::lock_guard guard(mutex_);
        auto& queue = idle_[o];
        if (!closed_ && queue.size() < max_idle_per_origin) {
            // In place: should the deque fail to grow, `c` is untouched.
            queue.emplace_back(std::move(c), std::chrono::steady_clock::now());
            return;
        }
        if (queue.empty()) idle_.erase(o);
    } catch (const std::bad_alloc&) {  // no room to keep it: closed like one over the limit
    }
    c.writer.close();
}

std::vector<stream_writer> connection_pool::close_all() {
    std::vector<stream_writer> writers;
    {
        const std::lock_guard guard(mutex_);
        closed_ = true;
        for (auto& [o, queue] : idle_)
            for (idle_connection& c : queue) writers.push_back(c.streams.writer);
        idle_.clear();
    }
    for (stream_writer& w : writers) w.close();
    return writers;
}

bool connection_pool::closed() const {
    const std::lock_guard guard(mutex_);
    return closed_;
}

}  // namespace corio::http::detail
