// One HTTP/1.x message at a time out of a byte stream, with llhttp doing
// the parsing and this class holding aiohttp's limits. Used by the server
// (requests) and the client (responses).
//
//   message_parser p(message_parser::kind::request, limits);
//   std::size_t used = p.feed(bytes);   // may stop early: at a message's end, or an error
//   if (p.failed()) -> answer p.error_status() and close
//   if (p.complete()) { parsed_message m = p.take(); ... }  // then feed the rest (pipelining)
//
// Bytes past the end of a message are not consumed: feed() returns how
// many it used, and the caller feeds the rest after take().
#pragma once

#include <llhttp.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "corio/http/headers.hpp"

namespace corio::http::detail {

struct parser_limits {
    std::size_t max_line = 8190;          // request line / status line (aiohttp's max_line_size)
    std::size_t max_field = 8190;         // one header field, name + value (max_field_size)
    std::size_t max_headers = 100;        // header count
    std::size_t max_body = 1024 * 1024;   // client_max_size
};

struct parsed_message {
    std::string method;   // requests: "GET"
    std::string target;   // requests: "/path?query"
    int status = 0;       // responses
    std::string reason;   // responses
    int version_minor = 1;
    http::headers fields;
    std::string body;
    bool keep_alive = true;
};

class message_parser {
public:
    enum class kind { request, response };

    message_parser(kind k, parser_limits limits);
    message_parser(const message_parser&) = delete;
    message_parser& operator=(const message_parser&) = delete;

    /// Parses from `data`; returns the bytes used. Stops after a complete
    /// message or at the first error.
    std::size_t feed(std::string_view data);
    /// The peer closed: completes a response whose body runs to EOF, or
    /// fails a message cut short.
    void finish();
    /// Responses to HEAD have headers that describe a body that is not sent.
    void expect_no_body() noexcept { no_body_ = true; }

    bool complete() const noexcept { return complete_; }
    /// True once any byte of the current message arrived.
    bool started() const noexcept { return started_; }
    bool headers_done() const noexcept { return headers_done_; }
    /// The current message's header fields (complete once headers_done()).
    const http::headers& fields() const noexcept { return message_.fields; }
    bool failed() const noexcept { return error_status_ != 0; }
    /// 400 malformed, 413 body too large, 431 header too large; 0 if none.
    int error_status() const noexcept { return error_status_; }
    const std::string& error_reason() const noexcept { return error_reason_; }

    /// The completed message; the parser is ready for the next.
    parsed_message take();

private:
    static int on_message_begin(llhttp_t* p);
    static int on_url(llhttp_t* p, const char* at, std::size_t n);
    static int on_status(llhttp_t* p, const char* at, std::size_t n);
    static int on_header_field(llhttp_t* p, const char* at, std::size_t n);
    static int on_header_value(llhttp_t* p, const char* at, std::size_t n);
    static int on_header_value_complete(llhttp_t* p);
    static int on_headers_complete(llhttp_t* p);
    static int on_body(llhttp_t* p, const char* at, std::size_t n);
    static int on_message_complete(llhttp_t* p);
    static message_parser& self(llhttp_t* p) noexcept { return *static_cast<message_parser*>(p->data); }

    int fail(int status, std::string reason) noexcept;
    void reset_message();

    llhttp_settings_t settings_{};
    llhttp_t parser_{};
    kind kind_;
    parser_limits limits_;
    parsed_message message_;
    std::string field_name_;
    std::string field_value_;
    bool started_ = false;
    bool headers_done_ = false;
    bool complete_ = false;
    bool no_body_ = false;
    int error_status_ = 0;
    std::string error_reason_;
};

}  // namespace corio::http::detail
