// libFuzzer target for the server's request path: arbitrary bytes through
// the llhttp message parser with aiohttp's limits, then, for each request
// it completes, what serve_http (lib/http/server.cpp) does with it: the
// request object (target, percent-decoding, query string), the router
// (match, 404 / 405 and Allow) and the JSON body. tools/fuzz.sh builds it
// (Clang, -fsanitize=fuzzer,address,undefined) and runs it on
// tests/fuzz/corpus/http_request.
//
// Response serialisation is private to server.cpp and not reached here;
// the real server over a socket would be too slow to fuzz.
//
// Input layout: byte 0 picks the read size the rest arrives in (1..255
// bytes, 0 = all at once), as a socket would cut it, so every split of a
// request line, header or chunk is reached; byte 1 picks the limits
// (aiohttp's, or small ones so that 413 / 431 need only short inputs).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "corio/http/errors.hpp"
#include "corio/http/request.hpp"
#include "corio/http/response.hpp"
#include "corio/http/router.hpp"
#include "corio/task.hpp"
#include "http/parser.hpp"

namespace http = corio::http;

namespace {

/// An invariant the server relies on broke: abort, which libFuzzer reports
/// as a crash and keeps the input for.
void require(bool ok) {
    if (!ok) std::abort();
}

corio::task<http::response> unused_handler(http::request&) { co_return http::response{}; }

/// The routes of a typical application: literals, parameters, a trailing
/// slash, one path with two methods.
const http::router& routes() {
    static const http::router r = [] {
        http::router built;
        built.get("/", unused_handler);
        built.get("/test/", unused_handler);
        built.post("/hello/", unused_handler);
        built.get("/u/{id}", unused_handler);
        built.put("/u/{id}", unused_handler);
        built.get("/u/{id}/posts/{post}", unused_handler);
        built.delete_("/files/{name}", unused_handler);
        return built;
    }();
    return r;
}

/// What serve_http does with one parsed request, minus running the handler.
void handle(http::detail::parsed_message m) {
    http::request_head head{std::move(m.method), std::move(m.target), m.version_minor, std::move(m.fields),
                            std::move(m.body),   m.keep_alive,        "127.0.0.1"};
    try {
        http::request req(std::move(head));
        require(!req.path().empty() && req.path().front() == '/');
        for (const auto& field : req.query()) (void)field;
        (void)req.content_type();
        // request::json's parse, without a loop to run its task on.
        (void)nlohmann::json::parse(req.body(), nullptr, false);
        try {
            (void)routes().resolve(req);
            for (const auto& [name, value] : req.match_info()) require(!name.empty() && !value.empty());
        } catch (const http::http_error& e) {
            // 405 exactly when some route has the path (the server's Allow header).
            const bool known = !routes().allowed_methods(req.path()).empty();
            require((e.status() == 405 && known) || (e.status() == 404 && !known));
        }
    } catch (const http::http_error& e) {
        require(e.status() == 400);  // a target that is not a path
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::size_t step = data[0] == 0 ? size : data[0];
    http::detail::parser_limits limits;  // aiohttp's
    if (data[1] & 1) limits = http::detail::parser_limits{.max_line = 64, .max_field = 64, .max_headers = 4, .max_body = 32};
    std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);

    http::detail::message_parser parser(http::detail::message_parser::kind::request, limits);
    // The server's loop: feed what has arrived; a complete request is
    // handled and the rest fed after it (pipelining); an error ends the connection.
    while (!input.empty()) {
        std::string_view piece = input.substr(0, step);
        while (!piece.empty()) {
            const std::size_t used = parser.feed(piece);
            // Progress, or a stop the server acts on: otherwise serve_http would spin.
            require(used <= piece.size());
            require(used == piece.size() || parser.complete() || parser.failed());
            if (parser.failed()) {
                const int status = parser.error_status();
                require(status == 400 || status == 413 || status == 431);
                return 0;
            }
            piece.remove_prefix(used);
            input.remove_prefix(used);
            if (parser.complete()) {
                http::detail::parsed_message m = parser.take();
                require(m.body.size() <= limits.max_body);
                require(m.fields.size() <= limits.max_headers);
                const bool keep_alive = m.keep_alive;
                handle(std::move(m));
                if (!keep_alive) return 0;  // the server closes after this answer
            }
        }
    }
    parser.finish();  // the peer closed
    require(!parser.complete() || !parser.failed());
    return 0;
}
