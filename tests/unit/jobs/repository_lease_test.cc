// SPDX-License-Identifier: Apache-2.0
// Leases over a real local store: a backup finds a live drop lease from the listing alone (one
// request, no object read, whatever the lease's body holds), and passes over backup leases and
// lapsed drop leases; live_leases still reads each lease's label for DROP SNAPSHOT's messages;
// a refresh keeps its holder's clock and says when the lease went a whole timeout unwritten.
#include "io/ops.hh"
#include "io/when_all.hh"
#include "jobs/live_job.hh"
#include "jobs/repository_lease.hh"
#include "support/co_test.hh"
#include "support/local_store_proxy.hh"

#include <filesystem>

namespace jobs = tv::jobs;
namespace remote = tv::remote;
using tv::testing::temp_dir;

namespace {

const std::string root = "__tabletvault_repository_r";

/// Counts the requests that reach the store.
struct counting_store final : tv::testing::local_store_proxy {
    explicit counting_store(std::string dir) : local_store_proxy(std::move(dir), "") {}

    tv::io::task<remote::remote_result<std::string>> get(std::string key, std::optional<remote::byte_range> range,
                                                         remote::call_options call) override {
        ++gets;
        co_return co_await inner.get(std::move(key), range, std::move(call));
    }
    tv::io::task<remote::remote_result<std::vector<remote::object_info>>> list(std::string prefix,
                                                                               remote::call_options call) override {
        ++lists;
        co_return co_await inner.list(std::move(prefix), std::move(call));
    }

    int gets = 0;
    int lists = 0;
};

tv::io::task<void> put_raw(remote::object_store& store, std::string key, std::string body) {
    auto put = co_await store.put(key, std::as_bytes(std::span(body)));
    EXPECT_TRUE(put.has_value());
}

}  // namespace

CO_TEST(repository_lease, a_drop_lease_is_found_by_its_name_in_one_listing) {
    temp_dir dir;
    counting_store store(dir.path());
    const int64_t timeout_ms = 60000;
    std::string backup = jobs::lease_key(root, jobs::lease_kind::backup, "c1", "10001");
    auto none = co_await jobs::live_drop_lease(store, root, backup, jobs::unix_now_ms(), timeout_ms);
    CO_ASSERT_OK(none);
    EXPECT_FALSE(none->has_value());

    CO_ASSERT_OK(co_await jobs::write_lease(store, backup, jobs::lease_kind::backup, "l1", jobs::unix_now_ms()));
    auto only_backup = co_await jobs::live_drop_lease(store, root, backup, jobs::unix_now_ms(), timeout_ms);
    CO_ASSERT_OK(only_backup);
    EXPECT_FALSE(only_backup->has_value()) << **only_backup;

    // A drop lease another version wrote, with a body this one cannot read: its name decides.
    std::string drop = jobs::lease_key(root, jobs::lease_kind::drop, "c2", "9");
    co_await put_raw(store, drop, "not json");
    store.gets = 0;
    store.lists = 0;
    auto found = co_await jobs::live_drop_lease(store, root, backup, jobs::unix_now_ms(), timeout_ms);
    CO_ASSERT_OK(found);
    CO_ASSERT_TRUE(found->has_value());
    EXPECT_EQ(**found, drop);
    EXPECT_EQ(store.lists, 1);
    EXPECT_EQ(store.gets, 0);

    // This server's clock far ahead of the store's: ages are the store's, measured from our own
    // lease, and the drop lease, written after it, is live.
    auto skewed = co_await jobs::live_drop_lease(store, root, backup, jobs::unix_now_ms() + 2 * timeout_ms, timeout_ms);
    CO_ASSERT_OK(skewed);
    CO_ASSERT_TRUE(skewed->has_value());
    EXPECT_EQ(**skewed, drop);

    // Lapsed by the store's clock: last written more than the timeout before our own lease.
    std::filesystem::path drop_file = std::filesystem::path(dir.path()) / drop;
    std::filesystem::last_write_time(drop_file, std::filesystem::last_write_time(drop_file) -
                                                    std::chrono::milliseconds(2 * timeout_ms));
    auto lapsed = co_await jobs::live_drop_lease(store, root, backup, jobs::unix_now_ms(), timeout_ms);
    CO_ASSERT_OK(lapsed);
    EXPECT_FALSE(lapsed->has_value());

    // Another repository's leases are not this one's.
    auto elsewhere = co_await jobs::live_drop_lease(store, root + "x", backup, jobs::unix_now_ms(), timeout_ms);
    CO_ASSERT_OK(elsewhere);
    EXPECT_FALSE(elsewhere->has_value());
}

TEST(repository_lease, the_store_clock_is_the_callers_own_lease_as_listed) {
    std::vector<remote::object_info> listed(2);
    listed[0].key = "__tabletvault_repository_r/__lock/drop-c2-9";
    listed[0].modified_ms = 1'000;
    listed[1].key = "__tabletvault_repository_r/__lock/backup-c1-7";
    listed[1].modified_ms = 5'000;
    EXPECT_EQ(jobs::store_now_ms(listed, listed[1].key, 99'999), 5'000);
    EXPECT_EQ(jobs::store_now_ms(listed, "__tabletvault_repository_r/__lock/backup-c1-8", 99'999), 99'999);
}

CO_TEST(repository_lease, live_leases_read_each_label) {
    temp_dir dir;
    counting_store store(dir.path());
    std::string backup = jobs::lease_key(root, jobs::lease_kind::backup, "c1", "10001");
    CO_ASSERT_OK(co_await jobs::write_lease(store, backup, jobs::lease_kind::backup, "l1", 1234));
    std::string drop = jobs::lease_key(root, jobs::lease_kind::drop, "c1", "7");
    CO_ASSERT_OK(co_await jobs::write_lease(store, drop, jobs::lease_kind::drop, "", 1000));
    auto leases = co_await jobs::live_leases(store, root, jobs::unix_now_ms(), 60000);
    CO_ASSERT_OK(leases);
    CO_ASSERT_EQ(leases->size(), 2u);
    for (const auto& l : *leases) {
        if (l.key == backup) {
            EXPECT_EQ(l.kind, jobs::lease_kind::backup);
            EXPECT_EQ(l.label, "l1");
            EXPECT_EQ(l.start_ms, 1234);
        } else {
            EXPECT_EQ(l.key, drop);
            EXPECT_EQ(l.kind, jobs::lease_kind::drop);
            EXPECT_EQ(l.start_ms, 1000);
        }
    }
    EXPECT_EQ(store.gets, 2);
}

namespace {

/// Refuses every PUT while `failing` is set, as a store that cannot be written for a while.
struct flaky_store final : tv::testing::local_store_proxy {
    explicit flaky_store(std::string dir) : local_store_proxy(std::move(dir), "") {}

    tv::io::task<remote::remote_result<void>> put(std::string key, std::span<const std::byte> data,
                                                  remote::call_options call, remote::body_pacer pacer) override {
        if (failing) {
            co_return remote::remote_error{remote::remote_errc::io_error, "refused (test)", true, 1, {}};
        }
        co_return co_await inner.put(std::move(key), data, std::move(call), std::move(pacer));
    }

    bool failing = false;
};

/// Sleeps `before`, refuses writes for `refused`, lets them through for `after` (none: the store
/// still refuses them), then stops the refresh.
tv::io::task<void> refuse_for(flaky_store& store, std::chrono::milliseconds before, std::chrono::milliseconds refused,
                              std::chrono::milliseconds after, std::stop_source& done) {
    co_await tv::io::sleep(before);
    store.failing = true;
    co_await tv::io::sleep(refused);
    if (after.count() > 0) {
        store.failing = false;
        co_await tv::io::sleep(after);
    }
    done.request_stop();
}

}  // namespace

CO_TEST(repository_lease, a_refresh_keeps_the_clock_and_counts_each_time_the_lease_went_its_timeout_unwritten) {
    using std::chrono::milliseconds;
    temp_dir dir;
    flaky_store store(dir.path());
    const int64_t timeout_ms = 900;  // refreshed every 300 ms
    std::string key = jobs::lease_key(root, jobs::lease_kind::backup, "c1", "10002");
    const int64_t start_ms = jobs::unix_now_ms();

    // Written on time: the clock moves, and the lease never lapses.
    jobs::lease_clock held;
    const int64_t taken_ms = held.written_ms;
    std::stop_source first;
    co_await tv::io::when_all(refuse_for(store, milliseconds(700), milliseconds(0), milliseconds(0), first),
                              jobs::refresh_lease(store, key, jobs::lease_kind::backup, "l2", start_ms, timeout_ms,
                                                  held, first.get_token()));
    store.failing = false;
    EXPECT_GT(held.written_ms, taken_ms);
    EXPECT_EQ(held.lapses, 0U);
    EXPECT_FALSE(held.unwritten_for(timeout_ms));

    // Refused for longer than the timeout, then written again: the lapse is counted once, though
    // the latest write is recent.
    jobs::lease_clock refused;
    std::stop_source second;
    co_await tv::io::when_all(refuse_for(store, milliseconds(0), milliseconds(1500), milliseconds(700), second),
                              jobs::refresh_lease(store, key, jobs::lease_kind::backup, "l2", start_ms, timeout_ms,
                                                  refused, second.get_token()));
    EXPECT_EQ(refused.lapses, 1U);
    EXPECT_FALSE(refused.unwritten_for(timeout_ms)) << "written again once the store took writes";

    // Refused still when the refresh stops: not counted yet, but unwritten for the timeout now.
    jobs::lease_clock dark;
    std::stop_source third;
    co_await tv::io::when_all(refuse_for(store, milliseconds(0), milliseconds(1200), milliseconds(0), third),
                              jobs::refresh_lease(store, key, jobs::lease_kind::backup, "l2", start_ms, timeout_ms,
                                                  dark, third.get_token()));
    store.failing = false;
    EXPECT_EQ(dark.lapses, 0U);
    EXPECT_TRUE(dark.unwritten_for(timeout_ms));
}
