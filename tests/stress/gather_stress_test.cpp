// Many gathers at once on more workers than cores, their children moving
// between workers before they finish or fail, some gathers cancelled from
// outside. Each gather must end at the first failure (one of its own
// children's, a child that did throw), return every value otherwise, and
// in every case leave none of its children running when it returns.
#include "corio/gather.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include "corio/corio.hpp"
#include "splitmix.hpp"

namespace {

using corio_test::mix;

constexpr std::size_t gathers = 400;
constexpr std::size_t children_per_gather = 16;

struct tagged_failure : std::runtime_error {
    tagged_failure(std::size_t g, std::size_t c) : std::runtime_error("child failed"), gather(g), child(c) {}
    std::size_t gather, child;
};

struct gather_record {
    std::vector<std::atomic<bool>> threw = std::vector<std::atomic<bool>>(children_per_gather);
    std::vector<std::atomic<bool>> began = std::vector<std::atomic<bool>>(children_per_gather);
    std::vector<std::atomic<bool>> ended = std::vector<std::atomic<bool>>(children_per_gather);
    bool all_ended_on_return = false;
    bool reported_a_thrower = false;  // the exception came from a child of this gather that threw
    bool values_right = false;        // no exception: every value, in order
    bool cancelled = false;
    bool other = false;    // anything else came out
    bool started = false;  // a gather cancelled before its first poll never runs
};

/// Marks its child ended however the coroutine leaves (value, throw, cancellation).
struct end_mark {
    std::atomic<bool>& ended;
    ~end_mark() { ended.store(true, std::memory_order_release); }
};

corio::task<std::size_t> child(gather_record& rec, std::size_t g, std::size_t c) {
    rec.began[c].store(true, std::memory_order_relaxed);  // a child cancelled before its first poll never begins
    end_mark mark{rec.ended[c]};
    const std::uint64_t r = mix(g * 1000 + c);
    const unsigned hops = r % 4;
    for (unsigned i = 0; i < hops; ++i) co_await corio::yield();  // may resume on another worker
    if ((r >> 8) % 64 == 0) {  // about one gather in four has a failing child
        rec.threw[c].store(true, std::memory_order_relaxed);
        throw tagged_failure(g, c);
    }
    co_return c;
}

corio::task<void> run_gather(gather_record& rec, std::size_t g) {
    rec.started = true;
    std::vector<corio::task<std::size_t>> children;
    for (std::size_t c = 0; c < children_per_gather; ++c) children.push_back(child(rec, g, c));
    try {
        const std::vector<std::size_t> values = co_await corio::gather(std::move(children));
        bool right = values.size() == children_per_gather;
        for (std::size_t c = 0; right && c < children_per_gather; ++c) right = values[c] == c;
        rec.values_right = right;
    } catch (const tagged_failure& f) {
        rec.reported_a_thrower = f.gather == g && rec.threw[f.child].load(std::memory_order_relaxed);
    } catch (const corio::cancelled_error&) {
        rec.cancelled = true;
    } catch (...) {
        rec.other = true;
    }
    bool all_ended = true;
    for (std::size_t c = 0; c < children_per_gather; ++c)
        all_ended = all_ended && (rec.ended[c].load(std::memory_order_acquire) || !rec.began[c].load(std::memory_order_acquire));
    rec.all_ended_on_return = all_ended;
}

corio::task<void> run_all(std::vector<gather_record>& records) {
    std::vector<corio::task_handle<void>> handles;
    for (std::size_t g = 0; g < gathers; ++g) handles.push_back(corio::create_task(run_gather(records[g], g)));
    // Cancel every seventh gather once it is (probably) waiting on its children.
    co_await corio::yield();
    for (std::size_t g = 0; g < gathers; g += 7) handles[g].cancel();
    for (auto& h : handles) co_await h.wait_done();
}

}  // namespace

TEST_CASE("gathers on 8 workers end at their own first failure and leave no child running", "[gather][stress]") {
    std::vector<gather_record> records(gathers);
    corio::run(run_all(records), {.workers = 8});
    std::size_t failed = 0, cancelled = 0;
    for (std::size_t g = 0; g < gathers; ++g) {
        const gather_record& rec = records[g];
        INFO("gather " << g);
        if (!rec.started) {  // cancelled before it ran
            REQUIRE(g % 7 == 0);
            ++cancelled;
            continue;
        }
        REQUIRE(rec.all_ended_on_return);
        REQUIRE_FALSE(rec.other);
        bool any_threw = false;
        for (const auto& t : rec.threw) any_threw = any_threw || t.load();
        if (rec.cancelled) {
            ++cancelled;
        } else if (any_threw) {
            REQUIRE(rec.reported_a_thrower);
            ++failed;
        } else {
            REQUIRE(rec.values_right);
        }
    }
    // The mix of outcomes the test is about did happen.
    CHECK(failed > 0);
    CHECK(cancelled > 0);
}
