// SPDX-License-Identifier: Apache-2.0
// What RESTORE reads first, over a real local store: its PROPERTIES, the choice of snapshot
// (the only one, the one asked for, or a refusal listing them), and a snapshot's info, meta and
// manifest, each refused by name when damaged, truncated, missing or not ours.
#include "jobs/restore_source.hh"
#include "pipeline/hash.hh"
#include "remote/local_store.hh"
#include "remote/snapshot_layout.hh"
#include "support/co_test.hh"
#include "support/local_store_proxy.hh"

namespace jobs = tv::jobs;
namespace remote = tv::remote;
using tv::testing::temp_dir;

namespace {

const std::string root = "__tabletvault_repository_r";

std::span<const std::byte> bytes_of(const std::string& s) {
    return std::as_bytes(std::span(s));
}

/// Puts `body` under `<base>.<its xxh3>` and yields the key.
tv::io::task<std::string> put_checked(remote::object_store& store, std::string base, std::string body) {
    std::string key = remote::with_checksum(base, tv::pipeline::xxh3_128(bytes_of(body)).hex());
    auto put = co_await store.put(key, bytes_of(body));
    EXPECT_TRUE(put.has_value());
    co_return key;
}

/// A whole snapshot `label` at `ts` of database d with table t: yields the info key.
tv::io::task<std::string> write_snapshot(remote::object_store& store, std::string label, std::string ts) {
    tv::storage::database d;
    d.id = 10001;
    d.name = "d";
    std::string meta = co_await put_checked(store, remote::meta_key_base(root, label, ts),
                                            tv::storage::encode_backup_meta(d, {}));
    jobs::snapshot_manifest m;
    m.format_version = remote::repository_format_version;
    m.label = label;
    m.timestamp = ts;
    m.cluster_id = "c1";
    jobs::manifest_file f;
    f.db = "d";
    f.table = "t";
    f.partition = "t";
    f.index = "t";
    f.tablet_id = 10010;
    f.name = "10016_0.dat";
    f.size = 10;
    f.hash = {1, 2};
    f.key = remote::data_key(root, "c1", 10010, "10016_0.dat");
    m.files.push_back(f);
    std::string manifest = co_await put_checked(store, remote::manifest_key_base(root, label, ts),
                                                jobs::encode_manifest(m));
    jobs::job_info info;
    info.name = label;
    info.database = "d";
    info.db_id = 10001;
    info.backup_time_ms = *remote::parse_snapshot_timestamp(ts);
    info.format_version = remote::repository_format_version;
    info.cluster_id = "c1";
    info.meta_key = meta;
    info.manifest_key = manifest;
    co_return co_await put_checked(store, remote::info_key_base(root, label, ts), jobs::encode_job_info(info));
}

/// A snapshot read from its info object alone, as a restore resumed after a restart reads it.
jobs::snapshot_keys info_only(std::string info_key) {
    return jobs::snapshot_keys{std::move(info_key), "", ""};
}

/// Counts what a restore's first reads ask of the store.
struct counting_store : tv::testing::local_store_proxy {
    using local_store_proxy::local_store_proxy;
    tv::io::task<remote::remote_result<std::string>> get(std::string key, std::optional<remote::byte_range> range,
                                                         remote::call_options call) override {
        gets.push_back(key);
        co_return co_await inner.get(std::move(key), range, std::move(call));
    }
    tv::io::task<remote::remote_result<std::vector<remote::object_info>>> list(std::string prefix,
                                                                               remote::call_options call) override {
        lists.push_back(prefix);
        co_return co_await inner.list(std::move(prefix), std::move(call));
    }
    std::vector<std::string> gets;
    std::vector<std::string> lists;
};

}  // namespace

TEST(restore_source, properties_take_starrocks_keys_and_ours) {
    auto props = jobs::parse_restore_properties({{"backup_timestamp", "2024-12-09-10-25-58-842"},
                                                 {"replication_num", "1"},
                                                 {"ALLOW_LOAD", "TRUE"},
                                                 {"meta_version", "3"},
                                                 {"timeout", "60"},
                                                 {"max_download_speed_kbps", "1024"}},
                                                86400);
    ASSERT_TRUE(props.has_value()) << props.error().message;
    EXPECT_EQ(props->backup_timestamp, "2024-12-09-10-25-58-842");
    EXPECT_TRUE(props->allow_load);
    EXPECT_EQ(props->meta_version, 3);
    EXPECT_EQ(props->timeout_s, 60);
    EXPECT_EQ(props->max_download_speed_kbps, 1024);
    EXPECT_EQ(jobs::parse_restore_properties({}, 86400)->timeout_s, 86400);

    auto message = [](std::vector<std::pair<std::string, std::string>> p) {
        auto r = jobs::parse_restore_properties(p, 86400);
        return r ? std::string("accepted") : r.error().message;
    };
    EXPECT_EQ(message({{"colour", "red"}, {"backup_timestamp", "2024-12-09-10-25-58-842"}, {"size", "1"}}),
              "Unknown restore job properties: [colour, size]");
    EXPECT_EQ(message({{"meta_version", "x"}}), "Invalid meta version format: x");
    EXPECT_EQ(message({{"starrocks_meta_version", "1.5"}}), "Invalid meta version format: 1.5");
    EXPECT_EQ(message({{"replication_num", "three"}}), "Invalid replication num format: three");
    EXPECT_EQ(message({{"timeout", "soon"}}), "Invalid timeout format: soon");
    EXPECT_NE(message({{"backup_timestamp", "2024-12-09 10:25:58"}}).find("Invalid backup_timestamp"),
              std::string::npos);
    EXPECT_NE(message({{"allow_load", "yes"}}).find("Invalid allow_load: yes"), std::string::npos);
    EXPECT_NE(message({{"max_download_speed_kbps", "-1"}}).find("Invalid max_download_speed_kbps"),
              std::string::npos);
}

CO_TEST(restore_source, chooses_the_only_snapshot_or_the_one_asked_for) {
    temp_dir dir;
    remote::local_store store(dir.path());
    std::string first = co_await write_snapshot(store, "l", "2024-12-09-10-25-58-842");
    auto only = co_await jobs::choose_snapshot(store, root, "l", std::nullopt);
    CO_ASSERT_OK(only);
    CO_ASSERT_EQ(only->info, first);

    std::string second = co_await write_snapshot(store, "l", "2024-12-10-10-25-58-842");
    auto either = co_await jobs::choose_snapshot(store, root, "l", std::nullopt);
    CO_ASSERT_FALSE(either.has_value());
    EXPECT_EQ(either.error().message,
              "Snapshot 'l' was taken 2 times (2024-12-09-10-25-58-842, 2024-12-10-10-25-58-842); choose one with "
              "PROPERTIES (\"backup_timestamp\" = \"...\")");
    auto chosen = co_await jobs::choose_snapshot(store, root, "l", std::string("2024-12-10-10-25-58-842"));
    CO_ASSERT_OK(chosen);
    CO_ASSERT_EQ(chosen->info, second);

    auto wrong = co_await jobs::choose_snapshot(store, root, "l", std::string("2024-12-11-10-25-58-842"));
    CO_ASSERT_FALSE(wrong.has_value());
    EXPECT_EQ(wrong.error().code, jobs::status_code::not_found);
    EXPECT_EQ(wrong.error().message, "Failed to get info of snapshot 'l' because: it has no snapshot taken at "
                                     "2024-12-11-10-25-58-842. Maybe specified wrong backup timestamp");
    auto missing = co_await jobs::choose_snapshot(store, root, "nothere", std::nullopt);
    CO_ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().message, "Failed to get info of snapshot 'nothere' because: the repository has no "
                                       "snapshot with this label. Maybe specified wrong backup timestamp");
}

CO_TEST(restore_source, reads_a_whole_snapshot_checked) {
    temp_dir dir;
    remote::local_store store(dir.path());
    std::string info_key = co_await write_snapshot(store, "l", "2024-12-09-10-25-58-842");
    auto snapshot = co_await jobs::read_snapshot(store, info_only(info_key));
    CO_ASSERT_OK(snapshot);
    EXPECT_EQ(snapshot->info.name, "l");
    EXPECT_EQ(snapshot->meta.objects.name, "d");
    CO_ASSERT_EQ(snapshot->manifest.files.size(), 1u);
    EXPECT_EQ(snapshot->manifest.files[0].name, "10016_0.dat");
}

CO_TEST(restore_source, damaged_truncated_missing_and_foreign_objects_are_named) {
    temp_dir dir;
    remote::local_store store(dir.path());
    std::string info_key = co_await write_snapshot(store, "l", "2024-12-09-10-25-58-842");
    auto good = co_await jobs::read_snapshot(store, info_only(info_key));
    CO_ASSERT_OK(good);

    // The manifest's bytes changed under its name.
    std::string manifest_key = good->info.manifest_key;
    auto body = co_await store.get(manifest_key);
    CO_ASSERT_OK(body);
    std::string damaged = *body;
    damaged[damaged.size() / 2] ^= 0x20;
    CO_ASSERT_OK(co_await store.put(manifest_key, bytes_of(damaged)));
    auto read = co_await jobs::read_snapshot(store, info_only(info_key));
    CO_ASSERT_FALSE(read.has_value());
    EXPECT_EQ(read.error().code, jobs::status_code::bad_file);
    EXPECT_EQ(read.error().message.rfind(manifest_key + " is damaged: its name says xxh3-128 ", 0), 0u)
        << read.error().message;
    EXPECT_NE(read.error().message.find(tv::pipeline::xxh3_128(bytes_of(damaged)).hex()), std::string::npos);

    // A truncated info object.
    auto info = co_await store.get(info_key);
    CO_ASSERT_OK(info);
    std::string truncated = info->substr(0, info->size() / 2);
    CO_ASSERT_OK(co_await store.put(info_key, bytes_of(truncated)));
    read = co_await jobs::read_snapshot(store, info_only(info_key));
    CO_ASSERT_FALSE(read.has_value());
    EXPECT_EQ(read.error().code, jobs::status_code::bad_file);
    EXPECT_NE(read.error().message.find(info_key + " is damaged"), std::string::npos) << read.error().message;

    // An info object cut to nothing: there is no byte to read, and the hash still says so.
    CO_ASSERT_OK(co_await store.put(info_key, bytes_of(std::string())));
    read = co_await jobs::read_snapshot(store, info_only(info_key));
    CO_ASSERT_FALSE(read.has_value());
    EXPECT_EQ(read.error().code, jobs::status_code::bad_file);
    EXPECT_NE(read.error().message.find(info_key + " is damaged: its name says xxh3-128 "), std::string::npos)
        << read.error().message;
    EXPECT_NE(read.error().message.find("its 0 bytes hash to"), std::string::npos) << read.error().message;

    // A missing meta object.
    std::string other = co_await write_snapshot(store, "m", "2024-12-09-10-25-58-842");
    auto other_snapshot = co_await jobs::read_snapshot(store, info_only(other));
    CO_ASSERT_OK(other_snapshot);
    std::vector<std::string> meta_only{other_snapshot->info.meta_key};  // named: GCC 12 and braces in co_await
    CO_ASSERT_OK(co_await store.remove(meta_only));
    read = co_await jobs::read_snapshot(store, info_only(other));
    CO_ASSERT_FALSE(read.has_value());
    EXPECT_EQ(read.error().code, jobs::status_code::not_found);
    EXPECT_NE(read.error().message.find("read " + other_snapshot->info.meta_key), std::string::npos)
        << read.error().message;

    // An info object that names no meta or manifest (not written by us).
    jobs::job_info foreign;
    foreign.name = "f";
    foreign.database = "d";
    foreign.format_version = remote::repository_format_version;
    std::string foreign_key = co_await put_checked(store, remote::info_key_base(root, "f", "2024-12-09-10-25-58-842"),
                                                   jobs::encode_job_info(foreign));
    read = co_await jobs::read_snapshot(store, info_only(foreign_key));
    CO_ASSERT_FALSE(read.has_value());
    EXPECT_EQ(read.error().code, jobs::status_code::unsupported);
    EXPECT_NE(read.error().message.find("not written by tabletvault"), std::string::npos);
}

CO_TEST(restore_source, one_listing_of_the_label_then_its_three_objects_at_once) {
    temp_dir dir;
    counting_store store(dir.path(), "");
    std::string info_key = co_await write_snapshot(store, "l", "2024-12-09-10-25-58-842");
    co_await write_snapshot(store, "l2", "2024-12-09-10-25-58-842");  // another label, not listed
    auto keys = co_await jobs::choose_snapshot(store, root, "l", std::nullopt);
    CO_ASSERT_OK(keys);
    CO_ASSERT_EQ(store.lists, std::vector<std::string>{root + "/__ss_l/"});
    auto named = co_await jobs::read_snapshot(store, info_only(info_key));
    CO_ASSERT_OK(named);
    EXPECT_EQ(keys->info, info_key);
    EXPECT_EQ(keys->likely_meta, named->info.meta_key);
    EXPECT_EQ(keys->likely_manifest, named->info.manifest_key);

    store.gets.clear();
    auto read = co_await jobs::read_snapshot(store, *keys);
    CO_ASSERT_OK(read);
    EXPECT_EQ(read->meta.objects.name, "d");
    EXPECT_EQ(read->manifest.files.size(), 1u);
    CO_ASSERT_EQ(store.gets, (std::vector<std::string>{info_key, keys->likely_meta, keys->likely_manifest}));

    // A guess the info object does not name is not used: the named meta is read after it.
    tv::storage::database decoy;
    decoy.id = 20001;
    decoy.name = "decoy";
    std::string decoy_meta = co_await put_checked(store, remote::meta_key_base(root, "x", "2024-12-09-10-25-58-842"),
                                                  tv::storage::encode_backup_meta(decoy, {}));
    jobs::snapshot_keys wrong_guess = *keys;
    wrong_guess.likely_meta = decoy_meta;
    store.gets.clear();
    read = co_await jobs::read_snapshot(store, wrong_guess);
    CO_ASSERT_OK(read);
    EXPECT_EQ(read->meta.objects.name, "d");
    CO_ASSERT_EQ(store.gets.size(), 4u);
    EXPECT_EQ(store.gets[3], named->info.meta_key);

    // Two metas of one timestamp (a backup resumed after a crash can leave one that no info
    // object names): the listing guesses neither, and the info object names the one to read;
    // the manifest is still read beside the info object.
    co_await put_checked(store, remote::meta_key_base(root, "l", "2024-12-09-10-25-58-842"), "left over");
    keys = co_await jobs::choose_snapshot(store, root, "l", std::nullopt);
    CO_ASSERT_OK(keys);
    EXPECT_EQ(keys->likely_meta, "");
    EXPECT_EQ(keys->likely_manifest, named->info.manifest_key);
    store.gets.clear();
    read = co_await jobs::read_snapshot(store, *keys);
    CO_ASSERT_OK(read);
    EXPECT_EQ(read->meta.objects.name, "d");
    CO_ASSERT_EQ(store.gets, (std::vector<std::string>{info_key, named->info.manifest_key, named->info.meta_key}));
}

CO_TEST(restore_source, what_is_read_ahead_and_fails_names_the_object_at_fault) {
    temp_dir dir;
    remote::local_store store(dir.path());
    std::string info_key = co_await write_snapshot(store, "r", "2024-12-09-10-25-58-842");
    auto keys = co_await jobs::choose_snapshot(store, root, "r", std::nullopt);
    CO_ASSERT_OK(keys);
    CO_ASSERT_NE(keys->likely_meta, "");
    CO_ASSERT_NE(keys->likely_manifest, "");

    // A damaged meta, read beside the info object.
    auto meta = co_await store.get(keys->likely_meta);
    CO_ASSERT_OK(meta);
    std::string damaged = *meta;
    damaged[0] ^= 0x20;
    CO_ASSERT_OK(co_await store.put(keys->likely_meta, bytes_of(damaged)));
    std::string at_fault;
    auto read = co_await jobs::read_snapshot(store, *keys, {}, &at_fault);
    CO_ASSERT_FALSE(read.has_value());
    EXPECT_EQ(read.error().code, jobs::status_code::bad_file);
    EXPECT_EQ(read.error().message.rfind(keys->likely_meta + " is damaged: its name says xxh3-128 ", 0), 0u)
        << read.error().message;
    EXPECT_EQ(at_fault, keys->likely_meta);
    CO_ASSERT_OK(co_await store.put(keys->likely_meta, bytes_of(*meta)));

    // A manifest gone since the listing.
    auto manifest = co_await store.get(keys->likely_manifest);
    CO_ASSERT_OK(manifest);
    std::vector<std::string> manifest_only{keys->likely_manifest};
    CO_ASSERT_OK(co_await store.remove(manifest_only));
    read = co_await jobs::read_snapshot(store, *keys, {}, &at_fault);
    CO_ASSERT_FALSE(read.has_value());
    EXPECT_EQ(read.error().code, jobs::status_code::not_found);
    EXPECT_EQ(read.error().message.rfind("read " + keys->likely_manifest, 0), 0u) << read.error().message;
    EXPECT_EQ(at_fault, keys->likely_manifest);
    CO_ASSERT_OK(co_await store.put(keys->likely_manifest, bytes_of(*manifest)));

    // A damaged info object is named before anything read beside it.
    auto info = co_await store.get(info_key);
    CO_ASSERT_OK(info);
    CO_ASSERT_OK(co_await store.put(info_key, bytes_of(info->substr(1))));
    read = co_await jobs::read_snapshot(store, *keys, {}, &at_fault);
    CO_ASSERT_FALSE(read.has_value());
    EXPECT_EQ(read.error().message.rfind(info_key + " is damaged", 0), 0u) << read.error().message;
    EXPECT_EQ(at_fault, info_key);
    CO_ASSERT_OK(co_await store.put(info_key, bytes_of(*info)));
    CO_ASSERT_OK(co_await jobs::read_snapshot(store, *keys));
}
