// SPDX-License-Identifier: Apache-2.0
// Leases over a real local store: a backup finds a live drop lease from the listing alone (one
// request, no object read, whatever the lease's body holds), and passes over backup leases and
// lapsed drop leases; live_leases still reads each lease's label for DROP SNAPSHOT's messages.
#include "jobs/live_job.hh"
#include "jobs/repository_lease.hh"
#include "support/co_test.hh"
#include "support/local_store_proxy.hh"

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
    auto none = co_await jobs::live_drop_lease(store, root, jobs::unix_now_ms(), timeout_ms);
    CO_ASSERT_OK(none);
    EXPECT_FALSE(none->has_value());

    std::string backup = jobs::lease_key(root, jobs::lease_kind::backup, "c1", "10001");
    CO_ASSERT_OK(co_await jobs::write_lease(store, backup, jobs::lease_kind::backup, "l1", jobs::unix_now_ms()));
    auto only_backup = co_await jobs::live_drop_lease(store, root, jobs::unix_now_ms(), timeout_ms);
    CO_ASSERT_OK(only_backup);
    EXPECT_FALSE(only_backup->has_value()) << **only_backup;

    // A drop lease another version wrote, with a body this one cannot read: its name decides.
    std::string drop = jobs::lease_key(root, jobs::lease_kind::drop, "c2", "9");
    co_await put_raw(store, drop, "not json");
    store.gets = 0;
    store.lists = 0;
    auto found = co_await jobs::live_drop_lease(store, root, jobs::unix_now_ms(), timeout_ms);
    CO_ASSERT_OK(found);
    CO_ASSERT_TRUE(found->has_value());
    EXPECT_EQ(**found, drop);
    EXPECT_EQ(store.lists, 1);
    EXPECT_EQ(store.gets, 0);

    // Lapsed: last written more than the timeout before `now`.
    auto lapsed = co_await jobs::live_drop_lease(store, root, jobs::unix_now_ms() + 2 * timeout_ms, timeout_ms);
    CO_ASSERT_OK(lapsed);
    EXPECT_FALSE(lapsed->has_value());

    // Another repository's leases are not this one's.
    auto elsewhere = co_await jobs::live_drop_lease(store, root + "x", jobs::unix_now_ms(), timeout_ms);
    CO_ASSERT_OK(elsewhere);
    EXPECT_FALSE(elsewhere->has_value());
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
