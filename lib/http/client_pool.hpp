// The client_session's keep-alive pool: idle HTTP/1.1 connections kept per
// origin (scheme, host, port) so that the next request to the same server
// skips the TCP (and TLS) handshake, as aiohttp's TCPConnector does.
//
// Invariants:
// - A connection is either idle in the pool or leased to exactly one
//   request; a leased connection carries no other request (no pipelining),
//   so the reader and writer belong to the lessee alone.
// - Only a connection whose last response was read completely, with no
//   byte past its end and keep-alive allowed, is given back (release).
// - Once close_all() has run, nothing is pooled again: release() closes.
//
// Threads: any worker may acquire or release (the session is shared by
// tasks everywhere); `mutex_` guards `idle_` and `closed_`. Each connection
// still does its IO on the loop that opened it (see streams.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "corio/streams.hpp"

namespace corio::http::detail {

/// Which server a connection talks to; connections are shared only within one origin.
struct origin {
    std::string scheme;
    std::string host;
    unsigned short port = 0;
    friend bool operator<(const origin& a, const origin& b) noexcept {
        return std::tie(a.scheme, a.host, a.port) < std::tie(b.scheme, b.host, b.port);
    }
};

class connection_pool {
public:
    /// aiohttp's TCPConnector(keepalive_timeout=15): an idle connection
    /// older than this is closed instead of reused (servers drop theirs
    /// after a similar time, and a request on one they dropped would fail).
    static constexpr std::chrono::seconds keepalive_timeout{15};
    /// At most this many idle connections per origin (aiohttp's limit=100).
    static constexpr std::size_t max_idle_per_origin = 100;

    /// An idle connection for `o` that still looks open, or nullopt.
    /// Connections found closed by the server, or too old, are closed here.
    std::optional<stream_pair> try_acquire(const origin& o);
    /// Keeps `c` for the next request to `o`; closes it instead when the
    /// pool is closed or full, or has no memory left to keep it.
    void release(const origin& o, stream_pair c) noexcept;
    /// Closes every idle connection and refuses later releases; returns the
    /// closed connections' writers so that the caller can wait_closed() them.
    std::vector<stream_writer> close_all();
    bool closed() const;

private:
    struct idle_connection {
        idle_connection(stream_pair&& s, std::chrono::steady_clock::time_point t) : streams(std::move(s)), since(t) {}
        stream_pair streams;
        std::chrono::steady_clock::time_point since;
    };

    mutable std::mutex mutex_;
    std::map<origin, std::deque<idle_connection>> idle_;  // most recently released at the back
    bool closed_ = false;
};

/// True when the peer has closed an idle connection (or sent bytes nobody
/// asked for): the connection must not carry another request. Looks at the
/// socket without reading it (a non-blocking MSG_PEEK, as urllib3's
/// is_connection_dropped), so it is safe on a connection no task is using.
bool looks_dropped(const stream_writer& w) noexcept;

}  // namespace corio::http::detail
