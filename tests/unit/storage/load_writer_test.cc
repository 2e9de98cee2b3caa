// SPDX-License-Identifier: Apache-2.0
// load_writer: routing to RANGE/LIST partitions (one or several columns, NULL), rows outside
// partitions, stable buckets, segment splitting, abort, overwrite, labels, PARTITION (...),
// NOT NULL, sync MV indexes, async MV storage, and loads spread over several loops.
#include "io/loop_group.hh"
#include "io/ops.hh"
#include "io/sync_wait.hh"
#include "load_test_util.hh"
#include "storage/partition_router.hh"
#include "storage/segment_reader.hh"

#include <xxhash.h>

#include <fmt/format.h>

#include <filesystem>
#include <map>

namespace tv::testing {
namespace {

namespace fs = std::filesystem;

io::task<storage_result<std::unique_ptr<catalog>>> catalog_with(std::string dir, table_definition def) {
    auto cat = co_await open_catalog(dir);
    if (!cat) {
        co_return cat;
    }
    auto db = co_await (*cat)->create_database("d");
    if (!db) {
        co_return db.error();
    }
    auto t = co_await (*cat)->create_table("d", std::move(def));
    if (!t) {
        co_return t.error();
    }
    co_return std::move(*cat);
}

std::vector<object_id> ids_of(object_id id) {
    std::vector<object_id> out;
    out.push_back(id);
    return out;
}

table_definition two_ranges() {
    return range_table("t", "INT", parts(less_than("p1", strs("10")), less_than("p2", strs("20"))));
}

CO_TEST(LoadWriter, RangeRoutingAndRowsOutsidePartitions) {
    temp_dir dir;
    auto cat = co_await catalog_with(dir.path(), two_ranges());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto data = data_in(dir.path());
    text_rows rows{{"1", "10"}, {"15", "150"}, {"9", "90"}, {"-5", "NULL"}};
    auto loaded = co_await load_rows(c, data, "d", "t", rows);
    CO_ASSERT_OK(loaded);
    EXPECT_EQ(loaded->rows, 4u);
    EXPECT_GT(loaded->bytes, 0u);
    const table* t = c.find_table("d", "t");
    EXPECT_EQ(t->find_partition("p1")->visible_version, 2);
    EXPECT_EQ(t->find_partition("p2")->visible_version, 2);
    auto all = co_await scan_all(c, data, "d", "t");
    CO_ASSERT_EQ(all.error, "");
    EXPECT_EQ(sorted(all.rows), sorted(rows));
    auto only_p2 = co_await scan_all(c, data, "d", "t", ids_of(t->find_partition("p2")->id));
    EXPECT_EQ(only_p2.rows, (text_rows{{"15", "150"}}));

    auto files_before = data_files(dir.path());
    text_rows outside{{"3", "1"}, {"25", "2"}};
    CO_ASSERT_CAT_ERROR(co_await load_rows(c, data, "d", "t", outside), storage_errc::bad_definition,
                        "The row is out of partition ranges. Please add a new partition. Partition key: (25)");
    EXPECT_EQ(data_files(dir.path()), files_before) << "a failed load leaves no files";
    EXPECT_EQ(c.find_table("d", "t")->find_partition("p1")->visible_version, 2);
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(LoadWriter, MultiColumnRange) {
    temp_dir dir;
    table_definition def;
    def.name = "t";
    def.columns = cols(col("d", "DATE", false), col("k", "INT", false), col("v", "VARCHAR(10)"));
    def.key_columns = {"d", "k"};
    def.partition_by = partition_kind::range;
    def.partition_columns = {"d", "k"};
    def.partitions = parts(less_than("p1", strs("2024-01-01", "100")), less_than("p2", strs("2024-02-01")),
                           fixed_range("p3", strs("2024-03-01", "0"), strs("2024-03-01", "50")));
    def.dist = distribution{{"k"}, 2, false};
    auto cat = co_await catalog_with(dir.path(), def);
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto data = data_in(dir.path());
    text_rows rows{{"2023-12-31", "5", "a"}, {"2024-01-01", "99", "b"}, {"2024-01-01", "100", "c"},
                   {"2024-1-31", "7", "d"}, {"2024-03-01", "49", "e"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", rows));
    const table* t = c.find_table("d", "t");
    auto p1 = co_await scan_all(c, data, "d", "t", ids_of(t->find_partition("p1")->id));
    EXPECT_EQ(sorted(p1.rows), (text_rows{{"2023-12-31", "5", "a"}, {"2024-01-01", "99", "b"}}));
    auto p2 = co_await scan_all(c, data, "d", "t", ids_of(t->find_partition("p2")->id));
    EXPECT_EQ(sorted(p2.rows), (text_rows{{"2024-01-01", "100", "c"}, {"2024-01-31", "7", "d"}}));
    text_rows gap{{"2024-03-01", "50", "x"}};
    CO_ASSERT_CAT_ERROR(co_await load_rows(c, data, "d", "t", gap), storage_errc::bad_definition,
                        "The row is out of partition ranges. Please add a new partition. Partition key: "
                        "(2024-03-01, 50)");
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(LoadWriter, ListPartitionsOneAndSeveralColumns) {
    temp_dir dir;
    table_definition def;
    def.name = "t";
    def.columns = cols(col("city", "VARCHAR(20)", false), col("code", "INT", false), col("v", "INT"));
    def.key_columns = {"city", "code"};
    def.partition_by = partition_kind::list;
    def.partition_columns = {"city", "code"};
    def.partitions = parts(in_list("p_bj", tuples(strs("beijing", "1"), strs("beijing", "2"))),
                           in_list("p_sh", tuples(strs("shanghai", "1"))));
    def.dist = distribution{{"city"}, 3, false};
    auto cat = co_await catalog_with(dir.path(), def);
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto data = data_in(dir.path());
    text_rows rows{{"beijing", "2", "1"}, {"shanghai", "1", "2"}, {"beijing", "1", "3"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", rows));
    const table* t = c.find_table("d", "t");
    auto bj = co_await scan_all(c, data, "d", "t", ids_of(t->find_partition("p_bj")->id));
    EXPECT_EQ(sorted(bj.rows), (text_rows{{"beijing", "1", "3"}, {"beijing", "2", "1"}}));
    text_rows other{{"shanghai", "2", "9"}};
    CO_ASSERT_CAT_ERROR(co_await load_rows(c, data, "d", "t", other), storage_errc::bad_definition,
                        "The row is out of partition ranges. Please add a new partition. Partition key: "
                        "(shanghai, 2)");

    // One string column.
    table_definition one;
    one.name = "l1";
    one.columns = cols(col("s", "VARCHAR(5)"), col("v", "INT"));
    one.key_columns = {"s"};
    one.partition_by = partition_kind::list;
    one.partition_columns = {"s"};
    one.partitions = parts(in_list("pa", tuples(strs("a"), strs("b"))), in_list("pc", tuples(strs("c"))));
    CO_ASSERT_OK(co_await c.create_table("d", one));
    text_rows ok{{"a", "1"}, {"c", "2"}, {"b", "3"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "l1", ok));
    auto all = co_await scan_all(c, data, "d", "l1");
    EXPECT_EQ(sorted(all.rows), sorted(ok));
    // NULL is in no list (a list value is never NULL here): the load fails naming it.
    text_rows null_row{{"NULL", "1"}};
    CO_ASSERT_CAT_ERROR(co_await load_rows(c, data, "d", "l1", null_row), storage_errc::bad_definition,
                        "The row is out of partition ranges. Please add a new partition. Partition key: (NULL)");
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(LoadWriter, NullRangeValueGoesToTheMinValuePartition) {
    temp_dir dir;
    table_definition def;
    def.name = "t";
    def.columns = cols(col("d", "DATE"), col("v", "INT"));
    def.key_columns = {"d"};
    def.partition_by = partition_kind::range;
    def.partition_columns = {"d"};
    def.partitions = parts(less_than("p_old", strs("2020-01-01")), less_than("p_new", strs("2030-01-01")));
    def.dist = distribution{{"d"}, 2, false};
    auto cat = co_await catalog_with(dir.path(), def);
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto data = data_in(dir.path());
    text_rows rows{{"NULL", "1"}, {"2024-05-01", "2"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", rows));
    const table* t = c.find_table("d", "t");
    auto old_rows = co_await scan_all(c, data, "d", "t", ids_of(t->find_partition("p_old")->id));
    EXPECT_EQ(old_rows.rows, (text_rows{{"NULL", "1"}}));

    // Without a partition starting at MINVALUE, NULL has nowhere to go.
    table_definition fixed = def;
    fixed.name = "f";
    fixed.partitions = parts(fixed_range("p", strs("2020-01-01"), strs("2030-01-01")));
    CO_ASSERT_OK(co_await c.create_table("d", fixed));
    text_rows null_row{{"NULL", "1"}};
    CO_ASSERT_CAT_ERROR(co_await load_rows(c, data, "d", "f", null_row), storage_errc::bad_definition,
                        "The row is out of partition ranges. Please add a new partition. Partition key: (NULL)");
    CO_ASSERT_OK(co_await c.close());
}

/// tablet id -> the k values stored in it, read from the segment files.
io::task<std::map<object_id, std::vector<std::string>>> keys_by_tablet(const catalog& c, std::string dir,
                                                                        std::vector<object_id> tablets) {
    std::map<object_id, std::vector<std::string>> out;
    for (object_id tablet : tablets) {
        for (const auto& rs : c.tablet_rowsets(tablet)) {
            for (const auto& f : rs.files) {
                auto b = co_await read_segment(segment_path(dir, tablet, f.name));
                if (b) {
                    for (const auto& row : text_of(*b)) {
                        out[tablet].push_back(row[0]);
                    }
                }
            }
        }
        std::sort(out[tablet].begin(), out[tablet].end());
    }
    co_return out;
}

TEST(BucketHash, DefinitionIsPinned) {
    // The documented definition, computed independently: a row never moves.
    int32_t one = 1;
    uint64_t h = XXH3_64bits_withSeed(&one, sizeof(one), 0);
    std::vector<cell> key{cell{int32_t{1}}};
    EXPECT_EQ(bucket_of(key, 7), h % 7);
    std::string_view s = "beijing";
    int64_t big = 42;
    uint64_t h2 = XXH3_64bits_withSeed(&big, 8, XXH3_64bits_withSeed(s.data(), s.size(), 0));
    std::vector<cell> two{cell{s}, cell{big}};
    EXPECT_EQ(bucket_of(two, 1000), h2 % 1000);
    std::vector<cell> with_null{cell{}};
    EXPECT_EQ(bucket_of(with_null, 1000), XXH3_64bits_withSeed(nullptr, 0, 0 ^ bucket_null_marker) % 1000);
    // -0.0 and 0.0 are one value.
    std::vector<cell> neg_zero{cell{-0.0}};
    std::vector<cell> zero{cell{0.0}};
    EXPECT_EQ(bucket_of(neg_zero, 1000), bucket_of(zero, 1000));
    // Column-at-a-time agrees with row-at-a-time.
    column_vector col(physical_type::int32, true);
    col.append(cell{int32_t{1}});
    col.append_null();
    std::vector<uint64_t> hashes(2, 0);
    hash_column(col, hashes);
    EXPECT_EQ(hashes[0] % 7, bucket_of(key, 7));
    EXPECT_EQ(hashes[1] % 1000, bucket_of(with_null, 1000));
}

CO_TEST(LoadWriter, BucketsAreStableAcrossRestarts) {
    temp_dir dir;
    std::map<object_id, std::vector<std::string>> first;
    std::vector<object_id> tablets;
    text_rows rows;
    for (int k = 0; k < 60; ++k) {
        rows.push_back({std::to_string(k), "v"});
    }
    {
        auto cat = co_await catalog_with(dir.path(), simple_table("t", 4));
        CO_ASSERT_OK(cat);
        tablets = tablets_of(*(*cat)->find_table("d", "t"), "t");
        CO_ASSERT_OK(co_await load_rows(**cat, data_in(dir.path()), "d", "t", rows));
        first = co_await keys_by_tablet(**cat, dir.path(), tablets);
        CO_ASSERT_OK(co_await (*cat)->close());
    }
    EXPECT_EQ(first.size(), 4u) << "60 keys spread over every bucket";
    for (size_t b = 0; b < tablets.size(); ++b) {
        for (const auto& k : first[tablets[b]]) {
            std::vector<cell> key{cell{static_cast<int32_t>(std::stoi(k))}};
            EXPECT_EQ(bucket_of(key, 4), b) << "k=" << k;
        }
    }
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    CO_ASSERT_OK(co_await load_rows(**cat, data_in(dir.path()), "d", "t", rows));
    auto both = co_await keys_by_tablet(**cat, dir.path(), tablets);
    for (object_id tablet : tablets) {
        std::vector<std::string> twice;
        for (const auto& k : first[tablet]) {
            twice.push_back(k);
            twice.push_back(k);
        }
        std::sort(twice.begin(), twice.end());
        EXPECT_EQ(both[tablet], twice) << "tablet " << tablet;
    }
    CO_ASSERT_OK(co_await (*cat)->close());
}

CO_TEST(LoadWriter, SegmentsAreSplitBySize) {
    temp_dir dir;
    auto cat = co_await catalog_with(dir.path(), simple_table("t", 1));
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    text_rows rows;
    for (int k = 0; k < 3000; ++k) {
        rows.push_back({std::to_string(k), fmt::format("value-{}", k)});
    }
    // Small buffers: many flushes; small segments: each flush split further.
    const uint64_t segment_max = 8192;
    auto data = data_in(dir.path(), 20000, segment_max);
    load_options plain;
    auto loaded = co_await load_rows_with(c, data, "d", "t", rows, plain, index_deriver(), 700);
    CO_ASSERT_OK(loaded);
    EXPECT_GT(loaded->files, 10u);
    object_id tablet = tablets_of(*c.find_table("d", "t"), "t")[0];
    CO_ASSERT_EQ(c.tablet_rowsets(tablet).size(), 1u);
    const rowset& rs = c.tablet_rowsets(tablet)[0];
    EXPECT_EQ(rs.files.size(), loaded->files);
    EXPECT_EQ(rs.rows(), 3000u);
    for (const auto& f : rs.files) {
        EXPECT_LE(f.size, segment_max) << f.name;
        EXPECT_EQ(fs::file_size(segment_path(dir.path(), tablet, f.name)), f.size);
    }
    auto all = co_await scan_all(c, data, "d", "t");
    EXPECT_EQ(all.rows, rows) << "DUPLICATE rows come back in load order within a tablet";

    // A row larger than a segment can hold fails the load.
    text_rows huge{{"1", std::string(20, 'x')}};
    auto tiny = data_in(dir.path(), 100, 1000);
    auto failed = co_await load_rows(c, tiny, "d", "t", huge);
    CO_ASSERT_FALSE(failed.has_value());
    EXPECT_NE(failed.error().message.find("does not fit in a segment file"), std::string::npos)
        << failed.error().message;
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(LoadWriter, AbortLeavesNoFiles) {
    temp_dir dir;
    auto cat = co_await catalog_with(dir.path(), two_ranges());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto data = data_in(dir.path(), 1);  // every append flushes
    auto w = load_writer::begin(c, data, "d", "t", load_options(), index_deriver());
    CO_ASSERT_OK(w);
    for (int i = 0; i < 5; ++i) {
        text_rows rows{{std::to_string(i), "1"}, {std::to_string(10 + i), "2"}};
        column_batch b = batch_of((*w)->schema(), rows);
        CO_ASSERT_OK(co_await (*w)->append(std::move(b)));
    }
    // Writes run in the background; wait for some to land.
    for (int i = 0; i < 1000 && data_files(dir.path()).size() < 4; ++i) {
        co_await io::sleep(std::chrono::milliseconds(1));
    }
    EXPECT_FALSE(data_files(dir.path()).empty()) << "segments were written before the end";
    co_await (*w)->abort();
    EXPECT_EQ(data_files(dir.path()), std::vector<std::string>{});
    EXPECT_EQ(c.find_table("d", "t")->find_partition("p1")->visible_version, 1);
    auto all = co_await scan_all(c, data, "d", "t");
    EXPECT_TRUE(all.rows.empty());

    // A writer dropped without commit or abort takes its files back too.
    {
        auto dropped = load_writer::begin(c, data, "d", "t", load_options(), index_deriver());
        CO_ASSERT_OK(dropped);
        text_rows rows{{"1", "1"}};
        column_batch b = batch_of((*dropped)->schema(), rows);
        CO_ASSERT_OK(co_await (*dropped)->append(std::move(b)));
        // One write may still be in flight; give it time to finish.
        for (int i = 0; i < 100 && data_files(dir.path()).empty(); ++i) {
            co_await io::sleep(std::chrono::milliseconds(1));
        }
    }
    for (int i = 0; i < 100 && !data_files(dir.path()).empty(); ++i) {
        co_await io::sleep(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(data_files(dir.path()), std::vector<std::string>{});
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(LoadWriter, OverwriteReplacesListedPartitions) {
    temp_dir dir;
    auto cat = co_await catalog_with(dir.path(), two_ranges());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto data = data_in(dir.path());
    text_rows rows{{"1", "1"}, {"2", "2"}, {"11", "11"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", rows));
    auto old_files = data_files(dir.path());

    load_options only_p1;
    only_p1.overwrite = true;
    only_p1.partitions = {"P1"};  // partition names are case-insensitive
    text_rows fresh{{"5", "50"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", fresh, only_p1));
    auto all = co_await scan_all(c, data, "d", "t");
    EXPECT_EQ(sorted(all.rows), (text_rows{{"11", "11"}, {"5", "50"}}));
    EXPECT_EQ(c.find_table("d", "t")->find_partition("p1")->visible_version, 3);
    EXPECT_EQ(c.find_table("d", "t")->find_partition("p2")->visible_version, 2);
    auto now = data_files(dir.path());
    size_t kept = 0;
    for (const auto& f : old_files) {
        kept += std::count(now.begin(), now.end(), f);
    }
    EXPECT_EQ(kept, 1u) << "p1's old files are deleted (no scan pins them); p2's stay";

    // A row outside the overwritten partitions fails.
    text_rows outside{{"12", "1"}};
    CO_ASSERT_CAT_ERROR(co_await load_rows(c, data, "d", "t", outside, only_p1), storage_errc::bad_definition,
                        "The row is out of partition ranges. Please add a new partition. Partition key: (12)");

    // Everything, with rows only for p2: p1 ends up empty.
    load_options all_parts;
    all_parts.overwrite = true;
    text_rows p2_only{{"19", "19"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", p2_only, all_parts));
    all = co_await scan_all(c, data, "d", "t");
    EXPECT_EQ(all.rows, (text_rows{{"19", "19"}}));
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(LoadWriter, ExpectedVersionsRefuseAPublishAfterAnotherLoad) {
    // UPDATE and DELETE rewrite rows read at some partition versions: a load into one of those
    // partitions meanwhile must fail their publish (it would be lost or overwritten with old
    // values), and the refused load leaves no file behind.
    temp_dir dir;
    auto cat = co_await catalog_with(dir.path(), two_ranges());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto data = data_in(dir.path());
    text_rows rows{{"1", "1"}, {"11", "11"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", rows));
    const partition* p1 = c.find_table("d", "t")->find_partition("p1");
    object_id p1_id = p1->id;
    int64_t read_at = p1->visible_version;

    load_options rewrite;
    rewrite.overwrite = true;
    rewrite.partitions = {"p1"};
    rewrite.expected_versions.emplace_back(p1_id, read_at);
    auto w = load_writer::begin(c, data, "d", "t", rewrite, index_deriver());
    CO_ASSERT_OK(w);
    text_rows kept{{"2", "2"}};
    column_batch batch = batch_of((*w)->schema(), kept);
    CO_ASSERT_OK(co_await (*w)->append(std::move(batch)));
    text_rows other{{"3", "3"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", other));  // p1 moves on
    auto after_other = data_files(dir.path());
    CO_ASSERT_CAT_ERROR(co_await (*w)->commit(), storage_errc::bad_definition,
                        fmt::format("Table 't' changed while the statement ran: partition 'p1' is at version {}, "
                                    "not {} as read; run the statement again",
                                    read_at + 1, read_at));
    EXPECT_EQ(data_files(dir.path()), after_other) << "the refused rewrite's files are removed";
    auto all = co_await scan_all(c, data, "d", "t");
    EXPECT_EQ(sorted(all.rows), (text_rows{{"1", "1"}, {"11", "11"}, {"3", "3"}}));

    // Unchanged since read: the publish goes through.
    load_options again = rewrite;
    again.expected_versions[0].second = read_at + 1;
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", kept, again));
    all = co_await scan_all(c, data, "d", "t");
    EXPECT_EQ(sorted(all.rows), (text_rows{{"11", "11"}, {"2", "2"}}));
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(LoadWriter, LabelsPartitionsAndNotNull) {
    temp_dir dir;
    auto cat = co_await catalog_with(dir.path(), two_ranges());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto data = data_in(dir.path());
    load_options labelled;
    labelled.label = "l1";
    text_rows rows{{"1", "1"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", rows, labelled));
    CO_ASSERT_CAT_ERROR(co_await load_rows(c, data, "d", "t", rows, labelled), storage_errc::bad_definition,
                        "Label [l1] has already been used.");
    // Two loads racing for one label: the second to publish fails and leaves nothing.
    load_options l2;
    l2.label = "l2";
    auto a = load_writer::begin(c, data, "d", "t", l2, index_deriver());
    auto b = load_writer::begin(c, data, "d", "t", l2, index_deriver());
    CO_ASSERT_OK(a);
    CO_ASSERT_OK(b);
    column_batch ba = batch_of((*a)->schema(), rows);
    column_batch bb = batch_of((*b)->schema(), rows);
    CO_ASSERT_OK(co_await (*a)->append(std::move(ba)));
    CO_ASSERT_OK(co_await (*b)->append(std::move(bb)));
    CO_ASSERT_OK(co_await (*a)->commit());
    auto files = data_files(dir.path());
    CO_ASSERT_CAT_ERROR(co_await (*b)->commit(), storage_errc::bad_definition, "Label [l2] has already been used.");
    EXPECT_EQ(data_files(dir.path()), files);

    load_options in_p2;
    in_p2.partitions = {"p2"};
    CO_ASSERT_CAT_ERROR(co_await load_rows(c, data, "d", "t", rows, in_p2), storage_errc::bad_definition,
                        "The row is out of partition ranges. Please add a new partition. Partition key: (1)");
    load_options unknown;
    unknown.partitions = {"p9"};
    CO_ASSERT_CAT_ERROR(co_await load_rows(c, data, "d", "t", rows, unknown), storage_errc::unknown_partition,
                        "Unknown partition 'p9' in table 't'");
    CO_ASSERT_CAT_ERROR(co_await load_rows(c, data, "d", "nope", rows), storage_errc::unknown_table,
                        "Unknown table 'd.nope'");
    CO_ASSERT_CAT_ERROR(co_await load_rows(c, data, "x", "t", rows), storage_errc::unknown_database,
                        "Unknown database 'x'");

    // d is NOT NULL: a nullable column holding NULL fails, one without NULL is fine.
    auto w = load_writer::begin(c, data, "d", "t", load_options(), index_deriver());
    CO_ASSERT_OK(w);
    std::vector<column_desc> loose = (*w)->schema();
    loose[0].nullable = true;
    loose[0].name = "anything";  // names come from the table
    text_rows fine{{"2", "2"}};
    column_batch ok_batch = batch_of(loose, fine);
    CO_ASSERT_OK(co_await (*w)->append(std::move(ok_batch)));
    text_rows bad{{"NULL", "2"}};
    column_batch bad_batch = batch_of(loose, bad);
    CO_ASSERT_CAT_ERROR(co_await (*w)->append(std::move(bad_batch)), storage_errc::bad_definition,
                        "Column 'd' cannot be null");
    co_await (*w)->abort();
    auto all = co_await scan_all(c, data, "d", "t");
    EXPECT_EQ(all.rows.size(), 2u) << "l1's row and l2's row";
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(LoadWriter, SyncMaterializedViewIndexesAreDerived) {
    temp_dir dir;
    table_definition def = two_ranges();
    auto cat = co_await catalog_with(dir.path(), def);
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_sync_materialized_view("d", "t", "mv_sum", "select d, sum(v) from t group by d",
                                                              cols(col("d", "INT", false),
                                                                   col("v", "BIGINT", true, aggregation::sum))));
    auto data = data_in(dir.path());
    int calls = 0;
    // The SQL layer's part: here the view's rows are the base rows as they are.
    index_deriver derive = [&](const materialized_index& index, const column_batch& rows)
        -> storage_result<column_batch> {
        ++calls;
        EXPECT_EQ(index.name, "mv_sum");
        std::vector<column_desc> schema{{"d", rows.schema()[0].type, false}, {"v", rows.schema()[1].type, true}};
        return column_batch(schema, rows.slice(0, rows.num_rows()).release_columns());
    };
    text_rows rows{{"1", "10"}, {"1", "5"}, {"12", "7"}};
    load_options plain;
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", rows, plain, derive));
    text_rows more{{"1", "1"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "t", more, plain, derive));
    EXPECT_GE(calls, 3) << "once per flushed base buffer: two partitions, then one";
    const table* t = c.find_table("d", "t");
    size_t filled = 0;
    for (object_id tablet : tablets_of(*t, "p1", 1)) {
        filled += c.tablet_rowsets(tablet).size();
    }
    EXPECT_EQ(filled, 2u) << "the index's tablets of p1 got a rowset per load";
    auto view = co_await scan_all(c, data, "d", "mv_sum");
    CO_ASSERT_EQ(view.error, "");
    EXPECT_EQ(sorted(view.rows), (text_rows{{"1", "16"}, {"12", "7"}})) << "SUM merged across loads";

    index_deriver failing = [](const materialized_index&, const column_batch&) -> storage_result<column_batch> {
        return make_error(storage_errc::bad_definition, "Division by zero in materialized view");
    };
    auto before = data_files(dir.path());
    CO_ASSERT_CAT_ERROR(co_await load_rows(c, data, "d", "t", rows, plain, failing), storage_errc::bad_definition,
                        "Division by zero in materialized view");
    EXPECT_EQ(data_files(dir.path()), before);
    CO_ASSERT_CAT_ERROR(co_await load_rows(c, data, "d", "t", rows), storage_errc::bad_definition,
                        "Table 't' has synchronous materialized views, whose rows a load must derive");
    CO_ASSERT_OK(co_await c.close());
}

CO_TEST(LoadWriter, AsyncMaterializedViewRefresh) {
    temp_dir dir;
    auto cat = co_await open_catalog(dir.path());
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    CO_ASSERT_OK(co_await c.create_database("d"));
    materialized_view mv;
    mv.name = "mv";
    mv.query_text = "select k, v from t";
    mv.dist = distribution{{"k"}, 2, false};
    mv.columns = cols(col("k", "INT"), col("v", "VARCHAR(10)"));
    CO_ASSERT_OK(co_await c.create_materialized_view("d", mv));
    auto data = data_in(dir.path());
    load_options refresh;
    refresh.overwrite = true;
    text_rows first{{"1", "a"}, {"2", "b"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "mv", first, refresh));
    text_rows second{{"3", "c"}};
    CO_ASSERT_OK(co_await load_rows(c, data, "d", "mv", second, refresh));
    auto all = co_await scan_all(c, data, "d", "mv");
    EXPECT_EQ(all.rows, second);
    EXPECT_EQ(c.find_materialized_view("d", "mv")->storage.visible_version, 3);
    materialized_view bare;
    bare.name = "bare";
    bare.query_text = "select 1";
    CO_ASSERT_OK(co_await c.create_materialized_view("d", bare));
    CO_ASSERT_CAT_ERROR(co_await load_rows(c, data, "d", "bare", first), storage_errc::bad_definition,
                        "Materialized view 'bare' has no storage to load into");
    CO_ASSERT_OK(co_await c.close());
}

/// The same load and scan with writes and reads spread over two loops.
io::task<void> load_over_loops(io::loop_group* loops, std::string dir, int buckets) {
    table_definition def = simple_table("t", buckets);
    def.dist = distribution{{}, buckets, true};  // RANDOM: round robin
    auto cat = co_await catalog_with(dir, def);
    CO_ASSERT_OK(cat);
    catalog& c = **cat;
    auto data = data_in(dir, 2000, uint64_t{1} << 30, loops);
    text_rows rows;
    for (int k = 0; k < 5000; ++k) {
        rows.push_back({std::to_string(k), k % 7 == 0 ? "NULL" : std::to_string(k * 3)});
    }
    load_options plain;
    auto loaded = co_await load_rows_with(c, data, "d", "t", rows, plain, index_deriver(), 512);
    CO_ASSERT_OK(loaded);
    EXPECT_EQ(loaded->tablets, buckets);
    auto all = co_await scan_all(c, data, "d", "t");
    CO_ASSERT_EQ(all.error, "");
    EXPECT_EQ(sorted(all.rows), sorted(rows));
    // Round robin: every tablet within one row of the others.
    for (object_id tablet : tablets_of(*c.find_table("d", "t"), "t")) {
        uint64_t n = c.tablet_rowsets(tablet).at(0).rows();
        EXPECT_EQ(n, 5000u / static_cast<unsigned>(buckets));
    }
    CO_ASSERT_OK(co_await c.close());
}

TEST(LoadWriter, WritesAndReadsSpreadOverLoops) {
    temp_dir dir;
    io::loop_group loops(2);
    io::sync_wait(loops.main_loop(), load_over_loops(&loops, dir.path(), 8));
}

TEST(LoadWriter, OneTabletWrittenFromSeveralLoopsAtOnce) {
    // The first segments of a tablet may be written concurrently: each creates the directory.
    temp_dir dir;
    io::loop_group loops(2);
    io::sync_wait(loops.main_loop(), load_over_loops(&loops, dir.path(), 1));
}

}  // namespace
}  // namespace tv::testing
