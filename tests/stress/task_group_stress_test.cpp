// Many task groups at once on more workers than cores: children fail at
// random (at once, after migrating, or in their cancellation cleanup), add
// siblings, and finish on any worker. Every group must report exactly the
// children of its own that threw: none lost, none twice, none from another
// group.
#include "corio/task_group.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include "corio/corio.hpp"
#include "splitmix.hpp"

namespace {

struct tagged_failure : std::runtime_error {
    tagged_failure(std::size_t g, std::size_t c) : std::runtime_error("child failed"), group(g), child(c) {}
    std::size_t group, child;
};

using corio_test::mix;

constexpr std::size_t children_per_group = 12;  // plus up to as many grandchildren

struct group_record {
    std::vector<std::atomic<bool>> threw = std::vector<std::atomic<bool>>(2 * children_per_group);
    std::vector<std::size_t> reported;  // child ids in the exception_group
    bool foreign = false;               // an exception from another group, or not a tagged_failure
    bool joined_cleanly = false;        // join() returned without throwing
};

corio::task<void> child(corio::task_group& tg, group_record& rec, std::size_t g, std::size_t c) {
    const std::uint64_t r = mix(g * 1000 + c);
    const unsigned hops = r % 4;
    const unsigned kind = (r >> 8) % 16;  // 0-1: fail, 2: fail in cleanup, 3: add a sibling, else succeed
    // Refused once the group shuts down: that error is the group's own
    // interruption, not one of its failures.
    if (kind == 3 && c < children_per_group) tg.create_task(child(tg, rec, g, c + children_per_group));
    try {
        for (unsigned i = 0; i < hops; ++i) co_await corio::yield();  // may resume on another worker
    } catch (const corio::cancelled_error&) {
        if (kind != 2) throw;
        rec.threw[c].store(true, std::memory_order_relaxed);
        throw tagged_failure(g, c);
    }
    if (kind <= 1) {
        rec.threw[c].store(true, std::memory_order_relaxed);
        throw tagged_failure(g, c);
    }
}

corio::task<void> run_groups(std::vector<group_record>& records, std::size_t first, std::size_t count) {
    for (std::size_t g = first; g < first + count; ++g) {
        group_record& rec = records[g];
        corio::task_group tg;
        try {
            // run(), not create_task + join(): a child may fail on another
            // worker before the loop has created its siblings.
            co_await tg.run([](corio::task_group& tg, group_record& rec, std::size_t g) -> corio::task<void> {
                for (std::size_t c = 0; c < children_per_group; ++c) tg.create_task(child(tg, rec, g, c));
                co_return;
            }(tg, rec, g));
            rec.joined_cleanly = true;
        } catch (const corio::exception_group& e) {
            for (const auto& p : e.exceptions()) {
                try {
                    std::rethrow_exception(p);
                } catch (const tagged_failure& f) {
                    if (f.group != g) rec.foreign = true;
                    rec.reported.push_back(f.child);
                } catch (...) {
                    rec.foreign = true;
                }
            }
        }
    }
}

}  // namespace

TEST_CASE("every task group reports exactly its own children's failures on 8 workers", "[task_group][stress]") {
    const std::size_t parents = 32;
    const std::size_t groups_per_parent = 1000;
    std::vector<group_record> records(parents * groups_per_parent);
    corio::run(
        [](std::vector<group_record>& records, std::size_t parents, std::size_t per) -> corio::task<void> {
            std::vector<corio::task_handle<void>> hs;
            for (std::size_t p = 0; p < parents; ++p) hs.push_back(corio::create_task(run_groups(records, p * per, per)));
            for (auto& h : hs) co_await h;
        }(records, parents, groups_per_parent),
        corio::run_options{.workers = 8});

    std::size_t mismatched = 0, with_failures = 0;
    for (auto& rec : records) {
        std::vector<std::size_t> expected;
        for (std::size_t c = 0; c < rec.threw.size(); ++c)
            if (rec.threw[c].load()) expected.push_back(c);
        std::vector<std::size_t> got = rec.reported;
        std::sort(got.begin(), got.end());
        const bool ok = !rec.foreign && got == expected && rec.joined_cleanly == expected.empty();
        if (!ok) ++mismatched;
        if (!expected.empty()) ++with_failures;
    }
    REQUIRE(mismatched == 0);
    REQUIRE(with_failures > 0);
    REQUIRE(with_failures < records.size());  // both paths exercised
}
