// The HTTP/1.1 server: one task per connection (on the loop that accepted
// it) that parses requests with llhttp, runs them through the middlewares
// and the router, and writes the responses in request order.
//
// Timeouts without a timer per read: every connection publishes its phase
// and when it entered it; one reaper task per runner looks at them a few
// times a second and cancels connections past their phase's limit:
//
//   idle       between requests              keepalive_timeout since entered
//   head       request line and headers      request_head_timeout since entered
//   body       the request body arrives      body_read_timeout since bytes last
//                                            arrived (`since` moves on each read)
//   busy       handled, answered             none
//   lingering  after an error answer         lingering_timeout since entered
//   closing    reaped or stopped             (final)
//
// The phase is changed by compare-and-swap on both sides, and the reaper
// cancels only after it moved the phase to `closing`, which the connection
// never leaves: so a cancellation can never land in a handler that has
// started. (A body read that races the reaper's look may still be cut:
// only after a silence that outlasted body_read_timeout anyway.)
//
// Lingering close (nginx's lingering_close): an error answer is followed by
// a half-close, then what the client still sends is read and dropped until
// it closes. Closing at once with unread bytes in the socket would send a
// reset, and a client still uploading would lose the answer to it.
//
// Graceful stop uses the same phases: idle connections are cancelled at
// once; the others see `stop_requested` after their current response
// (sent with Connection: close) and leave.
#include "corio/http/server.hpp"

#include <asio/ip/tcp.hpp>

#include <algorithm>
#include <any>
#include <atomic>
#include <charconv>
#include <ctime>
#include <list>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "corio/create_task.hpp"
#include "corio/errors.hpp"
#include "corio/event.hpp"
#include "corio/event_loop.hpp"
#include "corio/http/errors.hpp"
#include "corio/policy.hpp"
#include "corio/sleep.hpp"
#include "corio/streams.hpp"
#include "corio/task_handle.hpp"
#include "corio/timeout.hpp"
#include "http/parser.hpp"

namespace corio::http {
namespace detail {

/// The monotonic clock at the kernel's tick (1-4 ms): a timeout of the
/// server is at least tens of milliseconds, and this clock is read a few
/// times per request, where a precise read (rdtsc in the vDSO) cost about 2%
/// of the server's user time under wrk.
struct clock {
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<clock>;
    static constexpr bool is_steady = true;
    static time_point now() noexcept {
        timespec ts{};
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        return time_point(std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
    }
};

enum class phase : int { idle, head, body, busy, lingering, closing };

/// How long a connection may stay in `p` (for `body`: since bytes last
/// arrived); none for the phases without a limit.
std::optional<std::chrono::milliseconds> time_limit(phase p, const site_options& o) noexcept {
    switch (p) {
        case phase::idle: return o.keepalive_timeout;
        case phase::head: return o.request_head_timeout;
        case phase::body: return o.body_read_timeout;
        case phase::lingering: return o.lingering_timeout;
        case phase::busy:
        case phase::closing: break;
    }
    return std::nullopt;
}
constexpr phase timed_phases[] = {phase::idle, phase::head, phase::body, phase::lingering};
constexpr bool time_limited(phase p) noexcept { return std::ranges::find(timed_phases, p) != std::ranges::end(timed_phases); }

struct connection_record {
    std::size_t site;
    task_ref task;
    std::atomic<phase> now{phase::idle};
    std::atomic<clock::rep> since{clock::now().time_since_epoch().count()};
    std::atomic<bool> stop_requested{false};

    connection_record(std::size_t s, task_ref t) : site(s), task(std::move(t)) {}

    /// Moves from `from` to `to`; false if the reaper or a stop closed it.
    bool enter(phase from, phase to) noexcept {
        if (time_limited(to)) since.store(clock::now().time_since_epoch().count());
        return now.compare_exchange_strong(from, to);
    }
    /// Bytes arrived: the body timeout counts from now.
    void touch() noexcept { since.store(clock::now().time_since_epoch().count()); }
    /// Closes it if it is still in `expected`; true if this call did.
    bool close_if(phase expected) noexcept { return now.compare_exchange_strong(expected, phase::closing); }
};

struct site_entry {
    site_options options;
    std::optional<corio::server> listener;
    bool stopping = false;
};

struct runner_state {
    explicit runner_state(application& a) : app(&a) {}

    application* app;
    std::mutex mutex;
    std::vector<site_entry> sites;
    std::list<connection_record> connections;
    std::optional<task_handle<void>> reaper;

    /// Registers the running connection task; nullptr if its site stops.
    connection_record* enroll(std::size_t site) {
        std::lock_guard guard(mutex);
        if (sites[site].stopping) return nullptr;
        return &connections.emplace_back(site, current_task());
    }
    site_options options_of(std::size_t site) {
        std::lock_guard guard(mutex);
        return sites[site].options;
    }
    void leave(connection_record* r) {
        std::lock_guard guard(mutex);
        connections.remove_if([r](const connection_record& c) { return &c == r; });
    }

    /// Asks every connection of `site` to end: idle ones are cancelled now,
    /// the others leave after their current response.
    void request_stop(std::size_t site) {
        std::lock_guard guard(mutex);
        sites[site].stopping = true;
        for (connection_record& c : connections) {
            if (c.site != site) continue;
            c.stop_requested.store(true);
            if (c.close_if(phase::idle)) c.task.cancel();
        }
    }
    void cancel_all(std::size_t site) {
        std::lock_guard guard(mutex);
        for (connection_record& c : connections) {
            if (c.site != site) continue;
            c.now.store(phase::closing);
            c.task.cancel();
        }
    }
    /// One reaper pass: cancels connections past their site's timeouts.
    void reap(clock::time_point now) {
        std::lock_guard guard(mutex);
        for (connection_record& c : connections) {
            const site_options& o = sites[c.site].options;
            // The phase first: enter() stores `since` before it swaps the
            // phase, so a new phase read here comes with its new `since`
            // (seq_cst). The other order could pair a fresh `head` with the
            // time the connection went idle and reap it at once.
            const phase p = c.now.load();
            const clock::duration in_phase = now - clock::time_point(clock::duration(c.since.load()));
            const std::optional<std::chrono::milliseconds> limit = time_limit(p, o);
            if (limit && in_phase > *limit && c.close_if(p)) c.task.cancel();
        }
    }
    /// How often the reaper looks: a quarter of the shortest timeout, within [10 ms, 1 s].
    clock::duration reap_interval() {
        std::lock_guard guard(mutex);
        clock::duration shortest = std::chrono::seconds(1);
        for (const site_entry& s : sites)
            for (phase p : timed_phases) shortest = std::min<clock::duration>(shortest, *time_limit(p, s.options) / 4);
        return std::max<clock::duration>(shortest, std::chrono::milliseconds(10));
    }
};

namespace {

task<void> reap_connections(std::weak_ptr<runner_state> weak) {
    for (;;) {
        clock::duration interval;
        {
            const std::shared_ptr<runner_state> s = weak.lock();
            if (!s) co_return;
            s->reap(clock::now());
            interval = s->reap_interval();
        }
        co_await corio::sleep(interval);
    }
}

/// "Sun, 06 Nov 1994 08:49:37 GMT", formatted once per second per thread.
std::string_view http_date() {
    thread_local std::time_t cached_at = 0;
    thread_local char text[40] = {};
    const std::time_t now = std::time(nullptr);
    if (now != cached_at) {
        std::tm tm{};
        gmtime_r(&now, &tm);
        std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        cached_at = now;
    }
    return text;
}

bool bodiless_status(int status) noexcept { return status == 204 || status == 304 || (status >= 100 && status < 200); }

void append_number(std::string& out, std::size_t n) {
    char digits[20];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
    out.append(digits, end);
}

/// Appends `r` as HTTP/1.1 bytes to `out`.
void serialize(const response& r, bool head_request, bool keep_alive, std::string& out) {
    using namespace std::string_view_literals;  // appends without strlen: this runs once per response
    const bool has_text = !r.text.empty();
    const std::string& body = has_text ? r.text : r.body;
    out += "HTTP/1.1 "sv;
    append_number(out, static_cast<std::size_t>(r.status));
    out += ' ';
    out += r.reason.empty() ? reason_phrase(r.status) : std::string_view(r.reason);
    out += "\r\n"sv;
    if (!r.headers.contains("Content-Type") && !bodiless_status(r.status)) {
        out += "Content-Type: "sv;
        if (!r.content_type.empty()) out += r.content_type;
        else out += has_text || body.empty() ? "text/plain; charset=utf-8"sv : "application/octet-stream"sv;
        out += "\r\n"sv;
    }
    if (!bodiless_status(r.status)) {
        out += "Content-Length: "sv;
        append_number(out, body.size());
        out += "\r\n"sv;
    }
    out += "Date: "sv;
    out += http_date();
    out += "\r\nServer: corio\r\n"sv;
    if (!keep_alive) out += "Connection: close\r\n"sv;
    for (const auto& [name, value] : r.headers) {
        // The server owns the framing: a handler's own length or coding
        // headers would contradict the body it sends.
        if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") || iequals(name, "Connection")) continue;
        out += name;
        out += ": "sv;
        out += value;
        out += "\r\n"sv;
    }
    out += "\r\n"sv;
    if (!head_request && !bodiless_status(r.status)) out += body;
}

response error_response(int status, std::string text) {
    if (text.empty()) text = std::to_string(status) + ": " + std::string(reason_phrase(status));
    response r;
    r.status = status;
    r.text = std::move(text);
    return r;
}

void report(const char* message, std::exception_ptr e) {
    get_running_loop().call_exception_handler(exception_context{message, std::move(e)});
}

task<response> run_middlewares(const application& app, request& req, std::size_t i) {
    const auto& chain = app.middlewares();
    if (i == chain.size()) co_return co_await app.router().resolve(req)(req);
    const handler next = [&app, i](request& r) { return run_middlewares(app, r, i + 1); };
    co_return co_await chain[i](req, next);
}

/// A status line carries three digits (RFC 9110, section 15).
bool sendable_status(int status) noexcept { return status >= 100 && status <= 999; }

/// The handler's response, or the error response for what it threw.
task<response> dispatch(const application& app, request& req) {
    std::exception_ptr failure;
    try {
        response r;
        if (app.middlewares().empty()) r = co_await app.router().resolve(req)(req);
        else r = co_await run_middlewares(app, req, 0);
        if (sendable_status(r.status)) co_return r;
        throw std::invalid_argument("http handler answered status " + std::to_string(r.status) +
                                    ", which is not three digits");
    } catch (const http_error& e) {
        if (sendable_status(e.status())) {
            response r = error_response(e.status(), e.text());
            if (e.status() == 405) r.headers.set("Allow", app.router().allowed_methods(req.path()));
            co_return r;
        }
        failure = std::current_exception();
    } catch (const cancelled_error&) {
        throw;
    } catch (...) {
        failure = std::current_exception();
    }
    // As aiohttp: the exception goes to the log, not to the client.
    report("http handler failed", failure);
    co_return error_response(500, "500 Internal Server Error\n\nServer got itself in trouble");
}

std::string peer_address(const stream_writer& writer) {
    const std::any peer = writer.get_extra_info("peername");
    if (const auto* ep = std::any_cast<asio::ip::tcp::endpoint>(&peer)) return ep->address().to_string();
    return {};
}

/// Sends what is left in `out` and closes: the end of a connection that
/// the reaper or a stop already moved to `closing`.
void flush_and_close(stream_writer& writer, const std::string& out) {
    if (!out.empty()) writer.write(out);
    writer.close();
}

/// Sends the error answer at the end of `out`, then closes with a lingering
/// close: half-close (the client reads EOF after the answer), drop what it
/// still sends until it closes or `options`' lingering limits are reached,
/// then close. The phase goes from `from` to `lingering`, whose time the
/// reaper bounds.
task<void> answer_and_linger(connection_record& rec, phase from, const site_options& options, stream_reader& reader,
                             stream_writer& writer, const std::string& out) {
    if (!rec.enter(from, phase::lingering)) {  // reaped or stopping
        flush_and_close(writer, out);
        co_return;
    }
    writer.write(out);
    writer.write_eof();
    std::size_t dropped = 0;
    for (;;) {
        const std::string unread = co_await reader.read(64 * 1024);
        if (unread.empty()) break;  // the client closed: no reset can hit the answer now
        dropped += unread.size();
        if (dropped > options.lingering_max_size) break;
    }
    writer.close();
    co_await writer.wait_closed();
}

/// Leaves the runner's registry when the connection task ends, however.
struct enrollment {
    runner_state& state;
    connection_record* record;
    ~enrollment() {
        if (record) state.leave(record);
    }
};

task<void> serve_requests(std::shared_ptr<runner_state> state, std::size_t site, stream_reader reader,
                          stream_writer writer) {
    enrollment enrolled{*state, state->enroll(site)};
    if (!enrolled.record) co_return;  // the site is stopping
    connection_record& rec = *enrolled.record;
    const site_options options = state->options_of(site);
    const application& app = *state->app;
    message_parser parser(message_parser::kind::request,
                          parser_limits{.max_body = app.client_max_size});
    const std::string remote = peer_address(writer);
    std::string pending;  // read, not yet parsed
    std::size_t parsed = 0;
    std::string out;      // responses not yet written (pipelined requests batch here)
    for (;;) {
        // Collect one request: `idle` until its first byte, `head` until its
        // header fields are parsed, then `body` until it is complete.
        phase receiving = phase::idle;
        while (!parser.complete() && !parser.failed()) {
            if (parsed == pending.size()) {
                if (!out.empty()) {
                    writer.write(out);
                    out.clear();
                    co_await writer.drain();
                }
                pending = co_await reader.read(64 * 1024);
                parsed = 0;
                if (pending.empty()) {  // the peer closed
                    parser.finish();
                    co_return;  // nothing to answer: a request cut short has no one to read the answer
                }
                // The body timeout measures silence, not the upload's length.
                if (receiving == phase::body) rec.touch();
            }
            if (receiving == phase::idle) {
                if (!rec.enter(phase::idle, phase::head)) {  // reaped or stopping
                    // Answers to pipelined requests already handled still go out.
                    flush_and_close(writer, out);
                    co_return;
                }
                receiving = phase::head;
            }
            parsed += parser.feed(std::string_view(pending).substr(parsed));
            if (receiving == phase::head && parser.headers_done() && !parser.complete() && !parser.failed()) {
                // The head is in: from here the body's own timeout applies.
                if (!rec.enter(phase::head, phase::body)) {  // reaped
                    flush_and_close(writer, out);
                    co_return;
                }
                receiving = phase::body;
                // A client that asked to be told before it sends the body
                // (curl does above 1 KiB) gets the go-ahead instead of
                // waiting out its own timer.
                if (iequals(parser.fields().get("Expect"), "100-continue"))
                    writer.write("HTTP/1.1 100 Continue\r\n\r\n");
            }
        }
        if (parser.failed()) {
            serialize(error_response(parser.error_status(), {}), false, false, out);
            co_await answer_and_linger(rec, receiving, options, reader, writer, out);
            co_return;
        }
        if (!rec.enter(receiving, phase::busy)) co_return;
        detail::parsed_message m = parser.take();
        const bool head_request = m.method == "HEAD";
        bool keep_alive = m.keep_alive;
        response r;
        bool refused = false;  // malformed input: closes the connection, as a parser error does
        try {
            request req(request_head{std::move(m.method), std::move(m.target), m.version_minor, std::move(m.fields),
                                     std::move(m.body), m.keep_alive, remote});
            r = co_await dispatch(app, req);
        } catch (const http_error& e) {  // a target the request object refuses
            r = error_response(e.status(), e.text());
            refused = true;
            keep_alive = false;
        }
        if (rec.stop_requested.load()) keep_alive = false;
        serialize(r, head_request, keep_alive, out);
        if (refused) {
            co_await answer_and_linger(rec, phase::busy, options, reader, writer, out);
            co_return;
        }
        if (!keep_alive) {
            flush_and_close(writer, out);
            co_await writer.wait_closed();
            co_return;
        }
        // Back to waiting; a stop that came meanwhile either sees `idle`
        // (and cancels) or is seen here (both stores and loads are seq_cst).
        if (!rec.enter(phase::busy, phase::idle)) co_return;
        if (rec.stop_requested.load()) {
            flush_and_close(writer, out);
            co_return;
        }
    }
}

/// A peer that resets or vanishes ends its connection, nothing more: such
/// errors are routine for a server and are not reported.
task<void> serve_http(std::shared_ptr<runner_state> state, std::size_t site, stream_reader reader,
                      stream_writer writer) {
    try {
        co_await serve_requests(std::move(state), site, std::move(reader), std::move(writer));
    } catch (const std::system_error&) {
    }
}

}  // namespace

/// A connection that arrives after its runner was destroyed.
task<void> refuse(stream_writer writer) {
    writer.close();
    co_return;
}

/// Stops site `i`: no new connections, idle ones cancelled, the others
/// given shutdown_timeout to finish their request, then cancelled.
task<void> stop_site(std::shared_ptr<runner_state> s, std::size_t i) {
    std::optional<corio::server> listener;
    std::chrono::milliseconds grace{};
    {
        std::lock_guard guard(s->mutex);
        listener = s->sites[i].listener;
        grace = s->sites[i].options.shutdown_timeout;
    }
    if (!listener) co_return;  // never started
    listener->close();
    s->request_stop(i);
    bool graceful = true;
    try {
        co_await corio::timeout(grace).run(listener->wait_closed());
    } catch (const timeout_error&) {
        graceful = false;
    }
    if (!graceful) {
        s->cancel_all(i);
        co_await listener->wait_closed();
    }
}

}  // namespace detail

app_runner::app_runner(application& app) : state_(std::make_shared<detail::runner_state>(app)) {}

app_runner::~app_runner() {
    std::lock_guard guard(state_->mutex);
    if (state_->reaper) state_->reaper->cancel();
}

task<void> app_runner::cleanup() {
    std::size_t count = 0;
    {
        std::lock_guard guard(state_->mutex);
        count = state_->sites.size();
    }
    for (std::size_t i = 0; i < count; ++i) co_await detail::stop_site(state_, i);
    std::optional<task_handle<void>> reaper;
    {
        std::lock_guard guard(state_->mutex);
        reaper = std::exchange(state_->reaper, std::nullopt);
    }
    if (reaper) reaper->cancel();
}

tcp_site::tcp_site(app_runner& runner, std::string host, unsigned short port, site_options options)
    : state_(runner.state()), host_(std::move(host)), port_(port), options_(options) {}

task<void> tcp_site::start() {
    if (index_ != static_cast<std::size_t>(-1)) throw std::runtime_error("tcp_site::start: already started");
    {
        std::lock_guard guard(state_->mutex);
        index_ = state_->sites.size();
        state_->sites.push_back(detail::site_entry{options_, std::nullopt, false});
    }
    const std::size_t index = index_;
    std::weak_ptr<detail::runner_state> weak = state_;
    client_connected on_connection = [weak, index](stream_reader reader, stream_writer writer) -> task<void> {
        std::shared_ptr<detail::runner_state> s = weak.lock();
        if (!s) return detail::refuse(std::move(writer));  // the runner is gone
        return detail::serve_http(std::move(s), index, std::move(reader), std::move(writer));
    };
    corio::server listener =
        co_await start_server(std::move(on_connection), host_, port_, server_options{.backlog = options_.backlog, .pin_connections = options_.pin_connections, .ssl = options_.ssl});
    port_ = listener.port();
    std::lock_guard guard(state_->mutex);
    state_->sites[index].listener = listener;
    if (!state_->reaper)
        state_->reaper = create_task(detail::reap_connections(state_), task_options{.name = "http reaper"});
}

task<void> tcp_site::stop() {
    if (index_ == static_cast<std::size_t>(-1)) co_return;
    co_await detail::stop_site(state_, index_);
}

std::string tcp_site::name() const {
    return std::string(options_.ssl ? "https://" : "http://") + host_ + ":" + std::to_string(port_);
}

task<void> serve(application& app, std::string host, unsigned short port, site_options options) {
    app_runner runner(app);
    tcp_site site(runner, std::move(host), port, options);
    co_await site.start();
    event never_set;
    bool cancelled = false;
    try {
        co_await never_set.wait();
    } catch (const cancelled_error&) {
        cancelled = true;
    }
    co_await runner.cleanup();
    if (cancelled) throw cancelled_error();
}


}  // namespace corio::http
