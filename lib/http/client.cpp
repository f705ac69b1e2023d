// corio::http's client: aiohttp's ClientSession over corio's streams. A
// request is written whole (Content-Length framing), its response parsed
// by llhttp (lib/http/parser.hpp) and read whole, then the connection goes
// back to the session's keep-alive pool (lib/http/client_pool.hpp).
//
// One request, step by step (perform):
//   1. Build the URL (base_url, params) and the head: the session's
//      default headers under the request's, Host, User-Agent, the body.
//   2. Under the total timeout, for each hop of a redirect chain:
//      a. lease an idle pooled connection for the origin, or open one
//         under the connect timeout (TLS for https);
//      b. write the request, read until the parser has one response;
//      c. a pooled connection that ended before any response byte was
//         closed by the server while idle: retry once on a fresh connection
//         when the method is idempotent (it cannot have been processed
//         twice: nothing came back, and repeating it is harmless anyway);
//      d. give the connection back to the pool if the response allows
//         keep-alive and was read to its exact end, else close it.
//   3. 301/302/303/307/308 with a Location: follow it (303, and 301/302
//      after a POST, become a GET without a body, as browsers and aiohttp
//      do), up to max_redirects hops.
//
// Any exception or cancellation (a timeout) while a connection is leased
// closes that connection: it may hold half a response, so it is never pooled.
#include "corio/http/client.hpp"

#include <asio/ssl/context.hpp>

#include <algorithm>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <system_error>

#include "corio/streams.hpp"
#include "corio/timeout.hpp"
#include "http/client_pool.hpp"
#include "http/parser.hpp"
#include "http/url.hpp"

namespace corio::http {

namespace detail {

struct session_state {
    explicit session_state(client_options o) : options(std::move(o)) {}

    const client_options options;
    connection_pool pool;

    /// The context for https when the options bring none: made on the first
    /// https request (loading the system's CAs costs milliseconds).
    asio::ssl::context& tls_context() {
        if (options.ssl) return *options.ssl;
        std::call_once(tls_once_, [this] {
            auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
            ctx->set_default_verify_paths();
            ctx->set_verify_mode(asio::ssl::verify_peer);
            default_tls_ = std::move(ctx);
        });
        return *default_tls_;
    }

private:
    std::once_flag tls_once_;
    std::unique_ptr<asio::ssl::context> default_tls_;
};

namespace {

/// The buffer size of one read from the connection.
constexpr std::ptrdiff_t read_chunk = 64 * 1024;

/// Bytes that may not appear raw in a request line: controls, space, and
/// non-ASCII, which a URL typed by a person may hold.
bool needs_escape_in_target(char c) noexcept {
    const auto b = static_cast<unsigned char>(c);
    return b <= 0x20 || b >= 0x7f;
}

/// The request target with such bytes percent-encoded, so a URL holding
/// "\r\n" cannot split the request into two (request smuggling).
std::string escape_target(std::string_view target) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(target.size());
    for (const char c : target) {
        if (!needs_escape_in_target(c)) {
            out += c;
            continue;
        }
        const auto b = static_cast<unsigned char>(c);
        out += '%';
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

void check_host(const url_parts& u) {
    for (const char c : u.host) {
        const auto b = static_cast<unsigned char>(c);
        if (b <= 0x20 || b >= 0x7f || c == '/' || c == '\\' || c == '@' || c == '?' || c == '#')
            throw std::invalid_argument("http client: bad host '" + u.host + "'");
    }
}

/// "GET", upper-cased, and a token (a method with a space or CRLF would
/// rewrite the request line).
std::string checked_method(std::string method) {
    static constexpr std::string_view token_punct = "!#$%&'*+-.^_`|~";
    if (method.empty()) throw std::invalid_argument("http client: empty method");
    for (char& c : method) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        const bool alnum = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && token_punct.find(c) == std::string_view::npos)
            throw std::invalid_argument("http client: bad method '" + method + "'");
    }
    return method;
}

bool is_idempotent(std::string_view method) noexcept {
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" || method == "PUT" ||
           method == "DELETE";
}

bool is_redirect(int status) noexcept {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/// The Host field: the port only when it is not the scheme's default.
std::string host_field(const url_parts& u) {
    std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    const bool default_port = (u.scheme == "http" && u.port == 80) || (u.scheme == "https" && u.port == 443);
    if (!default_port) host += ":" + std::to_string(u.port);
    return host;
}

/// The session's default headers, each unless the request sets the same name, then the request's.
http::headers merge_headers(const http::headers& defaults, const http::headers& own) {
    http::headers merged;
    for (const auto& [name, value] : defaults)
        if (!own.contains(name)) merged.add_unchecked(name, value);
    for (const auto& [name, value] : own) merged.add_unchecked(name, value);
    return merged;
}

/// The request's bytes. Framing is always Content-Length (the body is in
/// memory), so a caller's Content-Length or Transfer-Encoding is dropped
/// rather than allowed to contradict it. No Accept-Encoding: bodies are
/// not decompressed.
std::string serialize(const std::string& method, const url_parts& u, const http::headers& fields,
                      const std::optional<std::string>& body) {
    std::string out;
    out.reserve(256 + (body ? body->size() : 0));
    out += method;
    out += ' ';
    out += escape_target(u.target);
    out += " HTTP/1.1\r\n";
    auto line = [&out](std::string_view name, std::string_view value) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    };
    if (!fields.contains("Host")) line("Host", host_field(u));
    if (!fields.contains("User-Agent")) line("User-Agent", "corio");
    if (!fields.contains("Accept")) line("Accept", "*/*");
    for (const auto& [name, value] : fields) {
        if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding")) continue;
        line(name, value);
    }
    // A POST without a body still says so: some servers answer 411 otherwise.
    if (body) line("Content-Length", std::to_string(body->size()));
    else if (method == "POST" || method == "PUT" || method == "PATCH") line("Content-Length", "0");
    out += "\r\n";
    if (body) out += *body;
    return out;
}

/// What one request on one connection gave.
struct round_trip_result {
    /// nullopt: the connection ended (EOF or reset) before any byte of a response.
    std::optional<parsed_message> response;
    /// Why it ended, when it was an error rather than an EOF.
    std::exception_ptr failure;
    /// The response allows keep-alive and ended exactly where the bytes did.
    bool reusable = false;
};

[[noreturn]] void throw_parse_failure(const message_parser& p, std::size_t max_body) {
    if (p.error_status() == 413)
        throw client_payload_error("http client: the response body is larger than max_body (" +
                                   std::to_string(max_body) + " bytes)");
    throw client_payload_error("http client: malformed or truncated response: " + p.error_reason());
}

/// Writes `request` and reads one response (skipping interim 1xx ones).
task<round_trip_result> round_trip(stream_pair& c, const std::string& request, bool head, std::size_t max_body) {
    parser_limits limits;
    limits.max_body = max_body;
    message_parser parser(message_parser::kind::response, limits);
    if (head) parser.expect_no_body();
    round_trip_result result;
    std::string pending;  // read but not yet parsed
    bool eof = false;
    try {
        c.writer.write(request);
        co_await c.writer.drain();
        for (;;) {
            if (pending.empty()) {
                pending = co_await c.reader.read(read_chunk);
                eof = pending.empty();
            }
            if (eof) {
                parser.finish();  // a body that runs to EOF ends here
                if (parser.failed()) throw_parse_failure(parser, max_body);
                if (!parser.complete()) co_return result;  // no byte of a response
            } else {
                pending.erase(0, parser.feed(pending));
                if (parser.failed()) throw_parse_failure(parser, max_body);
                if (!parser.complete()) continue;
            }
            parsed_message m = parser.take();
            if (m.status >= 100 && m.status < 200 && m.status != 101 && !eof) {  // 100 Continue, 103 Early Hints
                if (head) parser.expect_no_body();
                continue;
            }
            result.reusable = m.keep_alive && !eof && pending.empty();
            result.response = std::move(m);
            co_return result;
        }
    } catch (const std::system_error&) {
        // A reset or a broken pipe before the response began is the same
        // "server went away" as an EOF there; once it began, it is not.
        if (parser.started()) throw;
        result.failure = std::current_exception();
    }
    co_return result;
}

/// Closes a leased connection unless it was handed back to the pool
/// (reset): on every exception and cancellation path.
struct connection_lease {
    std::optional<stream_pair>& conn;
    ~connection_lease() {
        if (!conn) return;
        try {
            conn->writer.close();
        } catch (...) {  // destructor: the connection is dropped either way
        }
    }
};

task<stream_pair> connect(session_state& s, const url_parts& u) {
    connection_options options;
    if (u.scheme == "https") options.ssl = &s.tls_context();  // the certificate must name u.host
    const auto limit = s.options.connect_timeout;
    timeout_scope scope = limit > std::chrono::milliseconds::zero() ? corio::timeout(limit) : corio::timeout(std::nullopt);
    co_return co_await scope.run(open_connection(u.host, u.port, options));
}

/// One hop: the request on a pooled or new connection, and its response.
task<parsed_message> exchange(session_state& s, const std::string& method, const url_parts& u,
                              const std::string& request) {
    const origin key{u.scheme, u.host, u.port};
    for (int attempt = 0;; ++attempt) {
        std::optional<stream_pair> conn;
        if (attempt == 0) conn = s.pool.try_acquire(key);
        const bool reused = conn.has_value();
        connection_lease lease{conn};
        if (!conn) conn.emplace(co_await connect(s, u));
        round_trip_result r = co_await round_trip(*conn, request, method == "HEAD", s.options.max_body);
        if (!r.response) {
            if (reused && is_idempotent(method)) continue;  // a stale keep-alive connection: once more, fresh
            if (r.failure) std::rethrow_exception(r.failure);
            throw client_payload_error("http client: the server closed the connection without a response");
        }
        if (r.reusable) {
            s.pool.release(key, std::move(*conn));
            conn.reset();
        }
        co_return std::move(*r.response);
    }
}

/// base_url + url when url is relative, then the params.
std::string full_url(const client_options& options, std::string url,
                     const std::vector<std::pair<std::string, std::string>>& params) {
    if (url.find("://") == std::string::npos && !options.base_url.empty()) {
        std::string_view base = options.base_url;
        if (base.ends_with('/') && url.starts_with('/')) base.remove_suffix(1);
        else if (!base.ends_with('/') && !url.empty() && !url.starts_with('/')) url.insert(0, "/");
        url.insert(0, base);
    }
    if (!params.empty()) {
        const std::size_t hash = url.find('#');
        std::string fragment = hash == std::string::npos ? std::string() : url.substr(hash);
        if (hash != std::string::npos) url.erase(hash);
        url += url.find('?') == std::string::npos ? '?' : '&';
        url += encode_query(params);
        url += fragment;
    }
    return url;
}

task<client_response> perform(std::shared_ptr<session_state> s, std::string method, std::string url,
                              request_options o) {
    if (s->pool.closed()) throw std::runtime_error("http client: the session is closed");
    if (o.json && o.data) throw std::invalid_argument("http client: give json or data, not both");
    method = checked_method(std::move(method));
    url = full_url(s->options, std::move(url), o.params);
    url_parts target = parse_url(url);
    check_host(target);

    http::headers fields = merge_headers(s->options.headers, o.headers);
    std::optional<std::string> body;
    if (o.json) {
        body = o.json->dump();
        if (!fields.contains("Content-Type")) fields.add_unchecked("Content-Type", "application/json");
    } else if (o.data) {
        body = std::move(*o.data);
        if (!fields.contains("Content-Type")) fields.add_unchecked("Content-Type", "application/octet-stream");
    }

    for (int redirects = 0;; ++redirects) {
        const std::string request = serialize(method, target, fields, body);
        parsed_message m = co_await exchange(*s, method, target, request);
        const std::string* location = m.fields.find("Location");
        if (!o.allow_redirects || !is_redirect(m.status) || location == nullptr)
            co_return client_response(m.status, std::move(m.reason), std::move(m.fields), std::move(m.body), url);
        if (redirects >= o.max_redirects) throw client_response_error(m.status, m.reason, url);

        std::string next = resolve_location(target, *location);
        url_parts next_target = parse_url(next);  // std::invalid_argument for a non-http(s) Location
        check_host(next_target);
        if ((m.status == 303 && method != "HEAD") || ((m.status == 301 || m.status == 302) && method == "POST")) {
            method = "GET";
            body.reset();
            fields.erase("Content-Type");
        }
        const bool same_origin = next_target.scheme == target.scheme && next_target.host == target.host &&
                                 next_target.port == target.port;
        if (!same_origin) {
            // Credentials meant for one server do not follow to another;
            // a Host set by the caller named the old one.
            fields.erase("Authorization");
            fields.erase("Host");
        }
        url = std::move(next);
        target = std::move(next_target);
    }
}

/// The request's total deadline: its own, else the session's; zero or
/// less means none.
task<client_response> perform_with_timeout(std::shared_ptr<session_state> s, std::string method, std::string url,
                                           request_options o) {
    const std::chrono::milliseconds total = o.timeout.value_or(s->options.total_timeout);
    timeout_scope scope = total > std::chrono::milliseconds::zero() ? corio::timeout(total) : corio::timeout(std::nullopt);
    task<client_response> work = perform(std::move(s), std::move(method), std::move(url), std::move(o));
    co_return co_await scope.run(std::move(work));
}

}  // namespace
}  // namespace detail

// ---- client_response -----------------------------------------------------------------

void client_response::raise_for_status() const {
    if (status_ >= 400) throw client_response_error(status_, reason_, url_);
}

task<std::string> client_response::read() const { co_return body_; }

task<std::string> client_response::text() const { co_return body_; }

task<nlohmann::json> client_response::json() const { co_return nlohmann::json::parse(body_); }

// ---- client_session ------------------------------------------------------------------

client_session::client_session(client_options options)
    : state_(std::make_shared<detail::session_state>(std::move(options))) {}

client_session::~client_session() {
    if (state_) state_->pool.close_all();
}

task<client_response> client_session::request(std::string method, std::string url, request_options options) {
    // Not a coroutine: the state is captured now, so a request already
    // made keeps working even if the session object goes away meanwhile.
    return detail::perform_with_timeout(state_, std::move(method), std::move(url), std::move(options));
}

task<void> client_session::close() {
    std::vector<stream_writer> writers = state_->pool.close_all();
    for (stream_writer& w : writers) co_await w.wait_closed();
}

bool client_session::closed() const noexcept {
    try {
        return state_->pool.closed();
    } catch (...) {  // std::mutex::lock may throw in theory
        return false;
    }
}

}  // namespace corio::http
