// SPDX-License-Identifier: Apache-2.0
// Snapshot keys and timestamps, and SHOW SNAPSHOT's listing over a real local store.
#include "remote/local_store.hh"
#include "remote/snapshot_layout.hh"
#include "support/co_test.hh"

namespace remote = tv::remote;
using tv::testing::temp_dir;

namespace {

std::span<const std::byte> bytes_of(std::string_view s) {
    return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

const std::string sum = "0123456789abcdeffedcba9876543210";

}  // namespace

TEST(snapshot_layout, timestamps_round_trip_in_starrocks_form) {
    EXPECT_EQ(remote::snapshot_timestamp(1675781153143), "2023-02-07-14-45-53-143");
    EXPECT_EQ(remote::parse_snapshot_timestamp("2023-02-07-14-45-53-143"), 1675781153143);
    EXPECT_EQ(remote::snapshot_timestamp(0), "1970-01-01-00-00-00-000");
    for (std::string_view bad : {"2023-02-07-14-45-53", "2023-02-30-14-45-53-143", "2023-02-07 14-45-53-143",
                                 "2023-02-07-24-45-53-143", "x023-02-07-14-45-53-143", ""}) {
        EXPECT_FALSE(remote::parse_snapshot_timestamp(bad).has_value()) << bad;
    }
}

TEST(snapshot_layout, keys) {
    std::string root = "__tabletvault_repository_r";
    EXPECT_EQ(remote::info_key_base(root, "l1", "2023-02-07-14-45-53-143"),
              "__tabletvault_repository_r/__ss_l1/__info_2023-02-07-14-45-53-143");
    EXPECT_EQ(remote::with_checksum("a/__meta_x", sum), "a/__meta_x." + sum);
    EXPECT_EQ(remote::data_key(root, "c1", 10010, "10016_0.dat"),
              "__tabletvault_repository_r/__data/c1/10010/10016_0.dat");
    EXPECT_EQ(remote::pack_key(root, "c1", "p7"), "__tabletvault_repository_r/__data/c1/__packs/p7");
    auto split = remote::split_checksum("a/__info_ts." + sum);
    ASSERT_TRUE(split.has_value());
    EXPECT_EQ(split->first, "a/__info_ts");
    EXPECT_EQ(split->second, sum);
    EXPECT_FALSE(remote::split_checksum("a/__info_ts.part").has_value());
    EXPECT_FALSE(remote::split_checksum("a/__info_ts").has_value());
}

CO_TEST(snapshot_layout, lists_labels_timestamps_and_broken_names) {
    temp_dir dir;
    remote::local_store store(dir.path());
    std::string root = "__tabletvault_repository_r";
    for (std::string key : {root + "/__ss_a/__info_2024-12-09-10-25-58-842." + sum,
                            root + "/__ss_a/__info_2024-12-10-10-25-58-842." + sum,
                            root + "/__ss_a/__manifest_2024-12-09-10-25-58-842." + sum,
                            root + "/__ss_b/__info_2024-12-09-10-25-58-842.part",
                            root + "/__ss_c/__manifest_2024-12-09-10-25-58-842_partial." + sum,
                            root + "/__data/c1/1/1_0.dat"}) {
        CO_ASSERT_OK(co_await store.put(key, bytes_of("{}")));
    }
    auto listed = co_await remote::list_snapshots(store, root);
    CO_ASSERT_OK(listed);
    CO_ASSERT_EQ(listed->size(), 3u);
    const auto& a = (*listed)[0];
    EXPECT_EQ(a.label, "a");
    EXPECT_EQ(a.status, "OK");
    EXPECT_EQ(a.timestamps, (std::vector<std::string>{"2024-12-09-10-25-58-842", "2024-12-10-10-25-58-842"}));
    EXPECT_EQ(a.info_keys.at("2024-12-10-10-25-58-842"), root + "/__ss_a/__info_2024-12-10-10-25-58-842." + sum);
    const auto& b = (*listed)[1];
    EXPECT_EQ(b.status, "ERROR: no snapshot");
    EXPECT_EQ(b.timestamps, (std::vector<std::string>{"Invalid: __info_2024-12-09-10-25-58-842.part"}));
    EXPECT_EQ((*listed)[2].label, "c");
    EXPECT_EQ((*listed)[2].status, "ERROR: no snapshot") << "a cancelled job's partial manifest is no snapshot";

    EXPECT_EQ(a.manifest_keys.at("2024-12-09-10-25-58-842"),
              root + "/__ss_a/__manifest_2024-12-09-10-25-58-842." + sum);
    EXPECT_TRUE(a.meta_keys.empty());
    EXPECT_TRUE((*listed)[2].manifest_keys.empty()) << "a partial manifest's name has no timestamp";

    // One label alone, with one listing of its own prefix: the same entry.
    auto only_a = co_await remote::list_snapshot_label(store, root, "a");
    CO_ASSERT_OK(only_a);
    CO_ASSERT_TRUE(only_a->has_value());
    EXPECT_EQ((*only_a)->timestamps, a.timestamps);
    EXPECT_EQ((*only_a)->info_keys, a.info_keys);
    EXPECT_EQ((*only_a)->manifest_keys, a.manifest_keys);
    // A label that begins another's, and a key nested below a label, are not the label's.
    CO_ASSERT_OK(co_await store.put(root + "/__ss_ab/__info_2024-12-11-10-25-58-842." + sum, bytes_of("{}")));
    CO_ASSERT_OK(co_await store.put(root + "/__ss_a/x/__meta_2024-12-09-10-25-58-842." + sum, bytes_of("{}")));
    only_a = co_await remote::list_snapshot_label(store, root, "a");
    CO_ASSERT_OK(only_a);
    CO_ASSERT_TRUE(only_a->has_value());
    EXPECT_EQ((*only_a)->info_keys, a.info_keys);
    EXPECT_TRUE((*only_a)->meta_keys.empty());
    for (std::string nothing : {"d", "", "a/x", "__ss_a"}) {
        auto none = co_await remote::list_snapshot_label(store, root, nothing);
        CO_ASSERT_OK(none);
        EXPECT_FALSE(none->has_value()) << nothing;
    }

    auto taken = co_await remote::label_exists(store, root, "c");
    CO_ASSERT_OK(taken);
    EXPECT_TRUE(*taken) << "a label is taken even by an unfinished backup";
    auto free_label = co_await remote::label_exists(store, root, "d");
    CO_ASSERT_OK(free_label);
    EXPECT_FALSE(*free_label);
}
