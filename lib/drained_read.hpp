// drained_read: a TCP read that tells Asio's epoll reactor when it has
// emptied the socket, so the next read waits for the next readiness event
// instead of trying a recv that can only fail with EAGAIN.
//
// Asio's reactor tries every read at once ("speculatively") unless its last
// attempt on that socket was flagged exhausted, and it flags a stream read
// exhausted only at EOF. A request-response connection therefore paid two
// recv calls per message: the one that finds it, and the speculative one
// made right after answering, before the peer has sent anything.
//
// Whether the read emptied the socket comes from the kernel: with the
// socket option TCP_INQ (Linux 4.18) each recvmsg returns, as a control
// message, the bytes still queued after it, and a non-zero count once the
// peer's FIN has arrived, so an EOF still to be read is never mistaken for
// an empty queue (a short read alone cannot tell: data and FIN can arrive
// under one readiness edge). Zero means empty: the read is flagged
// exhausted. No wake-up can be lost: the reactor registers sockets
// edge-triggered, anything arriving after this read raises a new edge, and
// handling an edge re-enables speculation (epoll_reactor::perform_io) under
// the same per-socket mutex as the flag. Without the control message (an
// older kernel) a read is never flagged: Asio's own behaviour.
//
// The hook is a specialisation of Asio's receive operation base for our own
// buffer type, the only place the flag can be raised; it replaces the
// generic template of Asio 1.22 (Debian 12's libasio-dev), and the
// static_assert makes an Asio upgrade re-check it.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <asio/buffer.hpp>
#include <asio/detail/reactive_socket_recv_op.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/version.hpp>

#include <cerrno>
#include <cstring>

static_assert(ASIO_VERSION >= 102200 && ASIO_VERSION < 102400,
              "drained_read.hpp replaces Asio 1.22's reactive_socket_recv_op_base: re-check it for this Asio");

namespace corio::detail {

/// One receive buffer of a TCP socket on which enable_queue_reports was
/// called: async_read_some into it flags the reads that empty the socket.
struct drain_buffer : asio::mutable_buffer {
    explicit drain_buffer(asio::mutable_buffer b) noexcept : asio::mutable_buffer(b) {}
};

/// Asks the kernel for the queued-bytes count on every read (TCP_INQ).
/// Failure only costs the saved syscall.
inline void enable_queue_reports(asio::ip::tcp::socket& s) noexcept {
    const int on = 1;
    ::setsockopt(s.native_handle(), IPPROTO_TCP, TCP_INQ, &on, sizeof on);
}

}  // namespace corio::detail

namespace asio::detail {

template <>
class reactive_socket_recv_op_base<corio::detail::drain_buffer> : public reactor_op {
public:
    reactive_socket_recv_op_base(const asio::error_code& success_ec, socket_type socket, socket_ops::state_type,
                                 const corio::detail::drain_buffer& buffer, socket_base::message_flags flags,
                                 func_type complete_func)
        : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
          socket_(socket),
          buffer_(buffer),
          flags_(flags) {}

    static status do_perform(reactor_op* base) {
        auto* o = static_cast<reactive_socket_recv_op_base*>(base);
        iovec iov{o->buffer_.data(), o->buffer_.size()};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
        for (;;) {
            msghdr msg{};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            const ssize_t n = ::recvmsg(o->socket_, &msg, o->flags_);
            if (n > 0) {
                o->ec_ = asio::error_code();
                o->bytes_transferred_ = static_cast<std::size_t>(n);
                return queued_after(msg) == 0 ? done_and_exhausted : done;
            }
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return not_done;
            // EOF or an error: nothing read, exhausted (Asio's own rule).
            o->ec_ = n == 0 ? asio::error_code(asio::error::eof)
                            : asio::error_code(errno, asio::error::get_system_category());
            o->bytes_transferred_ = 0;
            return done_and_exhausted;
        }
    }

private:
    /// The TCP_INQ count of a recvmsg: bytes left, non-zero after a FIN;
    /// -1 when the kernel sent none.
    static int queued_after(msghdr& msg) noexcept {
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ) {
                int left;
                std::memcpy(&left, CMSG_DATA(c), sizeof left);
                return left;
            }
        }
        return -1;
    }

    socket_type socket_;
    corio::detail::drain_buffer buffer_;
    socket_base::message_flags flags_;
};

}  // namespace asio::detail
