#include "corio/http/client.hpp"

#include <catch2/catch.hpp>

#include <asio/ssl/context.hpp>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "self_signed_certificate.hpp"

// The client against servers it did not write: raw HTTP spoken by a
// corio::start_server handler (so each case can send exactly the bytes it
// needs: chunks, EOF-delimited bodies, bad framing, stalls), Python's
// aiohttp server, and a TLS server with a certificate made at test time.
// Every case runs under a time bound, so a hang fails instead of stalling.

using namespace std::chrono_literals;
namespace http = corio::http;

namespace {

/// Runs `main` on a 2-worker runtime, failing with timeout_error after 20 s.
template <class T>
T run_bounded(corio::task<T> main) {
    return corio::run(
        [](corio::task<T> t) -> corio::task<T> {
            corio::timeout_scope scope = corio::timeout(20s);
            co_return co_await scope.run(std::move(t));
        }(std::move(main)),
        corio::run_options{.workers = 2});
}

// ---- a raw HTTP server ----------------------------------------------------------------

struct raw_server_state {
    std::atomic<int> connections{0};
    /// After this many requests on one connection, the next one is read and
    /// the connection closed without an answer (0: never): a server that
    /// dropped a keep-alive connection just as the client reused it.
    int requests_per_connection = 0;
};

std::size_t content_length(const std::string& head) {
    std::size_t at = 0;
    for (const char* name : {"\r\nContent-Length: ", "\r\ncontent-length: "})
        if (const std::size_t p = head.find(name); p != std::string::npos) at = p + std::char_traits<char>::length(name);
    if (at == 0) return 0;
    std::size_t n = 0;
    std::from_chars(head.data() + at, head.data() + head.size(), n);
    return n;
}

std::string fixed_response(std::string_view status_line, std::string_view body, std::string_view extra = "") {
    return "HTTP/1.1 " + std::string(status_line) + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
           std::string(extra) + "\r\n" + std::string(body);
}

std::string redirect(std::string_view status_line, std::string_view location) {
    return fixed_response(status_line, "", "Location: " + std::string(location) + "\r\n");
}

/// The body /id/<id> answers with: the id over and over, its length
/// varying with the id.
std::string id_body(std::string_view id) {
    std::string body;
    const std::size_t size = 10 + (std::hash<std::string_view>{}(id) % 5) * 4000;
    while (body.size() < size) body.append(id).push_back(' ');
    return body;
}

/// Answers one request; false when the connection must close after it.
corio::task<bool> answer(const std::string& head, const std::string& body, corio::stream_reader& reader,
                         corio::stream_writer& writer) {
    const std::size_t sp1 = head.find(' ');
    const std::size_t sp2 = head.find(' ', sp1 + 1);
    const std::string method = head.substr(0, sp1);
    const std::string target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string path = target.substr(0, target.find('?'));

    if (path == "/hello") {
        writer.write(fixed_response("200 OK", "hello", "X-Multi: a\r\nx-multi: b\r\n"));
    } else if (path == "/echo") {  // the request as it arrived, for the test to inspect
        writer.write(fixed_response("200 OK", head + body, "Content-Type: text/plain\r\n"));
    } else if (path == "/json") {
        writer.write(fixed_response("200 OK", R"({"n": 1, "s": "x"})", "Content-Type: application/json\r\n"));
    } else if (path == "/status/404") {
        writer.write(fixed_response("404 Not Found", "nope"));
    } else if (path == "/chunked") {
        writer.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        co_await writer.drain();
        co_await corio::sleep(20ms);  // the rest arrives in a later read
        writer.write("6\r\n world\r\n0\r\n\r\n");
    } else if (path == "/close") {  // no length: the body runs to EOF
        writer.write("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end");
        co_return false;
    } else if (path == "/http10") {  // HTTP/1.0 without keep-alive; this server leaves it open anyway
        writer.write("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
    } else if (path == "/head") {
        writer.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n");  // HEAD: the length, no body
    } else if (path == "/interim") {
        writer.write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    } else if (path.starts_with("/redirect/")) {
        const int n = std::stoi(path.substr(10));
        writer.write(n == 0 ? fixed_response("200 OK", "arrived") : redirect("302 Found", "/redirect/" + std::to_string(n - 1)));
    } else if (path == "/absolute") {
        const std::size_t host_at = head.find("\r\nHost: ") + 8;
        writer.write(redirect("301 Moved Permanently", "http://" + head.substr(host_at, head.find("\r\n", host_at) - host_at) + "/hello"));
    } else if (path == "/see-other") {
        writer.write(redirect("303 See Other", "/echo"));
    } else if (path == "/moved") {
        writer.write(redirect("301 Moved Permanently", "/echo"));
    } else if (path == "/temporary") {
        writer.write(redirect("307 Temporary Redirect", "echo?from=307"));  // relative to /
    } else if (path == "/loop") {
        writer.write(redirect("302 Found", "/loop"));
    } else if (path == "/stall") {  // never answers; returns when the client gives up and closes
        co_await reader.read();
        co_return false;
    } else if (path == "/truncated") {
        writer.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        co_return false;
    } else if (path == "/truncated-chunks") {
        writer.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel");
        co_return false;
    } else if (path == "/garbage") {
        writer.write("HELLO THERE\r\n\r\n");
        co_return false;
    } else if (path == "/bad-chunk") {
        writer.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n");
        co_return false;
    } else if (path.starts_with("/id/")) {  // a body that names the request, in two pieces
        const std::string body = id_body(path.substr(4));
        const std::string whole = fixed_response("200 OK", body);
        const std::size_t cut = whole.size() / 2;
        writer.write(std::string_view(whole).substr(0, cut));
        co_await writer.drain();
        co_await corio::sleep(std::chrono::microseconds(body.size() % 300));
        writer.write(std::string_view(whole).substr(cut));
    } else if (path == "/big") {
        writer.write(fixed_response("200 OK", std::string(100'000, 'x')));
    } else if (path == "/drop-after") {  // says keep-alive, then closes
        writer.write(fixed_response("200 OK", "ok"));
        co_return false;
    } else {
        writer.write(fixed_response("404 Not Found", method + " " + target));
    }
    co_return true;
}

corio::task<void> serve_raw(std::shared_ptr<raw_server_state> st, corio::stream_reader reader, corio::stream_writer writer) {
    st->connections.fetch_add(1);
    try {
        for (int served = 0;; ++served) {
            const std::string head = co_await reader.readuntil("\r\n\r\n");  // incomplete_read_error at EOF
            const std::size_t length = content_length(head);
            std::string body;  // (not `length ? co_await ... : std::string()`: GCC 12 frees that temporary twice)
            if (length != 0) body = co_await reader.readexactly(length);
            if (st->requests_per_connection != 0 && served == st->requests_per_connection) break;
            if (!co_await answer(head, body, reader, writer)) break;
            co_await writer.drain();
        }
    } catch (const std::exception&) {  // the client went away
    }
    writer.close();
}

struct raw_server {
    std::shared_ptr<raw_server_state> state = std::make_shared<raw_server_state>();
    std::optional<corio::server> srv;

    corio::task<void> start(corio::server_options options) {
        // Named, not a temporary inside the co_await: GCC 12 destroys such a
        // std::function twice.
        corio::client_connected handler = [st = state](corio::stream_reader r, corio::stream_writer w) {
            return serve_raw(st, std::move(r), std::move(w));
        };
        srv = co_await corio::start_server(std::move(handler), "127.0.0.1", 0, options);
    }
    corio::task<void> start() { return start(corio::server_options{}); }
    corio::task<void> stop() {
        srv->close();
        co_await srv->wait_closed();
    }
    std::string url(std::string_view path) const { return "http://127.0.0.1:" + std::to_string(srv->port()) + std::string(path); }
    int connections() const { return state->connections.load(); }
};

/// Whether `t` fails with E (other exceptions: false; cancellation passes).
template <class E>
corio::task<bool> fails_with(corio::task<http::client_response> t) {
    try {
        co_await std::move(t);
    } catch (const E&) {
        co_return true;
    } catch (const std::exception&) {
        co_return false;
    }
    co_return false;
}

}  // namespace

TEST_CASE("client GET and POST: status, headers, body, json, and what goes on the wire", "[http_client]") {
    struct results {
        int status = 0;
        std::string reason, text, multi, content_type;
        std::size_t multi_count = 0;
        nlohmann::json json;
        std::string echoed_post, echoed_get, echoed_data, base_text, url_with_params;
        bool both_bodies_refused = false, bad_scheme_refused = false, no_host_refused = false;
    };
    const results r = run_bounded([]() -> corio::task<results> {
        results r;
        raw_server server;
        co_await server.start();
        http::client_options so;
        so.headers.add("X-Default", "session");
        so.headers.add("X-Override", "session");
        so.base_url = "http://127.0.0.1:" + std::to_string(server.srv->port());
        http::client_session s(std::move(so));

        auto hello = co_await s.get(server.url("/hello"));
        r.status = hello.status();
        r.reason = hello.reason();
        r.text = co_await hello.text();
        r.multi = std::string(hello.headers().get("x-MULTI"));
        r.multi_count = hello.headers().get_all("X-Multi").size();

        auto j = co_await s.get(server.url("/json"));
        r.json = co_await j.json();
        r.content_type = std::string(j.headers().get("content-type"));

        http::request_options post;
        post.json = nlohmann::json::object();
        (*post.json)["data"] = "hello";
        post.headers.add("X-Override", "request");
        r.echoed_post = co_await (co_await s.post(server.url("/echo"), std::move(post))).text();

        http::request_options get;
        get.params.emplace_back("a", "1");
        get.params.emplace_back("b", "x y&z");
        auto echoed = co_await s.get(server.url("/echo?pre=0"), std::move(get));
        r.echoed_get = co_await echoed.text();
        r.url_with_params = echoed.url();

        http::request_options raw;
        raw.data = std::string("raw\r\nbytes");
        r.echoed_data = co_await (co_await s.put(server.url("/echo"), std::move(raw))).text();

        r.base_text = co_await (co_await s.get("/hello")).text();  // relative: base_url + "/hello"

        http::request_options both;
        both.json = nlohmann::json(1);
        both.data = std::string("x");
        r.both_bodies_refused = co_await fails_with<std::invalid_argument>(s.post(server.url("/echo"), std::move(both)));
        r.bad_scheme_refused = co_await fails_with<std::invalid_argument>(s.get("ftp://127.0.0.1/"));
        r.no_host_refused = co_await fails_with<std::invalid_argument>(s.get("http:///path"));

        co_await s.close();
        co_await server.stop();
        co_return r;
    }());
    CHECK(r.status == 200);
    CHECK(r.reason == "OK");
    CHECK(r.text == "hello");
    CHECK(r.multi == "a");
    CHECK(r.multi_count == 2);
    CHECK(r.json["n"] == 1);
    CHECK(r.json["s"] == "x");
    CHECK(r.content_type == "application/json");

    INFO(r.echoed_post);
    CHECK(r.echoed_post.starts_with("POST /echo HTTP/1.1\r\n"));
    CHECK(r.echoed_post.find("\r\nHost: 127.0.0.1:") != std::string::npos);
    CHECK(r.echoed_post.find("\r\nUser-Agent: corio\r\n") != std::string::npos);
    CHECK(r.echoed_post.find("\r\nContent-Type: application/json\r\n") != std::string::npos);
    CHECK(r.echoed_post.find("\r\nContent-Length: 16\r\n") != std::string::npos);
    CHECK(r.echoed_post.find("\r\nX-Default: session\r\n") != std::string::npos);
    CHECK(r.echoed_post.find("\r\nX-Override: request\r\n") != std::string::npos);
    CHECK(r.echoed_post.find("X-Override: session") == std::string::npos);
    CHECK(r.echoed_post.find("Accept-Encoding") == std::string::npos);
    CHECK(r.echoed_post.ends_with("\r\n\r\n{\"data\":\"hello\"}"));

    INFO(r.echoed_get);
    CHECK(r.echoed_get.starts_with("GET /echo?pre=0&a=1&b=x%20y%26z HTTP/1.1\r\n"));
    CHECK(r.echoed_get.find("Content-Length") == std::string::npos);
    CHECK(r.url_with_params.ends_with("/echo?pre=0&a=1&b=x%20y%26z"));

    INFO(r.echoed_data);
    CHECK(r.echoed_data.starts_with("PUT /echo HTTP/1.1\r\n"));
    CHECK(r.echoed_data.find("\r\nContent-Type: application/octet-stream\r\n") != std::string::npos);
    CHECK(r.echoed_data.ends_with("\r\n\r\nraw\r\nbytes"));

    CHECK(r.base_text == "hello");
    CHECK(r.both_bodies_refused);
    CHECK(r.bad_scheme_refused);
    CHECK(r.no_host_refused);
}

TEST_CASE("client reads chunked, EOF-delimited, HTTP/1.0, HEAD and 1xx-preceded responses, pooling only reusable connections",
          "[http_client]") {
    struct results {
        std::string chunked, to_eof, http10, interim;
        std::string head_body, head_length, after_head;
        int connections_after_two_hellos = 0, connections_after_close = 0, connections_after_http10 = 0,
            connections_at_end = 0;
    };
    const results r = run_bounded([]() -> corio::task<results> {
        results r;
        raw_server server;
        co_await server.start();
        http::client_session s;
        co_await (co_await s.get(server.url("/hello"))).text();
        co_await (co_await s.get(server.url("/hello"))).text();
        r.connections_after_two_hellos = server.connections();  // 1: reused

        r.chunked = co_await (co_await s.get(server.url("/chunked"))).text();
        r.to_eof = co_await (co_await s.get(server.url("/close"))).text();  // on the pooled one; then it closes
        co_await (co_await s.get(server.url("/hello"))).text();
        r.connections_after_close = server.connections();  // 2: /close's connection was not pooled

        r.http10 = co_await (co_await s.get(server.url("/http10"))).text();  // on connection 2, not pooled after
        co_await (co_await s.get(server.url("/hello"))).text();
        r.connections_after_http10 = server.connections();  // 3

        auto head = co_await s.head(server.url("/head"));
        r.head_body = co_await head.read();
        r.head_length = std::string(head.headers().get("Content-Length"));
        r.after_head = co_await (co_await s.get(server.url("/hello"))).text();  // the same connection, in step
        r.interim = co_await (co_await s.get(server.url("/interim"))).text();
        r.connections_at_end = server.connections();  // still 3
        co_await s.close();
        co_await server.stop();
        co_return r;
    }());
    CHECK(r.connections_after_two_hellos == 1);
    CHECK(r.chunked == "hello world");
    CHECK(r.to_eof == "until the end");
    CHECK(r.connections_after_close == 2);
    CHECK(r.http10 == "ok");
    CHECK(r.connections_after_http10 == 3);
    CHECK(r.head_body.empty());
    CHECK(r.head_length == "100");
    CHECK(r.after_head == "hello");
    CHECK(r.interim == "ok");
    CHECK(r.connections_at_end == 3);
}

TEST_CASE("one session shared by tasks on several workers reuses its connections", "[http_client]") {
    constexpr int tasks = 16, requests_each = 10;
    struct results {
        int ok = 0, connections = 0;
    };
    const results r = run_bounded([]() -> corio::task<results> {
        raw_server server;
        co_await server.start();
        http::client_session s;
        std::vector<corio::task<int>> work;
        for (int i = 0; i < tasks; ++i) {
            work.push_back([](http::client_session& s, std::string url) -> corio::task<int> {
                int ok = 0;
                for (int k = 0; k < requests_each; ++k) {
                    auto resp = co_await s.get(url);
                    if (resp.status() == 200 && co_await resp.text() == "hello") ++ok;
                    co_await corio::sleep(1ms);  // let other tasks take turns on other workers
                }
                co_return ok;
            }(s, server.url("/hello")));
        }
        const std::vector<int> counts = co_await corio::gather(std::move(work));
        results r;
        for (const int c : counts) r.ok += c;
        r.connections = server.connections();
        co_await s.close();
        co_await server.stop();
        co_return r;
    }());
    CHECK(r.ok == tasks * requests_each);
    CHECK(r.connections >= 1);
    CHECK(r.connections <= tasks);  // never one per request
}

TEST_CASE("requests cut by timeouts over and over never leave a pooled connection mid-answer", "[http_client][cancel][stress]") {
    // asyncio's wait_for(session.get(...), t) from tasks sharing a session on
    // 4 workers: a timeout can land while the request is written, while the
    // head or half the body is read, or as the connection goes back to the
    // pool. Whatever it cuts must be closed, never pooled: a request on a
    // connection left mid-answer would read the rest of someone else's.
    constexpr int tasks = 16, requests_each = 150;
    struct results {
        int answered = 0, timed_out = 0, wrong = 0, final_ok = 0;
    };
    const results r = corio::run(
        []() -> corio::task<results> {
            raw_server server;
            co_await server.start();
            http::client_session s;
            std::vector<corio::task<results>> work;
            for (int i = 0; i < tasks; ++i) {
                work.push_back([](http::client_session& s, const raw_server& server, int i) -> corio::task<results> {
                    results r;
                    for (int k = 0; k <= requests_each; ++k) {
                        const std::string id = std::to_string(i * 1000 + k);
                        // Limits from 20 us to 164 ms, so that however fast the
                        // build, some cut each stage and some let the answer
                        // through. The last request has none to speak of: the
                        // session must still serve.
                        const bool last = k == requests_each;
                        const auto limit = last ? std::chrono::microseconds(10s)
                                                : std::chrono::microseconds(20 << ((i + k) % 14));
                        try {
                            const std::string body = co_await corio::timeout(limit).run(
                                [](http::client_session& s, std::string url) -> corio::task<std::string> {
                                    auto resp = co_await s.get(url);
                                    co_return co_await resp.text();
                                }(s, server.url("/id/" + id)));
                            if (body != id_body(id)) ++r.wrong;
                            else if (last) ++r.final_ok;
                            else ++r.answered;
                        } catch (const corio::timeout_error&) {
                            ++r.timed_out;
                        }
                    }
                    co_return r;
                }(s, server, i));
            }
            results all;
            for (const results& r : co_await corio::gather(std::move(work))) {
                all.answered += r.answered;
                all.timed_out += r.timed_out;
                all.wrong += r.wrong;
                all.final_ok += r.final_ok;
            }
            co_await s.close();
            co_await server.stop();
            co_return all;
        }(),
        corio::run_options{.workers = 4});
    INFO("answered " << r.answered << ", timed out " << r.timed_out);
    CHECK(r.wrong == 0);
    CHECK(r.final_ok == tasks);
    CHECK(r.answered > 0);
    CHECK(r.timed_out > 0);
    CHECK(r.answered + r.timed_out == tasks * requests_each);
}

TEST_CASE("client follows redirects as aiohttp does, up to max_redirects", "[http_client]") {
    struct results {
        std::string chain_text, chain_url, absolute_text, see_other, moved, temporary;
        int not_followed_status = 0;
        std::string not_followed_location;
        bool loop_refused = false, over_max_refused = false;
        int loop_status = 0;
    };
    const results r = run_bounded([]() -> corio::task<results> {
        results r;
        raw_server server;
        co_await server.start();
        http::client_session s;

        auto chain = co_await s.get(server.url("/redirect/3"));
        r.chain_text = co_await chain.text();
        r.chain_url = chain.url();
        r.absolute_text = co_await (co_await s.get(server.url("/absolute"))).text();

        http::request_options p1;
        p1.data = std::string("payload");
        r.see_other = co_await (co_await s.post(server.url("/see-other"), std::move(p1))).text();
        http::request_options p2;
        p2.data = std::string("payload");
        r.moved = co_await (co_await s.post(server.url("/moved"), std::move(p2))).text();
        http::request_options p3;
        p3.data = std::string("payload");
        r.temporary = co_await (co_await s.post(server.url("/temporary"), std::move(p3))).text();

        http::request_options no_follow;
        no_follow.allow_redirects = false;
        auto first = co_await s.get(server.url("/redirect/1"), std::move(no_follow));
        r.not_followed_status = first.status();
        r.not_followed_location = std::string(first.headers().get("location"));

        try {
            co_await s.get(server.url("/loop"));
        } catch (const http::client_response_error& e) {
            r.loop_refused = true;
            r.loop_status = e.status();
        }
        http::request_options two;
        two.max_redirects = 2;
        r.over_max_refused = co_await fails_with<http::client_response_error>(s.get(server.url("/redirect/3"), std::move(two)));
        co_await s.close();
        co_await server.stop();
        co_return r;
    }());
    CHECK(r.chain_text == "arrived");
    CHECK(r.chain_url.ends_with("/redirect/0"));
    CHECK(r.absolute_text == "hello");
    INFO(r.see_other);
    CHECK(r.see_other.starts_with("GET /echo HTTP/1.1\r\n"));  // 303: GET, body dropped
    CHECK(r.see_other.find("payload") == std::string::npos);
    CHECK(r.see_other.find("Content-Type") == std::string::npos);
    CHECK(r.moved.starts_with("GET /echo HTTP/1.1\r\n"));  // 301 after POST: GET
    INFO(r.temporary);
    CHECK(r.temporary.starts_with("POST /echo?from=307 HTTP/1.1\r\n"));  // 307 keeps method and body
    CHECK(r.temporary.ends_with("\r\n\r\npayload"));
    CHECK(r.not_followed_status == 302);
    CHECK(r.not_followed_location == "/redirect/0");
    CHECK(r.loop_refused);
    CHECK(r.loop_status == 302);
    CHECK(r.over_max_refused);
}

TEST_CASE("raise_for_status throws client_response_error for 4xx and 5xx", "[http_client]") {
    struct results {
        bool ok_flag = true, thrown = false, fine_did_not_throw = false;
        int status = 0;
        std::string reason, url;
    };
    const results r = run_bounded([]() -> corio::task<results> {
        results r;
        raw_server server;
        co_await server.start();
        http::client_session s;
        auto missing = co_await s.get(server.url("/status/404"));
        r.ok_flag = missing.ok();
        try {
            missing.raise_for_status();
        } catch (const http::client_response_error& e) {
            r.thrown = true;
            r.status = e.status();
            r.reason = e.reason();
            r.url = e.url();
        }
        auto fine = co_await s.get(server.url("/hello"));
        fine.raise_for_status();
        r.fine_did_not_throw = true;
        co_await s.close();
        co_await server.stop();
        co_return r;
    }());
    CHECK_FALSE(r.ok_flag);
    CHECK(r.thrown);
    CHECK(r.status == 404);
    CHECK(r.reason == "Not Found");
    CHECK(r.url.ends_with("/status/404"));
    CHECK(r.fine_did_not_throw);
}

namespace {
constexpr const char* bad_responses[] = {"/truncated", "/truncated-chunks", "/garbage", "/bad-chunk"};
}  // namespace

TEST_CASE("malformed, truncated and oversized responses give client_payload_error, and the session goes on",
          "[http_client]") {
    struct results {
        std::vector<std::string> failed_as_payload_error;
        bool big_refused = false;
        std::string after;
    };
    const results r = run_bounded([]() -> corio::task<results> {
        results r;
        raw_server server;
        co_await server.start();
        http::client_options small;
        small.max_body = 1000;
        http::client_session s(std::move(small));
        for (const char* path : bad_responses)
            if (co_await fails_with<http::client_payload_error>(s.get(server.url(path)))) r.failed_as_payload_error.emplace_back(path);
        r.big_refused = co_await fails_with<http::client_payload_error>(s.get(server.url("/big")));
        r.after = co_await (co_await s.get(server.url("/hello"))).text();
        co_await s.close();
        co_await server.stop();
        co_return r;
    }());
    const std::vector<std::string> expected(std::begin(bad_responses), std::end(bad_responses));
    CHECK(r.failed_as_payload_error == expected);
    CHECK(r.big_refused);
    CHECK(r.after == "hello");
}

TEST_CASE("total and connect timeouts raise timeout_error in time", "[http_client]") {
    struct results {
        bool request_timed_out = false, session_timed_out = false, connect_timed_out = false;
        corio::clock::duration request_took{}, session_took{}, connect_took{};
        std::string after;
    };
    const results r = run_bounded([]() -> corio::task<results> {
        results r;
        raw_server server;
        co_await server.start();
        {
            http::client_session s;
            http::request_options o;
            o.timeout = 200ms;
            auto start = corio::clock::now();
            r.request_timed_out = co_await fails_with<corio::timeout_error>(s.get(server.url("/stall"), std::move(o)));
            r.request_took = corio::clock::now() - start;
            r.after = co_await (co_await s.get(server.url("/hello"))).text();
            co_await s.close();
        }
        {
            http::client_options so;
            so.total_timeout = 200ms;
            http::client_session s(std::move(so));
            auto start = corio::clock::now();
            r.session_timed_out = co_await fails_with<corio::timeout_error>(s.get(server.url("/stall")));
            r.session_took = corio::clock::now() - start;
            co_await s.close();
        }
        {
            // https to a plain server that never answers: the TLS handshake
            // is part of connecting, so the connect timeout ends it.
            http::client_options so;
            so.connect_timeout = 200ms;
            http::client_session s(std::move(so));
            const std::string url = "https://127.0.0.1:" + std::to_string(server.srv->port()) + "/";
            auto start = corio::clock::now();
            r.connect_timed_out = co_await fails_with<corio::timeout_error>(s.get(url));
            r.connect_took = corio::clock::now() - start;
            co_await s.close();
        }
        co_await server.stop();
        co_return r;
    }());
    CHECK(r.request_timed_out);
    CHECK(r.request_took >= 190ms);
    CHECK(r.request_took < 3s);
    CHECK(r.after == "hello");
    CHECK(r.session_timed_out);
    CHECK(r.session_took < 3s);
    CHECK(r.connect_timed_out);
    CHECK(r.connect_took < 3s);
}

TEST_CASE("a pooled connection the server dropped is replaced; idempotent requests are retried once", "[http_client]") {
    struct results {
        std::string first, second;
        int connections_after_drop = 0;
        std::string get1, get2, get3;
        int connections_retry = 0;
        bool post_on_dropped_fails = false;
    };
    const results r = run_bounded([]() -> corio::task<results> {
        results r;
        {
            // The server says keep-alive, then closes while the connection idles.
            raw_server server;
            co_await server.start();
            http::client_session s;
            r.first = co_await (co_await s.get(server.url("/drop-after"))).text();
            co_await corio::sleep(50ms);  // the FIN arrives
            r.second = co_await (co_await s.get(server.url("/hello"))).text();
            r.connections_after_drop = server.connections();
            co_await s.close();
            co_await server.stop();
        }
        {
            // The server takes the next request on a pooled connection and
            // closes without answering: no response byte came, so a GET is
            // sent again on a fresh connection; a POST is not.
            raw_server server;
            server.state->requests_per_connection = 1;
            co_await server.start();
            http::client_session s;
            r.get1 = co_await (co_await s.get(server.url("/hello"))).text();
            r.get2 = co_await (co_await s.get(server.url("/hello"))).text();
            r.get3 = co_await (co_await s.get(server.url("/hello"))).text();
            r.connections_retry = server.connections();
            r.post_on_dropped_fails = co_await fails_with<http::client_payload_error>(s.post(server.url("/hello")));
            co_await s.close();
            co_await server.stop();
        }
        co_return r;
    }());
    CHECK(r.first == "ok");
    CHECK(r.second == "hello");
    CHECK(r.connections_after_drop == 2);
    CHECK(r.get1 == "hello");
    CHECK(r.get2 == "hello");
    CHECK(r.get3 == "hello");
    CHECK(r.connections_retry == 3);
    CHECK(r.post_on_dropped_fails);
}

TEST_CASE("close() ends the session: later requests throw std::runtime_error", "[http_client]") {
    struct results {
        bool closed_before = true, closed_after = false, refused = false;
    };
    const results r = run_bounded([]() -> corio::task<results> {
        results r;
        raw_server server;
        co_await server.start();
        http::client_session s;
        co_await (co_await s.get(server.url("/hello"))).text();
        r.closed_before = s.closed();
        co_await s.close();
        r.closed_after = s.closed();
        r.refused = co_await fails_with<std::runtime_error>(s.get(server.url("/hello")));
        co_await server.stop();  // returns: the pooled connection was closed
        co_return r;
    }());
    CHECK_FALSE(r.closed_before);
    CHECK(r.closed_after);
    CHECK(r.refused);
}

// ---- against Python's aiohttp server ---------------------------------------------------

namespace {

/// The seed tutorials' server, in aiohttp: prints its port, serves until stdin closes.
constexpr const char* aiohttp_server = R"PY(
import asyncio, sys
from aiohttp import web

async def test(request):
    return web.json_response({"data": "hello", "query": dict(request.query), "ua": request.headers.get("User-Agent")})

async def hello(request):
    body = await request.json()
    return web.json_response({"echo": body, "method": request.method, "type": request.content_type})

async def main():
    app = web.Application()
    app.router.add_get("/test/", test)
    app.router.add_post("/hello/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()

asyncio.run(main())
)PY";

}  // namespace

TEST_CASE("client against Python's aiohttp server: GET with params, POST json from two sessions", "[http_client]") {
    REQUIRE(std::system("/usr/bin/python3 -c 'import aiohttp' 2>/dev/null") == 0);  // tools/setup.sh installs python3-aiohttp
    struct results {
        int get_status = 0;
        nlohmann::json get_json, post_a, post_b;
        int exit_code = -1;
    };
    const results r = run_bounded([]() -> corio::task<results> {
        results r;
        std::vector<std::string> argv;
        argv.emplace_back("/usr/bin/python3");
        argv.emplace_back("-c");
        argv.emplace_back(aiohttp_server);
        corio::subprocess_options po;
        po.stdin_ = corio::pipe;
        po.stdout_ = corio::pipe;
        corio::process py = co_await corio::create_subprocess_exec(std::move(argv), po);
        try {
            const std::string port_line = co_await py.stdout_()->readline();
            const std::string base = "http://127.0.0.1:" + port_line.substr(0, port_line.find('\n'));
            http::client_options so;
            so.base_url = base;
            http::client_session s(std::move(so));

            http::request_options q;
            q.params.emplace_back("key", "value with spaces");
            q.params.emplace_back("n", "7");
            auto got = co_await s.get("/test/", std::move(q));
            r.get_status = got.status();
            r.get_json = co_await got.json();

            // The seed's init(num): two sessions POSTing at once.
            auto post = [](std::string base, std::string word) -> corio::task<nlohmann::json> {
                http::client_options o;
                o.base_url = std::move(base);
                http::client_session session(std::move(o));
                http::request_options body;
                body.json = nlohmann::json::object();
                (*body.json)["data"] = word;
                auto resp = co_await session.post("/hello/", std::move(body));
                resp.raise_for_status();
                nlohmann::json j = co_await resp.json();
                co_await session.close();
                co_return j;
            };
            auto [a, b] = co_await corio::gather(post(base, "hello"), post(base, "world"));
            r.post_a = std::move(a);
            r.post_b = std::move(b);
            co_await s.close();
        } catch (const std::exception&) {
            py.kill();
            throw;
        }
        py.stdin_()->close();
        r.exit_code = co_await py.wait();
        co_return r;
    }());
    CHECK(r.get_status == 200);
    CHECK(r.get_json["data"] == "hello");
    CHECK(r.get_json["query"]["key"] == "value with spaces");
    CHECK(r.get_json["query"]["n"] == "7");
    CHECK(r.get_json["ua"] == "corio");
    CHECK(r.post_a["echo"]["data"] == "hello");
    CHECK(r.post_a["method"] == "POST");
    CHECK(r.post_a["type"] == "application/json");
    CHECK(r.post_b["echo"]["data"] == "world");
    CHECK(r.exit_code == 0);
}

// ---- TLS --------------------------------------------------------------------------------

TEST_CASE("https through TLS streams: verified, pooled, and refused by the system CAs", "[http_client][tls]") {
    const corio_test::self_signed_certificate certificate;
    auto server_ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    server_ctx->use_certificate_chain_file(certificate.cert);
    server_ctx->use_private_key_file(certificate.key, asio::ssl::context::pem);
    auto client_ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    client_ctx->set_verify_mode(asio::ssl::verify_peer);
    client_ctx->load_verify_file(certificate.cert);

    struct results {
        std::string first, chunked;
        nlohmann::json json;
        int connections = 0;
        bool untrusted_refused = false;
    };
    const results r = run_bounded([&]() -> corio::task<results> {
        results r;
        corio::get_running_loop().set_exception_handler([](corio::event_loop&, const corio::exception_context&) {});
        raw_server server;
        corio::server_options tls;
        tls.ssl = server_ctx.get();
        co_await server.start(tls);
        const std::string base = "https://localhost:" + std::to_string(server.srv->port());
        {
            http::client_options so;
            so.ssl = client_ctx.get();
            http::client_session s(std::move(so));
            r.first = co_await (co_await s.get(base + "/hello")).text();
            r.chunked = co_await (co_await s.get(base + "/chunked")).text();
            r.json = co_await (co_await s.get(base + "/json")).json();
            r.connections = server.connections();
            co_await s.close();
        }
        {
            http::client_session s;  // the system's CAs do not know this certificate
            r.untrusted_refused = co_await fails_with<std::system_error>(s.get(base + "/hello"));
            co_await s.close();
        }
        co_await server.stop();
        co_return r;
    }());
    CHECK(r.first == "hello");
    CHECK(r.chunked == "hello world");
    CHECK(r.json["n"] == 1);
    CHECK(r.connections == 1);
    CHECK(r.untrusted_refused);
}
