#include "http/parser.hpp"

#include <utility>

namespace corio::http::detail {

message_parser::message_parser(kind k, parser_limits limits) : kind_(k), limits_(limits) {
    llhttp_settings_init(&settings_);
    settings_.on_message_begin = &message_parser::on_message_begin;
    settings_.on_url = &message_parser::on_url;
    settings_.on_status = &message_parser::on_status;
    settings_.on_header_field = &message_parser::on_header_field;
    settings_.on_header_value = &message_parser::on_header_value;
    settings_.on_header_value_complete = &message_parser::on_header_value_complete;
    settings_.on_headers_complete = &message_parser::on_headers_complete;
    settings_.on_body = &message_parser::on_body;
    settings_.on_message_complete = &message_parser::on_message_complete;
    llhttp_init(&parser_, k == kind::request ? HTTP_REQUEST : HTTP_RESPONSE, &settings_);
    parser_.data = this;
}

std::size_t message_parser::feed(std::string_view data) {
    if (complete_ || failed() || data.empty()) return 0;
    const llhttp_errno_t rc = llhttp_execute(&parser_, data.data(), data.size());
    switch (rc) {
        case HPE_OK: return data.size();
        case HPE_PAUSED:  // on_message_complete paused after one message
        case HPE_PAUSED_UPGRADE: {
            const auto used = static_cast<std::size_t>(llhttp_get_error_pos(&parser_) - data.data());
            llhttp_resume(&parser_);
            if (rc == HPE_PAUSED_UPGRADE) {
                // No protocol switch is offered: answer this one, then close.
                complete_ = true;
                message_.keep_alive = false;
            }
            return used;
        }
        default:
            // A callback that refused (a limit, a bad name) set error_status_
            // already. llhttp reports that as HPE_USER from the data callbacks
            // but as HPE_CB_<name> from the others (on_headers_complete,
            // on_header_value_complete), which must not turn 413/431 into 400.
            if (!failed())
                fail(400, llhttp_get_error_reason(&parser_) ? llhttp_get_error_reason(&parser_) : llhttp_errno_name(rc));
            return 0;
    }
}

void message_parser::finish() {
    if (complete_ || failed()) return;
    const llhttp_errno_t rc = llhttp_finish(&parser_);
    if (rc == HPE_PAUSED) {
        llhttp_resume(&parser_);
        return;
    }
    if (rc != HPE_OK) fail(400, "connection closed in the middle of a message");
    else if (started_ && !complete_) fail(400, "connection closed in the middle of a message");
}

parsed_message message_parser::take() {
    parsed_message m = std::move(message_);
    reset_message();
    return m;
}

void message_parser::reset_message() {
    message_ = parsed_message{};
    field_name_.clear();
    field_value_.clear();
    started_ = headers_done_ = complete_ = no_body_ = false;
}

int message_parser::fail(int status, std::string reason) noexcept {
    error_status_ = status;
    error_reason_ = std::move(reason);
    return HPE_USER;
}

int message_parser::on_message_begin(llhttp_t* p) {
    self(p).started_ = true;
    return 0;
}

int message_parser::on_url(llhttp_t* p, const char* at, std::size_t n) {
    message_parser& s = self(p);
    if (s.message_.target.size() + n > s.limits_.max_line) return s.fail(400, "request line is too long");
    s.message_.target.append(at, n);
    return 0;
}

int message_parser::on_status(llhttp_t* p, const char* at, std::size_t n) {
    message_parser& s = self(p);
    if (s.message_.reason.size() + n > s.limits_.max_line) return s.fail(400, "status line is too long");
    s.message_.reason.append(at, n);
    return 0;
}

int message_parser::on_header_field(llhttp_t* p, const char* at, std::size_t n) {
    message_parser& s = self(p);
    if (s.field_name_.size() + n > s.limits_.max_field) return s.fail(431, "header field name is too long");
    s.field_name_.append(at, n);
    return 0;
}

int message_parser::on_header_value(llhttp_t* p, const char* at, std::size_t n) {
    message_parser& s = self(p);
    if (s.field_name_.size() + s.field_value_.size() + n > s.limits_.max_field)
        return s.fail(431, "header field '" + s.field_name_ + "' is too long");
    s.field_value_.append(at, n);
    return 0;
}

namespace {

/// RFC 9110 5.6.2 tchar: what a field name is made of.
bool is_token(std::string_view name) noexcept {
    if (name.empty()) return false;
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        const bool alnum = (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z');
        if (!alnum && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos) return false;
    }
    return true;
}

}  // namespace

int message_parser::on_header_value_complete(llhttp_t* p) {
    message_parser& s = self(p);
    // llhttp 8.1 passes "Host : x" with the name "Host ": RFC 9112 5.1 says
    // a server must answer whitespace before the colon with 400, since a
    // proxy in front may read the field differently (request smuggling).
    if (!is_token(s.field_name_)) return s.fail(400, "invalid header field name");
    if (s.message_.fields.size() >= s.limits_.max_headers) return s.fail(431, "too many headers");
    s.message_.fields.add_unchecked(std::move(s.field_name_), std::move(s.field_value_));
    s.field_name_.clear();
    s.field_value_.clear();
    return 0;
}

int message_parser::on_headers_complete(llhttp_t* p) {
    message_parser& s = self(p);
    s.headers_done_ = true;
    if (s.kind_ == kind::request) s.message_.method = llhttp_method_name(static_cast<llhttp_method_t>(p->method));
    else s.message_.status = p->status_code;
    s.message_.version_minor = p->http_minor;
    // Refuse an announced body over the limit before any of it arrives.
    if ((p->flags & F_CONTENT_LENGTH) && p->content_length > s.limits_.max_body)
        return s.fail(413, "request body is larger than the limit");
    return s.no_body_ ? 1 : 0;  // 1: llhttp expects no body
}

int message_parser::on_body(llhttp_t* p, const char* at, std::size_t n) {
    message_parser& s = self(p);
    if (s.message_.body.size() + n > s.limits_.max_body) return s.fail(413, "request body is larger than the limit");
    s.message_.body.append(at, n);
    return 0;
}

int message_parser::on_message_complete(llhttp_t* p) {
    message_parser& s = self(p);
    s.complete_ = true;
    s.message_.keep_alive = llhttp_should_keep_alive(p) != 0;
    return HPE_PAUSED;  // stop here: the bytes after this message belong to the next
}

}  // namespace corio::http::detail
