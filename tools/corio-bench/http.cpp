// http: corio's HTTP server on 127.0.0.1 answering keep-alive `GET /` with
// "hello", run in-process; the load is `wrk -t1 -c64 -d5s` (WORKLOADS.md),
// run as a child process. CORIO_BENCH_HTTP_SECS overrides the 5 s. Metric
// req_per_s, as wrk prints it; any socket error or non-2xx answer fails
// the workload.
#include <cstdlib>
#include <string>

#include "child_process.hpp"
#include "corio/http/server.hpp"
#include "workloads.hpp"

namespace corio_bench {

namespace http = corio::http;

bool wrk_available() { return run_child({"sh", "-c", "command -v wrk"}).ok; }

double http_hello(corio::runtime& rt) {
    http::application app;
    app.router().get("/", [](http::request&) -> corio::task<http::response> {
        http::response r;
        r.text = "hello";
        co_return r;
    });
    http::app_runner runner(app);
    http::tcp_site site(runner, "127.0.0.1", 0);
    rt.run_until_complete(site.start());
    const std::string secs = env_or("CORIO_BENCH_HTTP_SECS", "5");
    const child_result r =
        run_child({"wrk", "-t1", "-c64", "-d" + secs + "s", "http://127.0.0.1:" + std::to_string(site.port()) + "/"});
    rt.run_until_complete(runner.cleanup());
    check(r.ok, "wrk failed: " + r.out);
    check(r.out.find("Socket errors") == std::string::npos && r.out.find("Non-2xx") == std::string::npos,
          "wrk saw errors: " + r.out);
    const std::size_t at = r.out.find("Requests/sec:");
    check(at != std::string::npos, "wrk printed no Requests/sec: " + r.out);
    return std::strtod(r.out.c_str() + at + 13, nullptr);
}

}  // namespace corio_bench
